"""The shared vocabulary of every stage: mechanisms, roles, severities, codes, locations, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Mechanism(str, Enum):
    """How a message travels: request-response or fire-and-forget."""

    RPC = "rpc"
    EVENT = "event"

    def __str__(self) -> str:
        return self.value


class Role(str, Enum):
    """Which end of a message a call site is."""

    SEND = "send"
    HANDLE = "handle"

    def __str__(self) -> str:
        return self.value


class Severity(str, Enum):
    """How bad a finding is; warning and error fail the run by default."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, order=True)
class Location:
    """A place in the analysed tree: a display path and 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Related:
    """The other side of a finding, e.g. the handler a mismatched send misses."""

    location: Location
    role: Role | None
    mechanism: Mechanism | None
    note: str


@dataclass(frozen=True, order=True)
class TextEdit:
    """Replace the text of `path` from `line`:`column` up to (not including) `end_line`:`end_column`
    with `content`. Lines and columns are 1-based and columns count characters, as in a Location."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class Fix:
    """What `--fix` does about a finding, decided where the finding is made: edits to the finding's
    file (`message` says what they do), or none and the `reason`."""

    message: str | None = None
    edits: tuple[TextEdit, ...] = ()
    digest: str | None = None  # SHA-256 of the file's bytes the edits were made for: applied to those only
    reason: str | None = None


@dataclass(frozen=True)
class Finding:
    """One diagnostic at one place."""

    code: str
    severity: Severity
    message: str
    location: Location
    message_type: str | None = None
    mechanism: Mechanism | None = None
    related: tuple[Related, ...] = field(default=())
    fix: Fix | None = None  # None: the check never fixes
    protocol: str | None = None  # the protocol scope whose table made it; None without scopes, or for shared code

    @property
    def sort_key(self) -> tuple[Location, str, str]:
        return (self.location, self.code, self.message)

    @property
    def fixable(self) -> bool:
        """Whether `--fix` has edits for it."""
        return self.fix is not None and bool(self.fix.edits)


ALL_SELECTOR = "ALL"
# Every check's code, for the settings to validate selectors before any check is loaded;
# tests/test_checks.py holds it equal to the checks' own codes.
CODES = (
    "FCL001", "FCL002", "FCL003", "FCL004", "FCL005", "FCL006", "FCL007", "FCL008",
    "FCL900", "FCL901", "FCL902", "FCL100",
)


def selector_matches(selector: str, code: str) -> bool:
    """Whether a code selector (`FCL001`, a prefix such as `FCL00`, or `ALL`) takes in `code`: the
    settings' `select`/`ignore` and the suppression comments read codes alike."""
    return selector == ALL_SELECTOR or code.startswith(selector)


def plural(count: int, noun: str) -> str:
    """`1 file`, `2 files`, `2 fixes`: every count the tool prints."""
    suffix = "es" if noun.endswith(("s", "x", "ch", "sh")) else "s"
    return f"{count} {noun}" if count == 1 else f"{count} {noun}{suffix}"
