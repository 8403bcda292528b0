"""Per-file facts: what extraction hands to linking.

Facts are small, frozen and picklable (never CST nodes) and depend only on a
file's bytes and the rule pack, so they can be computed in parallel and cached.
Positions are (line, column), both 1-based; the file's path is attached later.

Message-type arguments are kept as a tiny symbolic expression language
(`Expr`), with every name that extraction could settle inside its own file
already settled (parameters, local variables, `self.X`). Names that live in
other modules are resolved by the link stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from fedcl_lint.types import Mechanism, Role

Position = tuple[int, int]


@dataclass(frozen=True)
class Literal:
    """A string literal."""

    value: str


@dataclass(frozen=True)
class NameRef:
    """A name looked up in the module's global scope (constant, class, import)."""

    name: str


@dataclass(frozen=True)
class AttrRef:
    """`base.attr`: a module member, class attribute, enum member or `.value`."""

    base: "Expr"
    attr: str


@dataclass(frozen=True)
class SelfAttrRef:
    """`self.attr` or `cls.attr` inside a method of the top-level class `class_name`."""

    class_name: str
    attr: str


@dataclass(frozen=True)
class LocalRef:
    """A local variable assigned exactly once; `value` is what it was assigned."""

    name: str
    function: str
    position: Position
    value: "Expr"


@dataclass(frozen=True)
class Join:
    """Concatenation (`a + b`, implicit concatenation, f-strings) of parts."""

    parts: tuple["Expr", ...]


@dataclass(frozen=True)
class ParamRef:
    """A parameter of the enclosing function: known only to its callers."""

    param: str
    function: str


@dataclass(frozen=True)
class EnumAuto:
    """`auto()` as an enum member's value (a string only in a `StrEnum`)."""


@dataclass(frozen=True)
class Opaque:
    """Something static analysis cannot turn into a string, and why."""

    reason: str


Expr = Union[Literal, NameRef, AttrRef, SelfAttrRef, LocalRef, Join, ParamRef, EnumAuto, Opaque]


@dataclass(frozen=True)
class Assignment:
    """A name bound by `NAME = value` (module level or class body)."""

    value: Expr
    position: Position


@dataclass(frozen=True)
class ClassFacts:
    """A top-level class: its bases (to recognise Enums) and simple attributes."""

    name: str
    position: Position
    bases: tuple[Expr, ...]
    attributes: dict[str, Assignment] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportBinding:
    """A name bound by an import.

    `import a.b as m` -> module="a.b", name=None; `from .x import y` -> level=1,
    module="x", name="y"; `import a.b` binds `a` -> module="a", name=None.
    """

    module: str
    level: int
    name: str | None
    position: Position


@dataclass(frozen=True)
class CallSite:
    """A call that sends or handles a message, as the rule pack describes it."""

    api: str
    role: Role
    mechanism: Mechanism
    message_type: Expr
    position: Position
    function: str | None
    handler: str | None = None


@dataclass(frozen=True)
class ParseFailure:
    """Why a file could not be read or parsed, and where."""

    message: str
    position: Position


@dataclass(frozen=True)
class ModuleFacts:
    """Everything the later stages need to know about one file."""

    constants: dict[str, Assignment] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    star_imports: tuple[tuple[str, int], ...] = ()
    sites: tuple[CallSite, ...] = ()
    failure: ParseFailure | None = None
