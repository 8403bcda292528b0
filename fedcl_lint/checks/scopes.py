"""The checks over protocol scopes (`[[tool.fedcl-lint.protocols]]`): each scope is a closed protocol.

Each scope's table holds its own sites and the shared ones (code in no scope). A finding
anchored at a site of a scope comes from that scope's table and carries its name. A
finding anchored at a shared site is reported only when every scope's table makes it
(precision first: a shared handler one scope uses is not unused), once, with the other
side gathered from every scope. The broken files are reported once, as without scopes.
"""

from __future__ import annotations

from collections.abc import Callable

from fedcl_lint.checks import CheckContext, run_checks
from fedcl_lint.records import replace
from fedcl_lint.types import Finding, Location, Mechanism, MessageType, Related

_Key = tuple[str, Location, MessageType | None, Mechanism | None]


def run_scoped_checks(ctx: CheckContext, external_of: Callable[[str], frozenset[str | int]]) -> list[Finding]:
    """Every check over each scope of `ctx.table` (which has scopes); `external_of(scope)` gives a
    scope's external message types. In no particular order, as `run_checks`."""
    table = ctx.table
    found = run_checks(replace(ctx, table=replace(table, entries=(), sites=(), forwarding=(), scopes=())))
    shared: dict[_Key, Finding] = {}
    counts: dict[_Key, int] = {}
    for scope in table.scopes:
        scope_ctx = replace(ctx, table=scope.table, failures=(), external=external_of(scope.name))
        seen: set[_Key] = set()
        for finding in run_checks(scope_ctx):
            if finding.location.path in scope.files:
                found.append(replace(finding, protocol=scope.name))
                continue
            key = (finding.code, finding.location, finding.message_type, finding.mechanism)
            if key in seen:
                continue
            seen.add(key)
            counts[key] = counts.get(key, 0) + 1
            first = shared.setdefault(key, finding)
            if first is not finding:
                shared[key] = replace(first, related=_merged(first.related, finding.related))
    found.extend(f for key, f in shared.items() if counts[key] == len(table.scopes))
    return found


def _merged(first: tuple[Related, ...], other: tuple[Related, ...]) -> tuple[Related, ...]:
    return first + tuple(r for r in other if r not in first)
