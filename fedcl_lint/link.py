"""Linking: resolve every call site's message type across the whole project.

Extraction left module-level names symbolic; here they are followed through
constants, classes, Enums and imports (absolute, relative, re-exports) to a
string, recording each step and where it came from. Whatever cannot be
followed becomes an explicit unresolved reason: never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from fedcl_lint.discover import SourceFile
from fedcl_lint.facts import (
    AttrRef,
    CallSite,
    ClassFacts,
    EnumAuto,
    Expr,
    Join,
    Literal,
    LocalRef,
    ModuleFacts,
    NameRef,
    Opaque,
    ParamRef,
    Position,
    SelfAttrRef,
)
from fedcl_lint.types import Location

ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag", "ReprEnum"})
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Step:
    """One hop of a resolution, e.g. "constant `SHUTDOWN`" at messages.py:3:1."""

    description: str
    location: Location | None


@dataclass(frozen=True)
class Resolution:
    """A message type's value (or why there is none) and how it was found."""

    value: str | None
    steps: tuple[Step, ...]
    reason: str | None = None


@dataclass(frozen=True)
class LinkedSite:
    """A call site with its place in the project and its resolved message type."""

    site: CallSite
    location: Location
    resolution: Resolution

    @property
    def message_type(self) -> str | None:
        return self.resolution.value


@dataclass(frozen=True)
class Module:
    file: SourceFile
    facts: ModuleFacts

    @property
    def name(self) -> str:
        return self.file.module_names[0] if self.file.module_names else self.file.display

    def location(self, position: Position) -> Location:
        return Location(self.file.display, position[0], position[1])


# Values met while resolving; only `_Str` is a message type.
@dataclass(frozen=True)
class _Str:
    value: str


@dataclass(frozen=True)
class _ModuleValue:
    module: Module


@dataclass(frozen=True)
class _ClassValue:
    module: Module
    cls: ClassFacts


@dataclass(frozen=True)
class _EnumMember:
    cls: ClassFacts
    member: str
    value: str


@dataclass(frozen=True)
class _Unresolved:
    reason: str


_Value = _Str | _ModuleValue | _ClassValue | _EnumMember | _Unresolved


class Linker:
    """Resolves names across the modules of one project."""

    def __init__(self, modules: list[Module]):
        self.modules = modules
        self.by_name: dict[str, Module] = {}
        for module in modules:
            for name in module.file.module_names:
                self.by_name.setdefault(name, module)

    def link(self) -> list[LinkedSite]:
        linked = []
        for module in self.modules:
            for site in module.facts.sites:
                location = module.location(site.position)
                linked.append(LinkedSite(site, location, self.resolve(site.message_type, module)))
        return linked

    def resolve(self, expr: Expr, module: Module) -> Resolution:
        steps: list[Step] = []
        value = self._final(self._value(expr, module, steps, frozenset()), steps)
        if isinstance(value, _Str):
            return Resolution(value.value, tuple(steps))
        return Resolution(None, tuple(steps), value.reason)

    # one expression

    def _value(self, expr: Expr, module: Module, steps: list[Step], seen: frozenset) -> _Value:
        if len(seen) > _MAX_DEPTH:
            return _Unresolved("the definition chain is too deep")
        if isinstance(expr, Literal):
            return _Str(expr.value)
        if isinstance(expr, NameRef):
            return self._global(module, expr.name, steps, seen)
        if isinstance(expr, LocalRef):
            steps.append(Step(f"local variable `{expr.name}` of `{expr.function}`", module.location(expr.position)))
            return self._value(expr.value, module, steps, seen)
        if isinstance(expr, SelfAttrRef):
            cls = module.facts.classes.get(expr.class_name)
            if cls is None:
                return _Unresolved(f"class `{expr.class_name}` is not a top-level class")
            return self._class_attribute(module, cls, expr.attr, steps, seen)
        if isinstance(expr, AttrRef):
            return self._attribute(self._value(expr.base, module, steps, seen), expr.attr, steps, seen)
        if isinstance(expr, Join):
            text = []
            for part in expr.parts:
                value = self._final(self._value(part, module, steps, seen), steps)
                if isinstance(value, _Unresolved):
                    return value
                text.append(value.value)
            return _Str("".join(text))
        if isinstance(expr, ParamRef):
            return _Unresolved(f"parameter `{expr.param}` of `{expr.function}`")
        if isinstance(expr, Opaque):
            return _Unresolved(expr.reason)
        if isinstance(expr, EnumAuto):
            return _Unresolved("`auto()` outside an Enum")
        raise TypeError(f"unknown expression {expr!r}")

    def _final(self, value: _Value, steps: list[Step]) -> _Str | _Unresolved:
        """What a value means as a message type."""
        if isinstance(value, (_Str, _Unresolved)):
            return value
        if isinstance(value, _EnumMember):
            return _Str(value.value)
        if isinstance(value, _ClassValue):
            return _Unresolved(f"`{value.cls.name}` is a class, not a message type")
        return _Unresolved(f"`{value.module.name}` is a module, not a message type")

    # names

    def _global(self, module: Module, name: str, steps: list[Step], seen: frozenset) -> _Value:
        key = (module.name, name)
        if key in seen:
            return _Unresolved(f"`{name}` in `{module.name}` is defined in terms of itself")
        seen = seen | {key}
        facts = module.facts
        if name in facts.constants:
            assignment = facts.constants[name]
            steps.append(Step(f"constant `{name}` in `{module.name}`", module.location(assignment.position)))
            return self._value(assignment.value, module, steps, seen)
        if name in facts.classes:
            return _ClassValue(module, facts.classes[name])
        if name in facts.imports:
            return self._import(module, name, steps, seen)
        for star_module, level in facts.star_imports:
            target = self._module(self._absolute(module, star_module, level))
            if target is not None and self._defines(target, name):
                steps.append(Step(f"`{name}` from `from {star_module or '.'} import *`", None))
                return self._global(target, name, steps, seen)
        return _Unresolved(f"`{name}` is not defined in `{module.name}`")

    def _import(self, module: Module, name: str, steps: list[Step], seen: frozenset) -> _Value:
        binding = module.facts.imports[name]
        target_name = self._absolute(module, binding.module, binding.level)
        if target_name is None:
            return _Unresolved(f"`{name}` comes from a relative import beyond the top-level package")
        location = module.location(binding.position)
        if binding.name is None:
            target = self._module(target_name)
            if target is None:
                return _Unresolved(f"module `{target_name}` is not in the analysed tree")
            steps.append(Step(f"`{name}` is the module `{target_name}`", location))
            return _ModuleValue(target)
        steps.append(Step(f"`{name}` imported from `{target_name}`", location))
        return self._member(target_name, binding.name, steps, seen)

    def _member(self, module_name: str, name: str, steps: list[Step], seen: frozenset) -> _Value:
        """`module_name.name`: a name the module defines, else its submodule."""
        target = self._module(module_name)
        if target is not None and self._defines(target, name):
            return self._global(target, name, steps, seen)
        submodule = self._module(f"{module_name}.{name}" if module_name else name)
        if submodule is not None:
            return _ModuleValue(submodule)
        if target is None:
            return _Unresolved(f"`{name}` comes from `{module_name}`, which is not in the analysed tree")
        return _Unresolved(f"`{name}` is not defined in `{module_name}`")

    def _attribute(self, base: _Value, attr: str, steps: list[Step], seen: frozenset) -> _Value:
        if isinstance(base, _Unresolved):
            return base
        if isinstance(base, _ModuleValue):
            return self._member(base.module.name, attr, steps, seen)
        if isinstance(base, _ClassValue):
            return self._class_attribute(base.module, base.cls, attr, steps, seen)
        if isinstance(base, _EnumMember):
            if attr == "value":
                return _Str(base.value)
            if attr == "name":
                return _Str(base.member)
            return _Unresolved(f"`{base.cls.name}.{base.member}.{attr}` is not `.value` or `.name`")
        return _Unresolved(f"a string has no attribute `{attr}` that is a message type")

    def _class_attribute(self, module: Module, cls: ClassFacts, attr: str, steps: list[Step], seen: frozenset) -> _Value:
        key = (module.name, f"{cls.name}.{attr}")
        if key in seen:
            return _Unresolved(f"`{cls.name}.{attr}` is defined in terms of itself")
        seen = seen | {key}
        assignment = cls.attributes.get(attr)
        if assignment is None:
            for base in cls.bases:
                base_value = self._value(base, module, [], seen)
                if isinstance(base_value, _ClassValue) and self._has_attribute(base_value, attr):
                    return self._class_attribute(base_value.module, base_value.cls, attr, steps, seen)
            return _Unresolved(f"`{cls.name}` has no class attribute `{attr}` in the analysed tree")
        location = module.location(assignment.position)
        enum_kind = self._enum_kind(module, cls, seen)
        if enum_kind is None:
            steps.append(Step(f"class attribute `{cls.name}.{attr}`", location))
            return self._value(assignment.value, module, steps, seen)
        steps.append(Step(f"enum member `{cls.name}.{attr}`", location))
        if isinstance(assignment.value, EnumAuto):
            if enum_kind == "StrEnum":
                return _EnumMember(cls, attr, attr.lower())
            return _Unresolved(f"`{cls.name}.{attr}` = auto() is not a string (use StrEnum or a literal)")
        value = self._final(self._value(assignment.value, module, steps, seen), steps)
        if isinstance(value, _Unresolved):
            return value
        return _EnumMember(cls, attr, value.value)

    def _has_attribute(self, value: _ClassValue, attr: str) -> bool:
        return attr in value.cls.attributes or any(
            isinstance(b := self._value(base, value.module, [], frozenset()), _ClassValue) and self._has_attribute(b, attr)
            for base in value.cls.bases
        )

    def _enum_kind(self, module: Module, cls: ClassFacts, seen: frozenset) -> str | None:
        """'StrEnum' or 'Enum' when `cls` is an Enum (directly or through project classes)."""
        for base in cls.bases:
            final = _final_identifier(base)
            if final in ENUM_BASES:
                return "StrEnum" if final == "StrEnum" else "Enum"
            value = self._value(base, module, [], seen)
            if isinstance(value, _ClassValue) and value.cls is not cls:
                kind = self._enum_kind(value.module, value.cls, seen | {(module.name, cls.name)})
                if kind is not None:
                    return kind
        return None

    # modules

    def _module(self, name: str | None) -> Module | None:
        return self.by_name.get(name) if name is not None else None

    def _absolute(self, module: Module, name: str, level: int) -> str | None:
        if level == 0:
            return name
        package = module.name.split(".") if module.file.is_package else module.name.split(".")[:-1]
        if level - 1 > len(package):
            return None
        base = package[: len(package) - (level - 1)]
        return ".".join([*base, name] if name else base)

    @staticmethod
    def _defines(module: Module, name: str) -> bool:
        facts = module.facts
        return name in facts.constants or name in facts.classes or name in facts.imports


def _final_identifier(expr: Expr) -> str | None:
    if isinstance(expr, NameRef):
        return expr.name
    if isinstance(expr, AttrRef):
        return expr.attr
    return None
