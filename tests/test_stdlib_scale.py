"""The whole standard library, every file made to matter: no crash, and every file accounted for.

A send is appended to every .py file of the running interpreter's standard
library (so the prefilter skips none), then `check` and `table` run on the copy
through the CLI. Each file must yield exactly one of: its appended send site,
or one FCL900 diagnostic; and the files with a diagnostic must be exactly those
Python itself cannot decode (PEP 263) or parse, as computed here with
`compile(..., ast.PyCF_ONLY_AST)`. The standard library's own test data
supplies the hard cases: bad coding cookies, Python 2 files, syntax error
samples, files without a final newline, odd encodings.
"""

from __future__ import annotations

import ast
import io
import re
import sysconfig
import time
import tokenize
import warnings
from pathlib import Path

import pytest

from fedcl_lint.analysis.discover import DEFAULT_EXCLUDED_DIRS

PROBE_TYPE = "STDLIB_PROBE"
PROBE = f'\n\ncomm.send_business_message("target", "{PROBE_TYPE}", {{}})\n'.encode()
BUDGET_SECONDS = 180  # CI: 2 cores
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def copy_stdlib(destination: Path) -> list[str]:
    """Every .py file of the standard library (not site-packages, nor folders discovery skips),
    copied with the probe appended; returns their paths relative to `destination`."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    copied = []
    for source in sorted(stdlib.rglob("*.py")):
        relative = source.relative_to(stdlib)
        if any(part in DEFAULT_EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1]):
            continue
        if not source.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes() + PROBE)
        copied.append(relative.as_posix())
    return copied


def python_rejects(data: bytes, path: str) -> bool:
    """Whether Python cannot decode (PEP 263: BOM or coding cookie) or parse these bytes."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. invalid escape sequences: warnings, not errors
        try:
            compile(text, path, "exec", ast.PyCF_ONLY_AST)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return True
    return False


def probe_line(data: bytes) -> int:
    """The line of the appended send, counting line breaks as Python does (\\r\\n, \\r, \\n)."""
    before = data[: len(data) - len(PROBE)] + PROBE[:2]
    return len(_LINE_BREAK.findall(before.decode("latin-1"))) + 1


SEND = b'comm.send_business_message("t", "X", {})\n'
HARD_CASES = {
    "bom and a utf-8 cookie": b"\xef\xbb\xbf# coding: utf-8\n" + SEND,
    "bom and a UTF_8 cookie": b"\xef\xbb\xbf# coding: UTF_8\n" + SEND,
    "bom and a utf8 cookie": b"\xef\xbb\xbf# coding: utf8\n" + SEND,  # Python: "encoding problem: utf8 with BOM"
    "bom and a latin-1 cookie": b"\xef\xbb\xbf# coding: latin-1\n" + SEND,
    "a utf-8-sig cookie without bom": b"# coding: utf-8-sig\n" + SEND,
    "unknown encoding": b"# coding: klingon\n" + SEND,
    "a codec that is not a text encoding": b"# coding: rot13\n" + SEND,
    "a utf-16 cookie": b"# coding: utf-16\n" + SEND,
    "cookie on line 2 after a comment": b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nx = '\xe9'\n" + SEND,
    "cookie on line 2 after code": b"x = 1\n# coding: latin-1\ny = '\xe9'\n" + SEND,
    "cookie on line 3": b"#\n#\n# coding: latin-1\ny = '\xe9'\n" + SEND,
    "form feed before the cookie": b"\x0c# coding: latin-1\ny = '\xe9'\n" + SEND,
    "vim modeline cookie": b"# vim: set fileencoding=latin-1 :\ny = '\xe9'\n" + SEND,
    "euc-jp": "# coding: euc-jp\nx = 'あ'\n".encode("euc-jp") + SEND,
    "invalid utf-8 in a comment": b"# \xff\n" + SEND,
    "carriage returns only": b"x = 1\ry = 2\r" + SEND,
    "a null byte": b"x = '\x00'\n" + SEND,
    "too many parentheses": b"x = " + b"(" * 300 + b")" * 300 + b"\n" + SEND,
    "very long expression": b"x = " + b"1+" * 100_000 + b"1\n" + SEND,
    "python 2 print": b"print 'hello'\n" + SEND,
}


@pytest.mark.parametrize("source", HARD_CASES.values(), ids=HARD_CASES.keys())
def test_extraction_fails_exactly_where_python_does(source):
    """The standard library's hard cases, one by one (fast); the slow test below runs them all."""
    from fedcl_lint.analysis.extract import extract
    from fedcl_lint.settings.rulepack import load_packs

    facts = extract(source, load_packs(["fedcl"]))

    assert (facts.failure is not None) == python_rejects(source, "case.py")
    if facts.failure is None:
        assert [c.name for c in facts.calls] == ["send_business_message"]


@pytest.mark.slow
def test_the_standard_library_is_analysed_file_by_file(run_cli, tmp_path):
    root = tmp_path / "stdlib"
    files = copy_stdlib(root)
    assert len(files) > 500, "the standard library should have been found"
    expected_broken = {f for f in files if python_rejects((root / f).read_bytes(), f)}

    started = time.monotonic()
    check = run_cli(["check", "--format", "json", "--no-cache"], cwd=root)
    table = run_cli(["table", "--format", "json", "--no-cache"], cwd=root)
    elapsed = time.monotonic() - started

    assert check.exit_code == 1, check.stderr
    assert "Traceback" not in check.stderr + table.stderr
    assert table.exit_code == 0, table.stderr
    findings = check.json["findings"]
    assert check.json["summary"]["files"] == len(files)
    diagnostics: dict[str, int] = {}
    for finding in findings:
        if finding["code"] == "FCL900":
            diagnostics[finding["path"]] = diagnostics.get(finding["path"], 0) + 1
    [probe] = [m for m in table.json["messages"] if m["message_type"] == PROBE_TYPE]
    sites: dict[str, list[tuple[int, int]]] = {}
    for site in probe["sites"]:
        sites.setdefault(site["path"], []).append((site["line"], site["column"]))

    assert sorted(diagnostics) == sorted(expected_broken)
    assert all(count == 1 for count in diagnostics.values()), {p: c for p, c in diagnostics.items() if c != 1}
    assert not set(sites) & set(diagnostics)
    assert set(sites) | set(diagnostics) == set(files)
    wrong = {
        path: found for path, found in sites.items()
        if found != [(probe_line((root / path).read_bytes()), 1)]
    }
    assert wrong == {}
    assert elapsed < BUDGET_SECONDS, f"check + table took {elapsed:.0f}s"
