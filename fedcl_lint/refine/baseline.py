"""Baseline: today's findings recorded in a file, so that a run reports only new ones.

A finding is recognised by a fingerprint of what it is (code, file, message
type) and of the text of its line, never of its line number: inserting or
removing lines above a finding keeps it in the baseline. Identical
fingerprints are counted, so a second copy of a known finding is new.
Paths inside the file are relative to the file's folder, so the baseline
works whatever directory fedcl-lint runs from.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from fedcl_lint.analysis.discover import display_path
from fedcl_lint.analysis.extract import decode
from fedcl_lint.files import (
    USER_FILE_LIMIT,
    json_text,
    parse_structured,
    read_bounded,
    read_user_text,
    replace_atomically,
    sha256_hex,
)
from fedcl_lint.records import frozen
from fedcl_lint.types import Finding

BASELINE_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names the file."""


_LINE_END = re.compile(r"\r\n|\r|\n")


class SourceLines:
    """The lines of analysed files (by display path), read once each, for fingerprints and code frames."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self._files: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self._files:
            try:
                data = read_bounded(self.cwd / path, USER_FILE_LIMIT)
            except OSError:
                data = b""  # a file that vanished or cannot be read: fingerprint its findings by what they are
            text, failure = decode(data)  # as the parser read it: BOM, coding cookie
            if failure is not None:
                text = data.decode("utf-8", errors="replace")
            # only the line ends Python counts: str.splitlines would also split at \f, \v, \x1c...
            self._files[path] = _LINE_END.split(text)
        return self._files[path]

    def line(self, path: str, number: int) -> str:
        lines = self.lines(path)
        return lines[number - 1] if 0 < number <= len(lines) else ""


def line_hash(text: str) -> str:
    """A hash of a line's text that ignores indentation and spacing."""
    return sha256_hex(" ".join(text.split()).encode("utf-8"))[:16]


def fingerprint(finding: Finding, path: str, line_text: str) -> str:
    """What identifies a finding across edits elsewhere in the file: never its line number.
    An int message type adds a part of its own, so that `12` and `"12"` differ (and the
    fingerprints of string types stay what they were)."""
    value = finding.message_type.value if finding.message_type is not None else ""
    parts: tuple[str, ...] = (finding.code, path, str(value), line_hash(line_text))
    if isinstance(value, int):
        parts += ("int",)
    # a file name's bytes that are not UTF-8 are hashed as they are
    return sha256_hex("\0".join(parts).encode("utf-8", "surrogateescape"))[:24]


@frozen
class Entry:
    fingerprint: str
    code: str
    path: str
    message_type: str | int | None  # the JSON value: a string or an int
    message: str


@frozen
class Baseline:
    """The findings recorded in a baseline file."""

    path: Path
    entries: tuple[Entry, ...]

    def split(
        self, findings: Iterable[Finding], sources: SourceLines
    ) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
        """(new findings, findings already in the baseline)."""
        remaining = Counter(entry.fingerprint for entry in self.entries)
        new, known = [], []
        for finding in findings:
            key = _entry(finding, self.path.parent, sources).fingerprint
            if remaining[key] > 0:
                remaining[key] -= 1
                known.append(finding)
            else:
                new.append(finding)
        return tuple(new), tuple(known)


def _entry(finding: Finding, folder: Path, sources: SourceLines) -> Entry:
    path = display_path(sources.cwd / finding.location.path, folder)
    line_text = sources.line(finding.location.path, finding.location.line)
    message_type = finding.message_type.value if finding.message_type is not None else None
    return Entry(fingerprint(finding, path, line_text), finding.code, path, message_type, finding.message)


def record_baseline(path: Path, findings: Iterable[Finding], sources: SourceLines) -> int:
    """Record `findings` in `path` (sorted, no timestamps); return how many."""
    entries = sorted(
        (_entry(f, Path(os.path.abspath(path.parent)), sources) for f in findings),
        key=lambda e: (e.path, e.code, _type_order(e.message_type), e.fingerprint, e.message),
    )
    document = {
        "version": BASELINE_VERSION,
        "tool": "fedcl-lint",
        "findings": [
            {"fingerprint": e.fingerprint, "code": e.code, "path": e.path, "message_type": e.message_type,
             "message": e.message}
            for e in entries
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, json_text(document).encode("utf-8"))
    return len(entries)


def _type_order(value: str | int | None) -> tuple[int, int, str]:
    """Entries without a type or with a string type in the order they always had; ints first."""
    return (0, value, "") if isinstance(value, int) else (1, 0, value or "")


def load_baseline(path: Path, display: str) -> Baseline:
    """Read a baseline file written by `--write-baseline`; `display` names it in errors."""
    import json  # loaded by the runs that have a baseline only

    text = read_user_text(
        path, display, BaselineError, f"baseline not found (create it with --write-baseline {display})"
    )
    document = parse_structured(json.loads, text, display, BaselineError, "not a fedcl-lint baseline: invalid JSON")
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{display}: not a fedcl-lint baseline (expected an object with \"version\": 1)")
    raw = document.get("findings")
    if not isinstance(raw, list):
        raise BaselineError(f"{display}: `findings`: expected an array")
    entries = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("fingerprint", "code", "path")):
            raise BaselineError(f"{display}: `findings[{index}]`: expected an object with fingerprint, code and path")
        entries.append(Entry(item["fingerprint"], item["code"], item["path"], item.get("message_type"),
                             str(item.get("message", ""))))
    return Baseline(path=Path(os.path.abspath(path)), entries=tuple(entries))
