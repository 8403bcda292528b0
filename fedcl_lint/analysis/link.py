"""Linking: find every send and handle site of the project and resolve its message type.

Sites are calls of rule-pack APIs, calls of inferred wrappers (functions that
pass a parameter on to a send or handle call, found by a fixpoint over the whole
project), payload dicts and the comparisons of registered dispatchers.
Extraction left module-level names symbolic; here they are followed through
constants, classes, Enums and imports (absolute, relative, re-exports) to a
string, recording each step and where it came from, parsing imported modules
on demand. Whatever cannot be followed becomes an explicit unresolved reason:
never a guess.
"""

from __future__ import annotations

from collections.abc import Iterator

from fedcl_lint.analysis.envelopes import EnvelopeTracer
from fedcl_lint.analysis.facts import (
    AttrRef,
    Call,
    CallResult,
    ClassFacts,
    Construction,
    DictEnvelope,
    Either,
    Elements,
    Entered,
    EnumAuto,
    Expr,
    FString,
    FunctionFacts,
    FunctionRef,
    GetAttr,
    Instance,
    Items,
    Join,
    LambdaRef,
    Literal,
    LocalRef,
    LoopItem,
    Mapping,
    NameRef,
    Opaque,
    Param,
    ParamRef,
    PartialRef,
    Position,
    SelfAttrRef,
    Typed,
)
from fedcl_lint.analysis.load import FactStore, Module
from fedcl_lint.analysis.receivers import ReceiverTyping
from fedcl_lint.records import Record
from fedcl_lint.settings.rulepack import (
    ArgSlot,
    ArgumentsSpec,
    DispatcherSpec,
    Receivers,
    Registry,
    RulePack,
    UnknownReceiver,
)
from fedcl_lint.types import Location, Mechanism, MessageType, Role

ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag", "ReprEnum"})
_INT_ENUMS = frozenset({"IntEnum", "IntFlag"})  # their members format as their values in f-strings
_FLAGS = frozenset({"Flag", "IntFlag"})  # auto() gives powers of two
_MAX_INT_BITS = 3_322  # 1,000 decimal digits, as extraction bounds int literals
DISPATCHER = " (dispatcher)"  # ends the first step of a dispatcher comparison's `via`
_MAX_DEPTH = 64
_Seen = frozenset[tuple[str, str]]  # the (module, name) a resolution went through: a loop ends there
_TEMPLATES = frozenset({FString, Join, LocalRef})  # what a template over parameters can be


# The records of this stage are made by the thousand per run: see `fedcl_lint.records`.


class Step(Record):
    """One hop of a resolution, e.g. "constant `SHUTDOWN`" at messages.py:3:1."""

    __slots__ = ("description", "location")

    def __init__(self, description: str, location: Location | None):
        self.description = description
        self.location = location


class Resolution(Record):
    """A message type (or why there is none) and how it was found; `pattern`: the literal parts of a
    template some of whose parts stay unknown (`hook_*` is ("hook_", "")), see `Pattern`."""

    __slots__ = ("value", "steps", "reason", "pattern")

    def __init__(self, value: MessageType | None, steps: tuple[Step, ...], reason: str | None = None,
                 pattern: Pattern | None = None):
        self.value = value
        self.steps = steps
        self.reason = reason
        self.pattern = pattern


class Pattern(Record):
    """A message type known in part: the literal text between its unknown parts (`hook_{x}` is
    ("hook_", ""), shown as `hook_*`). It matches a string type by glob, never an int."""

    __slots__ = ("segments",)

    def __init__(self, segments: tuple[str, ...]):
        self.segments = segments

    def __str__(self) -> str:
        return "*".join(self.segments)

    def matches(self, value: str | int) -> bool:
        if not isinstance(value, str):
            return False
        first, *middle, last = self.segments
        if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
            return False
        start, end = len(first), len(value) - len(last)
        for segment in middle:
            found = value.find(segment, start, end)
            if found < 0:
                return False
            start = found + len(segment)
        return True


class Arguments(Record):
    """What a send passes the remote method (a proxy's method call): how many positional arguments,
    which keywords, and whether `*args` or `**kwargs` make it unknown."""

    __slots__ = ("positional", "keywords", "unknown")

    def __init__(self, positional: int, keywords: tuple[str, ...], unknown: bool):
        self.positional = positional
        self.keywords = keywords
        self.unknown = unknown


class HandlerRef(Record):
    """The handler a registration names, and its signature when it can be found; `registered_at` the
    call that registered it when the site is the handler itself (a method a service binding binds)."""

    __slots__ = ("description", "params", "definition", "registered_at")

    def __init__(self, description: str, params: tuple[Param, ...] | None, definition: Location | None,
                 registered_at: Location | None = None):
        self.description = description
        self.params = params
        self.definition = definition
        self.registered_at = registered_at


class LinkedSite(Record):
    """One send or handle site of the protocol, with its resolved message type.

    `api` is what the code calls (a rule-pack API, an inferred wrapper, a
    payload dict or a dispatcher comparison); `via` is the chain from that call
    down to the rule-pack API, for wrappers ("Conn.route -> send_business_message").
    """

    __slots__ = ("api", "role", "mechanism", "location", "resolution", "function", "via", "handler", "unawaited",
                 "built_at", "registry", "arguments", "loop_at")

    def __init__(self, api: str, role: Role, mechanism: Mechanism, location: Location, resolution: Resolution,
                 function: str | None, via: tuple[str, ...] = (), handler: HandlerRef | None = None,
                 unawaited: bool = False, built_at: Location | None = None, registry: Registry | None = None,
                 arguments: Arguments | None = None, loop_at: Location | None = None):
        self.api = api
        self.role = role
        self.mechanism = mechanism
        self.location = location
        self.resolution = resolution
        self.function = function
        self.via = via
        self.handler = handler
        self.unawaited = unawaited
        self.built_at = built_at  # a message object's construction, for a send of one
        self.registry = registry  # a handle site's: the channels it serves, how it calls its handler
        self.arguments = arguments  # what a send passes the remote method, when known
        self.loop_at = loop_at  # the loop whose elements each make a site of this call

    @property
    def message_type(self) -> MessageType | None:
        return self.resolution.value

    @property
    def channels(self) -> tuple[Mechanism, ...]:
        """The channel a send is on; every channel a handle site's registry serves."""
        return self.registry.serves if self.registry is not None else (self.mechanism,)


class Wrapper(Record):
    """A function found to forward a parameter into a send or handle call."""

    __slots__ = ("qualname", "location", "role", "mechanism", "via")

    def __init__(self, qualname: str, location: Location, role: Role, mechanism: Mechanism, via: tuple[str, ...]):
        self.qualname = qualname
        self.location = location
        self.role = role
        self.mechanism = mechanism
        self.via = via


class LinkResult(Record):
    """Everything linking found: the protocol's sites, and the wrappers' inner calls."""

    __slots__ = ("sites", "forwarding", "wrappers", "state")

    def __init__(self, sites: tuple[LinkedSite, ...], forwarding: tuple[LinkedSite, ...],
                 wrappers: tuple[Wrapper, ...], state: _LinkState | None = None):
        self.sites = sites
        self.forwarding = forwarding  # calls inside wrappers that pass a parameter on
        self.wrappers = wrappers
        self.state = state  # what linking again after one edit starts from (see `Linker.link_again`)


class _LinkState(Record):
    """The fixpoint's wrappers, and the modules whose calls were read (display paths)."""

    __slots__ = ("wrappers", "selected")

    def __init__(self, wrappers: dict[tuple[str, str], frozenset[_Api]], selected: frozenset[str]):
        self.wrappers = wrappers
        self.selected = selected


class _Api(Record):
    """Something that sends or handles: a rule-pack call or an inferred wrapper. A wrapper whose
    parameters are parts of a template (`f"hook_{phase}"`) has its `template`; a handle call used as a
    decorator is `decorator`; a send whose other arguments go to the remote method has `arguments`."""

    __slots__ = ("name", "role", "mechanism", "message_type", "handler", "coroutine", "chain", "envelope", "registry",
                 "template", "decorator", "arguments")

    def __init__(self, name: str, role: Role, mechanism: Mechanism, message_type: ArgSlot, handler: ArgSlot | None,
                 coroutine: bool, chain: tuple[str, ...], envelope: bool = False, registry: Registry | None = None,
                 template: Template | None = None, decorator: bool = False, arguments: ArgumentsSpec | None = None):
        self.name = name
        self.role = role
        self.mechanism = mechanism
        self.message_type = message_type  # where the message type goes; a message object, when `envelope`
        self.handler = handler
        self.coroutine = coroutine
        self.chain = chain  # from this API down to the rule-pack call
        self.envelope = envelope
        self.registry = registry  # a handle call's
        self.template = template
        self.decorator = decorator
        self.arguments = arguments

    @property
    def kind(self) -> tuple[object, ...]:
        """What a caller needs to know, whichever definition it reaches."""
        return (self.role, self.mechanism, self.message_type, self.handler, self.coroutine, self.envelope,
                self.registry, self.template, self.decorator, self.arguments)

    def via(self, chain: tuple[str, ...]) -> _Api:
        """The same API reached by another chain."""
        return _Api(self.name, self.role, self.mechanism, self.message_type, self.handler, self.coroutine, chain,
                    self.envelope, self.registry, self.template, self.decorator, self.arguments)


class Template(Record):
    """A wrapper's message type built from its parameters (`f"hook_{phase}"`, `"a" + kind`): each part
    a value already resolved in the wrapper's module (`Literal` or `Opaque`), or the slot of the
    parameter whose argument fills it; `join` for `+`, else an f-string with its field kinds."""

    __slots__ = ("parts", "slots", "join", "converted", "integers")

    def __init__(self, parts: tuple[Expr, ...], slots: tuple[ArgSlot | None, ...], join: bool,
                 converted: tuple[int, ...] = (), integers: tuple[int, ...] = ()):
        self.parts = parts
        self.slots = slots
        self.join = join
        self.converted = converted
        self.integers = integers


class _RawSite(Record):
    """A site before resolution: which API, in which module, with which argument."""

    __slots__ = ("module", "api", "expr", "missing_reason", "position", "function", "handler", "bare", "origin",
                 "built_at", "envelope", "end", "extra")

    def __init__(self, module: Module, api: _Api, expr: Expr | None, missing_reason: str, position: Position,
                 function: str | None, handler: Expr | None = None, bare: bool = False, origin: Module | None = None,
                 built_at: Position | None = None, envelope: bool = False, end: Position | None = None,
                 extra: SiteExtra | None = None):
        self.module = module
        self.api = api
        self.expr = expr
        self.missing_reason = missing_reason
        self.position = position
        self.function = function
        self.handler = handler
        self.bare = bare
        self.origin = module if origin is None else origin  # where `expr` is: the message object's module
        self.built_at = built_at  # where the message object was built (in `origin`)
        self.envelope = envelope  # `expr` is the message object itself (a parameter passed on)
        self.end = end  # where the call ends (None for a payload dict or a dispatcher's comparison)
        self.extra = extra  # what reflection adds (see `SiteExtra`)


class SiteExtra(Record):
    """What a site of service binding, a proxy or a loop adds: the steps before its type's own, the
    arguments it passes, a bound method's registration, the loop that made it."""

    __slots__ = ("steps", "arguments", "registered_at", "loop_at")

    def __init__(self, steps: tuple[Step, ...] = (), arguments: Arguments | None = None,
                 registered_at: Location | None = None,
                 loop_at: Location | None = None):
        self.steps = steps
        self.arguments = arguments
        self.registered_at = registered_at
        self.loop_at = loop_at


# Values met while resolving; `_Str` and `_Int` are message types.
class _Str(Record):
    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value


class _Int(Record):
    """An int, with the last named definition it came through (`Msg.FINISH`, `FINISH`), if any."""

    __slots__ = ("value", "name")

    def __init__(self, value: int, name: str | None = None):
        self.value = value
        self.name = name


class _ModuleValue(Record):
    __slots__ = ("module",)

    def __init__(self, module: Module):
        self.module = module


class _ClassValue(Record):
    __slots__ = ("module", "cls")

    def __init__(self, module: Module, cls: ClassFacts):
        self.module = module
        self.cls = cls


class _EnumMember(Record):
    __slots__ = ("cls", "member", "value", "kind")

    def __init__(self, cls: ClassFacts, member: str, value: str | int, kind: _EnumKind):
        self.cls = cls
        self.member = member
        self.value = value
        self.kind = kind


class _EnumKind(Record):
    """What an Enum class is: the Enum base its lineage names, and the type its values are
    converted to (`str` for StrEnum and `class K(str, Enum)`, `int` for IntEnum, IntFlag and
    `class K(int, Enum)`, None for a plain Enum or Flag)."""

    __slots__ = ("base", "mixin")

    def __init__(self, base: str, mixin: str | None):
        self.base = base
        self.mixin = mixin


class _FunctionValue(Record):
    __slots__ = ("module", "function", "shift")

    def __init__(self, module: Module, function: FunctionFacts, shift: int):
        self.module = module
        self.function = function
        self.shift = shift  # leading arguments a caller passes that the params leave out (`Class.method(obj, ...)`)


class _Unresolved(Record):
    """No message type, and why; `pattern` when it is a template some of whose parts stay unknown
    (`reason` is then the first unknown part's)."""

    __slots__ = ("reason", "pattern")

    def __init__(self, reason: str, pattern: Pattern | None = None):
        self.reason = reason
        self.pattern = pattern


class _Container(Record):
    """A literal a loop iterates over, found through names: `kind` "elements" (a list, tuple or set:
    `keys`), "mapping" (a dict iterated: its keys, `values` beside), "items", "keys" or "values" (a
    dict's view), with the module its expressions belong to; as a message type, `reason` says why not."""

    __slots__ = ("kind", "keys", "values", "module", "reason")

    def __init__(self, kind: str, keys: tuple[Expr, ...], values: tuple[Expr, ...], module: Module, reason: str):
        self.kind = kind
        self.keys = keys
        self.values = values
        self.module = module
        self.reason = reason


_Value = _Str | _Int | _ModuleValue | _ClassValue | _EnumMember | _FunctionValue | _Unresolved | _Container


class Linker:
    """Resolves names across the modules of one project and finds every site."""

    def __init__(self, store: FactStore, pack: RulePack):
        self.store = store
        self.pack = pack
        self.files_by_name = store.files_by_name
        self.pack_apis: dict[str, list[tuple[_Api, Receivers]]] = {}  # by name: one per receiver declared
        for spec in pack.calls:
            self.pack_apis.setdefault(spec.name, []).append((
                _Api(spec.name, spec.role, spec.mechanism, spec.message_type, spec.handler, spec.coroutine,
                     (spec.name,), spec.envelope, spec.registry, decorator=spec.decorator, arguments=spec.arguments),
                spec.receivers,
            ))
        self.payload_apis = {
            spec.key: _Api(f'payload "{spec.key}"', Role.SEND, spec.mechanism, ArgSlot(None, None), None, False,
                           (f'payload "{spec.key}"',))
            for spec in pack.payloads
        }
        self.receive_apis = {
            spec.name: (spec, _Api(spec.name, Role.HANDLE, spec.registry.channel, ArgSlot(None, None), None, False,
                                   (spec.name,), registry=spec.registry))
            for spec in pack.receives
        }
        self.modules: list[Module] = []
        self._modules_named: dict[str, Module | None] = {}  # what `_module` found for each name
        self._dispatchers: dict[str, list[DispatcherSpec]] = {}
        for dispatcher in pack.dispatchers:
            self._dispatchers.setdefault(dispatcher.registration, []).append(dispatcher)
        self.receivers = ReceiverTyping(self)
        self.envelopes = EnvelopeTracer(self)
        from fedcl_lint.analysis.reflect import Reflection  # it builds on this module's records

        self.reflection = Reflection(self)
        self._setter_calls: dict[tuple[str, str], list[Call]] = {}  # see `calls_of`
        self.definitions: dict[str, list[tuple[str, str]]] = {}  # bare name -> the functions defining it
        self._by_name_cache: dict[str, list[tuple[_Api, int]]] = {}  # per link round
        # Per call, what no round of the fixpoint changes: the sites a call of a pack API
        # makes, and the definition a callee resolves to (only the wrappers it reaches grow).
        self._pack_sites: dict[tuple[str, int], list[_RawSite]] = {}
        self._wrapper_sites: dict[tuple[object, ...], list[_RawSite]] = {}  # by call, wrapper API and shift
        self._callees: dict[tuple[str, int], tuple[list[tuple[Module, FunctionFacts, int]], bool]] = {}
        self._lineages: dict[tuple[str, str], _Lineage] = {}
        self._payload_sites: dict[str, list[_RawSite]] = {}  # by module
        self._definers: dict[tuple[str, str, str], tuple[Module, ClassFacts, FunctionFacts | None] | None] = {}
        self._enum_kinds: dict[tuple[str, str], _EnumKind | None] = {}
        self._expanding = 0  # lineages resolving their bases right now (see `_Lineage`)

    def _select(self, modules: list[Module]) -> None:
        """Take modules whose calls are sites; index their functions by bare name."""
        known = {id(m) for m in self.modules}
        for module in modules:
            if id(module) in known:
                continue
            known.add(id(module))
            self.modules.append(module)
            for function in module.facts.functions.values():
                self.definitions.setdefault(function.name, []).append(_identity(module, function.qualname))
        self.modules.sort(key=lambda m: m.file.display)

    def link(self) -> LinkResult:
        """Find every site, inferring wrappers until no new one appears (a fixpoint)."""
        wrappers: dict[tuple[str, str], frozenset[_Api]] = {}
        self._select(self.store.initial())
        while True:
            raw = self._raw_sites(self.modules, wrappers, set())
            found = self._wrappers_from(raw)
            # a wrapper's name makes every file that mentions it matter (calls, same-named definitions),
            # and so does the name of a function that returns a proxy (its callers may call the proxy)
            named = {qualname.rsplit(".", 1)[-1] for _, qualname in found}
            named |= self.reflection.factory_names(self.modules)
            more = self.store.load(self.store.mentioning(named, {m.file for m in self.modules}))
            if found == wrappers and not more:
                break
            self._select(more)
            wrappers = found
        sites, forwarding = self._linked_sites(raw, wrappers)
        state = _LinkState(wrappers, frozenset(m.file.display for m in self.modules))
        return LinkResult(tuple(sites), tuple(forwarding), self._described(wrappers), state)

    def _linked_sites(self, raw: list[_RawSite],
                      wrappers: dict[tuple[str, str], frozenset[_Api]]) -> tuple[list[LinkedSite], list[LinkedSite]]:
        """The protocol's sites and the wrappers' forwarding calls, each loop's sites made per element."""
        sites: list[LinkedSite] = []
        forwarding: list[LinkedSite] = []
        bound: set[tuple[object, ...]] = set()  # a method bound twice (two nodes bind one class) is one handler
        for site in raw:
            if site.extra is not None and site.extra.registered_at is not None:
                identity = (site.module.file.display, site.position, site.api.chain, site.api.mechanism)
                if identity in bound:
                    continue
                bound.add(identity)
            forwarded = self._forwarded(site, wrappers)
            for each in self.reflection.expand(site):
                (forwarding if forwarded else sites).append(self._linked(each))
        return sites, forwarding

    def _described(self, wrappers: dict[tuple[str, str], frozenset[_Api]]) -> tuple[Wrapper, ...]:
        owners = {m.file.display: m for m in self.store.modules.values()}
        return tuple(
            Wrapper(qualname, module.location(module.facts.functions[qualname].position), api.role,
                    api.mechanism, api.chain)
            for module, qualname, apis in sorted(
                ((owners[display], qualname, apis) for (display, qualname), apis in wrappers.items()),
                key=lambda item: (item[0].name, item[1], item[0].file.display),
            )
            for api in sorted(apis, key=lambda a: (a.role, a.mechanism, a.chain))
        )

    def link_again(self, previous: LinkResult, before: Module, after: Module) -> LinkResult | None:
        """The result of `link` after one module's text changed (`before` -> `after`), from the
        previous one: for an editor, which asks after every keystroke. None when it cannot be
        derived (the edit changes the wrappers, or dispatchers); then `link` must run.

        When the module's functions and what they pass on to sends are unchanged, the wrappers
        (a fixpoint over the whole project) are too; then only the sites of the module, and of
        the modules that import it (directly or through others: they may read its names),
        can change. Every other module's sites are the previous ones.
        """
        state = previous.state
        display = after.file.display
        if state is None or display != before.file.display or self.dispatcher_calls(before, after) \
                or self.reflection.services or self.reflection.proxies:
            return None  # a bound method's site is in another module than its binding; proxies follow factories
        wrappers = state.wrappers
        loaded = {m.file.display: m for m in self.store.modules.values()}
        selected = [loaded[name] for name in sorted(state.selected | {display}) if name in loaded]
        if _signatures(before) != _signatures(after) \
                or self._passing_on(selected, before, wrappers) != self._passing_on(selected, after, wrappers):
            return None
        self._select(selected)
        affected = self._importers(display, loaded)
        raw = self._raw_sites([m for m in self.modules if m.file.display in affected], wrappers, set())
        sites = [s for s in previous.sites if s.location.path not in affected]
        forwarding = [s for s in previous.forwarding if s.location.path not in affected]
        again, again_forwarding = self._linked_sites(raw, wrappers)
        sites += again
        forwarding += again_forwarding
        state = _LinkState(wrappers, frozenset(m.file.display for m in self.modules))
        return LinkResult(tuple(sites), tuple(forwarding), self._described(wrappers), state)

    def _passing_on(self, selected: list[Module], module: Module,
                    wrappers: dict[tuple[str, str], frozenset[_Api]]) -> object:
        """The wrappers a module's own calls make of its functions, `wrappers` known (a linker of its
        own: the caches are per module text)."""
        linker = Linker(self.store, self.pack)
        linker._select(selected)  # every definition, for calls resolved by name
        found = linker._wrappers_from(linker._raw_sites([module], wrappers, set()))
        return {qualname: apis for (_, qualname), apis in found.items()}

    def dispatcher_calls(self, *modules: Module) -> bool:
        """Whether any of `modules` registers a dispatcher (whose cases live in another module)."""
        return any(call.name in self._dispatchers for module in modules for call in module.facts.calls)

    def _importers(self, display: str, loaded: dict[str, Module]) -> set[str]:
        """`display` and every module that imports it, directly or through other modules."""
        importers: dict[str, set[str]] = {}
        for module in loaded.values():
            for name in self._imported(module):
                importers.setdefault(name, set()).add(module.file.display)
        found, pending = {display}, [display]
        while pending:
            current = loaded.get(pending.pop())
            if current is None:
                continue
            for name in current.file.module_names or (current.name,):
                for importer in importers.get(name, ()):
                    if importer not in found:
                        found.add(importer)
                        pending.append(importer)
        return found

    def _imported(self, module: Module) -> set[str]:
        """The module names an import of `module` may read (a `from a import b` may read `a.b`)."""
        names = set()
        for binding in module.facts.imports.values():
            target = self.absolute(module, binding.module, binding.level)
            if target is not None:
                names.add(target)
                if binding.name is not None:
                    names.add(f"{target}.{binding.name}" if target else binding.name)
        for star, level in module.facts.star_imports:
            target = self.absolute(module, star, level)
            if target is not None:
                names.add(target)
        return names

    # sites

    def _raw_sites(self, modules: list[Module], wrappers: dict[tuple[str, str], frozenset[_Api]],
                   dispatchers: set[tuple[str, str]]) -> list[_RawSite]:
        """The sites `modules` make; a dispatcher in `dispatchers` was claimed (its cases made) already."""
        wrapper_names = {qualname.rsplit(".", 1)[-1] for _, qualname in wrappers}
        self._by_name_cache = {}
        raw: list[_RawSite] = []
        relevant = wrapper_names | self.pack.call_names_and_registrations
        reflection = self.reflection
        proxies = bool(reflection.proxies)
        for module in modules:
            facts = module.facts
            display = module.file.display
            for index, call in enumerate(facts.calls):
                if proxies:  # a proxy's method call is a send whatever its name
                    proxied = reflection.proxy_call_sites(module, call, (display, index))
                    if proxied is not None:
                        raw += proxied
                        continue
                if call.name not in relevant:
                    continue
                # The project's own definition, when it forwards to a known API, says
                # more than the pack: it is what runs. Otherwise the pack decides.
                key = (display, index)
                reached = self._wrapper_apis(module, call, key, wrappers) if call.name in wrapper_names else []
                if reached:
                    for api, shift in reached:
                        reached_key = (key, api.chain, api.kind, shift)  # the same in every round
                        if reached_key not in self._wrapper_sites:
                            self._wrapper_sites[reached_key] = self._call_site(module, call, api, shift)
                        raw += self._wrapper_sites[reached_key]
                elif call.name in self.pack_apis:
                    if key not in self._pack_sites:
                        self._pack_sites[key] = self._pack_site(module, call)
                    raw += self._pack_sites[key]
                dispatcher = self._dispatcher(module, call) if call.name in self._dispatchers else None
                if dispatcher is not None:
                    raw.extend(self._dispatch_sites(module, call, dispatcher, dispatchers))
                if call.name in reflection.services:
                    raw += reflection.service_sites(module, call, key)
            if facts.awaited and proxies:
                raw += reflection.awaited_sites(module)
            if facts.received:
                raw += self._received_sites(module)
            if facts.payloads:
                if display not in self._payload_sites:  # the same in every round
                    self._payload_sites[display] = [
                        _RawSite(module, self.payload_apis[payload.key], payload.value, "", payload.position,
                                 payload.function)
                        for payload in facts.payloads
                    ]
                raw += self._payload_sites[display]
        return raw

    def _received_sites(self, module: Module) -> list[_RawSite]:
        """Each comparison of the type a receive call returned is a handler of that type (`[[receives]]`)."""
        sites = []
        for case in module.facts.received:
            spec, api = self.receive_apis.get(case.call, (None, None))
            if spec is not None and api is not None and (case.element, case.attribute) == (spec.element,
                                                                                              spec.attribute):
                sites.append(_RawSite(module, api, case.value, "", case.position, case.function))
        return sites

    def _pack_site(self, module: Module, call: Call) -> list[_RawSite]:
        """The site a call of a rule-pack API makes: of the entry whose receiver classes the call's
        receiver may be an instance of; of an entry declared for any receiver, else. A receiver of
        another class makes no site; an unknown one matches or not as the entries say (a
        site whose type is unresolved, saying why, when it cannot be decided)."""
        candidates = self.pack_apis[call.name]
        if len(candidates) == 1 and not candidates[0][1].classes:
            return self._call_site(module, call, candidates[0][0], 0, sure=False)  # the usual case: any receiver
        anywhere = [api for api, receivers in candidates if not receivers.classes]
        bound = [(api, receivers) for api, receivers in candidates if receivers.classes]
        types = self.receivers.receiver(call.callee, module)
        verdicts = [(api, receivers, self.receivers.matches(types, receivers.classes)) for api, receivers in bound]
        typed = [api for api, _, verdict in verdicts if verdict]
        chosen = typed or anywhere
        if chosen:
            return self._call_site(module, call, chosen[0], 0, sure=bool(typed))
        unknown = [(api, receivers) for api, receivers, verdict in verdicts if verdict is None]
        if not unknown:
            return []  # an instance of another class: not this API
        matching = [api for api, receivers in unknown if receivers.unknown is UnknownReceiver.MATCH]
        if len({api.kind for api in matching}) == 1:
            return self._call_site(module, call, matching[0], 0, sure=False)
        declared = " and ".join(receivers.describe() for _, receivers in unknown)
        receiver = describe(call.callee.base) if isinstance(call.callee, AttrRef) else "it"
        if matching:
            differ = "on different channels" if len({api.mechanism for api in matching}) > 1 and len(
                {(api.message_type, api.handler, api.envelope, api.arguments) for api in matching}) == 1 \
                else "with different arguments"
            reason = f"the class of `{receiver}` is unknown, and `{call.name}` is declared on {declared} {differ}"
        else:
            reason = f"the class of `{receiver}` is unknown (the rule packs declare `{call.name}` on {declared})"
        return [_RawSite(module, unknown[0][0], None, reason, call.position, call.function, None, call.bare,
                         end=call.end)]

    def _dispatcher(self, module: Module, call: Call) -> DispatcherSpec | None:
        """The dispatcher registration a call makes, by its receiver as `_pack_site` decides
        (an unknown receiver registers nothing unless its entry says `match`)."""
        specs = self._dispatchers[call.name]
        if len(specs) == 1 and not specs[0].receivers.classes:
            return specs[0]
        types = self.receivers.receiver(call.callee, module)
        verdicts = [(spec, self.receivers.matches(types, spec.receivers.classes) if spec.receivers.classes else True)
                    for spec in specs]
        chosen = [spec for spec, verdict in verdicts if verdict]
        chosen += [spec for spec, verdict in verdicts
                   if verdict is None and spec.receivers.unknown is UnknownReceiver.MATCH]
        return chosen[0] if chosen else None

    def _call_site(self, module: Module, call: Call, api: _Api, shift: int, sure: bool = True) -> list[_RawSite]:
        """The sites a call of an API makes: one, or for a send of a message object, one per way
        the object was built (none when the argument is no message object). `sure`: the call is
        known to be the API (a wrapper, or a receiver of the declared class), not only named alike."""
        slot = api.message_type
        position = None if slot.position is None else slot.position + shift
        expr = call.argument(position, slot.keyword) or _through_kwargs(call, slot, module)
        if api.template is not None:
            expr = self.reflection.fill(api.template, call, shift)
        if api.envelope:
            return self._envelope_sites(module, call, api, expr, sure)
        reason = ""
        if expr is None:
            if call.star_args:
                reason = "the message type is passed through `*args`"
            elif call.star_kwargs:
                reason = "the message type is passed through `**kwargs`"
            else:
                reason = "the call has no message type argument"
        handler: Expr | None = None
        if api.handler is not None:
            handler_position = None if api.handler.position is None else api.handler.position + shift
            handler = call.argument(handler_position, api.handler.keyword) or _through_kwargs(call, api.handler, module)
        elif api.decorator:
            handler = self.reflection.decorated(module, call)
        extra = None
        if api.arguments is not None:
            extra = SiteExtra(arguments=_sent_arguments(call, api.arguments, slot, api.handler))
        return [_RawSite(module, api, expr, reason, call.position, call.function, handler, call.bare, end=call.end,
                         extra=extra)]

    def _envelope_sites(self, module: Module, call: Call, api: _Api, expr: Expr | None,
                        sure: bool) -> list[_RawSite]:
        """A send of a message object: a site per way it was built. An argument that cannot be followed
        is a site (unresolved, saying why) only when the call is `sure` to be the API: a common name
        (`send`) matched by name alone would otherwise drown the report in infos."""
        if expr is None:
            return []  # no message object passed: another method of that name
        if _forwarded_param(expr) is not None:  # passed on by a wrapper: see `_wrappers_from`
            return [_RawSite(module, api, expr, "", call.position, call.function, None, call.bare, envelope=True,
                             end=call.end)]
        sites = []
        for traced in self.envelopes.trace(expr, module):
            if traced.built_at is None and not sure:
                continue
            type_expr, reason = traced.expr, traced.reason or ""
            param = _forwarded_param(type_expr)
            if param is not None and param.function != call.function:
                type_expr = None  # a helper's parameter: the helper's callers are not followed
                reason = f"the message type is parameter `{param.param}` of `{param.function}`, which builds it"
            sites.append(_RawSite(module, api, type_expr, reason, call.position, call.function, None, call.bare,
                                  traced.module, traced.built_at, end=call.end))
        return sites

    def calls_of(self, module: Module, name: str) -> list[Call]:
        """The calls of `name` in a module (a message object's setter)."""
        key = (module.file.display, name)
        if key not in self._setter_calls:
            self._setter_calls[key] = [call for call in module.facts.calls if call.name == name]
        return self._setter_calls[key]

    def _dispatch_sites(self, module: Module, call: Call, spec: DispatcherSpec,
                        done: set[tuple[str, str]]) -> list[_RawSite]:
        """Each comparison in a registered dispatcher is a handler of that message type."""
        target = self._function(call.argument(spec.handler.position, spec.handler.keyword), module)
        if target is None:
            return []
        owner, function, _shift = target
        identity = _identity(owner, function.qualname)
        if identity in done:
            return []
        done.add(identity)
        if spec.payload_argument >= len(function.params):
            return []
        param = function.params[spec.payload_argument].name
        chain = (f"{function.qualname}{DISPATCHER}", spec.registration)
        api = _Api(function.qualname, Role.HANDLE, spec.mechanism, ArgSlot(None, None), None, False, chain,
                   registry=spec.registry)
        return [
            _RawSite(owner, api, case.value, "", case.position, case.function)
            for case in owner.facts.dispatch_cases
            if case.function == function.qualname and case.param == param and case.key == spec.key
        ]

    def _wrapper_apis(self, module: Module, call: Call, key: tuple[str, int],
                      wrappers: dict[tuple[str, str], frozenset[_Api]]) -> list[tuple[_Api, int]]:
        """The wrapper APIs a call reaches, with how many leading arguments are bound (`self`).

        A callee that resolves (a function in scope, `self.method`, `module.func`,
        `Class.method`) is used as is. Through an unknown receiver (`obj.method`),
        the call counts only if every definition of that name in the project is a
        wrapper of the same kind: a name shared with any other function is ambiguous
        and skipped, never guessed.
        """
        if key not in self._callees:
            self._callees[key] = self.callees(call.callee, module)
        targets, decided = self._callees[key]
        if targets:
            reached = [[(api, shift) for api in sorted(wrappers.get(_identity(owner, function.qualname), ()),
                                                       key=_api_key)]
                       for owner, function, shift in targets]
            if len(reached) == 1:
                return reached[0]
            if len({frozenset((api.kind, shift) for api, shift in apis) for apis in reached}) == 1:
                return reached[0]  # every method it may run is the same kind of wrapper
            return []  # methods of different kinds: which one runs is unknown
        if decided or not isinstance(call.callee, AttrRef):
            return []
        if call.name not in self._by_name_cache:
            self._by_name_cache[call.name] = self._by_name(call.name, wrappers)
        return self._by_name_cache[call.name]

    def callees(self, callee: Expr, module: Module) -> tuple[list[tuple[Module, FunctionFacts, int]], bool]:
        """The definitions a call may run, and whether that is known to be all of them: the one its
        callee names, else the methods of its receiver's inferred classes."""
        target = self._function(callee, module)
        if target is not None:
            return [target], True
        if isinstance(callee, AttrRef):
            typed = self.receivers.methods(callee.base, callee.attr, module)
            if typed is not None:
                return typed
        return [], False

    def _only_callee(self, expr: Expr, module: Module) -> tuple[Module, FunctionFacts, int] | None:
        """The one definition a handler expression runs (`self.trainer.on_fit` through the class of
        `self.trainer`), or None when there is none or more than one."""
        targets, complete = self.callees(expr, module)
        return targets[0] if len(targets) == 1 and complete else None

    def _by_name(self, name: str, wrappers: dict[tuple[str, str], frozenset[_Api]]) -> list[tuple[_Api, int]]:
        """What `obj.name(...)` reaches when `obj` is unknown: see `_wrapper_apis`."""
        definitions = self.definitions.get(name, [])
        kinds = {frozenset(api.kind for api in wrappers.get(identity, ())) for identity in definitions}
        if len(kinds) != 1 or not next(iter(kinds)):
            return []
        apis = sorted(wrappers[definitions[0]], key=_api_key)
        if len(definitions) > 1:  # all wrappers of the same kind: which one runs does not matter
            apis = [api.via((f"{name} (one of {len(definitions)} definitions)", api.chain[-1])) for api in apis]
        return [(api, 0) for api in apis]

    def _wrappers_from(self, raw: list[_RawSite]) -> dict[tuple[str, str], frozenset[_Api]]:
        """Functions whose parameter flows unchanged into a site's message type.

        A fixpoint over functions, not over call chains: a function that reaches an API through
        itself (a retry helper calling itself, `a -> b -> a`) reaches it already, so a chain never
        holds a function twice; and of the chains by which a function reaches one API in one way,
        the shortest is kept. Each round can only add, and there are finitely many such pairs.
        """
        found: dict[tuple[str, str], dict[tuple[object, ...], _Api]] = {}
        for site in raw:
            param = _forwarded_param(site.expr)
            template = None
            if param is None:
                if site.expr.__class__ not in _TEMPLATES:
                    continue
                templated = self.reflection.template_of(site)  # `f"hook_{phase}"`: filled by each caller
                if templated is None:
                    continue
                param, template = templated
            function = site.origin.facts.functions.get(param.function)
            if function is None or function.qualname in site.api.chain:
                continue
            slot = _slot_of(function, param.param, site.api.message_type.keyword) if template is None \
                else ArgSlot(None, None)
            if slot is None:
                continue
            handler_param = _forwarded_param(site.handler)
            handler_slot = None
            if handler_param is not None and handler_param.function == function.qualname:
                handler_slot = _slot_of(function, handler_param.param,
                                        site.api.handler.keyword if site.api.handler is not None else None)
            api = _Api(function.name, site.api.role, site.api.mechanism, slot, handler_slot,
                       function.is_async, (function.qualname, *site.api.chain), site.envelope, site.api.registry,
                       template)
            ways = found.setdefault(_identity(site.origin, function.qualname), {})
            way = (*api.kind, api.chain[-1])
            if way not in ways or (len(api.chain), api.chain) < (len(ways[way].chain), ways[way].chain):
                ways[way] = api
        return {key: frozenset(ways.values()) for key, ways in found.items()}

    def _forwarded(self, site: _RawSite, wrappers: dict[tuple[str, str], frozenset[_Api]]) -> bool:
        param = _forwarded_param(site.expr)
        if param is None and site.expr.__class__ in _TEMPLATES:
            templated = self.reflection.template_of(site)
            param = templated[0] if templated is not None else None
        return param is not None and _identity(site.origin, param.function) in wrappers

    def _linked(self, site: _RawSite) -> LinkedSite:
        if site.expr is None:
            resolution = Resolution(None, (), site.missing_reason)
        else:
            resolution = self.resolve(site.expr, site.origin)
        chain = site.api.chain
        handler = self._handler(site.handler, site.module) if site.handler is not None else None
        extra = site.extra
        if extra is not None:
            resolution = Resolution(resolution.value, extra.steps + resolution.steps, resolution.reason,
                                    resolution.pattern)
            if handler is not None and extra.registered_at is not None:
                handler = HandlerRef(handler.description, handler.params, handler.definition, extra.registered_at)
        return LinkedSite(
            api=site.api.name,
            role=site.api.role,
            mechanism=site.api.mechanism,
            location=site.module.location(site.position, site.end),
            resolution=resolution,
            function=site.function,
            via=chain if len(chain) > 1 else (),
            handler=handler,
            unawaited=site.bare and site.api.coroutine,
            built_at=site.origin.location(site.built_at) if site.built_at is not None else None,
            registry=site.api.registry,
            arguments=extra.arguments if extra is not None else None,
            loop_at=extra.loop_at if extra is not None else None,
        )

    # functions and handlers

    def _function(self, expr: Expr | None, module: Module) -> tuple[Module, FunctionFacts, int] | None:
        """The definition a callee or handler expression names, and its bound-argument shift."""
        if expr is None:
            return None
        value = self._value(expr, module, [], frozenset())
        if isinstance(value, _FunctionValue):
            return value.module, value.function, value.shift
        return None

    def _handler(self, expr: Expr, module: Module) -> HandlerRef:
        description = describe(expr)
        if isinstance(expr, LambdaRef):
            return HandlerRef(description, expr.params, None)
        if isinstance(expr, PartialRef):
            target = self._only_callee(expr.func, module)
            if target is None:
                return HandlerRef(description, None, None)
            owner, function, shift = target
            params = _bind(_as_called(function, shift), expr.positional, expr.keywords)
            return HandlerRef(description, params, owner.location(function.position))
        target = self._only_callee(expr, module)
        if target is None:
            return HandlerRef(description, None, None)
        owner, function, shift = target
        return HandlerRef(description, _as_called(function, shift), owner.location(function.position))

    def resolve(self, expr: Expr, module: Module) -> Resolution:
        """The message type `expr` denotes in `module`, with the steps that led there."""
        steps: list[Step] = []
        value = self._final(self._value(expr, module, steps, frozenset()))
        if isinstance(value, _Unresolved):
            return Resolution(None, tuple(steps), value.reason, value.pattern)
        return Resolution(MessageType(value.value, value.name if isinstance(value, _Int) else None), tuple(steps))

    # one expression

    def _value(self, expr: Expr, module: Module, steps: list[Step], seen: _Seen) -> _Value:
        if len(seen) > _MAX_DEPTH:
            return _Unresolved("the definition chain is too deep")
        # facts are exactly these classes: compared (`type` is fast in 3.11), not isinstance-tested
        if type(expr) is Literal:
            value = expr.value
            return _Str(value) if type(value) is str else _Int(value)  # type: ignore[arg-type]
        if type(expr) is NameRef:
            return self._global(module, expr.name, steps, seen)
        if type(expr) is AttrRef:
            return self._attribute(self._value(expr.base, module, steps, seen), expr.attr, steps, seen)
        if type(expr) is SelfAttrRef:
            cls = module.facts.classes.get(expr.class_name)
            if cls is None:
                return _Unresolved(f"class `{expr.class_name}` is not a top-level class")
            return self._class_attribute(module, cls, expr.attr, steps, seen, bound=True)
        if type(expr) is LocalRef:
            steps.append(Step(f"local variable `{expr.name}` of `{expr.function}`", module.location(expr.position)))
            return self._value(expr.value, module, steps, seen)
        if type(expr) is Join:
            return self._join(expr, module, steps, seen)
        if type(expr) is FString:
            return self._fstring(expr, module, steps, seen)
        if type(expr) is ParamRef:
            return _Unresolved(f"parameter `{expr.param}` of `{expr.function}`")
        if type(expr) is Opaque or type(expr) is CallResult or type(expr) is Entered:
            return _Unresolved(expr.reason)
        if type(expr) is Construction or type(expr) is DictEnvelope or type(expr) is Either:
            return _Unresolved("a message object, not a message type")
        if type(expr) is Typed:
            return self._value(expr.value, module, steps, seen)
        if type(expr) is Instance:
            return _Unresolved("an annotation is a type, not a message type")
        if type(expr) is EnumAuto:
            return _Unresolved("`auto()` outside an Enum")
        if type(expr) is LambdaRef or type(expr) is PartialRef:
            return _Unresolved(f"`{describe(expr)}` is a function, not a message type")
        return self._reflected(expr, module, steps, seen)

    def _reflected(self, expr: Expr, module: Module, steps: list[Step], seen: _Seen) -> _Value:
        """The expressions of loops and reflection: `getattr(...)`, a loop's variable, the literals a loop
        iterates over (a `_Container`, to whoever lists its elements), a function named by qualname."""
        if type(expr) is GetAttr:
            return _Unresolved(expr.reason)
        if type(expr) is LoopItem:
            return _Unresolved(f"{expr.what} is bound by a for loop")
        if type(expr) is Elements:
            return _Container("elements", expr.items, (), module, expr.reason)
        if type(expr) is Mapping:
            return _Container("mapping", expr.keys, expr.values, module, expr.reason)
        if type(expr) is Items:
            base = self._value(expr.base, module, steps, seen)
            if type(base) is _Container and base.kind == "mapping":
                return _Container(expr.which, base.keys, base.values, base.module, expr.reason)
            return _Unresolved(expr.reason)
        if type(expr) is FunctionRef:
            function = module.facts.functions.get(expr.qualname)
            if function is not None:
                return _FunctionValue(module, function, 0)
            return _Unresolved(f"`{expr.qualname}` is not a function of `{module.name}`")
        raise TypeError(f"unknown expression {expr!r}")

    def _join(self, expr: Join, module: Module, steps: list[Step], seen: _Seen) -> _Value:
        """`a + b`: two strings concatenated, or two ints added; anything else is unresolved. Strings
        some of which stay unknown make a pattern (an unknown part beside a known string)."""
        texts: list[str] = []
        numbers: list[int] = []
        template = _Template()
        for part in expr.parts:
            value = self._final(self._value(part, module, steps, seen))
            template.add(value)
            if isinstance(value, _Unresolved):
                continue
            if isinstance(value, _Str):
                texts.append(value.value)
            else:
                numbers.append(value.value)
        if template.unknown is not None:
            return template.result() if texts and not numbers else template.unknown
        if not numbers:
            return _Str("".join(texts))
        if not texts:
            total = sum(numbers)
            if total.bit_length() > _MAX_INT_BITS:
                return _Unresolved(f"`{describe(expr)}` is an int of over 1,000 digits")
            return _Int(total)
        return _Unresolved(f"`{describe(expr)}` adds a string and an int (a TypeError in Python)")

    def _fstring(self, expr: FString, module: Module, steps: list[Step], seen: _Seen) -> _Value:
        """An f-string: its parts as text; an int as Python writes it (`f"{12}"` is `"12"`). Parts that
        stay unknown make a pattern of the known ones (`f"hook_{x}"`: `hook_*`)."""
        template = _Template()
        for index, part in enumerate(expr.parts):
            raw = self._value(part, module, steps, seen)
            value: _Value
            if type(raw) is _EnumMember and index in expr.integers:
                value = self._final(raw) if raw.kind.mixin == "int" else _Unresolved(
                    f"`%d` takes a number, and `{raw.cls.name}.{raw.member}` is not one")
            elif type(raw) is _EnumMember and type(raw.value) is int \
                    and (raw.kind.base not in _INT_ENUMS or index in expr.converted):
                member = f"{raw.cls.name}.{raw.member}"
                value = _Unresolved(
                    f"an f-string writes the Enum member `{member}` as `{member}` or as its value, by the Python "
                    f"version and the Enum's kind (use `{member}.value`)"
                )
            else:
                value = self._final(raw)
                if type(value) is _Str and index in expr.integers:
                    value = _Unresolved(f"`%d` takes a number, not the string {value.value!r} (a TypeError)")
            template.add(value)
        return template.result()

    def _final(self, value: _Value) -> _Str | _Int | _Unresolved:
        """What a value means as a message type."""
        if type(value) is _Str or type(value) is _Unresolved or type(value) is _Int:
            return value
        if type(value) is _Container:
            return _Unresolved(value.reason)
        if type(value) is _EnumMember:
            member = value.value
            if type(member) is str:
                return _Str(member)
            return _Int(member, f"{value.cls.name}.{value.member}")  # type: ignore[arg-type]
        if type(value) is _ClassValue:
            return _Unresolved(f"`{value.cls.name}` is a class, not a message type")
        if type(value) is _FunctionValue:
            return _Unresolved(f"`{value.function.qualname}` is a function, not a message type")
        if type(value) is _ModuleValue:
            return _Unresolved(f"`{value.module.name}` is a module, not a message type")
        raise TypeError(f"unknown value {value!r}")

    # names

    def _global(self, module: Module, name: str, steps: list[Step], seen: _Seen) -> _Value:
        key = (module.name, name)
        if key in seen:
            return _Unresolved(f"`{name}` in `{module.name}` is defined in terms of itself")
        if len(seen) > _MAX_DEPTH:  # a chain of re-exports is followed by recursion: keep it finite
            return _Unresolved("the definition chain is too deep")
        seen = seen | {key}
        facts = module.facts
        function = facts.functions.get(name)
        if function is not None:
            return _FunctionValue(module, function, 0)
        if name in facts.constants:
            assignment = facts.constants[name]
            steps.append(Step(f"constant `{name}` in `{module.name}`", module.location(assignment.position)))
            return _named(self._value(assignment.value, module, steps, seen), name)
        if name in facts.classes:
            return _ClassValue(module, facts.classes[name])
        if name in facts.imports:
            return self._import(module, name, steps, seen)
        starred = self._star_source(module, name)
        if starred is not None:
            target, star_module = starred
            steps.append(Step(f"`{name}` from `from {star_module or '.'} import *`", None))
            return self._global(target, name, steps, seen)
        return _Unresolved(f"`{name}` is not defined in `{module.name}`")

    def _star_source(self, module: Module, name: str,
                     visiting: frozenset[str] = frozenset()) -> tuple[Module, str] | None:
        """The module a `from ... import *` of `module` takes `name` from, and how the import names it:
        one that defines it, or that star-imports it in turn (a package's `__init__.py` re-exporting
        its modules); a cycle of star imports ends."""
        visiting = visiting | {module.name}
        for star_module, level in module.facts.star_imports:
            target = self.module(self.absolute(module, star_module, level))
            if target is None or target.name in visiting:
                continue
            if self.defines(target, name) or self._star_source(target, name, visiting) is not None:
                return target, star_module
        return None

    def _import(self, module: Module, name: str, steps: list[Step], seen: _Seen) -> _Value:
        binding = module.facts.imports[name]
        target_name = self.absolute(module, binding.module, binding.level)
        if target_name is None:
            return _Unresolved(f"`{name}` comes from a relative import beyond the top-level package")
        location = module.location(binding.position)
        if binding.name is None:
            target = self.module(target_name)
            if target is None:
                return _Unresolved(f"module `{target_name}` is not in the analysed tree")
            steps.append(Step(f"`{name}` is the module `{target_name}`", location))
            return _ModuleValue(target)
        steps.append(Step(f"`{name}` imported from `{target_name}`", location))
        return self._member(target_name, binding.name, steps, seen)

    def _member(self, module_name: str, name: str, steps: list[Step], seen: _Seen) -> _Value:
        """`module_name.name`: a name the module defines, else its submodule."""
        target = self.module(module_name)
        if target is not None and (self.defines(target, name) or self._star_source(target, name) is not None):
            return self._global(target, name, steps, seen)
        submodule = self.module(f"{module_name}.{name}" if module_name else name)
        if submodule is not None:
            return _ModuleValue(submodule)
        if target is None:
            return _Unresolved(f"`{name}` comes from `{module_name}`, which is not in the analysed tree")
        return _Unresolved(f"`{name}` is not defined in `{module_name}`")

    def _attribute(self, base: _Value, attr: str, steps: list[Step], seen: _Seen) -> _Value:
        if isinstance(base, _Unresolved):
            return base if base.pattern is None else _Unresolved(base.reason)  # not an attribute of a pattern
        if isinstance(base, _Container):
            return _Unresolved(base.reason)
        if isinstance(base, _ModuleValue):
            return self._member(base.module.name, attr, steps, seen)
        if isinstance(base, _ClassValue):
            return self._class_attribute(base.module, base.cls, attr, steps, seen)
        if isinstance(base, _FunctionValue):
            return _Unresolved(f"`{base.function.qualname}.{attr}` is an attribute of a function")
        if isinstance(base, _EnumMember):
            if attr == "value":
                return self._final(base)
            if attr == "name":
                return _Str(base.member)
            return _Unresolved(f"`{base.cls.name}.{base.member}.{attr}` is not `.value` or `.name`")
        if isinstance(base, _Int):
            return _Unresolved(f"an int has no attribute `{attr}` that is a message type")
        return _Unresolved(f"a string has no attribute `{attr}` that is a message type")

    def _class_attribute(self, module: Module, cls: ClassFacts, attr: str, steps: list[Step], seen: _Seen,
                         bound: bool = False) -> _Value:
        """`cls.attr` (or `self.attr` when `bound`): the first class of the lineage that defines
        `attr`, as a method or as a class attribute, decides, as in Python."""
        key = (module.name, f"{cls.name}.{attr}")
        if key in seen:
            return _Unresolved(f"`{cls.name}.{attr}` is defined in terms of itself")
        seen = seen | {key}
        found = self.defining(module, cls, attr)
        if found is None:
            stored = self._stored(module, cls, attr, steps) if bound else None
            return stored or _Unresolved(f"`{cls.name}` has no class attribute `{attr}` in the analysed tree")
        module, cls, function = found
        if function is not None:  # through the class, a plain method takes the instance first
            return _FunctionValue(module, function, 1 if function.kind == "method" and not bound else 0)
        assignment = cls.attributes[attr]
        location = module.location(assignment.position)
        enum_kind = self._enum_kind(module, cls)
        if enum_kind is None:
            steps.append(Step(f"class attribute `{cls.name}.{attr}`", location))
            return _named(self._value(assignment.value, module, steps, seen), f"{cls.name}.{attr}")
        steps.append(Step(f"enum member `{cls.name}.{attr}`", location))
        if isinstance(assignment.value, EnumAuto):
            return self._auto(module, cls, attr, enum_kind, seen)
        value = self._final(self._value(assignment.value, module, steps, seen))
        if isinstance(value, _Unresolved):
            return value
        if enum_kind.mixin is not None and enum_kind.mixin != ("str" if type(value) is _Str else "int"):
            return _Unresolved(
                f"`{cls.name}.{attr}` is {'a string' if type(value) is _Str else 'an int'} in an Enum of "
                f"{enum_kind.mixin}s, which Python converts (or refuses): write the value as {enum_kind.mixin}"
            )
        return _EnumMember(cls, attr, value.value, enum_kind)

    def _stored(self, module: Module, cls: ClassFacts, attr: str, steps: list[Step]) -> _Value | None:
        """`self.attr` that no class of the lineage defines: what its methods store there, when that is
        one literal (`self.topic = "train"` in `__init__`); None when they store nothing there."""
        values = [value for _, current in self.lineage(module, cls)
                  for value in current.instance_attributes.get(attr, ())]
        if not values:
            return None
        literals = {(type(value.value), value.value) for value in values if type(value) is Literal}
        if len(literals) != 1 or len(values) != sum(type(value) is Literal for value in values):
            return _Unresolved(f"`self.{attr}` is set by the methods of `{cls.name}` to something other than one "
                               "constant")
        steps.append(Step(f"instance attribute `{cls.name}.{attr}`, set once to a constant by its methods", None))
        value = next(iter(literals))[1]
        return _Str(value) if type(value) is str else _Int(value)  # type: ignore[arg-type]

    def _auto(self, module: Module, cls: ClassFacts, attr: str, kind: _EnumKind, seen: _Seen) -> _Value:
        """The value Python gives `attr = auto()`, where every Python version gives the same.

        A StrEnum's is the member's name in lower case. An int Enum's (IntEnum, IntFlag, Flag,
        `class K(int, Enum)`, or a plain Enum one of whose members is an int literal) follows the
        members before it: 1 for the first, then the previous value + 1 (a Flag's: the next power
        of two), provided every earlier value is a known int and the previous one is the largest
        (Python versions differ otherwise). A lineage that defines `_generate_next_value_` numbers
        its own way. Anything else is unresolved, saying why.
        """
        member = f"{cls.name}.{attr}"
        custom = self.defining(module, cls, "_generate_next_value_")
        if custom is not None:
            return _Unresolved(f"`{member}` = auto() takes its value from `{custom[1].name}._generate_next_value_`")
        if kind.base == "StrEnum":
            return _EnumMember(cls, attr, attr.lower(), kind)
        plain = kind.mixin is None and kind.base not in _FLAGS
        if kind.mixin == "str" or plain and not any(
            type(a.value) is Literal and type(a.value.value) is int for a in cls.attributes.values()
        ):
            return _Unresolved(f"`{member}` = auto() is not a string (use StrEnum or a literal)")
        previous: list[int] = []  # the values before, in order
        last = ""
        for name, assignment in sorted(cls.attributes.items(), key=lambda item: item[1].position):
            if len(name) > 1 and name.startswith("_") and name.endswith("_"):
                continue  # `_ignore_`, `__module__`...: not members
            if name != attr and not isinstance(assignment.value, EnumAuto):
                key = (module.name, f"{cls.name}.{name}")
                value = self._final(self._value(assignment.value, module, [], seen | {key}))
                if type(value) is not _Int:
                    return _Unresolved(f"`{member}` = auto() follows `{cls.name}.{name}`, which is not a known int")
                previous.append(value.value)
                last = name
                continue
            if previous and previous[-1] != max(previous):
                return _Unresolved(
                    f"`{member}` = auto() follows `{cls.name}.{last}` = {previous[-1]}, which is not the largest "
                    f"value before it: Python versions give different values"
                )
            if kind.base in _FLAGS:
                if previous and previous[-1] < 0:
                    return _Unresolved(f"`{member}` = auto() follows the negative flag `{cls.name}.{last}`")
                number = 2 ** previous[-1].bit_length() if previous else 1
            else:
                number = previous[-1] + 1 if previous else 1
            if name == attr:
                return _EnumMember(cls, attr, number, kind)
            previous.append(number)
            last = name
        return _Unresolved(f"`{member}` is not a member of `{cls.name}`")  # not reached: `attr` is one

    def lineage(self, module: Module, cls: ClassFacts) -> _Lineage:
        """The class, then its base classes within the project (see `_Lineage`).

        Memoised: every attribute, method and Enum lookup walks it, and facts never change during a run.
        """
        key = _identity(module, cls.name)
        if key not in self._lineages:
            self._lineages[key] = _Lineage(self, module, cls)
        return self._lineages[key]

    def _bases(self, module: Module, cls: ClassFacts) -> list[tuple[Module, ClassFacts]]:
        """The base classes of `cls` that are classes of the project."""
        bases = [self._value(base, module, [], frozenset()) for base in cls.bases]
        return [(b.module, b.cls) for b in bases if isinstance(b, _ClassValue)]

    def defining(self, module: Module, cls: ClassFacts,
                  name: str) -> tuple[Module, ClassFacts, FunctionFacts | None] | None:
        """The first class of the lineage that defines `name`, with the method when it is one.

        Memoised (every module that reads `Kind.TRAIN` asks the same), except while a lineage
        is being expanded: a base that names its own class sees that lineage cut short.
        """
        key = (module.file.display, cls.name, name)
        if key in self._definers and not self._expanding:
            return self._definers[key]
        found = None
        for owner, current in self.lineage(module, cls):
            function = owner.facts.functions.get(f"{current.name}.{name}")
            if function is not None or name in current.attributes:
                found = (owner, current, function)
                break
        if not self._expanding:
            self._definers[key] = found
        return found

    def _enum_kind(self, module: Module, cls: ClassFacts) -> _EnumKind | None:
        """What kind of Enum `cls` is (directly or through project classes), None when it is no Enum;
        memoised as `_defining` is. A `str` or `int` base beside or below the Enum base is its mixin."""
        key = _identity(module, cls.name)
        if key in self._enum_kinds and not self._expanding:
            return self._enum_kinds[key]
        found = None
        mixins: set[str] = set()
        for _, current in self.lineage(module, cls):
            names = [_final_identifier(base) for base in current.bases]
            mixins.update(name for name in names if name in ("str", "int"))
            final = next((name for name in names if name in ENUM_BASES), None)
            if final is not None:
                if final == "StrEnum":
                    mixins.add("str")
                elif final in _INT_ENUMS:
                    mixins.add("int")
                found = _EnumKind(final, next(iter(mixins)) if len(mixins) == 1 else None)
                break
        if not self._expanding:
            self._enum_kinds[key] = found
        return found

    # modules

    def module(self, name: str | None) -> Module | None:
        """The module an import names, parsed on demand."""
        if name is None:
            return None
        if name not in self._modules_named:
            file = self.files_by_name.get(name)
            self._modules_named[name] = self.store.module(file) if file is not None else None
        return self._modules_named[name]

    def absolute(self, module: Module, name: str, level: int) -> str | None:
        if level == 0:
            return name
        package = module.package
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        return ".".join([*base, name] if name else base)

    @staticmethod
    def defines(module: Module, name: str) -> bool:
        facts = module.facts
        return name in facts.constants or name in facts.classes or name in facts.imports or name in facts.functions


class _Lineage:
    """A class, then its base classes within the project, depth first, each once (a cycle ends).

    Lazy: a lookup stops at the first class that has what it wants, and the bases
    beyond it are never resolved; resolving `Enum` in `class Kind(str, Enum)` would
    parse the module that defines it (the standard library's, when it is analysed).
    """

    def __init__(self, linker: Linker, module: Module, cls: ClassFacts):
        self.linker = linker
        self.found: list[tuple[Module, ClassFacts]] = []
        self.stack = [(module, cls)]
        self.seen: set[tuple[str, str]] = set()
        self.expanded = 0  # how many of `found` had their bases pushed
        self.expanding = False

    def __iter__(self) -> Iterator[tuple[Module, ClassFacts]]:
        index = 0
        while index < len(self.found) or self._advance():
            yield self.found[index]
            index += 1

    def _advance(self) -> bool:
        """Find the next class: resolve the bases of the last one found, then pop the stack."""
        if self.expanding:
            return False  # a base expression that needs this very lineage: a cycle ends here
        if self.expanded < len(self.found):
            self.expanding = True
            self.linker._expanding += 1
            try:
                module, cls = self.found[-1]
                self.stack.extend(reversed(self.linker._bases(module, cls)))
            finally:
                self.expanding = False
                self.linker._expanding -= 1
            self.expanded = len(self.found)
        while self.stack:
            module, cls = self.stack.pop()
            key = _identity(module, cls.name)
            if key not in self.seen:
                self.seen.add(key)
                self.found.append((module, cls))
                return True
        return False


def _signatures(module: Module) -> dict[str, tuple[object, ...]]:
    """What callers and by-name wrapper inference see of a module's functions."""
    return {name: (f.name, f.kind, f.params, f.is_async) for name, f in module.facts.functions.items()}


def _identity(module: Module, qualname: str) -> tuple[str, str]:
    """A function or class: its file's display path (module names can repeat) and qualified name."""
    return (module.file.display, qualname)


class _Template:
    """A string being built from parts, some of which may stay unknown: the text of the known ones
    between the unknown ones, and the first unknown part's reason."""

    def __init__(self) -> None:
        self.segments: list[str] = []
        self.current: list[str] = []
        self.unknown: _Unresolved | None = None

    def add(self, value: _Str | _Int | _Unresolved) -> None:
        if isinstance(value, _Unresolved) and value.pattern is not None:
            first, *rest = value.pattern.segments
            self.current.append(first)
            for segment in rest:
                self.segments.append("".join(self.current))
                self.current = [segment]
        elif isinstance(value, _Unresolved):
            self.segments.append("".join(self.current))
            self.current = []
        else:
            self.current.append(value.value if type(value) is _Str else str(value.value))
            return
        if self.unknown is None:
            self.unknown = _Unresolved(value.reason)

    def result(self) -> _Str | _Unresolved:
        """The string; or, with unknown parts, a pattern when some part is known (else unresolved)."""
        text = "".join(self.current)
        if self.unknown is None:
            return _Str(text)
        segments = (*self.segments, text)
        if not any(segments):
            return self.unknown
        return _Unresolved(self.unknown.reason, Pattern(segments))


def _named(value: _Value, name: str) -> _Value:
    """An int that a definition names, unless a definition nearer the value named it already."""
    if type(value) is _Int and value.name is None:
        return _Int(value.value, name)
    return value


def _final_identifier(expr: Expr) -> str | None:
    if isinstance(expr, NameRef):
        return expr.name
    if isinstance(expr, AttrRef):
        return expr.attr
    return None


def describe(expr: Expr) -> str:
    """Source-like text of an expression, for messages (`self._on_stop`, `partial(f, ...)`)."""
    if isinstance(expr, Literal):
        return repr(expr.value)  # ints are bounded by extraction: repr() cannot fail
    if isinstance(expr, NameRef):
        return expr.name
    if isinstance(expr, (ParamRef, LocalRef)):
        return expr.param if isinstance(expr, ParamRef) else expr.name
    if isinstance(expr, SelfAttrRef):
        return f"self.{expr.attr}"
    if isinstance(expr, AttrRef):
        return f"{describe(expr.base)}.{expr.attr}"
    if isinstance(expr, LambdaRef):
        return "lambda " + ", ".join(p.name for p in expr.params)
    if isinstance(expr, PartialRef):
        return f"partial({describe(expr.func)}, ...)"
    if isinstance(expr, Join):
        return " + ".join(describe(part) for part in expr.parts)
    if isinstance(expr, FString):
        return 'f"..."'
    if isinstance(expr, FunctionRef):
        return expr.qualname
    if isinstance(expr, GetAttr):
        return f"getattr({describe(expr.base)}, {describe(expr.name)})"
    if isinstance(expr, Items):
        return f"{describe(expr.base)}.{expr.which}()"
    if isinstance(expr, (Elements, Mapping)):
        return "[...]" if isinstance(expr, Elements) else "{...}"
    if isinstance(expr, LoopItem):
        return expr.what.split("`")[1] if "`" in expr.what else "..."
    return "..."


def _sent_arguments(call: Call, spec: ArgumentsSpec, slot: ArgSlot, handler: ArgSlot | None = None) -> Arguments:
    """What a send (`group.broadcast("fit", config)`) passes the remote method, or a registration
    (`cell.register_request_cb(ch, topic, cb, event_type="x")`) its handler: its positional arguments
    from `spec.position` on, its keywords but its own (the message type's, the handler's and `spec.exclude`)."""
    own = {*spec.exclude, *(s.keyword for s in (slot, handler) if s is not None and s.keyword)}
    keywords = tuple(name for name, _ in call.keywords if name not in own)
    return Arguments(max(0, len(call.args) - spec.position), keywords, call.star_args or call.star_kwargs)


def _forwarded_param(expr: Expr | None) -> ParamRef | None:
    """The parameter an expression passes on unchanged (through local variables)."""
    while isinstance(expr, LocalRef):
        expr = expr.value
    return expr if isinstance(expr, ParamRef) else None


def _through_kwargs(call: Call, slot: ArgSlot, module: Module) -> Expr | None:
    """The `**kwargs` of a wrapper that passes its own on (`self.cell.send_request(**kwargs)`), when
    the argument of `slot` is not passed otherwise: its callers may pass it by the slot's keyword."""
    param = _forwarded_param(call.spread)
    if slot.keyword is None or param is None:
        return None
    if call.star_args and slot.position is not None and slot.position >= len(call.args):
        return None  # `send(*args, **kwargs)`: it may come through `*args` as well, which is not followed
    function = module.facts.functions.get(param.function)
    if function is None or not any(p.name == param.param and p.kind == "var_keyword" for p in function.params):
        return None  # `**options` of a dict parameter: its keys are not known
    return call.spread


def _slot_of(function: FunctionFacts, param: str, keyword: str | None = None) -> ArgSlot | None:
    """How a caller passes `param`: its position among the positional parameters, its keyword; for
    the `**kwargs` the argument travels in under `keyword`, by that keyword."""
    position = 0
    for candidate in function.params:
        if candidate.name == param:
            if candidate.kind == "positional_only":
                return ArgSlot(position, None)
            if candidate.kind == "positional":
                return ArgSlot(position, param)
            if candidate.kind == "keyword_only":
                return ArgSlot(None, param)
            if candidate.kind == "var_keyword" and keyword is not None:
                return ArgSlot(None, keyword)
            return None  # *args, or **kwargs with no keyword to look for: no fixed place
        if candidate.kind in ("positional_only", "positional"):
            position += 1
    return None


def _as_called(function: FunctionFacts, shift: int) -> tuple[Param, ...]:
    """The parameters a caller fills: an unbound `Class.method` takes the instance as its first
    argument (its name is not kept; `self` stands for it)."""
    return (Param("self", "positional", False),) * shift + function.params


def _bind(params: tuple[Param, ...], positional: int, keywords: tuple[str, ...]) -> tuple[Param, ...]:
    """The parameters left after `functools.partial` bound some of them."""
    left = []
    keyword_only = False  # after a positional parameter bound by keyword, none can be passed by position
    for param in params:
        if param.kind in ("positional_only", "positional") and positional > 0:
            positional -= 1
            continue
        if param.name in keywords and param.kind != "positional_only":
            keyword_only = True
            continue
        if keyword_only and param.kind == "positional":
            param = Param(param.name, "keyword_only", param.has_default)
        left.append(param)
    return tuple(left)


def _api_key(api: _Api) -> tuple[Role, Mechanism, tuple[str, ...], str]:
    """An order of APIs that never depends on hashing: templates of one function differ in their parts only."""
    return (api.role, api.mechanism, api.chain, repr(api.template) if api.template is not None else "")
