"""Receiver typing: the class of the object a method is called on, inferred without running code.

Packs may bind an API to classes (`receiver = "Node"`): `node.register(...)` is a
handle site, `registry.register(...)` and `atexit.register(...)` are not. Wrapper
inference uses the same typing to tell two same-named methods apart. Like pyright
and mypy, the inference is precise where the code says what a value is, and says
"unknown" everywhere else:

- `self` / `cls` in a method is an instance of its class (subclasses included);
- annotations of parameters, attributes and variables (`Optional[Node]`,
  `Node | None`, unions, string annotations, names imported under `TYPE_CHECKING`);
- `self.x = Node(...)`, `self.x = param` with `param` annotated, `x: Node` in a class
  body, in any class of the lineage;
- module-level and local instances (`node = Node(...)`), `with Node(...) as node`;
- calls of functions and methods whose return annotation or `return Cls(...)` gives the class;
- a class from outside the project is known by the name it is imported under
  (`from grpc_node import Node` -> `grpc_node.Node`); calling an imported name
  that looks like a class (CapWords) makes an instance of it; an imported module is
  a module, never an instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedcl_lint.analysis.facts import (
    AttrRef,
    CallResult,
    ClassFacts,
    Construction,
    Either,
    Entered,
    Expr,
    FunctionFacts,
    Instance,
    LocalRef,
    NameRef,
    ParamRef,
    SelfAttrRef,
    Typed,
)
from fedcl_lint.analysis.load import Module
from fedcl_lint.records import Record

if TYPE_CHECKING:
    from fedcl_lint.analysis.link import Linker

_MAX_DEPTH = 12  # hops through attributes, locals, calls and imports before a type is "unknown"

INSTANCE, CLASS, MODULE, FUNCTION = "instance", "class", "module", "function"


class Type(Record):
    """What a value is: an instance of a class, a class, a module or a function.

    `module` and `cls` are the project's class (or `module` the project's module) when it is
    one; `name` is the qualified name (for a class outside the project, the name it is imported
    under).
    """

    __slots__ = ("kind", "name", "module", "cls")

    def __init__(self, kind: str, name: str, module: Module | None = None, cls: ClassFacts | None = None):
        self.kind = kind
        self.name = name
        self.module = module
        self.cls = cls

    def _identity(self) -> tuple[str, str, str | None]:
        return (self.kind, self.name, self.module.file.display if self.module is not None else None)

    def __eq__(self, other: object) -> bool:  # a class's facts hold dicts: compared by where it is
        return isinstance(other, Type) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


class Types(Record):
    """The types a value may have; `complete` when every way it can be set was typed."""

    __slots__ = ("known", "complete")

    def __init__(self, known: frozenset[Type], complete: bool):
        self.known = known
        self.complete = complete

    def __or__(self, other: Types) -> Types:
        return Types(self.known | other.known, self.complete and other.complete)


UNKNOWN = Types(frozenset(), False)
_NOTHING = Types(frozenset(), True)  # the neutral element of `|`


def _only(kind: Type) -> Types:
    return Types(frozenset({kind}), True)


def _outside(qualified: str) -> Types:
    """A name from outside the analysed tree: a class if it is spelled like one (`vendor.AggStub`);
    else perhaps a module (`vendor_pb2_grpc`, whose classes its attributes may be), perhaps anything."""
    if qualified.rpartition(".")[2][:1].isupper():
        return _only(Type(CLASS, qualified))
    return Types(frozenset({Type(MODULE, qualified)}), False)


class ReceiverTyping:
    """Infers the types of expressions of one project, resolving names through its linker."""

    def __init__(self, linker: Linker):
        self.linker = linker
        self._names: dict[tuple[str, str], frozenset[str]] = {}  # a project class -> what it is known as

    # the questions linking asks

    def receiver(self, callee: Expr, module: Module) -> Types:
        """The types of the object a call's method is looked up on (`node` in `node.register(...)`);
        a plain function call has none: a function of the project, or one imported from outside,
        is known not to be a method of any class; anything else is unknown."""
        if type(callee) is AttrRef:
            return self.type_of(callee.base, module)
        if type(callee) is SelfAttrRef:
            cls = module.facts.classes.get(callee.class_name)
            return _only(self._class_type(INSTANCE, module, cls)) if cls is not None else UNKNOWN
        if type(callee) is NameRef:
            found = self.type_of(callee, module)
            return found if found.complete and all(t.kind == FUNCTION for t in found.known) else UNKNOWN
        return UNKNOWN

    def matches(self, types: Types, classes: tuple[str, ...]) -> bool | None:
        """True when the value may be an instance of one of `classes` (bare or qualified names, the
        subclasses of the project included), False when it is known to be none, None when unknown."""
        wanted = frozenset(classes)
        for kind in types.known:
            if kind.kind in (INSTANCE, CLASS) and self._known_as(kind) & wanted:
                return True
        return False if types.complete and types.known else None

    def methods(self, base: Expr, name: str, module: Module,
                depth: int = 0) -> tuple[list[tuple[Module, FunctionFacts, int]], bool] | None:
        """The project methods `base.name(...)` may run, and whether that is all of them; None when
        the receiver's type is unknown."""
        types = self.type_of(base, module, depth)
        if not types.known:
            return None
        found = []
        for kind in types.known:
            if kind.kind in (INSTANCE, CLASS) and kind.module is not None and kind.cls is not None:
                defining = self.linker.defining(kind.module, kind.cls, name)
                function = defining[2] if defining is not None else None
                if defining is not None and function is not None:
                    owner = defining[0]
                    shift = 1 if kind.kind == CLASS and function.kind == "method" else 0
                    found.append((owner, function, shift))
        return found, types.complete

    # inference

    def type_of(self, expr: Expr, module: Module, depth: int = 0) -> Types:
        """The types the value of `expr` (in `module`) may have."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        depth += 1
        kind = type(expr)
        if kind is SelfAttrRef:
            assert isinstance(expr, SelfAttrRef)
            cls = module.facts.classes.get(expr.class_name)
            if cls is None:
                return UNKNOWN
            return self._attribute(self._class_type(INSTANCE, module, cls), expr.attr, depth)
        if kind is AttrRef:
            assert isinstance(expr, AttrRef)
            base = self.type_of(expr.base, module, depth)
            found = _NOTHING if base.known else UNKNOWN
            for owner in base.known:
                found = found | self._attribute(owner, expr.attr, depth)
            return found if base.complete else Types(found.known, False)
        if kind is NameRef:
            assert isinstance(expr, NameRef)
            return self._global(module, expr.name, depth)
        if kind is ParamRef:
            assert isinstance(expr, ParamRef)
            return self._parameter(module, expr, depth)
        if kind is LocalRef:
            assert isinstance(expr, LocalRef)
            return self.type_of(expr.value, module, depth)
        if kind is Typed:
            assert isinstance(expr, Typed)
            return self.type_of(expr.hint, module, depth)
        if kind is Entered:
            assert isinstance(expr, Entered)
            return self.type_of(expr.value, module, depth)
        if kind is Instance:
            assert isinstance(expr, Instance)
            return self._instance(expr, module, depth)
        if kind is CallResult or kind is Construction:
            assert isinstance(expr, (CallResult, Construction))
            return self._result(expr.func, module, depth)
        if kind is Either:
            assert isinstance(expr, Either)
            found = _NOTHING
            for value in expr.values:
                found = found | self.type_of(value, module, depth)
            return found
        return UNKNOWN

    def _instance(self, hint: Instance, module: Module, depth: int) -> Types:
        found = _NOTHING
        for named in hint.classes:
            cls = self._class_named(named, module, depth)
            found = found | (_only(Type(INSTANCE, cls.name, cls.module, cls.cls)) if cls is not None else UNKNOWN)
        return found

    def _class_named(self, expr: Expr, module: Module, depth: int) -> Type | None:
        """The class an expression names: the project's, or one imported from outside."""
        value = self.type_of(expr, module, depth)
        if value.complete and len(value.known) == 1:
            [kind] = value.known
            if kind.kind == CLASS:
                return kind
        return None

    def _result(self, func: Expr, module: Module, depth: int) -> Types:
        """What calling `func` gives: an instance of a class, or what a function returns."""
        callee = self.type_of(func, module, depth)
        if type(func) is AttrRef and not callee.known:  # `obj.make()`: a method of obj's class
            assert isinstance(func, AttrRef)
            reached = self.methods(func.base, func.attr, module, depth)
            if reached is not None and reached[0]:
                found = _NOTHING
                for owner, function, _ in reached[0]:
                    found = found | self._returns(owner, function, depth)
                return found if reached[1] else Types(found.known, False)
        if not callee.known:
            return UNKNOWN
        found = _NOTHING
        for kind in callee.known:
            if kind.kind == CLASS:
                found = found | _only(Type(INSTANCE, kind.name, kind.module, kind.cls))
            elif kind.kind == FUNCTION and kind.module is not None:
                defined = kind.module.facts.functions.get(kind.name)
                found = found | (self._returns(kind.module, defined, depth) if defined is not None else UNKNOWN)
            else:
                found = found | UNKNOWN
        return found if callee.complete else Types(found.known, False)

    def _returns(self, module: Module, function: FunctionFacts, depth: int) -> Types:
        if not function.returns:
            return UNKNOWN
        found = _NOTHING
        for value in function.returns:
            found = found | self.type_of(value, module, depth)
        return found

    def _parameter(self, module: Module, ref: ParamRef, depth: int) -> Types:
        function = module.facts.functions.get(ref.function)
        if function is None:
            return UNKNOWN
        param = next((p for p in function.params if p.name == ref.param), None)
        if param is None and function.kind in ("method", "property", "classmethod"):
            # not among the params: the bound `self` (`cls`) of a method of a top-level class
            owner = module.facts.classes.get(ref.function.rpartition(".")[0])
            if owner is not None:
                return _only(self._class_type(CLASS if function.kind == "classmethod" else INSTANCE, module, owner))
        if param is None or param.annotation is None:
            return UNKNOWN
        return self.type_of(param.annotation, module, depth)

    def _attribute(self, owner: Type, attr: str, depth: int) -> Types:
        """The types of `owner.attr`: what the class's lineage stores there, for an instance;
        a module's global of that name, for a module."""
        if owner.kind == MODULE and owner.module is not None:
            return self._global(owner.module, attr, depth)
        if owner.kind == MODULE:  # from outside the project (`import vendor_pb2_grpc as rpc`)
            return _outside(f"{owner.name}.{attr}")
        if owner.kind not in (INSTANCE, CLASS) or owner.module is None or owner.cls is None:
            return UNKNOWN
        found = _NOTHING
        stored = False
        for module, cls in self.linker.lineage(owner.module, owner.cls):
            if f"{cls.name}.{attr}" in module.facts.functions:
                return _only(Type(FUNCTION, f"{cls.name}.{attr}", module)) if not stored else found
            values = cls.instance_attributes.get(attr, ()) if owner.kind == INSTANCE else ()
            assignment = cls.attributes.get(attr)
            for value in (*values, *((assignment.value,) if assignment is not None else ())):
                found = found | self.type_of(value, module, depth)
                stored = True
        return found if stored else UNKNOWN

    def _global(self, module: Module, name: str, depth: int) -> Types:
        """A module-level name: a class, a function, a constant's value, an import (a cycle of
        imports ends at the depth limit)."""
        if depth > _MAX_DEPTH:
            return UNKNOWN
        facts = module.facts
        if name in facts.functions:
            return _only(Type(FUNCTION, name, module))
        if name in facts.classes:
            return _only(self._class_type(CLASS, module, facts.classes[name]))
        if name in facts.constants:
            return self.type_of(facts.constants[name].value, module, depth + 1)
        binding = facts.imports.get(name)
        if binding is None:
            return UNKNOWN
        target_name = self.linker.absolute(module, binding.module, binding.level)
        if target_name is None:
            return UNKNOWN
        target = self.linker.module(target_name)
        if binding.name is None:  # `import pkg.comm as comm`, `import atexit`
            return _only(Type(MODULE, target_name, target))
        if target is None:  # from outside the project
            return _outside(f"{target_name}.{binding.name}")
        if self.linker.defines(target, binding.name):
            return self._global(target, binding.name, depth + 1)
        submodule = self.linker.module(f"{target_name}.{binding.name}")
        if submodule is not None:
            return _only(Type(MODULE, submodule.name, submodule))
        # neither defined there nor a module of the analysed tree: one it excludes (generated code)
        return _outside(f"{target_name}.{binding.name}")

    # names

    def _class_type(self, kind: str, module: Module, cls: ClassFacts) -> Type:
        return Type(kind, f"{module.name}.{cls.name}", module, cls)

    def _known_as(self, kind: Type) -> frozenset[str]:
        """Every name a receiver constraint may give the class: its own and its bases' (project
        classes by qualified and bare name, outside ones by the name they are imported under)."""
        if kind.module is None or kind.cls is None:
            return frozenset({kind.name, kind.name.rsplit(".", 1)[-1]})
        key = (kind.module.file.display, kind.cls.name)
        if key not in self._names:
            names: set[str] = set()
            for module, cls in self.linker.lineage(kind.module, kind.cls):
                names |= {f"{module.name}.{cls.name}", cls.name}
                for base in cls.bases:
                    outside = self._class_named(base, module, 0)
                    if outside is not None and outside.module is None:
                        names |= {outside.name, outside.name.rsplit(".", 1)[-1]}
            self._names[key] = frozenset(names)
        return self._names[key]
