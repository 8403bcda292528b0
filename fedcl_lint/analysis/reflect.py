"""Reflection: handlers and sends that no call names by type, and types built from templates or loops.

Real RPC frameworks rarely pass a message type to a call. This module finds what the rule
packs declare instead, never running code:

- **Service binding** (`[[services]]`): `node.bind(learner)` makes each method of the inferred
  class of `learner` (its project bases included) a handler of its own name, located at the
  method, with the bind call related;
- **Proxies** (`[[proxies]]`): `proxy.fit(config)` and `getattr(proxy, "fit")(config)` send `fit`
  when `proxy` is inferred to be an instance of a proxy class (and the class does not define
  `fit` itself); `await proxy.state` sends the proxy's `attribute_message`;
- **Decorators** (`decorator = true` on a handle call): `@node.handler("train")` registers the
  function below it;
- **Templates**: a wrapper whose parameters are parts of its message type (`f"hook_{phase}"`,
  `"a" + kind`, `%`, `.format`) is filled with each caller's arguments;
- **Registration loops**: a site inside `for t in MessageType:` (or a literal list, tuple or set,
  or a dict's `.items()`) is one site per element, each with the loop as a step.

What cannot be listed (a class whose bases are outside the project, a loop over something that
is not a literal or an Enum) is an unresolved site that says why, never a guess.
"""

from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING

from fedcl_lint.analysis.facts import (
    AttrRef,
    Call,
    ClassFacts,
    Elements,
    Expr,
    FString,
    FunctionFacts,
    FunctionRef,
    GetAttr,
    Join,
    LambdaRef,
    Literal,
    LocalRef,
    LoopItem,
    Mapping,
    NameRef,
    Opaque,
    ParamRef,
    PartialRef,
    Position,
    SelfAttrRef,
    Typed,
)
from fedcl_lint.analysis.link import (
    _FLAGS,
    Arguments,
    SiteExtra,
    Step,
    Template,
    _Api,
    _ClassValue,
    _Container,
    _forwarded_param,
    _RawSite,
    _slot_of,
    describe,
)
from fedcl_lint.analysis.load import Module
from fedcl_lint.analysis.receivers import INSTANCE, Types
from fedcl_lint.settings.rulepack import ArgSlot, ProxySpec, ServiceSpec, UnknownReceiver, name_matches
from fedcl_lint.types import Role

if TYPE_CHECKING:
    from fedcl_lint.analysis.link import Linker

_MAX_SITES_PER_LOOP_CALL = 256  # the elements (of every loop around a call, multiplied) it makes sites for
_EMPTY_BASES = frozenset({"object", "ABC", "Protocol", "Generic"})  # bases that add no methods a service binds
_NOWHERE = ArgSlot(None, None)
_PLAIN = frozenset({Literal, NameRef, SelfAttrRef, ParamRef, LambdaRef, FunctionRef, type(None)})


class Reflection:
    """Service binding, proxies, decorators, templates and loops for one project's linker."""

    def __init__(self, linker: Linker):
        self.linker = linker
        self.pack = linker.pack
        self.typing = linker.receivers
        self.services: dict[str, list[ServiceSpec]] = {}
        for service in self.pack.services:
            self.services.setdefault(service.name, []).append(service)
        self.proxies = self.pack.proxies
        self._proxy_sites: dict[tuple[str, int], list[_RawSite] | None] = {}  # None: not a proxy's call
        self._service_sites: dict[tuple[str, int], list[_RawSite]] = {}
        self._awaited_sites: dict[str, list[_RawSite]] = {}
        self._methods: dict[tuple[str, str, ServiceSpec], tuple[list[tuple[Module, FunctionFacts]], list[str]]] = {}
        self._factories: dict[tuple[str, str], bool] = {}
        self._decorated: dict[str, dict[Position, str]] = {}
        self._templates: dict[tuple[object, ...], tuple[ParamRef, Template] | None] = {}

    # proxies

    def proxy_call_sites(self, module: Module, call: Call, key: tuple[str, int]) -> list[_RawSite] | None:
        """The send a call of a proxy's method makes (`proxy.fit(...)`, `getattr(proxy, "fit")(...)`);
        None when the call is not on a proxy (the other APIs may claim it)."""
        if not self.proxies:
            return None
        if key not in self._proxy_sites:
            self._proxy_sites[key] = self._proxy_call(module, call)
        return self._proxy_sites[key]

    def _proxy_call(self, module: Module, call: Call) -> list[_RawSite] | None:
        callee = call.callee
        name: Expr
        method: str | None
        if type(callee) is AttrRef:
            base, method, name = callee.base, callee.attr, Literal(callee.attr)
        elif type(callee) is GetAttr:
            base, name = callee.base, callee.name
            method = name.value if type(name) is Literal and type(name.value) is str else None
        else:
            return None
        found = self._proxy(base, module)
        if found is None:
            return None
        spec, shown, types = found
        if method is not None and (self._local(types, method, spec) or name_matches(spec.exclude, method)):
            return None  # the proxy's own method
        api_name = f"{shown}.{method}" if type(callee) is AttrRef else f"getattr({shown}, ...)"
        api = _Api(api_name, Role.SEND, spec.mechanism, _NOWHERE, None, spec.coroutine, (api_name,))
        arguments = Arguments(len(call.args), tuple(k for k, _ in call.keywords), call.star_args or call.star_kwargs)
        return [_RawSite(module, api, name, "", call.position, call.function, None, call.bare, end=call.end,
                         extra=SiteExtra(arguments=arguments))]

    def awaited_sites(self, module: Module) -> list[_RawSite]:
        """`await proxy.state`: a send of the proxy's `attribute_message`."""
        display = module.file.display
        if display not in self._awaited_sites:
            sites = []
            for awaited in module.facts.awaited:
                found = self._proxy(awaited.base, module, attributes=True)
                if found is None:
                    continue
                spec, shown, types = found
                if self._local(types, awaited.attr, spec) or name_matches(spec.exclude, awaited.attr):
                    continue
                assert spec.attribute_message is not None  # as `_proxy` chose it
                api_name = f"await {shown}.{awaited.attr}"
                api = _Api(api_name, Role.SEND, spec.mechanism, _NOWHERE, None, False, (api_name,))
                step = Step(f"awaiting the attribute `{awaited.attr}` of a `{shown}` sends "
                            f"`{spec.attribute_message}`", module.location(awaited.position))
                sites.append(_RawSite(module, api, Literal(spec.attribute_message), "", awaited.position,
                                      awaited.function, extra=SiteExtra(steps=(step,))))
            self._awaited_sites[display] = sites
        return self._awaited_sites[display]

    def _proxy(self, base: Expr, module: Module, attributes: bool = False) -> tuple[ProxySpec, str, Types] | None:
        """The proxy class `base` is an instance of (every class it may be one of is one), the name it
        is shown by, and its types; None when it is not known to be a proxy."""
        types = self.typing.type_of(base, module)
        if not types.known:
            return None
        for spec in self.proxies:
            if attributes and spec.attribute_message is None:
                continue
            if all(t.kind == INSTANCE and self.typing.matches(Types(frozenset({t}), True), spec.classes)
                   for t in types.known):
                return spec, spec.classes[0].rsplit(".", 1)[-1], types
        return None

    def _local(self, types: Types, name: str, spec: ProxySpec) -> bool:
        """Whether a proxy class (of the project) defines `name` itself: a method, a class attribute,
        or (unless the pack says they are remote) an attribute its methods set on the instance."""
        for kind in types.known:
            if kind.module is None or kind.cls is None:
                continue
            if self.linker.defining(kind.module, kind.cls, name) is not None:
                return True
            if not spec.remote_attributes and any(
                    name in cls.instance_attributes for _, cls in self.linker.lineage(kind.module, kind.cls)):
                return True
        return False

    def factory_names(self, modules: list[Module]) -> set[str]:
        """The functions that return a proxy (`def proxy(self, peer) -> Proxy`): the files that call
        them may call its methods, so they matter to the prefilter."""
        if not self.proxies:
            return set()
        names = set()
        for module in modules:
            for function in module.facts.functions.values():
                if not function.returns:
                    continue
                key = (module.file.display, function.qualname)
                if key not in self._factories:
                    self._factories[key] = any(self._proxy(value, module) is not None for value in function.returns)
                if self._factories[key]:
                    names.add(function.name)
        return names

    # service binding

    def service_sites(self, module: Module, call: Call, key: tuple[str, int]) -> list[_RawSite]:
        """A handle site per method a service binding registers (located at the method), and an
        unresolved one at the call for what cannot be listed."""
        if call.name not in self.services:
            return []
        if key not in self._service_sites:
            self._service_sites[key] = self._bound(module, call)
        return self._service_sites[key]

    def _bound(self, module: Module, call: Call) -> list[_RawSite]:
        spec = self._service_spec(module, call)
        if spec is None:
            return []
        target = call.argument(spec.service.position, spec.service.keyword)
        if target is None:
            return []
        api = _Api(spec.name, Role.HANDLE, spec.mechanism, _NOWHERE, None, False, (spec.name,), registry=spec.registry)
        bound_at = module.location(call.position)
        types = self.typing.type_of(target, module)
        classes = [t for t in types.known if t.kind == INSTANCE and t.module is not None and t.cls is not None]
        sites = []
        for kind in classes:
            assert kind.module is not None and kind.cls is not None
            methods, outside = self._service_methods(kind.module, kind.cls, spec)
            for owner, function in methods:
                step = Step(f"method `{function.qualname}` bound by `{spec.name}`", bound_at)
                extra = SiteExtra(steps=(step,), registered_at=bound_at)
                sites.append(_RawSite(owner, api, Literal(function.name), "", function.position, call.function,
                                      FunctionRef(function.qualname), extra=extra))
            if outside:
                reason = (f"`{kind.cls.name}` has bases outside the analysed tree ({', '.join(outside)}): the "
                          f"methods `{spec.name}` binds cannot all be listed")
                sites.append(_RawSite(module, api, None, reason, call.position, call.function, end=call.end))
        if not types.complete or not classes or len(classes) != len(types.known):
            reason = f"the class of `{describe(target)}` is unknown: the methods `{spec.name}` binds cannot be listed"
            sites.append(_RawSite(module, api, None, reason, call.position, call.function, end=call.end))
        return sites

    def _service_spec(self, module: Module, call: Call) -> ServiceSpec | None:
        """The service binding a call makes, by its receiver (as `Linker._dispatcher` decides)."""
        specs = self.services[call.name]
        if len(specs) == 1 and not specs[0].receivers.classes:
            return specs[0]
        types = self.typing.receiver(call.callee, module)
        for spec in specs:
            if not spec.receivers.classes:
                return spec
            verdict = self.typing.matches(types, spec.receivers.classes)
            if verdict or (verdict is None and spec.receivers.unknown is UnknownReceiver.MATCH):
                return spec
        return None

    def _service_methods(self, module: Module, cls: ClassFacts,
                         spec: ServiceSpec) -> tuple[list[tuple[Module, FunctionFacts]], list[str]]:
        """The methods of a class and its project bases that a binding registers (the first definition
        of each name, as Python looks them up), and the bases outside the project it cannot list."""
        key = (module.file.display, cls.name, spec)
        if key in self._methods:
            return self._methods[key]
        seen: set[str] = set()
        methods: list[tuple[Module, FunctionFacts]] = []
        outside: list[str] = []
        for owner, current in self.linker.lineage(module, cls):
            prefix = f"{current.name}."
            for qualname, function in owner.facts.functions.items():
                if not qualname.startswith(prefix) or "." in qualname[len(prefix):] or function.name in seen:
                    continue
                seen.add(function.name)
                if function.kind != "property" and not name_matches(spec.exclude, function.name):
                    methods.append((owner, function))
            for base in current.bases:
                if isinstance(self.linker._value(base, owner, [], frozenset()), _ClassValue):
                    continue
                text = describe(base)
                if text not in _EMPTY_BASES and text.rsplit(".", 1)[-1] not in _EMPTY_BASES \
                        and not (type(base) is Opaque and base.reason.startswith(("`Generic[", "`Protocol["))):
                    outside.append(f"`{text}`")
        self._methods[key] = (methods, outside)
        return methods, outside

    # decorators

    def decorated(self, module: Module, call: Call) -> FunctionRef | None:
        """The function a decorator call of the pack decorates, if the call is a decorator."""
        display = module.file.display
        if display not in self._decorated:
            self._decorated[display] = dict(module.facts.decorations)
        qualname = self._decorated[display].get(call.position)
        return FunctionRef(qualname) if qualname is not None else None

    # templates

    def template_of(self, site: _RawSite) -> tuple[ParamRef, Template] | None:
        """When a site's message type is a template over parameters of the function it is in
        (`f"hook_{phase}"`): the first such parameter, and the template its callers fill."""
        expr = site.expr
        while type(expr) is LocalRef:
            expr = expr.value
        if site.envelope or expr is None or (type(expr) is not FString and type(expr) is not Join):
            return None  # most sites: no template
        if not any(_forwarded_param(part) is not None for part in expr.parts):
            return None  # a template of no parameter
        api = site.api
        key = (site.origin.file.display, site.position, api.chain, api.message_type, api.template)
        if key not in self._templates:
            self._templates[key] = self._template(expr, site.origin)
        return self._templates[key]

    def _template(self, expr: Expr, module: Module) -> tuple[ParamRef, Template] | None:
        while type(expr) is LocalRef:
            expr = expr.value
        if type(expr) is FString:
            parts, join, converted, integers = expr.parts, False, expr.converted, expr.integers
        elif type(expr) is Join:
            parts, join, converted, integers = expr.parts, True, (), ()
        else:
            return None
        params = [_forwarded_param(part) for part in parts]
        owners = {param.function for param in params if param is not None}
        if len(owners) != 1:
            return None  # no parameter, or parameters of two functions (a lambda's and its enclosing one's)
        function = module.facts.functions.get(owners.pop())
        if function is None:
            return None
        filled: list[Expr] = []
        slots: list[ArgSlot | None] = []
        for index, (part, param) in enumerate(zip(parts, params, strict=True)):
            if param is None:
                filled.append(self._resolved_part(part, module, join, index in converted, index in integers))
                slots.append(None)
                continue
            slot = _slot_of(function, param.param)
            if slot is None:
                return None  # `*args`: no fixed place
            filled.append(Opaque(f"parameter `{param.param}` of `{param.function}` is not passed (its default is "
                                 "not followed)"))
            slots.append(slot)
        first = next(param for param in params if param is not None)
        return first, Template(tuple(filled), tuple(slots), join, converted, integers)

    def _resolved_part(self, part: Expr, module: Module, join: bool, converted: bool, integer: bool) -> Expr:
        """A part of a template that is no parameter, resolved where the template is (its callers are
        in other modules): the text it writes (a number, in a sum), or why it is unknown."""
        expr = part if join else FString((part,), (0,) if converted else (), (0,) if integer else ())
        resolution = self.linker.resolve(expr, module)
        if resolution.value is None:
            return Opaque(resolution.reason or "an unknown part")
        return Literal(resolution.value.value)

    @staticmethod
    def fill(template: Template, call: Call, shift: int) -> Expr:
        """A template with a caller's arguments in the parameters' places."""
        parts = []
        for part, slot in zip(template.parts, template.slots, strict=True):
            argument = None
            if slot is not None:
                argument = call.argument(None if slot.position is None else slot.position + shift, slot.keyword)
                if argument is None and (call.star_args or call.star_kwargs):
                    argument = Opaque("the argument is passed through `*args` or `**kwargs`")
            parts.append(part if argument is None else argument)
        if template.join:
            return Join(tuple(parts))
        return FString(tuple(parts), template.converted, template.integers)

    # loops

    def expand(self, site: _RawSite) -> list[_RawSite]:
        """A site inside registration loops: one per element (of every loop, multiplied), with the loop
        as a step; unresolved, saying why, when the elements cannot be listed."""
        if not (site.module.facts.loops or site.origin.facts.loops) or (_plain(site.expr) and _plain(site.handler)):
            return [site]  # the usual case: no loop variable
        found: dict[Position, LoopItem] = {}
        _loops_in(site.expr, found)
        in_type = set(found)
        _loops_in(site.handler, found)
        if not found:
            return [site]
        choices: list[list[tuple[Position, tuple[Expr | None, tuple[Expr, ...]], str]]] = []
        for position, loop in found.items():
            elements = self._elements(loop, site)
            if isinstance(elements, str):
                if position in in_type:
                    return [_changed(site, expr=None, missing_reason=elements)]
                continue  # a handler from a loop that cannot be listed: unknown, as any other
            choices.append([(position, element, text) for element, text in elements])
        total = 1
        for options in choices:
            total *= len(options)
        if total > _MAX_SITES_PER_LOOP_CALL:
            reason = f"the loops around the call have {total} elements (over {_MAX_SITES_PER_LOOP_CALL})"
            return [_changed(site, expr=None, missing_reason=reason)]
        expanded = []
        for combination in product(*choices):
            chosen = {position: element for position, element, _ in combination}
            steps = tuple(Step(f"element `{text}` of the for loop over {_over(found[position].source)}",
                               site.origin.location(position)) for position, _, text in combination)
            extra = site.extra or SiteExtra()
            loop_at = site.origin.location(combination[0][0]) if combination else None
            extra = SiteExtra(extra.steps + steps, extra.arguments, extra.registered_at, loop_at)
            expanded.append(_changed(site, expr=_substituted(site.expr, chosen), handler=_substituted(site.handler,
                                                                                                      chosen),
                                     extra=extra))
        return expanded

    def _elements(self, loop: LoopItem,
                  site: _RawSite) -> list[tuple[tuple[Expr | None, tuple[Expr, ...]], str]] | str:
        """Each element of what a loop iterates over (the whole, and its parts when it is a pair), with
        its text; or why they cannot be listed."""
        module = site.origin
        if site.module is module and not loop.position[0] <= site.position[0] <= loop.end_line:
            return f"{loop.what} is used after its for loop"
        elements = self._listed(loop, module)
        if isinstance(elements, str):
            return elements
        if loop.index is None and any(whole is None for (whole, _), _ in elements):
            return f"{loop.what} is a pair of a dict's items"
        if loop.index is not None and any(loop.index >= len(parts) for (_, parts), _ in elements):
            return f"{loop.what} unpacks an element that is not a pair"
        return elements

    def _listed(self, loop: LoopItem, module: Module) -> list[tuple[tuple[Expr | None, tuple[Expr, ...]], str]] | str:
        over = f"{loop.what} is bound by a for loop over {_over(loop.source)}"
        value = self.linker._value(loop.source, module, [], frozenset())
        if isinstance(value, _Container):
            return self._container_elements(value, module, over)
        if isinstance(value, _ClassValue):
            kind = self.linker._enum_kind(value.module, value.cls)
            if kind is None:
                return f"{over}, a class that is not an Enum"
            if kind.base in _FLAGS:
                return f"{over}, a Flag, whose members Python versions iterate differently"
            return self._members(loop.source, value, module)
        reason = getattr(value, "reason", "not a literal or an Enum")
        return f"{over}, whose elements are not known ({reason})"

    def _container_elements(self, value: _Container, module: Module,
                            over: str) -> list[tuple[tuple[Expr | None, tuple[Expr, ...]], str]] | str:
        keys, values = value.keys, value.values
        if value.module is not module:  # its expressions name things of its own module
            keys = tuple(self._portable(key, value.module) for key in keys)
            values = tuple(Opaque(f"the value is defined in `{value.module.name}`") for _ in values)
        if value.kind in ("elements", "mapping", "keys"):
            return [((key, ()), describe(key)) for key in keys]
        if value.kind == "values":
            return [((item, ()), describe(item)) for item in values]
        if len(keys) != len(values):
            return f"{over}, whose items cannot be paired"
        return [((None, (key, item)), describe(key)) for key, item in zip(keys, values, strict=True)]

    def _portable(self, expr: Expr, module: Module) -> Expr:
        resolution = self.linker.resolve(expr, module)
        if resolution.value is None:
            return Opaque(resolution.reason or "an unknown element")
        return Literal(resolution.value.value)

    def _members(self, source: Expr, enum: _ClassValue,
                 module: Module) -> list[tuple[tuple[Expr | None, tuple[Expr, ...]], str]]:
        """An Enum's members in definition order, aliases (a value met before) left out, as Python iterates."""
        found: list[tuple[tuple[Expr | None, tuple[Expr, ...]], str]] = []
        values: set[object] = set()
        for name, _ in sorted(enum.cls.attributes.items(), key=lambda item: item[1].position):
            if len(name) > 1 and name.startswith("_") and name.endswith("_"):
                continue  # `_ignore_`, `__module__`...: not members
            member = AttrRef(source, name)
            resolved = self.linker.resolve(member, module).value
            if resolved is not None:
                if (resolved.value.__class__, resolved.value) in values:
                    continue  # an alias
                values.add((resolved.value.__class__, resolved.value))
            found.append(((member, ()), f"{enum.cls.name}.{name}"))
        return found


def _over(source: Expr) -> str:
    """What a loop iterates over, in words: `MessageType`, `HANDLERS.items()`, a tuple."""
    while type(source) is LocalRef:
        source = source.value
    if type(source) is Elements or type(source) is Mapping:
        return source.reason.split(" is not ")[0]  # "a tuple", "a dict"
    return f"`{describe(source)}`"


def _changed(site: _RawSite, **changes: object) -> _RawSite:
    values = dict(zip(site._fields, site._values(site), strict=True))
    values.update(changes)
    return _RawSite(**values)


def _plain(expr: Expr | None) -> bool:
    """Whether an expression is of the kinds that hold no loop variable (quick, not exhaustive)."""
    while type(expr) is AttrRef:
        expr = expr.base
    return type(expr) in _PLAIN


def _loops_in(expr: Expr | None, found: dict[Position, LoopItem]) -> None:
    """The loop variables an expression uses, by their loop's position."""
    stack = [expr]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is LoopItem:
            assert isinstance(current, LoopItem)
            found.setdefault(current.position, current)
        elif kind is AttrRef or kind is LocalRef or kind is Typed or kind is PartialRef or kind is GetAttr:
            stack.extend(_children(current))  # type: ignore[arg-type]
        elif kind is Join or kind is FString:
            stack.extend(current.parts)  # type: ignore[union-attr]


def _children(expr: AttrRef | LocalRef | Typed | PartialRef | GetAttr) -> tuple[Expr, ...]:
    if type(expr) is AttrRef:
        return (expr.base,)
    if type(expr) is LocalRef or type(expr) is Typed:
        return (expr.value,)
    if type(expr) is PartialRef:
        return (expr.func,)
    assert isinstance(expr, GetAttr)
    return (expr.base, expr.name)


def _substituted(expr: Expr | None, chosen: dict[Position, tuple[Expr | None, tuple[Expr, ...]]]) -> Expr | None:
    """`expr` with each loop variable replaced by its loop's chosen element (or why it cannot be)."""
    if expr is None:
        return None
    kind = type(expr)
    if kind is LoopItem:
        assert isinstance(expr, LoopItem)
        if expr.position not in chosen:
            return expr
        whole, parts = chosen[expr.position]
        if expr.index is None:
            return whole if whole is not None else Opaque(f"{expr.what} is a pair of a dict's items")
        if expr.index < len(parts):
            return parts[expr.index]
        return Opaque(f"{expr.what} unpacks an element that is not a pair")
    if kind is AttrRef:
        assert isinstance(expr, AttrRef)
        return AttrRef(_substituted(expr.base, chosen) or expr.base, expr.attr)
    if kind is LocalRef:
        assert isinstance(expr, LocalRef)
        return LocalRef(expr.name, expr.function, expr.position, _substituted(expr.value, chosen) or expr.value)
    if kind is Typed:
        assert isinstance(expr, Typed)
        return Typed(_substituted(expr.value, chosen) or expr.value, expr.hint)
    if kind is PartialRef:
        assert isinstance(expr, PartialRef)
        return PartialRef(_substituted(expr.func, chosen) or expr.func, expr.positional, expr.keywords)
    if kind is GetAttr:
        assert isinstance(expr, GetAttr)
        return GetAttr(_substituted(expr.base, chosen) or expr.base, _substituted(expr.name, chosen) or expr.name,
                       expr.reason)
    if kind is Join:
        assert isinstance(expr, Join)
        return Join(tuple(_substituted(part, chosen) or part for part in expr.parts))
    if kind is FString:
        assert isinstance(expr, FString)
        return FString(tuple(_substituted(part, chosen) or part for part in expr.parts), expr.converted,
                       expr.integers)
    return expr

