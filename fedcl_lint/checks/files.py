"""The file diagnostics (FCL900-FCL902): files that could not be read or parsed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from fedcl_lint.checks.base import Check, FileFailure
from fedcl_lint.types import Finding, Severity


class ParseError(Check):
    code = "FCL900"
    name = "parse-error"
    severity = Severity.ERROR
    summary = ("A file that mentions the messaging API, or that an import needs, cannot be decoded or parsed; "
               "the other files are still analysed.")
    why = (
        "A file fedcl-lint cannot read may hold sends or handlers that the rest of the "
        "protocol depends on, so the report would be incomplete without saying so."
    )
    example = {"broken.py": "async def stop(comm, cid:\n    await comm.send_business_message(cid, \"STOP\", {})\n"}
    fix = {
        "broken.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"STOP\", {})\n",
        "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"STOP\", handler)\n",
    }
    fix_text = (
        "Fix the syntax or the encoding of the file, or exclude it from the analysis. (Files that "
        "mention no messaging API are not parsed at all, so their syntax is your Python linter's job.)"
    )

    kind: ClassVar[str] = "parse"

    def check_failure(self, failure: FileFailure) -> Iterator[Finding]:
        if failure.kind == self.kind:
            yield Finding(code=self.code, severity=self.severity, message=failure.message, location=failure.location)


class ReadError(ParseError):
    code = "FCL901"
    name = "read-error"
    severity = Severity.ERROR
    kind = "read"
    summary = ("A file cannot be read (permissions, a broken or looping symbolic link, a vanished file, a device "
               "or other special file), nor an ignore file that decides which files are analysed.")
    why = (
        "A Python file fedcl-lint cannot read may hold sends or handlers the rest of the protocol "
        "depends on. Unlike a syntax error this is about the file system, not the code, hence its own code."
    )
    example = {"server.py": "# a symbolic link to a file that no longer exists\n"}
    fix = {"server.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"STOP\", {})\n",
           "client.py": "def setup(comm, handler):\n    comm.register_message_handler(\"STOP\", handler)\n"}
    fix_text = "Make the file readable, repair or remove the link, or exclude the path from the analysis."


class FileTooLarge(ParseError):
    code = "FCL902"
    name = "file-too-large"
    severity = Severity.WARNING
    kind = "size"
    summary = ("A file that mentions the messaging API, or that an import needs, is too large to parse (over 5 MB), "
               "so it is not analysed.")
    why = (
        "Parsing cost grows with the file: a 50 MB generated file takes minutes and gigabytes. Such "
        "files are generated data, not protocol code; the warning makes the gap in the analysis visible."
    )
    example = {"generated.py": "# 50 MB of generated tables that happen to mention send_business_message\n"}
    fix = {"pyproject.toml": "[tool.fedcl-lint]\nexclude = [\"generated.py\"]\n",
           "generated.py": "# 50 MB of generated tables that happen to mention send_business_message\n"}
    fix_text = "Exclude generated files in `[tool.fedcl-lint] exclude`."


