"""The JSON contract for CI and scripts (`version: 1`); extra fields may be added, never removed.

The protocol manifest (`table --format json`) has its own module, output/manifest.py.
"""

from __future__ import annotations

from typing import Any

from fedcl_lint.files import json_text
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Finding, Fix, Location, Severity

SCHEMA_VERSION = 1


def findings_document(result: CheckResult) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "findings": [_finding(f, scoped=bool(result.config.protocols)) for f in result.findings],
        "summary": {
            "files": result.file_count,
            "errors": result.count(Severity.ERROR),
            "warnings": result.count(Severity.WARNING),
            "infos": result.count(Severity.INFO),
            "call_sites": result.site_count,
            "resolved_call_sites": result.resolved_count,
        },
    }


def dumps(document: dict[str, Any]) -> str:
    return json_text(document)


def _location(location: Location) -> dict[str, Any]:
    """Where a finding is; `end_line`/`end_column` (exclusive) end its span, null when it has none."""
    end_line, end_column = location.end or (None, None)
    return {"path": location.path, "line": location.line, "column": location.column,
            "end_line": end_line, "end_column": end_column}


def _finding(finding: Finding, scoped: bool = False) -> dict[str, Any]:
    """With protocol scopes, `protocol` names the finding's scope (null for one at shared code)."""
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "message": finding.message,
        "message_type": finding.message_type.value if finding.message_type is not None else None,
        "message_type_name": finding.message_type.name if finding.message_type is not None else None,
        "pattern": finding.pattern,  # a type known only as a pattern (`hook_*`), when `message_type` is null
        "mechanism": finding.mechanism.value if finding.mechanism else None,
        **({"protocol": finding.protocol} if scoped else {}),
        **_location(finding.location),
        "related": [
            {
                **_location(r.location),
                "role": r.role.value if r.role else None,
                "mechanism": r.mechanism.value if r.mechanism else None,
                "note": r.note,
            }
            for r in finding.related
        ],
        "fix": _fix(finding.fix),
    }


def _fix(fix: Fix | None) -> dict[str, object] | None:
    """The edits `--fix` makes (all of them or none), or why it makes none; null for checks that never fix."""
    if fix is None:
        return None
    if not fix.edits:
        return {"reason": fix.reason}
    return {
        "applicability": "safe",  # `--fix` applies it
        "message": fix.message,
        "edits": [
            {"path": e.path, "line": e.line, "column": e.column, "end_line": e.end_line,
             "end_column": e.end_column, "content": e.content}
            for e in fix.edits
        ],
    }
