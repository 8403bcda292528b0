"""Ruff-style text: `path:line:col: CODE message`, related locations indented, then a summary.

On a terminal each finding also gets a code frame with a caret under the call,
in colour unless NO_COLOR is set; piped or written to a file it stays plain,
one finding per line, for grep and editors.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fedcl_lint.refine.baseline import SourceLines
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Finding, Severity, plural

if TYPE_CHECKING:
    from rich.console import Console

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_CALLEE = re.compile(r"[\w.]+")


def render_findings(result: CheckResult) -> str:
    lines = []
    for finding in result.findings:
        lines.append(f"{finding.location}: {finding.code} {finding.message}")
        for related in finding.related:
            lines.append(f"    {related.location}: {related.note}")
    lines.extend(footer_lines(result, fixable=True))
    return "\n".join(lines) + "\n"


def print_findings(result: CheckResult, console: Console) -> None:
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
        console.print()
    for line in footer_lines(result, fixable=True):
        console.print(escape(line))


def code_frame(sources: SourceLines, finding: Finding, context: int = 1) -> list[str]:
    """Rich-markup lines: the finding's line with `context` lines around it and a caret under the call."""
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
            match = _CALLEE.match(raw, finding.location.column - 1)
            length = max(1, len(match.group(0)) if match else 1)
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

