"""The protocol table: message type -> who sends it and who handles it, on which mechanism."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from enum import Enum

from fedcl_lint.analysis.link import LinkedSite, LinkResult, Resolution, Wrapper
from fedcl_lint.records import field, frozen, replace
from fedcl_lint.types import Mechanism, MessageType, Role, ordered


class Status(str, Enum):
    """How a message type's senders and handlers fit together."""

    OK = "ok"
    MISMATCH = "mismatch"  # some sends use a channel no handler's registry serves
    UNHANDLED = "unhandled"  # sent, handled nowhere
    UNUSED = "unused"  # handled, never sent

    def __str__(self) -> str:
        return self.value

    @staticmethod
    def of(sent_on: frozenset[Mechanism], handled_on: frozenset[Mechanism]) -> Status:
        """The status of a message type from the mechanisms it is sent and handled on: the table's
        entries and the protocol model (built or read from a manifest) judge alike."""
        if not handled_on:
            return Status.UNHANDLED
        if not sent_on:
            return Status.UNUSED
        if sent_on - handled_on:
            return Status.MISMATCH
        return Status.OK


@frozen
class MessageEntry:
    """Every resolved site of one message type."""

    message_type: MessageType
    sends: tuple[LinkedSite, ...]
    handles: tuple[LinkedSite, ...]

    @property
    def send_mechanisms(self) -> frozenset[Mechanism]:
        return frozenset(s.mechanism for s in self.sends)

    @property
    def handle_mechanisms(self) -> frozenset[Mechanism]:
        """Every channel a registry of its handlers serves."""
        return frozenset(m for s in self.handles for m in s.channels)

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        return ordered(self.send_mechanisms | self.handle_mechanisms)

    @property
    def status(self) -> Status:
        return Status.of(self.send_mechanisms, self.handle_mechanisms)

    @property
    def sites(self) -> tuple[LinkedSite, ...]:
        return tuple(sorted(self.sends + self.handles, key=_order))


@frozen
class ProtocolTable:
    """The whole protocol as the code states it."""

    entries: tuple[MessageEntry, ...]
    unresolved: tuple[LinkedSite, ...]
    sites: tuple[LinkedSite, ...] = ()  # every site, resolved or not, in location order
    forwarding: tuple[LinkedSite, ...] = ()  # inside wrappers: not protocol sites of their own
    wrappers: tuple[Wrapper, ...] = ()
    scopes: tuple[ScopeTable, ...] = ()  # with protocol scopes: each scope's table, by name
    # what linking found, each int named as its own site names it: a scope's table names its ints anew
    linked: LinkResult | None = field(default=None, compare=False, repr=False)

    @property
    def site_count(self) -> int:
        return len(self.sites)

    @property
    def resolved_count(self) -> int:
        return self.site_count - len(self.unresolved)

    def entry(self, message_type: MessageType | str | int) -> MessageEntry | None:
        wanted = message_type if isinstance(message_type, MessageType) else MessageType(message_type)
        return next((e for e in self.entries if e.message_type == wanted), None)

    def scope_of(self, path: str) -> str | None:
        """The protocol scope a file (display path) belongs to; None for shared code, or without scopes."""
        return next((scope.name for scope in self.scopes if path in scope.files), None)


@frozen
class ScopeTable:
    """One protocol scope: its table holds the sites of its own files and those of the shared code
    (the files of no scope), which every scope sees."""

    name: str
    table: ProtocolTable
    files: frozenset[str]  # display paths of the files that belong to the scope


def build_table(linked: LinkResult) -> ProtocolTable:
    """Group resolved sites by message type (by value); keep the unresolved ones apart.

    An int type is shown by one name wherever it appears (see `display_name`): its sites are
    given that name, so that every finding and rendering of the type says the same.
    """
    by_type: dict[MessageType, list[LinkedSite]] = {}
    unresolved = []
    sites = sorted(linked.sites, key=_order)
    for site in sites:
        if site.message_type is None:
            unresolved.append(site)
        else:
            by_type.setdefault(site.message_type, []).append(site)
    renamed: dict[LinkedSite, LinkedSite] = {}
    for message_type, group in by_type.items():
        if isinstance(message_type.value, int):
            shown = message_type.named(display_name(group))
            renamed.update((site, _renamed(site, shown)) for site in group if _name(site) != shown.name)
    if renamed:
        by_type = {t: [renamed.get(site, site) for site in group] for t, group in by_type.items()}
        sites = [renamed.get(site, site) for site in sites]
    entries = tuple(
        MessageEntry(
            message_type=group[0].message_type or message_type,  # the first site's: the name shown
            sends=tuple(s for s in group if s.role is Role.SEND),
            handles=tuple(s for s in group if s.role is Role.HANDLE),
        )
        for message_type, group in sorted(by_type.items())
    )
    return ProtocolTable(
        entries=entries,
        unresolved=tuple(unresolved),
        sites=tuple(sites),
        forwarding=tuple(sorted(linked.forwarding, key=_order)),
        wrappers=linked.wrappers,
        linked=linked,
    )


def scoped_table(table: ProtocolTable, scope_of: Mapping[str, str | None], names: tuple[str, ...]) -> ProtocolTable:
    """`table` with the table of each protocol scope in `names` (sorted by name): the sites of the files
    that `scope_of` (display path -> scope name, None for shared code) gives it, and the shared ones.
    An int type is shown by the name most of the scope's own and shared sites give it."""
    scopes = []
    found = table.linked or LinkResult(table.sites, table.forwarding, table.wrappers)
    for name in sorted(names):
        def visible(site: LinkedSite, name: str = name) -> bool:
            return scope_of.get(site.location.path) in (name, None)

        linked = LinkResult(tuple(filter(visible, found.sites)), tuple(filter(visible, found.forwarding)),
                            found.wrappers)
        own = frozenset(path for path, scope in scope_of.items() if scope == name)
        scopes.append(ScopeTable(name, build_table(linked), own))
    return replace(table, scopes=tuple(scopes))


def display_name(sites: list[LinkedSite]) -> str | None:
    """The name an int message type is shown by: the one most of its sites name it by, the first
    (in location order) on a tie; None when no site names it (bare literals)."""
    counts = Counter(name for name in map(_name, sites) if name)
    if not counts:
        return None
    most = max(counts.values())
    return next(name for name in counts if counts[name] == most)  # a Counter keeps first-seen order


def _name(site: LinkedSite) -> str | None:
    return site.message_type.name if site.message_type is not None else None


def _renamed(site: LinkedSite, message_type: MessageType) -> LinkedSite:
    """The site with its type shown by another name (every other field as it was)."""
    values = list(site._values(site))
    values[site._fields.index("resolution")] = Resolution(message_type, site.resolution.steps, site.resolution.reason)
    return LinkedSite(*values)


def _order(site: LinkedSite) -> tuple[str, int, int, Role, Mechanism, str]:
    # the location's fields, not the Location: tuples of str and int compare in C, a Location's order does not
    location = site.location
    return (location.path, location.line, location.column, site.role, site.mechanism, site.api)
