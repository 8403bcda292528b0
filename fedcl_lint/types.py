"""The shared vocabulary of every stage: mechanisms (channels), roles, severities, codes, locations, findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import ClassVar

from fedcl_lint.records import field, frozen, set_field


class Mechanism(str):
    """A channel: how a message travels, by the name its rule pack gives it (`rpc`, `event`, `call`...).

    One type for one concept: packs of version 2 declare any channels (`[channels.NAME]`), those of
    version 1 the two that `RPC` and `EVENT` name (the built-in pack's two as well). The name stays
    `Mechanism`, as in every record, finding and output field (`"mechanism": "rpc"`), since the value
    is still the mechanism a site uses; what a channel means (its title, whether its sender waits for
    a reply, whether it is local) is the pack's `ChannelSpec`. Compared and hashed as its name.
    """

    __slots__ = ()

    RPC: ClassVar[Mechanism]
    EVENT: ClassVar[Mechanism]

    @property
    def value(self) -> str:
        """The name, as a plain string (what JSON and TOML hold)."""
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Mechanism({str.__str__(self)!r})"

    def __reduce__(self) -> tuple[type, tuple[str]]:
        return Mechanism, (str.__str__(self),)


Mechanism.RPC = Mechanism("rpc")
Mechanism.EVENT = Mechanism("event")
# The order of channels when nothing declares one (a manifest written before channels): the two of
# version 1 first, then the others by name.
DEFAULT_CHANNELS = (Mechanism.RPC, Mechanism.EVENT)


def ordered(mechanisms: Iterable[Mechanism], order: Sequence[Mechanism] = DEFAULT_CHANNELS) -> tuple[Mechanism, ...]:
    """`mechanisms` once each, in `order` (a pack's declaration order), then any others by name."""
    rank = {m: i for i, m in enumerate(order)}
    return tuple(sorted(set(mechanisms), key=lambda m: (rank.get(m, len(rank)), m.value)))


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


class MessageType:
    """A message type: a string or an int, compared, hashed and ordered by value alone.

    `name` is how the code names an int (`MyMessage.MSG_TYPE_S2C_FINISH`, see link.py), None for
    a bare literal and always None for a string, whose value is its name. `1` and `"1"` are two
    message types; a type also equals its bare value (`MessageType("X") == "X"`, never `True == 1`).
    Types sort ints first, by number, then strings.
    """

    __slots__ = ("value", "name")

    def __init__(self, value: str | int, name: str | None = None):
        self.value = value
        self.name = name

    def __eq__(self, other: object) -> bool:
        if other.__class__ is MessageType:
            value = other.value
        elif other.__class__ is str or other.__class__ is int:
            value = other
        else:
            return NotImplemented
        return bool(self.value == value and self.value.__class__ is value.__class__)

    def __hash__(self) -> int:
        return hash(self.value)

    def __lt__(self, other: MessageType) -> bool:
        return self.sort_key < other.sort_key

    @property
    def sort_key(self) -> tuple[int, int, str]:
        value = self.value
        return (1, 0, value) if isinstance(value, str) else (0, value, "")

    def __str__(self) -> str:
        """How reports show it: a string as it is, an int by its name and value (`Msg.X (12)`) or its value."""
        value = self.value
        if isinstance(value, str):
            return value
        return f"{self.name} ({value})" if self.name else str(value)

    def __repr__(self) -> str:
        return f"MessageType({self.value!r}, {self.name!r})" if self.name else f"MessageType({self.value!r})"

    def __reduce__(self) -> tuple[type, tuple[str | int, str | None]]:
        return MessageType, (self.value, self.name)

    def named(self, name: str | None) -> MessageType:
        """The same type shown by another name."""
        return self if name == self.name else MessageType(self.value, name)

    @property
    def policy_keys(self) -> tuple[str, ...]:
        """The `[tool.fedcl-lint.protocol]` keys (TOML strings) that declare this type, the first that
        is declared winning: a string's value; an int's name, then its decimal text."""
        value = self.value
        if isinstance(value, str):
            return (value,)
        return (self.name, str(value)) if self.name else (str(value),)

    def declared(self, policy: Mapping[str, Mechanism]) -> Mechanism | None:
        """The mechanism the protocol policy declares for this type, if any."""
        for key in self.policy_keys:
            if key in policy:
                return policy[key]
        return None


@frozen(order=True)
class Location:
    """A place in the analysed tree: a display path and 1-based line and column. `end` is where the
    span starting there ends (line, and the column just after its last character), when known: a
    call's closing parenthesis. It is what reports underline; it takes no part in comparisons."""

    path: str
    line: int
    column: int
    end: tuple[int, int] | None = field(default=None, compare=False)

    # By hand, faster than the generic methods: a run makes tens of thousands and hashes them more.
    def __init__(self, path: str, line: int, column: int, end: tuple[int, int] | None = None):
        set_field(self, "path", path)
        set_field(self, "line", line)
        set_field(self, "column", column)
        set_field(self, "end", end)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Location):
            return (self.path, self.line, self.column) == (other.path, other.line, other.column)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.path, self.line, self.column))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@frozen
class Related:
    """The other side of a finding, e.g. the handler a mismatched send misses."""

    location: Location
    role: Role | None
    mechanism: Mechanism | None
    note: str


@frozen(order=True)
class TextEdit:
    """Replace the text of `path` from `line`:`column` up to (not including) `end_line`:`end_column`
    with `content`. Lines and columns are 1-based and columns count characters, as in a Location."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@frozen
class Fix:
    """What `--fix` does about a finding, decided where the finding is made: edits to the finding's
    file (`message` says what they do), or none and the `reason`."""

    message: str | None = None
    edits: tuple[TextEdit, ...] = ()
    digest: str | None = None  # SHA-256 of the file's bytes the edits were made for: applied to those only
    reason: str | None = None


@frozen
class Finding:
    """One diagnostic at one place."""

    code: str
    severity: Severity
    message: str
    location: Location
    message_type: MessageType | None = None
    mechanism: Mechanism | None = None
    related: tuple[Related, ...] = field(default=())
    fix: Fix | None = None  # None: the check never fixes
    protocol: str | None = None  # the protocol scope whose table made it; None without scopes, or for shared code
    pattern: str | None = None  # the message type of a site known only as a pattern (`hook_*`): no `message_type`

    # By hand, as `Location`'s: a project may have thousands, each made by a check and then replaced.
    def __init__(self, code: str, severity: Severity, message: str, location: Location,
                 message_type: MessageType | None = None, mechanism: Mechanism | None = None,
                 related: tuple[Related, ...] = (), fix: Fix | None = None, protocol: str | None = None,
                 pattern: str | None = None):
        set_field(self, "code", code)
        set_field(self, "severity", severity)
        set_field(self, "message", message)
        set_field(self, "location", location)
        set_field(self, "message_type", message_type)
        set_field(self, "mechanism", mechanism)
        set_field(self, "related", related)
        set_field(self, "fix", fix)
        set_field(self, "protocol", protocol)
        set_field(self, "pattern", pattern)

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
