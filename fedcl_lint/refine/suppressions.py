"""Suppression comments applied: the findings a `# fedcl-lint: ignore` on their line hides, and
the comments that hid nothing (read from the source by `analysis.suppression_comments`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fedcl_lint.analysis.facts import Suppression
from fedcl_lint.records import frozen
from fedcl_lint.types import Finding, selector_matches


@frozen
class UnmatchedSuppression:
    """A suppression that matched nothing, or some of whose codes matched nothing."""

    path: str
    suppression: Suppression
    unused_codes: tuple[str, ...] | None  # None: the bare `ignore` matched nothing; empty: `ignore[]`


@frozen
class Outcome:
    kept: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    unused: tuple[UnmatchedSuppression, ...]


def _covers(suppression: Suppression, code: str) -> bool:
    return suppression.codes is None or any(selector_matches(c, code) for c in suppression.codes)


def apply_suppressions(
    findings: Iterable[Finding], suppressions: Mapping[str, tuple[Suppression, ...]]
) -> Outcome:
    """Drop the findings a comment on their line suppresses; say which comments (or codes) went unused."""
    by_line = {
        (path, s.line): s for path, file_suppressions in suppressions.items() for s in file_suppressions
    }
    used: dict[tuple[str, int], set[str]] = {}
    kept, suppressed = [], []
    for finding in findings:
        key = (finding.location.path, finding.location.line)
        suppression = by_line.get(key)
        if suppression is not None and _covers(suppression, finding.code):
            suppressed.append(finding)
            used.setdefault(key, set()).add(finding.code)
        else:
            kept.append(finding)
    unused = []
    for (path, line), suppression in sorted(by_line.items()):
        codes_used = used.get((path, line), set())
        if suppression.codes is None:
            if not codes_used:
                unused.append(UnmatchedSuppression(path, suppression, None))
            continue
        idle = tuple(c for c in suppression.codes if not any(selector_matches(c, u) for u in codes_used))
        if idle or not suppression.codes:
            unused.append(UnmatchedSuppression(path, suppression, idle))
    return Outcome(tuple(kept), tuple(suppressed), tuple(unused))
