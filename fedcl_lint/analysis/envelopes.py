"""Message objects: from the argument of a send back to where the object was built and typed.

Most frameworks do not pass the type to the send call: they build a message object
(`Message(MSG_TYPE, sender)`, `{"message_type": ..., "data": ...}`), fill it, pass it
around, and send it. A send call of the rule packs with a `message` slot takes such an
object; this module follows the argument back, never running code:

- within a function, through local variables, branches (one type each) and attributes of
  `self` (set in any method of the class or its bases);
- through helpers that build and return one (`self.send(self._finish())`);
- to the constructor's type argument, or to a later `msg.type = X` / `msg.set_type(X)`.

A parameter passed on to the send is wrapper inference's business (see `link`). An object
built and never sent makes no site: sites start at the send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedcl_lint.analysis.extract import CONTAINER_WORDS
from fedcl_lint.analysis.facts import (
    AttrRef,
    CallResult,
    Construction,
    DictEnvelope,
    Either,
    Elements,
    Expr,
    FString,
    GetAttr,
    Join,
    Literal,
    LocalRef,
    LoopItem,
    Mapping,
    Opaque,
    ParamRef,
    Position,
    SelfAttrRef,
)
from fedcl_lint.analysis.load import Module
from fedcl_lint.records import Record
from fedcl_lint.settings.rulepack import EnvelopeSpec

if TYPE_CHECKING:
    from fedcl_lint.analysis.link import Linker

_MAX_DEPTH = 12
_CONTAINERS = tuple(f"{words} " for words in CONTAINER_WORDS.values())  # the reasons extraction gives them


class Traced(Record):
    """One way a sent object got its type: the type's expression (in `module`), where the object was
    built; or, when it cannot be followed, why (`expr` None)."""

    __slots__ = ("expr", "module", "built_at", "reason")

    def __init__(self, expr: Expr | None, module: Module, built_at: Position | None, reason: str | None = None):
        self.expr = expr
        self.module = module
        self.built_at = built_at
        self.reason = reason


class EnvelopeTracer:
    """Follows message objects for one project, resolving names through its linker."""

    def __init__(self, linker: Linker):
        self.linker = linker
        self.specs = linker.pack.envelopes
        self._specs_of: dict[tuple[str, Position], EnvelopeSpec | None] = {}  # see `_spec`

    def trace(self, expr: Expr, module: Module) -> list[Traced]:
        """Each way the object `expr` (a send's argument, in `module`) was built and typed; an empty
        list when it is known not to be a message object (a literal, a plain dict)."""
        return self._trace(expr, module, None, 0)

    def _trace(self, expr: Expr, module: Module, holder: tuple[str, ...] | None, depth: int) -> list[Traced]:
        if depth > _MAX_DEPTH:
            return [Traced(None, module, None, "the message object is passed on too many times")]
        depth += 1
        kind = type(expr)
        if kind is LocalRef:
            assert isinstance(expr, LocalRef)
            return self._trace(expr.value, module, ("local", expr.function, expr.name), depth)
        if kind is Either:
            assert isinstance(expr, Either)
            return [traced for value in expr.values for traced in self._trace(value, module, holder, depth)]
        if kind is DictEnvelope:
            assert isinstance(expr, DictEnvelope)
            return [Traced(expr.value, module, expr.position)]
        if kind is Construction:
            assert isinstance(expr, Construction)
            return self._built(expr, module, holder)
        if kind is SelfAttrRef:
            assert isinstance(expr, SelfAttrRef)
            return self._stored(expr, module, depth)
        if kind is CallResult:
            assert isinstance(expr, CallResult)
            return self._returned(expr, module, depth)
        if kind is Literal or kind is Join or kind is FString or kind is Elements or kind is Mapping:
            return []  # text, a number or a container: not a message object
        if kind is GetAttr or kind is LoopItem:
            reason = expr.reason if isinstance(expr, GetAttr) else f"{expr.what} is bound by a for loop"  # type: ignore[union-attr]
            return [Traced(None, module, None, f"cannot follow the message object: {reason}")]
        if kind is ParamRef:
            assert isinstance(expr, ParamRef)
            return [Traced(None, module, None, f"the message object is parameter `{expr.param}` of `{expr.function}`")]
        if kind is Opaque:
            assert isinstance(expr, Opaque)
            if expr.reason.startswith(_CONTAINERS):
                return []  # a container without the envelope key: not a message object
            return [Traced(None, module, None, f"cannot follow the message object: {expr.reason}")]
        return [Traced(None, module, None, "cannot follow the message object to where it is built")]

    def _built(self, built: Construction, module: Module, holder: tuple[str, ...] | None) -> list[Traced]:
        """A message class's instance: typed by its constructor's argument, or set on it later."""
        spec = self._spec(built, module)
        if spec is None:
            return []  # a class of that name that is not the packs' message class
        later = self._set_later(spec, module, holder)
        if later:
            return [Traced(value, module, built.position) for value in later]
        slot = spec.message_type
        value = built.argument(slot.position, slot.keyword) if slot is not None else None
        if value is None:
            return [Traced(None, module, built.position,
                           f"the message object built at line {built.position[0]} is given no type")]
        return [Traced(value, module, built.position)]

    def _spec(self, construction: Construction, module: Module) -> EnvelopeSpec | None:
        """The envelope a construction builds (memoised: every send of it asks, in every round)."""
        key = (module.file.display, construction.position)
        if key not in self._specs_of:
            typing = self.linker.receivers
            built = typing.type_of(CallResult(construction.func, ""), module)
            self._specs_of[key] = next(
                (spec for spec in self.specs if spec.classes and typing.matches(built, spec.classes)), None)
        return self._specs_of[key]

    def _set_later(self, spec: EnvelopeSpec, module: Module, holder: tuple[str, ...] | None) -> list[Expr]:
        """The types `msg.<attribute> = X` and `msg.<setter>(X)` give the object a holder names (a
        local variable, an attribute of `self`), in its module."""
        if holder is None:
            return []
        found: list[Expr] = []
        if spec.attribute is not None:
            found += [store.value for store in module.facts.attribute_stores
                      if store.attr == spec.attribute and _holder(store.target) == holder]
        if spec.setter is not None:
            slot = spec.setter.argument
            for call in self.linker.calls_of(module, spec.setter.name):
                if isinstance(call.callee, AttrRef) and _holder(call.callee.base) == holder:
                    value = call.argument(slot.position, slot.keyword)
                    if value is not None:
                        found.append(value)
        return found

    def _stored(self, attribute: SelfAttrRef, module: Module, depth: int) -> list[Traced]:
        """`self.msg`: what the methods of the class (and its bases) store there."""
        cls = module.facts.classes.get(attribute.class_name)
        if cls is None:
            return [Traced(None, module, None, f"class `{attribute.class_name}` is not a top-level class")]
        found: list[Traced] = []
        for owner, current in self.linker.lineage(module, cls):
            for value in current.instance_attributes.get(attribute.attr, ()):
                found += self._trace(value, owner, ("self", current.name, attribute.attr), depth)
        if not found:
            return [Traced(None, module, None, f"nothing is stored in `self.{attribute.attr}` that can be followed")]
        return found

    def _returned(self, result: CallResult, module: Module, depth: int) -> list[Traced]:
        """What a helper returns, when it builds the message object."""
        targets, complete = self.linker.callees(result.func, module)
        if not targets or not complete:
            return [Traced(None, module, None, f"cannot follow the message object: {result.reason}")]
        found: list[Traced] = []
        for owner, function, _ in targets:
            for value in function.returns:
                found += self._trace(value, owner, None, depth)
        return found


def _holder(expr: Expr) -> tuple[str, ...] | None:
    """What holds an object: a local variable of a function, or an attribute of `self`."""
    if type(expr) is LocalRef:
        assert isinstance(expr, LocalRef)
        return ("local", expr.function, expr.name)
    if type(expr) is SelfAttrRef:
        assert isinstance(expr, SelfAttrRef)
        return ("self", expr.class_name, expr.attr)
    return None
