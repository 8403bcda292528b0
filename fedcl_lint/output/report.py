"""A `check` report in the format asked for, as text: what is printed, written to a file or recorded."""

from __future__ import annotations

from fedcl_lint.records import frozen
from fedcl_lint.refine.result import CheckResult

REPORT_FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")
STATISTICS_FORMATS = ("text", "json")  # --statistics prints counts in these


@frozen
class ReportOptions:
    """Ruff's options of the report: counts per code instead of the findings (`--statistics`), each
    fixable finding's fix (`--show-fixes`, text), nothing but the findings (`--quiet`)."""

    statistics: bool = False
    show_fixes: bool = False
    quiet: bool = False


def render_report(result: CheckResult, output_format: str,
                  options: ReportOptions = ReportOptions()) -> tuple[str, str | None]:
    """(the report, the GitHub job summary for `github`, else None). Each format's reporter is
    loaded only when asked for."""
    if output_format not in REPORT_FORMATS:
        raise ValueError(f"unknown report format {output_format!r} (known: {', '.join(REPORT_FORMATS)})")
    if options.statistics:
        from fedcl_lint.output import statistics

        if output_format == "json":
            return statistics.render_json(result), None
        if output_format == "text":
            return statistics.render_text(result, options.quiet), None
        raise ValueError(f"--statistics prints counts as {' or '.join(STATISTICS_FORMATS)}, not {output_format}")
    if output_format == "json":
        from fedcl_lint.output import json_report

        return json_report.dumps(json_report.findings_document(result)), None
    if output_format == "sarif":
        from fedcl_lint.output import sarif

        return sarif.dumps(sarif.sarif_document(result)), None
    if output_format == "github":
        from fedcl_lint.output import github

        return github.render_commands(result, options.quiet), github.render_step_summary(result)
    if output_format == "gitlab":
        from fedcl_lint.output import gitlab

        return gitlab.render(result), None
    if output_format == "junit":
        from fedcl_lint.output import junit

        return junit.render(result), None
    from fedcl_lint.output import text

    return text.render_findings(result, show_fixes=options.show_fixes, quiet=options.quiet), None
