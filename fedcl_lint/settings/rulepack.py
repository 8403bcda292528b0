"""Rule packs: the messaging API of a framework, declared in TOML.

A pack says which calls send or handle messages, on which mechanism, and
where the message type and handler sit among the arguments. The engine knows
no API names of its own; everything comes from here.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from collections.abc import Callable
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from fedcl_lint.files import parse_structured, read_user_text
from fedcl_lint.records import frozen, replace, set_field
from fedcl_lint.types import Mechanism, Role

BUILTIN_PACKS = ("fedcl",)
_CHANNEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_E = TypeVar("_E", bound=Enum)


class RulePackError(Exception):
    """A rule pack that cannot be used; the message names the file and the key."""


@frozen
class ArgSlot:
    """Where an argument sits: 0-based position after the receiver, or keyword."""

    position: int | None
    keyword: str | None

    # By hand, as `Location`'s: linking makes one for every call through a wrapper and hashes them more.
    def __init__(self, position: int | None, keyword: str | None):
        set_field(self, "position", position)
        set_field(self, "keyword", keyword)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArgSlot):
            return self.position == other.position and self.keyword == other.keyword
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.position, self.keyword))


class UnknownReceiver(str, Enum):
    """What a call of a receiver-bound API does when its receiver's class cannot be inferred."""

    MATCH = "match"  # a site, as if the receiver were one of the classes (the default)
    SKIP = "skip"  # no site: an FCL005 info saying the receiver is unknown

    def __str__(self) -> str:
        return self.value


@frozen
class Receivers:
    """The classes whose instances (or subclasses') an API is called on: bare (`Node`) or qualified
    (`pkg.comm.Node`) names; none means any receiver, whatever it is."""

    classes: tuple[str, ...] = ()
    unknown: UnknownReceiver = UnknownReceiver.MATCH

    def describe(self) -> str:
        return " or ".join(f"`{name}`" for name in self.classes)


@frozen
class Convention:
    """How a registry calls the handlers registered into it: `handler(*args)` (e.g. `("source", "data")`,
    none: not said, so not checked), or `spread`: `handler(*payload["args"], **payload["kwargs"])`,
    whose arguments are the sender's own (FCL006 does not check those)."""

    args: tuple[str, ...] = ()
    spread: bool = False

    @property
    def call(self) -> str:
        return 'handler(*payload["args"], **payload["kwargs"])' if self.spread else f"handler({', '.join(self.args)})"

    @property
    def checked(self) -> bool:
        return bool(self.args) and not self.spread


@frozen
class Registry:
    """Where a handle call (or a dispatcher) registers its handler: a table that serves one or more
    channels (JSON-RPC's `register` serves both `call` and `notify`), calling each handler by its
    `convention` (the call's own `handler_args`, else its channels'). `one_handler`: the table holds one
    handler per message type, so a second registration replaces the first (FCL004); true when a
    channel it serves says so. `wildcard`: the message type a handler is registered for to take every
    message sent on those channels (`"*"`), when the registry has one."""

    serves: tuple[Mechanism, ...]
    convention: Convention | None = None  # None until merged: the channels' (see `load_packs`)
    one_handler: bool = False
    wildcard: str | None = None

    @property
    def channel(self) -> Mechanism:
        """The first channel it serves: a handle site's `mechanism`."""
        return self.serves[0]


@frozen
class CallSpec:
    """One call of the API: e.g. `send_business_message` sends over rpc.

    `mechanism` is the channel a send is on; for a handle call, the first channel of its `registry`."""

    name: str
    role: Role
    mechanism: Mechanism
    message_type: ArgSlot
    handler: ArgSlot | None
    coroutine: bool = False  # must be awaited (or scheduled) to do anything
    receivers: Receivers = Receivers()
    envelope: bool = False  # `message_type` is where a message object (an [[envelopes]] entry) goes
    registry: Registry | None = None  # a handle call's: what it registers into
    decorator: bool = False  # a handle call used as a decorator: the function below it is the handler
    arguments: ArgumentsSpec | None = None  # a send's arguments for the remote method (see `ArgumentsSpec`)


@frozen
class ArgumentsSpec:
    """Where a send's arguments for the remote method are (`group.broadcast("fit", config)`): the
    positional arguments from `position` on, and the keyword arguments but `exclude` (the send's own)."""

    position: int
    exclude: tuple[str, ...] = ()


@frozen
class ServiceSpec:
    """A call that registers an object's methods as handlers: `node.bind(learner)` makes each method of
    `learner`'s class (its project bases included) whose name matches no `exclude` glob a handler of
    its own name, registered into `registry` (which says how it is called: `handler_args`, or spread
    with each send's own arguments)."""

    name: str
    mechanism: Mechanism
    service: ArgSlot
    registry: Registry
    exclude: tuple[str, ...] = ("_*",)
    receivers: Receivers = Receivers()


@frozen
class ProxySpec:
    """A class whose instances (and its subclasses') stand for a remote object: `proxy.fit(config)`
    and `getattr(proxy, "fit")(config)` send `fit` on `mechanism` (a channel), unless the class itself
    defines `fit` or `exclude` names it; `await proxy.state` (an attribute awaited, not called) sends
    `attribute_message`. With `remote_attributes`, what its instances hold is remote too: a generated
    gRPC stub sets each remote method as an attribute in `__init__` (`self.Ping = channel.unary_unary(...)`)."""

    classes: tuple[str, ...]
    mechanism: Mechanism
    coroutine: bool = False
    exclude: tuple[str, ...] = ()
    attribute_message: str | None = None
    remote_attributes: bool = False


@frozen
class ChannelSpec:
    """A channel (`[channels.NAME]`, or `[mechanisms.rpc|event]` in a version 1 pack): what it means
    (for the generated docs) and how it behaves."""

    title: str
    description: str = ""
    handler_args: tuple[str, ...] = ()  # how registries serving it call handlers, unless a call says
    spread: bool = False  # they call them spread (see `Convention`)
    replies: bool = False  # the sender waits for the handler's reply: a send nobody handles fails (FCL002 error)
    one_handler: bool = False  # a registry serving it holds one handler per message type (FCL004)
    local: bool = False  # in-process only: never crosses to another node

    @property
    def convention(self) -> Convention:
        return Convention(self.handler_args, self.spread)


# What the two channels of a version 1 pack are: rpc waits for its one handler's reply, events do not.
_V1_CHANNELS = {
    Mechanism.RPC: ChannelSpec("rpc", replies=True, one_handler=True),
    Mechanism.EVENT: ChannelSpec("event"),
}
PACK_VERSIONS = (1, 2)


@frozen
class ExternalSpec:
    """`[[external]]`: a message type the framework itself sends (on `channel`, or any when None), such
    as a backend's "connection ready" 0: its handlers are not unused (FCL003)."""

    value: str | int
    channel: Mechanism | None = None
    name: str | None = None

    def covers(self, value: str | int, channels: tuple[Mechanism, ...]) -> bool:
        same = value == self.value and type(value) is type(self.value)
        return same and (self.channel is None or self.channel in channels)


@frozen
class SetterSpec:
    """`msg.set_type(X)`: the method that sets a message object's type, and where X goes."""

    name: str
    argument: ArgSlot


@frozen
class EnvelopeSpec:
    """A message object: built by a class (`Message(type, ...)`, its subclasses too) or a dict
    literal with `key`, and sent whole by a send call whose `message` slot takes it.

    Its type is the constructor's `message_type` argument, the dict's `key`, or set later by
    `msg.<attribute> = X` or `msg.<setter>(X)`.
    """

    classes: tuple[str, ...] = ()
    message_type: ArgSlot | None = None
    attribute: str | None = None
    setter: SetterSpec | None = None
    key: str | None = None
    requires: tuple[str, ...] = ()  # a dict is one only with these keys too


@frozen
class PayloadSpec:
    """A dict literal with `key` is an envelope of `mechanism` (narrowed by `requires`)."""

    key: str
    mechanism: Mechanism
    requires: tuple[str, ...] = ()


@frozen
class DispatcherSpec:
    """A function registered by `registration` dispatches on `payload[key]` (or, for a `key` of
    `.name`, on the attribute `payload.name`).

    The registered function gets the payload as its argument number
    `payload_argument` (0-based); each comparison of the dispatched key
    against a constant is a handler on `mechanism`.
    """

    registration: str
    handler: ArgSlot
    payload_argument: int
    key: str
    mechanism: Mechanism
    receivers: Receivers = Receivers()
    registry: Registry | None = None  # what the comparisons handle on (None until merged)


@frozen
class ReceiveSpec:
    """`[[receives]]`: a call that waits for the next message and returns it (`sender, code, payload =
    net.recv()`), the message type being an `element` of the tuple it returns or an `attribute` of the
    object; each comparison of that type in the function (`if code == Code.EXIT:`) handles it on the
    channels `registry` serves, as a dispatcher's comparisons do."""

    name: str
    element: int | None
    attribute: str | None
    registry: Registry


@frozen
class RewriteSpec:
    """How `fedcl-lint check --fix` turns a send of `source` into a send of `target`.

    `positions[i]` is where the i-th positional argument of `source` goes in
    `target`; `keywords` renames keyword arguments (the message type's keyword
    is renamed from the two calls' `message_type` slots). A spec with
    `manual` instead of `target` says why the call must be changed by hand.
    """

    source: str
    target: str | None
    positions: tuple[int, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()
    manual: str = ""


@frozen
class RulePack:
    """One or more merged packs, ready for the engine."""

    names: tuple[str, ...]
    calls: tuple[CallSpec, ...]
    channels: dict[Mechanism, ChannelSpec]  # in declaration order
    payloads: tuple[PayloadSpec, ...] = ()
    dispatchers: tuple[DispatcherSpec, ...] = ()
    rewrites: tuple[RewriteSpec, ...] = ()  # for --fix only: not in the fingerprint, facts do not depend on it
    envelopes: tuple[EnvelopeSpec, ...] = ()
    sources: tuple[Path, ...] = ()  # the TOML files it was read from
    external: tuple[ExternalSpec, ...] = ()  # types the framework sends itself
    services: tuple[ServiceSpec, ...] = ()
    proxies: tuple[ProxySpec, ...] = ()
    receives: tuple[ReceiveSpec, ...] = ()

    @property
    def channel_order(self) -> tuple[Mechanism, ...]:
        return tuple(self.channels)

    def channel(self, mechanism: Mechanism) -> ChannelSpec:
        """A channel's spec (every site's channel is declared: checked on load)."""
        return self.channels.get(mechanism) or ChannelSpec(mechanism.value)

    def sent_by_framework(self, value: str | int, channels: tuple[Mechanism, ...]) -> bool:
        """Whether the pack says the framework itself sends `value` on one of `channels`."""
        return any(e.covers(value, channels) for e in self.external)

    def call(self, name: str) -> CallSpec | None:
        return self._by_name.get(name)

    def rewrite(self, source: str) -> RewriteSpec | None:
        """The declared rewrite of a send of `source` (validated on load), if any."""
        return next((r for r in self.rewrites if r.source == source), None)

    @cached_property
    def _by_name(self) -> dict[str, CallSpec]:
        """The first entry of each name (entries of one name differ by receiver: see `calls_named`)."""
        found: dict[str, CallSpec] = {}
        for spec in self.calls:
            found.setdefault(spec.name, spec)
        return found

    @cached_property
    def calls_named(self) -> dict[str, tuple[CallSpec, ...]]:
        """Every entry of each call name, in pack order: one per receiver they are declared on."""
        found: dict[str, list[CallSpec]] = {}
        for spec in self.calls:
            found.setdefault(spec.name, []).append(spec)
        return {name: tuple(specs) for name, specs in found.items()}

    def call_names(self, mechanism: Mechanism, role: Role) -> list[str]:
        """API names that send on `mechanism`, or register into a registry serving it, with a message
        type argument, in pack order (for fix hints: a send of a message object is not what a user
        switching channel calls)."""
        return list(dict.fromkeys(c.name for c in self.calls
                                  if mechanism in _channels(c) and c.role is role and not c.envelope))

    def dispatcher(self, registration: str) -> DispatcherSpec | None:
        return next((d for d in self.dispatchers if d.registration == registration), None)

    @cached_property
    def payload_keys(self) -> frozenset[str]:
        return frozenset(p.key for p in self.payloads)

    @cached_property
    def dispatch_keys(self) -> frozenset[str]:
        return frozenset(d.key for d in self.dispatchers)

    @cached_property
    def call_names_and_registrations(self) -> frozenset[str]:
        """The names whose calls can be sites: API calls, dispatcher registrations and service bindings."""
        return (frozenset(c.name for c in self.calls) | frozenset(d.registration for d in self.dispatchers)
                | frozenset(s.name for s in self.services))

    @cached_property
    def prefilter_names(self) -> frozenset[str]:
        """What a file must mention to be parsed at the start: a call name, a payload key, the name of
        a proxy class (a proxy's method calls are sends whatever their names), an envelope's key or
        class. The name of a send of message objects alone is not enough: such names are common
        (`send`), and the send matters only with a message object, which the file builds (and so
        names its key or class) or receives as a parameter from a file that does."""
        envelope_sends = frozenset(c.name for c in self.calls if c.envelope) - frozenset(
            c.name for c in self.calls if not c.envelope)
        markers = self.envelope_class_names | frozenset(self.envelope_keys)
        return (self.call_names_and_registrations - envelope_sends) | self.payload_keys | markers | frozenset(
            name.rsplit(".", 1)[-1] for proxy in self.proxies for name in proxy.classes) | self.receive_names

    @cached_property
    def receive_names(self) -> frozenset[str]:
        """The calls that return a received message: extraction keeps the comparisons of its type."""
        return frozenset(r.name for r in self.receives)

    @cached_property
    def decorator_names(self) -> frozenset[str]:
        """The handle calls used as decorators: extraction notes the function each decorates."""
        return frozenset(c.name for c in self.calls if c.decorator)

    @cached_property
    def awaited_attributes(self) -> bool:
        """Whether a proxy sends a message when an attribute is awaited: extraction keeps `await x.attr`."""
        return any(proxy.attribute_message is not None for proxy in self.proxies)

    @cached_property
    def envelope_class_names(self) -> frozenset[str]:
        """The bare names of the envelope classes: the calls whose arguments extraction keeps."""
        return frozenset(name.rsplit(".", 1)[-1] for e in self.envelopes for name in e.classes)

    @cached_property
    def envelope_attributes(self) -> frozenset[str]:
        """The attributes that set an envelope's type (`msg.type = X`): the stores extraction keeps."""
        return frozenset(e.attribute for e in self.envelopes if e.attribute is not None)

    @cached_property
    def envelope_keys(self) -> dict[str, tuple[str, ...]]:
        """The dict keys that make a dict literal an envelope, with the keys each also requires."""
        return {e.key: e.requires for e in self.envelopes if e.key is not None}

    @property
    def extraction_fingerprint(self) -> str:
        """A stable text of what extraction reads of the pack (the payload keys and what they require,
        the dispatchers' keys, the API names that are also Python builtins, whose calls extraction
        keeps only then): the fact cache's key, which editing anything else keeps."""
        builtin_names = sorted(name for name in self.call_names_and_registrations if name in vars(builtins))
        envelopes = (sorted(self.envelope_class_names), sorted(self.envelope_attributes),
                     sorted(self.envelope_keys.items()))
        reflection = (sorted(self.decorator_names), self.awaited_attributes)
        receives = sorted(self.receive_names)
        return repr((sorted((p.key, p.requires) for p in self.payloads), sorted(self.dispatch_keys), builtin_names,
                     envelopes, *((reflection,) if reflection != ([], False) else ()),
                     *((receives,) if receives else ())))


def name_matches(globs: tuple[str, ...], name: str) -> bool:
    """Whether a method name matches one of `globs` (`*` any text, `?` one character), in linear time
    per glob (the two-pointer wildcard match: it backtracks only to the last `*`)."""
    for glob in globs:
        g = n = 0
        star, mark = -1, 0
        while n < len(name):
            if g < len(glob) and (glob[g] == "?" or glob[g] == name[n]):
                g += 1
                n += 1
            elif g < len(glob) and glob[g] == "*":
                star, mark = g, n
                g += 1
            elif star >= 0:
                g, mark = star + 1, mark + 1
                n = mark
            else:
                break
        else:
            if all(c == "*" for c in glob[g:]):
                return True
    return False


def _channels(call: CallSpec) -> tuple[Mechanism, ...]:
    return call.registry.serves if call.registry is not None else (call.mechanism,)


def builtin_pack_path(name: str) -> Path:
    """Built-in packs ship inside the package (fedcl_lint/rules)."""
    candidate = Path(__file__).resolve().parent.parent / "rules" / f"{name}.toml"
    if candidate.is_file():
        return candidate
    raise RulePackError(f"built-in rule pack {name!r} is missing from the installation")


def load_packs(specs: list[str] | tuple[str, ...]) -> RulePack:
    """Load and merge packs given by built-in name or by path to a TOML file."""
    calls: dict[tuple[str, tuple[str, ...]], CallSpec] = {}  # by name and receivers
    channels: dict[Mechanism, ChannelSpec] = {}
    implied: dict[Mechanism, ChannelSpec] = {}  # a version 1 pack's channels it names without a table
    payloads: dict[str, PayloadSpec] = {}
    dispatchers: dict[tuple[str, tuple[str, ...]], DispatcherSpec] = {}
    envelopes: dict[tuple[tuple[str, ...], str | None], EnvelopeSpec] = {}  # by classes or key
    services: dict[tuple[str, tuple[str, ...]], ServiceSpec] = {}  # by name and receivers
    proxies: dict[tuple[str, ...], ProxySpec] = {}  # by classes
    receives: dict[str, ReceiveSpec] = {}  # by name
    rewrites: dict[str, tuple[Path, int, RewriteSpec]] = {}  # by source; where it was declared
    external: dict[tuple[str | int, type, Mechanism | None], ExternalSpec] = {}
    uses: list[tuple[Path, _ChannelUse]] = []
    names: list[str] = []
    sources: list[Path] = []
    for spec in specs:
        path = builtin_pack_path(spec) if spec in BUILTIN_PACKS else Path(spec)
        sources.append(Path(os.path.abspath(path)))
        loaded = _load_one(path)
        pack = loaded.pack
        names.extend(pack.names)
        calls.update(((c.name, c.receivers.classes), c) for c in pack.calls)
        payloads.update((p.key, p) for p in pack.payloads)
        dispatchers.update(((d.registration, d.receivers.classes), d) for d in pack.dispatchers)
        envelopes.update(((e.classes, e.key), e) for e in pack.envelopes)
        services.update(((s.name, s.receivers.classes), s) for s in pack.services)
        proxies.update((p.classes, p) for p in pack.proxies)
        receives.update((r.name, r) for r in pack.receives)
        rewrites.update((r.source, (path, index, r)) for index, r in enumerate(pack.rewrites))
        external.update(((e.value, type(e.value), e.channel), e) for e in pack.external)
        channels.update(pack.channels)
        for name, implicit in loaded.implied.items():
            implied.setdefault(name, implicit)
        uses.extend((path, use) for use in loaded.uses)
    channels.update((name, implicit) for name, implicit in implied.items() if name not in channels)
    for path, use in uses:
        if use.channel not in channels:
            declared = ", ".join(f"'{name}'" for name in channels) or "none"
            raise _Reader(path).error(use.key, f"a channel declared in [channels] (declared: {declared})",
                                      use.channel.value)
    if not envelopes:
        sending = next((c for c in calls.values() if c.envelope), None)
        if sending is not None:
            raise RulePackError(f"{specs[-1]}: `{sending.name}` sends a `message` object, but no rule pack "
                                "declares [[envelopes]]")
    conventions = {(path, use.key): use for path, use in uses if use.registry is not None}
    resolved: dict[Registry, Registry] = {}
    for (path, key), use in conventions.items():
        assert use.registry is not None  # as the filter above says
        resolved[use.registry] = _merged(_Reader(path), key, use.registry, channels)
    calls = {k: replace(c, registry=resolved.get(c.registry, c.registry)) if c.registry else c
             for k, c in calls.items()}
    dispatchers = {k: replace(d, registry=resolved.get(d.registry, d.registry)) if d.registry else d
                   for k, d in dispatchers.items()}
    services = {k: replace(s, registry=resolved.get(s.registry, s.registry)) for k, s in services.items()}
    receives = {k: replace(r, registry=resolved.get(r.registry, r.registry)) for k, r in receives.items()}
    by_name: dict[str, CallSpec] = {}
    for call in calls.values():
        by_name.setdefault(call.name, call)
    for path, index, rewrite in rewrites.values():
        _check_rewrite(_Reader(path), f"rewrites[{index}]", rewrite, by_name)
    return RulePack(
        names=tuple(names),
        calls=tuple(calls.values()),
        channels=channels,
        payloads=tuple(payloads.values()),
        dispatchers=tuple(dispatchers.values()),
        rewrites=tuple(r for _, _, r in rewrites.values()),
        sources=tuple(sources),
        envelopes=tuple(envelopes.values()),
        external=tuple(external.values()),
        services=tuple(services.values()),
        proxies=tuple(proxies.values()),
        receives=tuple(receives.values()),
    )


def _merged(reader: _Reader, key: str, registry: Registry, channels: dict[Mechanism, ChannelSpec]) -> Registry:
    """A registry with its convention (its call's own, else the one its channels agree on) and whether it
    holds one handler per type, once every pack's channels are known."""
    served = [channels[name] for name in registry.serves]
    convention = registry.convention
    if convention is None:
        found = list(dict.fromkeys(spec.convention for spec in served))
        if len(found) > 1:
            calls = "; ".join(f"`{name}`: {spec.convention.call}"
                              for name, spec in zip(registry.serves, served, strict=True))
            raise reader.error(f"{key}.handler_args", f"how this registry calls its handlers, since the channels it "
                               f"serves call them differently ({calls})", None)
        convention = found[0] if found else Convention()
    return Registry(registry.serves, convention, any(spec.one_handler for spec in served), registry.wildcard)


def _check_rewrite(reader: _Reader, where: str, rewrite: RewriteSpec, calls: dict[str, CallSpec]) -> None:
    """A rewrite must turn a send into a send of the other mechanism, message type into message type.

    Checked against the merged calls, since a pack may declare a rewrite between
    calls that an earlier pack declared.
    """
    source = _rewrite_send(reader, f"{where}.from", rewrite.source, calls)
    if rewrite.target is None:
        return
    target = _rewrite_send(reader, f"{where}.to", rewrite.target, calls)
    if source.mechanism is target.mechanism:
        raise reader.error(f"{where}.to", f"a send on the other mechanism than `{source.name}` ({source.mechanism})",
                           rewrite.target)
    if source.coroutine != target.coroutine:
        raise reader.error(
            f"{where}.to", f"a send that is a coroutine exactly when `{source.name}` is (awaiting would change)",
            rewrite.target)
    mapped, wanted = source.message_type.position, target.message_type.position
    if mapped is not None:
        if mapped >= len(rewrite.positions):
            raise reader.error(f"{where}.positions",
                               f"an entry for argument {mapped}, the message type of `{source.name}`",
                               list(rewrite.positions))
        if rewrite.positions[mapped] != wanted:
            expected = (f"argument {mapped} (the message type of `{source.name}`) to go to position {wanted}, "
                        f"the message type of `{target.name}`")
            if wanted is None:
                expected = f"no positional message type, since `{target.name}` takes it by keyword only"
            raise reader.error(f"{where}.positions", expected, list(rewrite.positions))
    renamed = dict(rewrite.keywords)
    derived = source.message_type.keyword
    if derived is not None and derived in renamed:
        raise reader.error(f"{where}.keywords.{derived}",
                           "no entry: the message type's keyword is renamed from the two calls' `message_type`",
                           renamed[derived])
    taken = target.message_type.keyword
    clash = next((old for old, new in rewrite.keywords if new == taken), None)
    if clash is not None:
        raise reader.error(f"{where}.keywords.{clash}",
                           f"a keyword other than `{taken}`, the message type of `{target.name}`", taken)


def _rewrite_send(reader: _Reader, key: str, name: str, calls: dict[str, CallSpec]) -> CallSpec:
    call = calls.get(name)
    if call is not None and call.envelope:
        raise reader.error(key, f"a send that takes a message type (`{name}` sends a message object, which a "
                           "rewrite of its arguments cannot change)", name)
    if call is None or call.role is not Role.SEND:
        sends = ", ".join(sorted(c.name for c in calls.values() if c.role is Role.SEND and not c.envelope)) or "none"
        raise reader.error(key, f"the name of a send call of the rule packs ({sends})", name)
    return call


@frozen
class _ChannelUse:
    """A channel named at `key` of a pack (checked once all packs are merged), with the registry a
    handle call or dispatcher there registers into."""

    key: str
    channel: Mechanism
    registry: Registry | None = None


@frozen
class _Loaded:
    pack: RulePack
    uses: tuple[_ChannelUse, ...]
    implied: dict[Mechanism, ChannelSpec]  # version 1: the channels it names, as version 1 means them


_TOP_KEYS = {
    1: {"pack", "mechanisms", "calls", "payloads", "dispatchers", "rewrites", "envelopes", "services", "proxies"},
    2: {"pack", "channels", "calls", "payloads", "dispatchers", "rewrites", "envelopes", "external", "services",
        "proxies", "receives"},
}


def _load_one(path: Path) -> _Loaded:
    missing = f"rule pack not found (built-in packs: {', '.join(BUILTIN_PACKS)}; or the path of a TOML file)"
    text = read_user_text(path, str(path), RulePackError, missing)
    data = parse_structured(tomllib.loads, text, str(path), RulePackError, "invalid TOML")
    reader = _Reader(path)
    pack = reader.table(data, "pack", required=True)
    reader.keys(pack, "pack", {"name", "description", "version"})
    version = pack.get("version", 1)
    if type(version) is not int or version not in PACK_VERSIONS:
        raise reader.error("pack.version", f"{' or '.join(map(str, PACK_VERSIONS))} (the rule pack formats this "
                           "fedcl-lint reads; absent means 1)", version)
    reader.keys(data, "", _TOP_KEYS[version])
    name = reader.string(pack, "pack", "name", required=True)
    reader.string(pack, "pack", "description")
    channels = _v1_channels(reader, data) if version == 1 else _v2_channels(reader, data)
    uses: list[_ChannelUse] = []

    def sent_on(raw: dict[str, Any], where: str) -> Mechanism:
        """The channel a send (or payload) is on: `mechanism` (version 1) or `channel` (version 2)."""
        key = "mechanism" if version == 1 else "channel"
        channel = reader.channel(reader.string(raw, where, key, required=True), f"{where}.{key}", version)
        uses.append(_ChannelUse(f"{where}.{key}", channel))
        return channel

    def registered(raw: dict[str, Any], where: str, convention: Convention | None,
                   wildcard: str | None = None) -> Registry:
        """The registry a handle call (or dispatcher) registers into: one channel's (version 1), or
        what it `serves` (version 2)."""
        if version == 1:
            registry = Registry((sent_on(raw, where),), convention)
            uses.append(_ChannelUse(where, registry.channel, registry))
            return registry
        if "channel" in raw:
            raise reader.error(f"{where}.channel", "`serves` (the channels its registry serves) on a handle call",
                               raw["channel"])
        serves = reader.names(raw, where, "serves")
        if not serves or len(set(serves)) != len(serves):
            raise reader.error(f"{where}.serves", 'a non-empty array of distinct channel names, like ["rpc"]',
                               raw.get("serves"))
        registry = Registry(tuple(reader.channel(c, f"{where}.serves", version) for c in serves), convention,
                            wildcard=wildcard)
        uses.extend(_ChannelUse(f"{where}.serves", channel) for channel in registry.serves)
        uses.append(_ChannelUse(where, registry.serves[0], registry))
        return registry

    calls = []
    raw_calls = data.get("calls", [])
    if not isinstance(raw_calls, list):
        raise reader.error("calls", "an array of tables ([[calls]])", raw_calls)
    for index, raw in enumerate(raw_calls):
        where = f"calls[{index}]"
        if not isinstance(raw, dict):
            raise reader.error(where, "a table", raw)
        keys = {"name", "role", "message_type", "message", "handler", "coroutine", "receiver", "unknown_receiver",
                "decorator", "arguments"}
        reader.keys(raw, where, keys | ({"mechanism"} if version == 1 else {"channel", "serves", "handler_args",
                                                                            "wildcard"}))
        role = reader.enum(Role, reader.string(raw, where, "role", required=True), f"{where}.role")
        handler = reader.slot(raw, where, "handler", required=False)
        decorator, arguments = _reflected(reader, where, raw, role, handler)
        envelope = "message" in raw
        if envelope and ("message_type" in raw or role is not Role.SEND):
            raise reader.error(f"{where}.message", "a `message` slot only on a send, instead of `message_type`",
                               raw["message"])
        registry = None
        if role is Role.HANDLE:
            wildcard = reader.string(raw, where, "wildcard") or None
            registry = registered(raw, where, reader.convention(raw, where), wildcard)
            mechanism = registry.channel
        else:
            for key in ("serves", "handler_args", "wildcard"):
                if key in raw:
                    raise reader.error(f"{where}.{key}", f"`{key}` only on a handle call (a send is on one `channel`)",
                                       raw[key])
            mechanism = sent_on(raw, where)
        calls.append(
            CallSpec(
                name=reader.string(raw, where, "name", required=True),
                role=role,
                mechanism=mechanism,
                message_type=reader.required_slot(raw, where, "message" if envelope else "message_type"),
                handler=handler,
                coroutine=reader.boolean(raw, where, "coroutine"),
                receivers=reader.receivers(raw, where),
                envelope=envelope,
                registry=registry,
                decorator=decorator,
                arguments=arguments,
            )
        )

    payloads = []
    for index, raw in enumerate(reader.tables(data, "payloads")):
        where = f"payloads[{index}]"
        reader.keys(raw, where, {"key", "requires", "mechanism" if version == 1 else "channel"})
        payloads.append(
            PayloadSpec(
                key=reader.string(raw, where, "key", required=True),
                mechanism=sent_on(raw, where),
                requires=reader.names(raw, where, "requires"),
            )
        )

    dispatchers = [_dispatcher(reader, f"dispatchers[{index}]", raw, version, registered)
                   for index, raw in enumerate(reader.tables(data, "dispatchers"))]
    receives = [_receive(reader, f"receives[{index}]", raw, registered)
                for index, raw in enumerate(reader.tables(data, "receives"))]
    envelopes = [_envelope(reader, f"envelopes[{index}]", raw)
                 for index, raw in enumerate(reader.tables(data, "envelopes"))]
    external = []
    for index, raw in enumerate(reader.tables(data, "external")):
        where = f"external[{index}]"
        reader.keys(raw, where, {"value", "channel", "name"})
        value = raw.get("value")
        if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
            raise reader.error(f"{where}.value", "a message type: a non-empty string or an integer", value)
        channel = sent_on(raw, where) if "channel" in raw else None
        external.append(ExternalSpec(value, channel, reader.string(raw, where, "name") or None))
    services = [_service(reader, f"services[{index}]", raw, registered)
                for index, raw in enumerate(reader.tables(data, "services"))]
    proxies = [_proxy(reader, f"proxies[{index}]", raw, sent_on)
               for index, raw in enumerate(reader.tables(data, "proxies"))]
    if not calls and not services and not proxies:
        raise reader.error("calls", "at least one [[calls]] entry (or [[services]], or [[proxies]])", None)
    implied = {use.channel: _V1_CHANNELS[use.channel] for use in uses} if version == 1 else {}
    return _Loaded(
        RulePack(
            names=(name,),
            calls=tuple(calls),
            envelopes=tuple(envelopes),
            channels=channels,
            payloads=tuple(payloads),
            dispatchers=tuple(dispatchers),
            rewrites=tuple(_rewrite(reader, f"rewrites[{index}]", raw)
                           for index, raw in enumerate(reader.tables(data, "rewrites"))),
            external=tuple(external),
            services=tuple(services),
            proxies=tuple(proxies),
            receives=tuple(receives),
        ),
        tuple(uses),
        implied,
    )


def _reflected(reader: _Reader, where: str, raw: dict[str, Any], role: Role,
               handler: ArgSlot | None) -> tuple[bool, ArgumentsSpec | None]:
    """A call's `decorator` (a handle call whose decorated function is the handler) and `arguments` (a
    send's arguments for the remote method; a registration's, which its registry passes the handler),
    checked against its role and handler slot."""
    decorator = reader.boolean(raw, where, "decorator")
    if decorator and (role is not Role.HANDLE or handler is not None):
        raise reader.error(f"{where}.decorator", "`decorator = true` only on a `handle` call without a "
                           "`handler` slot (the decorated function is the handler)", True)
    if role is Role.HANDLE and handler is None and not decorator:
        raise reader.error(f"{where}.handler", "a handler slot for a `handle` call (or `decorator = true`)", None)
    arguments = _arguments(reader, f"{where}.arguments", raw["arguments"]) if "arguments" in raw else None
    if arguments is not None and decorator:
        raise reader.error(f"{where}.arguments", "`arguments` on a call with a handler slot or a send (a decorator "
                           "passes its handler nothing of its own)", raw["arguments"])
    return decorator, arguments


def _arguments(reader: _Reader, where: str, value: Any) -> ArgumentsSpec:
    """`arguments = { position = 1, exclude = ["timeout"] }`: where a send's arguments for the remote method
    are (or a registration's for its handler)."""
    if not isinstance(value, dict):
        raise reader.error(where, 'a table like { position = 1, exclude = ["timeout"] }', value)
    reader.keys(value, where, {"position", "exclude"})
    return ArgumentsSpec(reader.index(value, where, "position"), reader.identifiers(value, where, "exclude"))


def _dispatcher(reader: _Reader, where: str, raw: dict[str, Any], version: int,
                registered: Callable[[dict[str, Any], str, Convention | None], Registry]) -> DispatcherSpec:
    """One [[dispatchers]] entry: a registration of a function that dispatches on `payload[key]`, or on
    `payload.attribute` (kept as the key `.attribute`)."""
    reader.keys(raw, where, {"registration", "handler", "payload_argument", "key", "attribute", "receiver",
                             "unknown_receiver", "mechanism" if version == 1 else "serves"})
    key, attribute = reader.string(raw, where, "key"), raw.get("attribute")
    if attribute is not None and (not isinstance(attribute, str) or not attribute.isidentifier()):
        raise reader.error(f"{where}.attribute", "an attribute name", attribute)
    if bool(key) == (attribute is not None):
        raise reader.error(f"{where}.key", "`key` (what `payload[key]` reads) or `attribute` (`payload.name`): "
                           "one of them", raw.get("key", attribute))
    registry = registered(raw, where, Convention())
    return DispatcherSpec(
        registration=reader.string(raw, where, "registration", required=True),
        handler=reader.required_slot(raw, where, "handler"),
        payload_argument=reader.index(raw, where, "payload_argument"),
        key=key or f".{attribute}",
        mechanism=registry.channel,
        receivers=reader.receivers(raw, where),
        registry=registry,
    )


def _service(reader: _Reader, where: str, raw: dict[str, Any],
             registered: Callable[[dict[str, Any], str, Convention | None], Registry]) -> ServiceSpec:
    """One [[services]] entry: a call that registers the methods of an object as handlers (into a
    registry, as a handle call does: `mechanism`, or `serves` in a version 2 pack)."""
    reader.keys(raw, where, {"name", "mechanism", "serves", "service", "exclude", "handler_args", "receiver",
                             "unknown_receiver"})
    registry = registered(raw, where, reader.convention(raw, where))
    return ServiceSpec(
        name=reader.identifier(raw, where, "name"),
        mechanism=registry.channel,
        service=reader.required_slot(raw, where, "service"),
        registry=registry,
        exclude=reader.globs(raw, where, "exclude", ("_*",)),
        receivers=reader.receivers(raw, where),
    )


def _receive(reader: _Reader, where: str, raw: dict[str, Any],
             registered: Callable[[dict[str, Any], str, Convention | None], Registry]) -> ReceiveSpec:
    """One [[receives]] entry: a call returning the next message, and where its result holds the type."""
    reader.keys(raw, where, {"name", "serves", "message_type"})
    registry = registered(raw, where, Convention())
    part = raw.get("message_type")
    expected = "a table like { element = 1 } (the returned tuple's element) or { attribute = \"code\" }"
    if not isinstance(part, dict):
        raise reader.error(f"{where}.message_type", expected, part)
    reader.keys(part, f"{where}.message_type", {"element", "attribute"})
    element, attribute = part.get("element"), part.get("attribute")
    if (element is None) == (attribute is None):
        raise reader.error(f"{where}.message_type", expected, part)
    if element is not None and (type(element) is not int or element < 0):
        raise reader.error(f"{where}.message_type.element", "a non-negative integer (0 = the first element)", element)
    if attribute is not None and (not isinstance(attribute, str) or not attribute.isidentifier()):
        raise reader.error(f"{where}.message_type.attribute", "an attribute name", attribute)
    return ReceiveSpec(reader.identifier(raw, where, "name"), element, attribute, registry)


def _proxy(reader: _Reader, where: str, raw: dict[str, Any],
           sent_on: Callable[[dict[str, Any], str], Mechanism]) -> ProxySpec:
    """One [[proxies]] entry: a class whose method calls (and awaited attributes) are sends on a channel
    (`mechanism`, or `channel` in a version 2 pack)."""
    reader.keys(raw, where, {"class", "mechanism", "channel", "coroutine", "exclude", "attribute_message",
                             "remote_attributes"})
    if "class" not in raw:
        raise reader.error(f"{where}.class", "a class name (`Proxy` or `pkg.rpc.Proxy`) or an array of them", None)
    classes = reader.class_names(raw, where, "class")
    if not classes:
        raise reader.error(f"{where}.class", "at least one class name", [])
    attribute = raw.get("attribute_message")
    if attribute is not None and (not isinstance(attribute, str) or not attribute):
        raise reader.error(f"{where}.attribute_message", "a message type (a non-empty string)", attribute)
    return ProxySpec(
        classes=classes,
        mechanism=sent_on(raw, where),
        coroutine=reader.boolean(raw, where, "coroutine"),
        exclude=reader.globs(raw, where, "exclude", ()),
        attribute_message=attribute,
        remote_attributes=reader.boolean(raw, where, "remote_attributes"),
    )


def _v1_channels(reader: _Reader, data: dict[str, Any]) -> dict[Mechanism, ChannelSpec]:
    """`[mechanisms.rpc]` and `[mechanisms.event]`: the two channels of version 1, documented."""
    channels = {}
    for key, doc in reader.table(data, "mechanisms").items():
        where = f"mechanisms.{key}"
        mechanism = reader.channel(key, where, 1)
        if not isinstance(doc, dict):
            raise reader.error(where, "a table with `title` and `description`", doc)
        reader.keys(doc, where, {"title", "description", "handler_args"})
        channels[mechanism] = replace(
            _V1_CHANNELS[mechanism],
            title=reader.string(doc, where, "title", required=True),
            description=reader.string(doc, where, "description", required=True).strip(),
            handler_args=reader.names(doc, where, "handler_args"),
        )
    return channels


def _v2_channels(reader: _Reader, data: dict[str, Any]) -> dict[Mechanism, ChannelSpec]:
    """`[channels.NAME]`: any number of channels, each with what it means and how it behaves."""
    channels = {}
    for key, doc in reader.table(data, "channels").items():
        where = f"channels.{key}"
        mechanism = reader.channel(key, where, 2)
        if not isinstance(doc, dict):
            raise reader.error(where, "a table with `title` and `description`", doc)
        reader.keys(doc, where, {"title", "description", "handler_args", "replies", "one_handler", "local"})
        convention = reader.convention(doc, where) or Convention()
        channels[mechanism] = ChannelSpec(
            title=reader.string(doc, where, "title") or key,
            description=reader.string(doc, where, "description").strip(),
            handler_args=convention.args,
            spread=convention.spread,
            replies=reader.boolean(doc, where, "replies"),
            one_handler=reader.boolean(doc, where, "one_handler"),
            local=reader.boolean(doc, where, "local"),
        )
    return channels


def _envelope(reader: _Reader, where: str, raw: dict[str, Any]) -> EnvelopeSpec:
    """One [[envelopes]] entry: a class (and where its type goes) or a dict key."""
    reader.keys(raw, where, {"class", "message_type", "attribute", "setter", "key", "requires"})
    if ("class" in raw) == ("key" in raw):
        raise reader.error(where, "either `class` (a message class) or `key` (a dict envelope's key)", sorted(raw))
    if "key" in raw:
        if {"message_type", "attribute", "setter"} & set(raw):
            raise reader.error(where, "only `requires` beside `key`", sorted(raw))
        return EnvelopeSpec(key=reader.string(raw, where, "key", required=True),
                            requires=reader.names(raw, where, "requires"))
    if "requires" in raw:
        raise reader.error(f"{where}.requires", "`requires` only beside `key`", raw["requires"])
    classes = reader.class_names(raw, where, "class")
    setter = None
    if "setter" in raw:
        value = raw["setter"]
        if not isinstance(value, dict) or not isinstance(value.get("name"), str) \
                or not value["name"].isidentifier():
            raise reader.error(f"{where}.setter", 'a table like { name = "set_type", position = 0 }', value)
        reader.keys(value, f"{where}.setter", {"name", "position", "keyword"})
        slot = reader.required_slot({"slot": {k: v for k, v in value.items() if k != "name"}}, f"{where}.setter",
                                    "slot")
        setter = SetterSpec(value["name"], slot)
    attribute = raw.get("attribute")
    if attribute is not None and (not isinstance(attribute, str) or not attribute.isidentifier()):
        raise reader.error(f"{where}.attribute", "an attribute name", attribute)
    message_type = reader.slot(raw, where, "message_type", required=False)
    if message_type is None and attribute is None and setter is None:
        raise reader.error(where, "where the type goes: `message_type` (a constructor argument), `attribute` "
                           "or `setter`", sorted(raw))
    return EnvelopeSpec(classes=classes, message_type=message_type, attribute=attribute, setter=setter)


def _rewrite(reader: _Reader, where: str, raw: dict[str, Any]) -> RewriteSpec:
    """One [[rewrites]] entry, checked on its own (`_check_rewrite` checks it against the calls)."""
    reader.keys(raw, where, {"from", "to", "positions", "keywords", "manual"})
    source = reader.string(raw, where, "from", required=True)
    if ("to" in raw) == ("manual" in raw):
        raise reader.error(where, "either `to` (with `positions`) or `manual` (why it is fixed by hand)",
                           sorted(raw))
    if "manual" in raw:
        if "positions" in raw or "keywords" in raw:
            raise reader.error(where, "no `positions` or `keywords` with `manual`", sorted(raw))
        return RewriteSpec(source, None, manual=reader.string(raw, where, "manual", required=True).strip())
    return RewriteSpec(
        source=source,
        target=reader.string(raw, where, "to", required=True),
        positions=reader.positions(raw, where, "positions"),
        keywords=reader.renames(raw, where, "keywords"),
    )


class _Reader:
    """Typed access to a parsed pack that fails with file, key and expectation."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, key: str, expected: str, got: Any) -> RulePackError:
        found = "nothing" if got is None else f"{got!r}"
        return RulePackError(f"{self.path}: `{key}`: expected {expected}, found {found}")

    def keys(self, table: dict[str, Any], where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                full = f"{where}.{key}" if where else key
                raise RulePackError(
                    f"{self.path}: unknown key `{full}` (allowed: {', '.join(sorted(allowed))})"
                )

    def table(self, data: dict[str, Any], key: str, required: bool = False) -> dict[str, Any]:
        value = data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, "a table", value)
        return value

    def string(self, data: dict[str, Any], where: str, key: str, required: bool = False) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value:
            raise self.error(f"{where}.{key}", "a non-empty string", value)
        return value

    def tables(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(key, f"an array of tables ([[{key}]])", value)
        return value

    def boolean(self, data: dict[str, Any], where: str, key: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.error(f"{where}.{key}", "true or false", value)
        return value

    def names(self, data: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            expected = 'an array of parameter names, or "spread"' if key == "handler_args" else \
                "an array of non-empty strings"
            raise self.error(f"{where}.{key}", expected, value)
        return tuple(value)

    def identifier(self, data: dict[str, Any], where: str, key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.isidentifier():
            raise self.error(f"{where}.{key}", "a function or method name", value)
        return value

    def identifiers(self, data: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item.isidentifier() for item in value):
            raise self.error(f"{where}.{key}", "an array of parameter names", value)
        return tuple(value)

    def globs(self, data: dict[str, Any], where: str, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """Method-name globs: letters, digits, `_`, and the wildcards `*` and `?`."""
        value = data.get(key, list(default))
        if not isinstance(value, list) or not all(
                isinstance(item, str) and item and all(c.isalnum() or c in "_*?" for c in item) for item in value):
            raise self.error(f"{where}.{key}", 'an array of method-name globs, like ["_*", "close"] (letters, digits, '
                             '`_`, and the wildcards `*` and `?`: no `[...]`)', value)
        return tuple(value)

    def class_names(self, data: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        """A class name (`Node`, `pkg.comm.Node`) or an array of them."""
        value = data.get(key, [])
        classes = [value] if isinstance(value, str) else value
        if not isinstance(classes, list) or not all(
                isinstance(name, str) and name and all(part.isidentifier() for part in name.split("."))
                for name in classes):
            raise self.error(f"{where}.{key}", "a class name (`Node` or `pkg.comm.Node`) or an array of them", value)
        return tuple(classes)

    def receivers(self, data: dict[str, Any], where: str) -> Receivers:
        """`receiver = "Node"` or `["pkg.comm.Node", "Peer"]`, and `unknown_receiver`."""
        classes = self.class_names(data, where, "receiver")
        unknown = data.get("unknown_receiver", UnknownReceiver.MATCH.value)
        if "unknown_receiver" in data and not classes:
            raise self.error(f"{where}.unknown_receiver", "a `receiver` beside it (it says what a call does when "
                             "its receiver's class is unknown)", unknown)
        if not isinstance(unknown, str):
            raise self.error(f"{where}.unknown_receiver", "'match' or 'skip'", unknown)
        return Receivers(classes, self.enum(UnknownReceiver, unknown, f"{where}.unknown_receiver"))

    def channel(self, value: str, where: str, version: int) -> Mechanism:
        """A channel's name: 'rpc' or 'event' in a version 1 pack, any name in version 2 (checked
        against the declared channels once the packs are merged)."""
        if version == 1:
            if value not in _V1_CHANNELS:
                raise self.error(where, " or ".join(f"'{name}'" for name in _V1_CHANNELS), value)
        elif not _CHANNEL_NAME.match(value):
            raise self.error(where, "a channel name (letters, digits, `_` and `-`)", value)
        return Mechanism(value)

    def convention(self, data: dict[str, Any], where: str) -> Convention | None:
        """`handler_args = ["source", "data"]`, or `"spread"`; None when absent."""
        value = data.get("handler_args")
        if value is None:
            return None
        if value == "spread":
            return Convention(spread=True)
        return Convention(self.names(data, where, "handler_args"))

    def index(self, data: dict[str, Any], where: str, key: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(f"{where}.{key}", "a non-negative integer (0 = first argument)", value)
        return value

    def enum(self, kind: type[_E], value: str, where: str) -> _E:
        try:
            return kind(value)
        except ValueError:
            choices = " or ".join(repr(member.value) for member in kind)
            raise self.error(where, choices, value) from None

    def slot(self, data: dict[str, Any], where: str, key: str, required: bool) -> ArgSlot | None:
        value = data.get(key)
        full = f"{where}.{key}"
        expected = "a table like { position = 1, keyword = \"message_type\" }"
        if value is None:
            if required:
                raise self.error(full, expected, None)
            return None
        if not isinstance(value, dict):
            raise self.error(full, expected, value)
        self.keys(value, full, {"position", "keyword"})
        position = value.get("position")
        keyword = value.get("keyword")
        if position is not None and (not isinstance(position, int) or isinstance(position, bool) or position < 0):
            raise self.error(f"{full}.position", "a non-negative integer (0 = first argument)", position)
        if keyword is not None and (not isinstance(keyword, str) or not keyword.isidentifier()):
            raise self.error(f"{full}.keyword", "a parameter name", keyword)
        if position is None and keyword is None:
            raise self.error(full, "`position`, `keyword` or both", value)
        return ArgSlot(position=position, keyword=keyword)

    def required_slot(self, data: dict[str, Any], where: str, key: str) -> ArgSlot:
        slot = self.slot(data, where, key, required=True)
        assert slot is not None  # `slot` raises for a missing required one
        return slot

    def positions(self, data: dict[str, Any], where: str, key: str) -> tuple[int, ...]:
        """A rewrite's positional mapping: a permutation of 0..n-1 (no argument dropped or invented)."""
        value = data.get(key)
        if not isinstance(value, list) or not value \
                or not all(isinstance(i, int) and not isinstance(i, bool) for i in value) \
                or sorted(value) != list(range(len(value))):
            expected = "a permutation of 0..n-1 (entry i: where argument i goes), like [0, 1, 2]"
            raise self.error(f"{where}.{key}", expected, value)
        return tuple(value)

    def renames(self, data: dict[str, Any], where: str, key: str) -> tuple[tuple[str, str], ...]:
        """A rewrite's keyword renames: parameter name -> distinct parameter name."""
        value = data.get(key, {})
        full = f"{where}.{key}"
        if not isinstance(value, dict):
            raise self.error(full, "a table of parameter names, like { target = \"target\" }", value)
        for old, new in value.items():
            if not old.isidentifier():
                raise self.error(full, "parameter names as keys", old)
            if not isinstance(new, str) or not new.isidentifier():
                raise self.error(f"{full}.{old}", "a parameter name", new)
        if len(set(value.values())) != len(value):
            raise self.error(full, "distinct new names", value)
        return tuple(sorted(value.items()))
