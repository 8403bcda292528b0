"""GitLab Code Quality: a JSON array of issues, one per finding, as GitLab's merge request widget reads.

Each issue has the fields GitLab requires: `description` (the code and the message),
`check_name` (the code), `fingerprint` (unique in the report, and stable while the line's
text stays: the baseline's fingerprint of the finding with its rank among identical ones),
`severity` (error: major, warning: minor, info: info) and `location`: `path`, relative to
the repository root (see `root`), and `positions` (begin and end, line and column).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from fedcl_lint.files import json_text
from fedcl_lint.output.root import ReportPaths
from fedcl_lint.refine.baseline import SourceLines, fingerprint
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Severity

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def issues(result: CheckResult) -> list[dict[str, Any]]:
    paths = ReportPaths.of(result.cwd)
    sources = SourceLines(paths.cwd)
    seen: Counter[str] = Counter()
    found = []
    for finding in result.findings:
        location = paths.location(finding.location)
        own = fingerprint(finding, location.path, sources.line(finding.location.path, finding.location.line))
        seen[own] += 1
        unique = hashlib.sha256(f"{own}:{seen[own]}".encode()).hexdigest()
        end_line, end_column = location.end or (location.line, location.column)
        found.append({
            "description": f"{finding.code}: {finding.message}",
            "check_name": finding.code,
            "fingerprint": unique,
            "severity": _SEVERITY[finding.severity],
            "location": {
                "path": location.path,
                "positions": {
                    "begin": {"line": location.line, "column": location.column},
                    "end": {"line": end_line, "column": end_column},
                },
            },
        })
    return found


def render(result: CheckResult) -> str:
    return json_text(issues(result))
