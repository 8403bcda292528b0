"""FCL100: a suppression comment that hides nothing (made by `refine`, which matches comments to findings)."""

from __future__ import annotations

from fedcl_lint.checks.base import Check
from fedcl_lint.types import Finding, Location, Severity


class UnusedSuppression(Check):
    code = "FCL100"
    name = "unused-suppression"
    severity = Severity.WARNING
    summary = "A `# fedcl-lint: ignore` comment suppresses nothing (reported under `--warn-unused-ignores`)."
    why = (
        "A suppression outlives the finding it silenced: once the bug is fixed or the call moved, "
        "the comment stays behind and would hide the next, different problem on that line."
    )
    example = {
        "pyproject.toml": "[tool.fedcl-lint]\nwarn-unused-ignores = true\n",
        "server.py": (
            "async def shutdown(comm, client_id):\n"
            "    await comm.send_business_message(client_id, \"SHUTDOWN\", {})  # fedcl-lint: ignore[FCL001]\n"
        ),
        "client.py": "def setup(comm, on_shutdown):\n    comm.register_message_handler(\"SHUTDOWN\", on_shutdown)\n",
    }
    fix = {
        "pyproject.toml": example["pyproject.toml"],
        "server.py": (
            "async def shutdown(comm, client_id):\n"
            "    await comm.send_business_message(client_id, \"SHUTDOWN\", {})\n"
        ),
        "client.py": example["client.py"],
    }
    fix_text = "Remove the comment, or the codes in it that no longer match a finding on its line."

    # made after the other checks, by matching comments to findings (refine.refine)
    def finding_for(self, location: Location, unused_codes: tuple[str, ...] | None) -> Finding:
        """The finding for a comment at `location`; `unused_codes` is None for a bare `ignore`,
        empty for `ignore[]`."""
        if unused_codes is None:
            message = "unused suppression: there is no finding on this line to ignore"
        elif not unused_codes:
            message = "unused suppression: `ignore[]` names no code, so it suppresses nothing"
        else:
            codes = ", ".join(f"`{c}`" for c in unused_codes)
            message = f"unused suppression: {codes} matched no finding on this line"
        return Finding(code=self.code, severity=self.severity, message=message, location=location)


