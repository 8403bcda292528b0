"""`check --statistics`: how many findings of each code, as Ruff counts them, instead of the findings.

Text: one line per code, most frequent first, `COUNT<TAB>CODE<TAB>[*] name` (`[*]` when
`--fix` fixes some of them, `[ ]` when it fixes none; no marker column when it fixes
nothing at all), then the summary lines (unless quiet). JSON: an array of
`{"code", "name", "count", "fixable", "fixable_count"}`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fedcl_lint.checks import check_by_code
from fedcl_lint.files import json_text
from fedcl_lint.output.text import footer_lines
from fedcl_lint.records import frozen
from fedcl_lint.refine.result import CheckResult


@frozen
class Statistic:
    code: str
    name: str
    count: int
    fixable_count: int


def statistics(result: CheckResult) -> list[Statistic]:
    counts: Counter[str] = Counter(finding.code for finding in result.findings)
    fixable: Counter[str] = Counter(finding.code for finding in result.findings if finding.fixable)
    rows = []
    for code, count in counts.items():
        check = check_by_code(code)
        rows.append(Statistic(code, check.name if check is not None else "", count, fixable[code]))
    return sorted(rows, key=lambda row: (-row.count, row.code))


def render_text(result: CheckResult, quiet: bool = False) -> str:
    rows = statistics(result)
    lines = []
    if rows:
        count_width = max(len(str(row.count)) for row in rows)
        code_width = max(len(row.code) for row in rows)
        marked = any(row.fixable_count for row in rows)
        for row in rows:
            marker = ("[*] " if row.fixable_count else "[ ] ") if marked else ""
            lines.append(f"{row.count:>{count_width}}\t{row.code:<{code_width}}\t{marker}{row.name}")
    if not quiet:
        lines.extend(footer_lines(result, fixable=True))
    return "\n".join(lines) + "\n" if lines else ""


def document(result: CheckResult) -> list[dict[str, Any]]:
    return [
        {"code": row.code, "name": row.name, "count": row.count, "fixable": row.fixable_count > 0,
         "fixable_count": row.fixable_count}
        for row in statistics(result)
    ]


def render_json(result: CheckResult) -> str:
    return json_text(document(result))
