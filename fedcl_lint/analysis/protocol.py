"""The protocol model: each message type with its send and handle sites, as every rendering reads it.

Built once from the protocol table, or read back from a manifest (`table --format json`,
see output/manifest.py). The manifest, the protocol page, the terminal table and `diff`
all read this one model, so they cannot disagree on what the protocol is. It holds what a
manifest holds and no more: the table keeps what only the checks need (handler signatures,
resolved values, forwarding calls).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fedcl_lint.analysis.link import LinkedSite, Step, Wrapper
from fedcl_lint.analysis.table import ProtocolTable, Status
from fedcl_lint.settings.rulepack import RulePack
from fedcl_lint.types import DEFAULT_CHANNELS, Location, Mechanism, MessageType, Role, ordered


@dataclass(frozen=True)
class Site:
    """One send or handle call of the protocol; what a hand-written manifest leaves out is empty."""

    role: Role
    mechanism: Mechanism
    location: Location
    api: str = ""  # what the code calls: a rule-pack API, a wrapper, a payload dict or a dispatcher
    via: tuple[str, ...] = ()  # from a wrapper down to the rule-pack API
    function: str | None = None  # the function the call is in
    handler: str | None = None  # the handler a registration names
    resolution: tuple[Step, ...] = ()  # how the message type was found
    built_at: Location | None = None  # where the message object a send sends was built
    serves: tuple[Mechanism, ...] = ()  # a handle site's channels, when its registry serves more than `mechanism`

    @property
    def channels(self) -> tuple[Mechanism, ...]:
        """The channel a send is on; every channel a handle site's registry serves."""
        return self.serves or (self.mechanism,)

    @classmethod
    def from_linked(cls, site: LinkedSite) -> Site:
        return cls(
            role=site.role,
            mechanism=site.mechanism,
            location=site.location,
            api=site.api,
            via=site.via,
            function=site.function,
            handler=site.handler.description if site.handler else None,
            resolution=site.resolution.steps,
            built_at=site.built_at,
            serves=site.channels if len(site.channels) > 1 else (),
        )


@dataclass(frozen=True)
class Message:
    """One message type and its sites, in location order; its status follows from them."""

    message_type: MessageType
    sites: tuple[Site, ...]
    scope: str | None = None  # the protocol scope (`[[tool.fedcl-lint.protocols]]`) it belongs to, if any

    @property
    def sends(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.role is Role.SEND)

    @property
    def handles(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.role is Role.HANDLE)

    @property
    def sent_on(self) -> frozenset[Mechanism]:
        return frozenset(s.mechanism for s in self.sends)

    @property
    def handled_on(self) -> frozenset[Mechanism]:
        return frozenset(m for s in self.handles for m in s.channels)

    @property
    def working(self) -> frozenset[Mechanism]:
        """The mechanisms on which the type is both sent and handled."""
        return self.sent_on & self.handled_on

    @property
    def mechanisms(self) -> tuple[Mechanism, ...]:
        """Every channel the type is sent or handled on, in the default order (`Protocol.ordered` follows
        the pack's)."""
        return ordered(self.sent_on | self.handled_on)

    @property
    def status(self) -> Status:
        return Status.of(self.sent_on, self.handled_on)

    def locations(self, role: Role, mechanism: Mechanism) -> tuple[Location, ...]:
        return tuple(s.location for s in self.sites if s.role is role and mechanism in s.channels)


@dataclass(frozen=True)
class Channel:
    """A channel as the protocol model knows it: its name, and whether it is local (in-process only)."""

    name: Mechanism
    local: bool = False


@dataclass(frozen=True)
class Unresolved:
    """A site whose message type could not be found, and why."""

    site: Site
    reason: str | None
    scope: str | None = None  # the protocol scope of its file; None for shared code, or without scopes
    pattern: str | None = None  # the type as far as it is known (`hook_*`), when some parts are


@dataclass(frozen=True)
class Protocol:
    """The whole protocol: message types in order, the unresolved sites and the inferred wrappers.

    With protocol scopes, `scopes` names them and the messages are each scope's, in the order of
    the scopes' names then of message types: a message type of the shared code appears in every scope.
    """

    messages: tuple[Message, ...]
    unresolved: tuple[Unresolved, ...] = ()
    wrappers: tuple[Wrapper, ...] = ()
    scopes: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()  # the rule packs' channels, in declaration order (none: not known)

    @property
    def channel_order(self) -> tuple[Mechanism, ...]:
        return tuple(c.name for c in self.channels) or DEFAULT_CHANNELS

    def ordered(self, mechanisms: Iterable[Mechanism]) -> tuple[Mechanism, ...]:
        """Channels in the packs' order (the default one when the protocol does not say)."""
        return ordered(mechanisms, self.channel_order)

    def mechanisms_of(self, message: Message) -> tuple[Mechanism, ...]:
        return self.ordered(message.sent_on | message.handled_on)

    def is_local(self, mechanism: Mechanism) -> bool:
        return any(c.name == mechanism and c.local for c in self.channels)

    @classmethod
    def from_table(cls, table: ProtocolTable, pack: RulePack | None = None) -> Protocol:
        if table.scopes:
            messages = tuple(
                Message(entry.message_type, tuple(Site.from_linked(s) for s in entry.sites), scope.name)
                for scope in table.scopes
                for entry in scope.table.entries
            )
        else:
            messages = tuple(
                Message(entry.message_type, tuple(Site.from_linked(s) for s in entry.sites)) for entry in table.entries
            )
        return cls(
            messages=messages,
            unresolved=tuple(
                Unresolved(Site.from_linked(s), s.resolution.reason, table.scope_of(s.location.path),
                           str(s.resolution.pattern) if s.resolution.pattern is not None else None)
                for s in table.unresolved
            ),
            wrappers=table.wrappers,
            scopes=tuple(scope.name for scope in table.scopes),
            channels=tuple(Channel(name, spec.local) for name, spec in pack.channels.items()) if pack else (),
        )

    @property
    def resolved_count(self) -> int:
        """Every resolved site once, though the shared ones appear in every scope's messages."""
        if not self.scopes:
            return sum(len(m.sites) for m in self.messages)
        return len({(m.message_type, s.role, s.mechanism, s.location, s.api) for m in self.messages for s in m.sites})

    @property
    def site_count(self) -> int:
        """Every protocol site, resolved or not (calls inside wrappers are not protocol sites)."""
        return self.resolved_count + len(self.unresolved)
