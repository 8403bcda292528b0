"""Checks: one class per diagnostic, each reading one message type's entry, one site, or the broken files.

The registry below is every check, in code order; `run_checks` runs them over a table.
"""

from __future__ import annotations

from fedcl_lint.checks.base import Check, CheckContext, EntryCheck, FileFailure, SiteCheck
from fedcl_lint.checks.files import FileTooLarge, ParseError, ReadError
from fedcl_lint.checks.protocol import (
    DuplicateHandler,
    HandlerSignature,
    MechanismMismatch,
    ProtocolPolicy,
    UnawaitedSend,
    UnhandledMessage,
    UnresolvedMessageType,
    UnusedHandler,
)
from fedcl_lint.checks.suppression import UnusedSuppression
from fedcl_lint.types import Finding

__all__ = ["ALL_CHECKS", "Check", "CheckContext", "FileFailure", "check_by_code", "run_checks"]

ALL_CHECKS: tuple[Check, ...] = (
    MechanismMismatch(),
    UnhandledMessage(),
    UnusedHandler(),
    DuplicateHandler(),
    UnresolvedMessageType(),
    HandlerSignature(),
    UnawaitedSend(),
    ProtocolPolicy(),
    ParseError(),
    ReadError(),
    FileTooLarge(),
    UnusedSuppression(),
)


def check_by_code(code: str) -> Check | None:
    return next((c for c in ALL_CHECKS if c.code == code.upper() or c.name == code.lower()), None)


def run_checks(ctx: CheckContext) -> list[Finding]:
    """Every check: the entry checks over each message type of the table, the site checks over each
    site (and, where they ask, the calls inside wrappers), the file checks over the broken files.
    In no particular order: `refine` sorts what it keeps."""
    table = ctx.table
    found: list[Finding] = []
    for check in ALL_CHECKS:
        if isinstance(check, EntryCheck):
            for entry in table.entries:
                found.extend(check.check_entry(entry, ctx))
            for site in ctx.patterns:
                found.extend(check.check_pattern(site, ctx))
        elif isinstance(check, SiteCheck):
            sites = table.sites + table.forwarding if check.forwarding else table.sites
            for site in sites:
                found.extend(check.check_site(site, ctx))
        elif isinstance(check, ParseError):
            for failure in ctx.failures:
                found.extend(check.check_failure(failure))
    return found
