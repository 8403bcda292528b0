"""Rule packs: the messaging API of a framework, declared in TOML.

A pack says which calls send or handle messages, on which mechanism, and
where the message type and handler sit among the arguments. The engine knows
no API names of its own; everything comes from here.
"""

from __future__ import annotations

import builtins
import os
import sys
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from fedcl_lint.files import parse_structured, read_user_text
from fedcl_lint.types import Mechanism, Role

BUILTIN_PACKS = ("fedcl",)
_E = TypeVar("_E", bound=Enum)


class RulePackError(Exception):
    """A rule pack that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ArgSlot:
    """Where an argument sits: 0-based position after the receiver, or keyword."""

    position: int | None
    keyword: str | None


class UnknownReceiver(str, Enum):
    """What a call of a receiver-bound API does when its receiver's class cannot be inferred."""

    MATCH = "match"  # a site, as if the receiver were one of the classes (the default)
    SKIP = "skip"  # no site: an FCL005 info saying the receiver is unknown

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Receivers:
    """The classes whose instances (or subclasses') an API is called on: bare (`Node`) or qualified
    (`pkg.comm.Node`) names; none means any receiver, whatever it is."""

    classes: tuple[str, ...] = ()
    unknown: UnknownReceiver = UnknownReceiver.MATCH

    def describe(self) -> str:
        return " or ".join(f"`{name}`" for name in self.classes)


@dataclass(frozen=True)
class CallSpec:
    """One call of the API: e.g. `send_business_message` sends over rpc."""

    name: str
    role: Role
    mechanism: Mechanism
    message_type: ArgSlot
    handler: ArgSlot | None
    coroutine: bool = False  # must be awaited (or scheduled) to do anything
    receivers: Receivers = Receivers()
    envelope: bool = False  # `message_type` is where a message object (an [[envelopes]] entry) goes


@dataclass(frozen=True)
class MechanismDoc:
    """What a mechanism means, and how its handlers are called."""

    title: str
    description: str
    handler_args: tuple[str, ...] = ()  # e.g. ("source", "data"): handlers get this many arguments


@dataclass(frozen=True)
class SetterSpec:
    """`msg.set_type(X)`: the method that sets a message object's type, and where X goes."""

    name: str
    argument: ArgSlot


@dataclass(frozen=True)
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

    def describe(self) -> str:
        return " or ".join(f"`{name}`" for name in self.classes) if self.classes else f'a dict with "{self.key}"'


@dataclass(frozen=True)
class PayloadSpec:
    """A dict literal with `key` is an envelope of `mechanism` (narrowed by `requires`)."""

    key: str
    mechanism: Mechanism
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class DispatcherSpec:
    """A function registered by `registration` dispatches on `payload[key]`.

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class RulePack:
    """One or more merged packs, ready for the engine."""

    names: tuple[str, ...]
    calls: tuple[CallSpec, ...]
    mechanisms: dict[Mechanism, MechanismDoc]
    payloads: tuple[PayloadSpec, ...] = ()
    dispatchers: tuple[DispatcherSpec, ...] = ()
    rewrites: tuple[RewriteSpec, ...] = ()  # for --fix only: not in the fingerprint, facts do not depend on it
    envelopes: tuple[EnvelopeSpec, ...] = ()
    sources: tuple[Path, ...] = ()  # the TOML files it was read from

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
        """API names that do `role` on `mechanism` with a message type argument, in pack order (for fix
        hints: a send of a message object is not what a user switching mechanism calls)."""
        return list(dict.fromkeys(c.name for c in self.calls
                                  if c.mechanism is mechanism and c.role is role and not c.envelope))

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
        """The names whose calls can be sites: API calls and dispatcher registrations."""
        return frozenset(c.name for c in self.calls) | frozenset(d.registration for d in self.dispatchers)

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
        return repr((sorted((p.key, p.requires) for p in self.payloads), sorted(self.dispatch_keys), builtin_names,
                     envelopes))


def builtin_pack_path(name: str) -> Path:
    """Built-in packs ship inside the package (fedcl_lint/rules)."""
    candidate = Path(__file__).resolve().parent.parent / "rules" / f"{name}.toml"
    if candidate.is_file():
        return candidate
    raise RulePackError(f"built-in rule pack {name!r} is missing from the installation")


def load_packs(specs: list[str] | tuple[str, ...]) -> RulePack:
    """Load and merge packs given by built-in name or by path to a TOML file."""
    calls: dict[tuple[str, tuple[str, ...]], CallSpec] = {}  # by name and receivers
    mechanisms: dict[Mechanism, MechanismDoc] = {}
    payloads: dict[str, PayloadSpec] = {}
    dispatchers: dict[tuple[str, tuple[str, ...]], DispatcherSpec] = {}
    envelopes: dict[tuple[tuple[str, ...], str | None], EnvelopeSpec] = {}  # by classes or key
    rewrites: dict[str, tuple[Path, int, RewriteSpec]] = {}  # by source; where it was declared
    names: list[str] = []
    sources: list[Path] = []
    for spec in specs:
        path = builtin_pack_path(spec) if spec in BUILTIN_PACKS else Path(spec)
        sources.append(Path(os.path.abspath(path)))
        pack = _load_one(path)
        names.extend(pack.names)
        calls.update(((c.name, c.receivers.classes), c) for c in pack.calls)
        payloads.update((p.key, p) for p in pack.payloads)
        dispatchers.update(((d.registration, d.receivers.classes), d) for d in pack.dispatchers)
        envelopes.update(((e.classes, e.key), e) for e in pack.envelopes)
        rewrites.update((r.source, (path, index, r)) for index, r in enumerate(pack.rewrites))
        mechanisms.update(pack.mechanisms)
    if not envelopes:
        sending = next((c for c in calls.values() if c.envelope), None)
        if sending is not None:
            raise RulePackError(f"{specs[-1]}: `{sending.name}` sends a `message` object, but no rule pack "
                                "declares [[envelopes]]")
    by_name: dict[str, CallSpec] = {}
    for call in calls.values():
        by_name.setdefault(call.name, call)
    for path, index, rewrite in rewrites.values():
        _check_rewrite(_Reader(path), f"rewrites[{index}]", rewrite, by_name)
    return RulePack(
        names=tuple(names),
        calls=tuple(calls.values()),
        mechanisms=mechanisms,
        payloads=tuple(payloads.values()),
        dispatchers=tuple(dispatchers.values()),
        rewrites=tuple(r for _, _, r in rewrites.values()),
        sources=tuple(sources),
        envelopes=tuple(envelopes.values()),
    )


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


def _load_one(path: Path) -> RulePack:
    text = read_user_text(path, str(path), RulePackError, "rule pack not found")
    data = parse_structured(tomllib.loads, text, str(path), RulePackError, "invalid TOML")
    reader = _Reader(path)
    reader.keys(data, "", {"pack", "mechanisms", "calls", "payloads", "dispatchers", "rewrites", "envelopes"})
    pack = reader.table(data, "pack", required=True)
    reader.keys(pack, "pack", {"name", "description"})
    name = reader.string(pack, "pack", "name", required=True)
    reader.string(pack, "pack", "description")

    mechanisms = {}
    raw_mechanisms = reader.table(data, "mechanisms")
    for key, doc in raw_mechanisms.items():
        where = f"mechanisms.{key}"
        mechanism = reader.enum(Mechanism, key, where)
        if not isinstance(doc, dict):
            raise reader.error(where, "a table with `title` and `description`", doc)
        reader.keys(doc, where, {"title", "description", "handler_args"})
        mechanisms[mechanism] = MechanismDoc(
            title=reader.string(doc, where, "title", required=True),
            description=reader.string(doc, where, "description", required=True).strip(),
            handler_args=reader.names(doc, where, "handler_args"),
        )

    calls = []
    raw_calls = data.get("calls", [])
    if not isinstance(raw_calls, list):
        raise reader.error("calls", "an array of tables ([[calls]])", raw_calls)
    for index, raw in enumerate(raw_calls):
        where = f"calls[{index}]"
        if not isinstance(raw, dict):
            raise reader.error(where, "a table", raw)
        reader.keys(raw, where, {"name", "role", "mechanism", "message_type", "message", "handler", "coroutine",
                                 "receiver", "unknown_receiver"})
        role = reader.enum(Role, reader.string(raw, where, "role", required=True), f"{where}.role")
        handler = reader.slot(raw, where, "handler", required=False)
        if role is Role.HANDLE and handler is None:
            raise reader.error(f"{where}.handler", "a handler slot for a `handle` call", None)
        envelope = "message" in raw
        if envelope and ("message_type" in raw or role is not Role.SEND):
            raise reader.error(f"{where}.message", "a `message` slot only on a send, instead of `message_type`",
                               raw["message"])
        calls.append(
            CallSpec(
                name=reader.string(raw, where, "name", required=True),
                role=role,
                mechanism=reader.enum(
                    Mechanism, reader.string(raw, where, "mechanism", required=True), f"{where}.mechanism"
                ),
                message_type=reader.required_slot(raw, where, "message" if envelope else "message_type"),
                handler=handler,
                coroutine=reader.boolean(raw, where, "coroutine"),
                receivers=reader.receivers(raw, where),
                envelope=envelope,
            )
        )
    if not calls:
        raise reader.error("calls", "at least one [[calls]] entry", None)

    payloads = []
    for index, raw in enumerate(reader.tables(data, "payloads")):
        where = f"payloads[{index}]"
        reader.keys(raw, where, {"key", "mechanism", "requires"})
        payloads.append(
            PayloadSpec(
                key=reader.string(raw, where, "key", required=True),
                mechanism=reader.enum(
                    Mechanism, reader.string(raw, where, "mechanism", required=True), f"{where}.mechanism"
                ),
                requires=reader.names(raw, where, "requires"),
            )
        )

    dispatchers = []
    for index, raw in enumerate(reader.tables(data, "dispatchers")):
        where = f"dispatchers[{index}]"
        reader.keys(raw, where, {"registration", "handler", "payload_argument", "key", "mechanism", "receiver",
                                 "unknown_receiver"})
        dispatchers.append(
            DispatcherSpec(
                registration=reader.string(raw, where, "registration", required=True),
                handler=reader.required_slot(raw, where, "handler"),
                payload_argument=reader.index(raw, where, "payload_argument"),
                key=reader.string(raw, where, "key", required=True),
                mechanism=reader.enum(
                    Mechanism, reader.string(raw, where, "mechanism", required=True), f"{where}.mechanism"
                ),
                receivers=reader.receivers(raw, where),
            )
        )
    envelopes = [_envelope(reader, f"envelopes[{index}]", raw)
                 for index, raw in enumerate(reader.tables(data, "envelopes"))]
    return RulePack(
        names=(name,),
        calls=tuple(calls),
        envelopes=tuple(envelopes),
        mechanisms=mechanisms,
        payloads=tuple(payloads),
        dispatchers=tuple(dispatchers),
        rewrites=tuple(_rewrite(reader, f"rewrites[{index}]", raw)
                       for index, raw in enumerate(reader.tables(data, "rewrites"))),
    )


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
            raise self.error(f"{where}.{key}", "an array of non-empty strings", value)
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
