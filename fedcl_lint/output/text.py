"""Ruff-style text: `path:line:col: CODE message`, related locations indented, then a summary.

On a terminal each finding also gets a code frame that underlines the call (its
span, recorded at extraction), in colour unless NO_COLOR is set; piped or written
to a file it stays plain, one finding per line, for grep and editors.
`show_fixes` adds each fixable finding's fix as the lines it changes; `quiet`
leaves out everything but the findings (as Ruff's `--quiet`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fedcl_lint.refine.baseline import SourceLines
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Finding, Fix, Severity, plural

if TYPE_CHECKING:
    from rich.console import Console

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_CALLEE = re.compile(r"[\w.]+")  # what is underlined when a finding has no span (e.g. a suppression comment)


def render_findings(result: CheckResult, *, show_fixes: bool = False, quiet: bool = False) -> str:
    lines = []
    sources = SourceLines(result.cwd) if show_fixes and result.cwd is not None else None
    for finding in result.findings:
        lines.append(f"{finding.location}: {finding.code} {finding.message}")
        for related in finding.related:
            lines.append(f"    {related.location}: {related.note}")
        if sources is not None and finding.fix is not None and finding.fix.edits:
            lines.extend(fix_lines(sources, finding.fix))
    if not quiet:
        lines.extend(footer_lines(result, fixable=True))
    return "\n".join(lines) + "\n" if lines else ""


def print_findings(result: CheckResult, console: Console, *, show_fixes: bool = False, quiet: bool = False) -> None:
    """The same report for a terminal: coloured, with a code frame under each finding."""
    from rich.markup import escape

    sources = SourceLines(result.cwd) if result.cwd is not None else None
    for finding in result.findings:
        style = _SEVERITY_STYLE[finding.severity]
        console.print(
            f"[bold]{escape(str(finding.location))}[/]: [{style}]{finding.code}[/] {escape(finding.message)}"
        )
        if sources is not None:
            for line in code_frame(sources, finding):
                console.print(line)
        for related in finding.related:
            console.print(f"    [cyan]{escape(str(related.location))}[/]: {escape(related.note)}")
        if show_fixes and sources is not None and finding.fix is not None and finding.fix.edits:
            for line in fix_lines(sources, finding.fix):
                colour = {"-": "red", "+": "green"}.get(line.strip()[:1])
                console.print(f"[{colour}]{escape(line)}[/]" if colour else escape(line))
        console.print()
    if not quiet:
        for line in footer_lines(result, fixable=True):
            console.print(escape(line))


def fix_lines(sources: SourceLines, fix: Fix) -> list[str]:
    """`--show-fixes`: what the fix does, then the lines it changes as they are (-) and would be (+)."""
    lines = [f"    fix: {fix.message}"]
    for path in sorted({edit.path for edit in fix.edits}):
        edits = sorted(edit for edit in fix.edits if edit.path == path)
        first, last = edits[0].line, max(edit.end_line for edit in edits)
        before = [sources.line(path, number) for number in range(first, last + 1)]
        text = "\n".join(before)
        starts = [0]
        for line in before:
            starts.append(starts[-1] + len(line) + 1)
        for edit in reversed(edits):  # sorted, without overlaps: later ones first keep the offsets
            start = starts[edit.line - first] + edit.column - 1
            end = starts[edit.end_line - first] + edit.end_column - 1
            text = text[:start] + edit.content + text[end:]
        lines += [f"    - {line}" for line in before] + [f"    + {line}" for line in text.split("\n")]
    return lines


def code_frame(sources: SourceLines, finding: Finding, context: int = 1) -> list[str]:
    """Rich-markup lines: the finding's line with `context` lines around it, its span underlined (on
    its first line, for a span over several lines)."""
    from rich.markup import escape

    lines = sources.lines(finding.location.path)
    number = finding.location.line
    if not 0 < number <= len(lines):
        return []
    first, last = max(1, number - context), min(len(lines), number + context)
    width = len(str(last))
    gutter = f"[blue]{' ' * width} |[/]"
    frame = [gutter]
    for current in range(first, last + 1):
        text = lines[current - 1].expandtabs(4)
        frame.append(f"[blue]{current:>{width}} |[/] {escape(text)}")
        if current == number:
            raw = lines[current - 1]
            start = len(raw[: finding.location.column - 1].expandtabs(4))
            end = finding.location.end
            if end is not None and end[0] == number:
                stop = end[1] - 1
            elif end is not None and end[0] > number:
                stop = len(raw.rstrip())
            else:
                match = _CALLEE.match(raw, finding.location.column - 1)
                stop = match.end() if match else finding.location.column
            length = max(1, len(raw[:stop].expandtabs(4)) - start)
            style = _SEVERITY_STYLE[finding.severity]
            frame.append(f"{gutter} {' ' * start}[{style}]{'^' * length} {finding.code}[/]")
    frame.append(gutter)
    return frame


def footer_lines(result: CheckResult, *, fixable: bool = False) -> list[str]:
    """The summary, (with `fixable`) how many findings `--fix` fixes, what was hidden, the coverage."""
    lines = [summary_line(result)]
    count = sum(1 for f in result.findings if f.fixable)
    if fixable and count:
        lines.append(f"[*] {count} fixable with the `--fix` option.")
    hidden = hidden_line(result)
    if hidden:
        lines.append(hidden)
    lines.append(coverage_line(result))
    return lines


def summary_line(result: CheckResult) -> str:
    if not result.findings:
        return f"All checks passed ({plural(result.file_count, 'file')} analysed)."
    counts = ", ".join(
        plural(result.count(severity), severity.value)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    return f"Found {counts} in {plural(result.file_count, 'file')}."


def hidden_line(result: CheckResult) -> str | None:
    """Say how many findings the user's suppressions and baseline hid, if any."""
    parts = []
    if result.suppressed:
        parts.append(f"{plural(result.suppressed, 'finding')} suppressed by comments")
    if result.baselined:
        parts.append(f"{plural(result.baselined, 'finding')} in the baseline")
    return f"Not shown: {' and '.join(parts)}." if parts else None


def coverage_line(result: CheckResult) -> str:
    return f"{result.resolved_count} of {result.site_count} call sites resolved."

