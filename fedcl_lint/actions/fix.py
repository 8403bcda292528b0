"""`check --fix` and `--diff`: apply the fixes the findings carry.

Each FCL001 finding carries its fix, decided where the finding is made
(`checks/rewrite.py`): text edits that rewrite the send to the mechanism its
handlers use, or why there are none. Here the edits of each file are applied
to the bytes that were analysed (a file changed since is left alone); the new
source is re-parsed (ast and libcst) before it is written, in the file's own
encoding, BOM, line endings and mode bits, through a temporary file in the same
folder and `os.replace` (a file is either the old one or the new one, never
half of each). Nothing is imported or run.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from fedcl_lint.analysis.discover import SourceFile
from fedcl_lint.checks.rewrite import Refused, decode_source, first_line
from fedcl_lint.files import replace_atomically
from fedcl_lint.refine.result import Analysis
from fedcl_lint.types import Finding, Location, TextEdit, plural

CODE = "FCL001"  # the one check whose findings carry fixes


@dataclass(frozen=True)
class Unfixed:
    """A finding left as it is, and why."""

    location: Location
    reason: str


@dataclass(frozen=True)
class FileFix:
    """A file's bytes before and after the edits of its findings (nothing is written yet)."""

    file: SourceFile
    before: bytes
    after: bytes
    encoding: str
    fixed: tuple[Finding, ...]

    @property
    def display(self) -> str:
        return self.file.display


@dataclass(frozen=True)
class FixPlan:
    """What `--fix` would do: the rewritten files, and the findings it leaves."""

    total: int  # findings that carry a fix (or the reason for none)
    files: tuple[FileFix, ...]
    unfixed: tuple[Unfixed, ...]

    @property
    def fixed(self) -> int:
        return sum(len(f.fixed) for f in self.files)


@dataclass(frozen=True)
class WriteFailure:
    """A file that could not be written (it is left exactly as it was)."""

    display: str
    reason: str


def plan_fixes(analysis: Analysis) -> FixPlan:
    """The files the fixes of the run's findings rewrite, and the findings left with their reasons.
    Findings that the settings hide (suppressed, baselined, not selected) are not the run's: not fixed.
    """
    findings = [f for f in analysis.findings if f.fix is not None]
    unfixed = [Unfixed(f.location, _reason(f)) for f in findings if not f.fixable]
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.fixable:
            by_path.setdefault(finding.location.path, []).append(finding)
    by_display = {file.display: file for file in analysis.files}
    files = []
    first_seen: dict[str, str] = {}  # a real file -> the display path it is fixed through
    for display in sorted(by_path):
        real = os.path.realpath(by_display[display].path)
        if real in first_seen:  # a symbolic link and its target both analysed: one file, fixed once
            unfixed.extend(Unfixed(f.location, f"the same file as {first_seen[real]}, fixed there")
                           for f in by_path[display])
            continue
        first_seen[real] = display
        fixed, left = _fix_file(by_display[display], by_path[display])
        unfixed.extend(left)
        if fixed is not None:
            files.append(fixed)
    return FixPlan(len(findings), tuple(files), tuple(sorted(unfixed, key=lambda u: u.location)))


def _reason(finding: Finding) -> str:
    return (finding.fix.reason if finding.fix is not None else None) or "no fix"


# --- rewriting one file ---------------------------------------------------------------------


def _fix_file(file: SourceFile, findings: list[Finding]) -> tuple[FileFix | None, list[Unfixed]]:
    """Apply the edits of `findings` to `file` (read once), if it is still the file they were made for."""
    try:
        before = file.path.read_bytes()
    except OSError as exc:
        return None, [Unfixed(f.location, f"cannot read the file: {exc.strerror or exc}") for f in findings]
    try:
        _check_unchanged(before, findings)
        encoding, text = decode_source(before)
        _round_trips(text)
    except Refused as exc:
        return None, [Unfixed(f.location, str(exc)) for f in findings]
    chosen, unfixed, after_text = _apply_edits(text, findings)
    try:
        after = _verified(after_text, encoding)
    except Refused as exc:
        return None, unfixed + [Unfixed(f.location, str(exc)) for f in chosen]
    return FileFix(file, before, after, encoding, tuple(chosen)), unfixed


def _round_trips(text: str) -> None:
    """libcst, the rewriter's check of the result, must read the file and print it back exactly."""
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        raise Refused(f"libcst cannot parse the file: {first_line(exc)}") from None
    if module.code != text:
        raise Refused("libcst does not print the file back exactly: not rewritten")


def _check_unchanged(data: bytes, findings: list[Finding]) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if any(f.fix is None or f.fix.digest != digest for f in findings):
        raise Refused("the file changed since it was analysed: not rewritten")


def _apply_edits(text: str, findings: list[Finding]) -> tuple[list[Finding], list[Unfixed], str]:
    """(the findings fixed, the ones left, the new text): a fix whose edits overlap an earlier one's
    (a send nested in another's moved argument) waits for the next run."""
    starts = _line_starts(text)
    taken: list[tuple[int, int, Location]] = []  # the spans replaced so far, and whose they are
    replacements: list[tuple[int, int, str]] = []
    chosen, unfixed = [], []
    for finding in sorted(findings, key=lambda f: f.location):
        spans = [(_offset(starts, e.line, e.column), _offset(starts, e.end_line, e.end_column), e)
                 for e in _edits(finding)]
        clash = next((owner for start, end, owner in taken for a, b, _ in spans if a < end and start < b), None)
        if clash is not None:
            unfixed.append(Unfixed(finding.location, f"its edits overlap those of the fix at {clash}; "
                                                     f"run --fix again"))
            continue
        chosen.append(finding)
        taken.extend((a, b, finding.location) for a, b, _ in spans)
        replacements.extend((a, b, edit.content) for a, b, edit in spans)
    for start, end, content in sorted(replacements, reverse=True):
        text = text[:start] + content + text[end:]
    return chosen, unfixed, text


def _edits(finding: Finding) -> Sequence[TextEdit]:
    return finding.fix.edits if finding.fix is not None else ()


def _line_starts(text: str) -> list[int]:
    """The offset of each line's first character (lines end where Python ends them), and the end."""
    starts = [0]
    for line in _lines(text):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(starts: list[int], line: int, column: int) -> int:
    return starts[line - 1] + column - 1


def _verified(text: str, encoding: str) -> bytes:
    """The new file's bytes, once both parsers accept them as Python reads them (cookie, BOM)."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise Refused(f"the rewritten file cannot be encoded as {encoding}: {exc.reason}") from None
    try:
        ast.parse(data)
        cst.parse_module(data)
    except (SyntaxError, ValueError, cst.ParserSyntaxError) as exc:
        raise Refused(f"the rewritten file does not parse ({first_line(exc)}): not rewritten") from None
    return data


# --- writing --------------------------------------------------------------------------------


def apply(plan: FixPlan) -> tuple[WriteFailure, ...]:
    """Write every rewritten file atomically; a file that fails is left exactly as it was."""
    failures = []
    for fix in plan.files:
        try:
            _write(fix)
        except Refused as exc:
            failures.append(WriteFailure(fix.display, str(exc)))
        except OSError as exc:
            failures.append(WriteFailure(fix.display, f"cannot write: {exc.strerror or exc}"))
    return tuple(failures)


def _write(fix: FileFix) -> None:
    """Replace the file's content (through a symlink: see replace_atomically), if it did not change
    meanwhile and may be replaced: the rename that makes the write atomic would go past a read-only
    mode (even for root) and would split a file from its other hard links."""
    status = os.stat(fix.file.path)
    if not status.st_mode & 0o222 or not os.access(fix.file.path, os.W_OK):
        raise Refused("the file is read-only: not rewritten")
    if status.st_nlink > 1:
        raise Refused(f"the file has {status.st_nlink} hard links, which a rewrite would split: not rewritten")
    if fix.file.path.read_bytes() != fix.before:
        raise Refused("the file changed since it was analysed: not rewritten")
    replace_atomically(fix.file.path, fix.after)


# --- reporting ------------------------------------------------------------------------------


def unified_diff(plan: FixPlan) -> str:
    """The plan as a unified diff (`patch -p0` applies it), one file after another."""
    parts = []
    for fix in plan.files:
        before = _lines(fix.before.decode(fix.encoding))
        after = _lines(fix.after.decode(fix.encoding))
        for line in difflib.unified_diff(before, after, fromfile=fix.display, tofile=fix.display):
            parts.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(parts)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> list[str]:
    """Lines with their own endings, split only where Python ends a line (not at \\f or \\x1c)."""
    return _LINE.findall(text)


def summary(plan: FixPlan, failures: tuple[WriteFailure, ...] = (), dry_run: bool = False,
            listed: bool = False) -> str:
    """'Fixed N of M FCL001 findings (K files).', then (`listed`: `--show-fixes`) each fix made, and
    why each other one was not fixed."""
    failed = {f.display for f in failures}
    written = [f for f in plan.files if f.display not in failed]
    fixed = sum(len(f.fixed) for f in written)
    verb = "Would fix" if dry_run else "Fixed"
    lines = [f"{verb} {fixed} of {plan.total} {CODE} findings ({plural(len(written), 'file')})."]
    if listed:
        made = sorted((finding for file in written for finding in file.fixed), key=lambda f: f.location)
        verb = "would fix" if dry_run else "fixed"
        lines += [f"    {f.location}: {verb}: {f.fix.message if f.fix else ''}" for f in made]
    lines += [f"    {u.location}: not fixed: {u.reason}" for u in plan.unfixed]
    for failure in failures:
        count = next(len(f.fixed) for f in plan.files if f.display == failure.display)
        lines.append(f"error: {failure.display}: {failure.reason}; the file is unchanged "
                     f"({plural(count, 'fix')} not applied)")
    return "\n".join(lines) + "\n"

