"""GitHub Actions: one workflow command per finding, and the full report in the job summary.

GitHub turns `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`
lines into annotations on the pull request, but shows only 10 per level per step; the
complete report therefore also goes to `$GITHUB_STEP_SUMMARY` when it is set. Paths are
relative to the repository root (see `root`), as GitHub matches them; `endColumn` is
exclusive, as Ruff writes it.
"""

from __future__ import annotations

from fedcl_lint.checks import check_by_code
from fedcl_lint.output.root import ReportPaths
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


def annotation(finding: Finding, paths: ReportPaths | None = None) -> str:
    """The workflow command of one finding; `paths` rebases its paths (default: as they are)."""
    check = check_by_code(finding.code)
    title = f"{finding.code} {check.name}" if check is not None else finding.code
    location = paths.location(finding.location) if paths is not None else finding.location
    properties = {"file": location.path, "line": str(location.line), "col": str(location.column)}
    if location.end is not None:
        properties["endLine"], properties["endColumn"] = (str(n) for n in location.end)
    properties["title"] = title
    related = ((paths.location(r.location) if paths is not None else r.location, r.note) for r in finding.related)
    message = finding.message + "".join(f"\n{where}: {note}" for where, note in related)
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{_COMMAND[finding.severity]} {rendered}::{escape_data(message)}"


def render_commands(result: CheckResult, quiet: bool = False) -> str:
    """The workflow commands, then (unless `quiet`) the plain summary lines for the log."""
    paths = ReportPaths.of(result.cwd)
    lines = [annotation(f, paths) for f in result.findings]
    if not quiet:
        lines.extend(footer_lines(result))
    return "\n".join(lines) + "\n" if lines else ""


def render_step_summary(result: CheckResult) -> str:
    """The whole report as Markdown for the job summary page."""
    paths = ReportPaths.of(result.cwd)
    lines = ["## fedcl-lint", "", *footer_lines(result), ""]
    if result.findings:
        lines += ["| Severity | Code | Location | Message |", "| --- | --- | --- | --- |"]
        for finding in result.findings:
            message = _cell(finding.message) + "".join(
                f"<br>{_cell(f'`{paths.location(r.location)}`')}: {_cell(r.note)}" for r in finding.related
            )
            location = paths.location(finding.location)
            lines.append(f"| {finding.severity.value} | {finding.code} | `{_cell(str(location))}` | {message} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")
