"""GitHub Actions: one workflow command per finding, and the full report in the job summary.

GitHub turns `::error file=…,line=…,col=…,title=…::message` lines into
annotations on the pull request, but shows only 10 per level per step; the
complete report therefore also goes to `$GITHUB_STEP_SUMMARY` when it is set.
"""

from __future__ import annotations

from fedcl_lint.checks import check_by_code
from fedcl_lint.output.text import footer_lines
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Finding, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """The escaping GitHub requires in a command's message (as @actions/core does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """The escaping GitHub requires in a command's property values: data escaping plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    check = check_by_code(finding.code)
    title = f"{finding.code} {check.name}" if check is not None else finding.code
    properties = {
        "file": finding.location.path,
        "line": str(finding.location.line),
        "col": str(finding.location.column),
        "title": title,
    }
    message = finding.message + "".join(f"\n{r.location}: {r.note}" for r in finding.related)
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{_COMMAND[finding.severity]} {rendered}::{escape_data(message)}"


def render_commands(result: CheckResult) -> str:
    """The workflow commands, then the plain summary lines for the log."""
    lines = [annotation(f) for f in result.findings]
    lines.extend(footer_lines(result))
    return "\n".join(lines) + "\n"


def render_step_summary(result: CheckResult) -> str:
    """The whole report as Markdown for the job summary page."""
    lines = ["## fedcl-lint", "", *footer_lines(result), ""]
    if result.findings:
        lines += ["| Severity | Code | Location | Message |", "| --- | --- | --- | --- |"]
        for finding in result.findings:
            message = _cell(finding.message) + "".join(
                f"<br>{_cell(f'`{r.location}`')}: {_cell(r.note)}" for r in finding.related
            )
            lines.append(
                f"| {finding.severity.value} | {finding.code} | `{_cell(str(finding.location))}` | {message} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")
