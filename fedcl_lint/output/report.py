"""A `check` report in the format asked for, as text: what is printed, written to a file or recorded."""

from __future__ import annotations

from fedcl_lint.refine.result import CheckResult

REPORT_FORMATS = ("text", "json", "sarif", "github")


def render_report(result: CheckResult, output_format: str) -> tuple[str, str | None]:
    """(the report, the GitHub job summary for `github`, else None). Each format's reporter is
    loaded only when asked for."""
    if output_format == "json":
        from fedcl_lint.output import json_report

        return json_report.dumps(json_report.findings_document(result)), None
    if output_format == "sarif":
        from fedcl_lint.output import sarif

        return sarif.dumps(sarif.sarif_document(result)), None
    if output_format == "github":
        from fedcl_lint.output import github

        return github.render_commands(result), github.render_step_summary(result)
    if output_format == "text":
        from fedcl_lint.output import text

        return text.render_findings(result), None
    raise ValueError(f"unknown report format {output_format!r} (known: {', '.join(REPORT_FORMATS)})")
