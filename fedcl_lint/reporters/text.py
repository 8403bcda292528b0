"""Ruff-style text: `path:line:col: CODE message`, related locations indented, then a summary."""

from __future__ import annotations

from fedcl_lint.api import Analysis
from fedcl_lint.types import Severity


def render_findings(analysis: Analysis) -> str:
    lines = []
    for finding in analysis.findings:
        lines.append(f"{finding.location}: {finding.code} {finding.message}")
        for related in finding.related:
            lines.append(f"    {related.location}: {related.note}")
    lines.append(summary_line(analysis))
    lines.append(coverage_line(analysis))
    return "\n".join(lines) + "\n"


def summary_line(analysis: Analysis) -> str:
    if not analysis.findings:
        return f"All checks passed ({_plural(len(analysis.files), 'file')} analysed)."
    counts = ", ".join(
        _plural(analysis.count(severity), severity.value)
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    return f"Found {counts} in {_plural(len(analysis.files), 'file')}."


def coverage_line(analysis: Analysis) -> str:
    table = analysis.table
    return f"{table.resolved_count} of {table.site_count} call sites resolved."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
