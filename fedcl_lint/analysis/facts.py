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

__all__ = [
    "Assignment", "AttrRef", "Call", "ClassFacts", "DispatchCase", "EnumAuto", "FunctionFacts",
    "ImportBinding", "Join", "LambdaRef", "Literal", "LocalRef", "ModuleFacts", "NameRef", "Opaque",
    "Param", "ParamRef", "ParseFailure", "PartialRef", "Payload", "SelfAttrRef",
    "Suppression",
]

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
class Param:
    """A parameter of a function or lambda, as far as a caller is concerned."""

    name: str
    kind: str  # "positional_only", "positional", "var_positional", "keyword_only", "var_keyword"
    has_default: bool


@dataclass(frozen=True)
class LambdaRef:
    """A lambda, kept for its signature (a handler may be one)."""

    params: tuple[Param, ...]


@dataclass(frozen=True)
class PartialRef:
    """`functools.partial(func, *args, **kwargs)`: func with some arguments bound."""

    func: "Expr"
    positional: int
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Opaque:
    """Something static analysis cannot turn into a string, and why."""

    reason: str


Expr = Union[
    Literal, NameRef, AttrRef, SelfAttrRef, LocalRef, Join, ParamRef, EnumAuto, LambdaRef, PartialRef, Opaque
]


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
class FunctionFacts:
    """A function or method definition: what its callers must pass.

    `params` leave out the bound `self`/`cls` of methods, so that they line up
    with the arguments of `obj.method(...)`.
    """

    qualname: str
    name: str
    kind: str  # "function", "method", "staticmethod", "classmethod"
    params: tuple[Param, ...]
    is_async: bool
    position: Position


@dataclass(frozen=True)
class Call:
    """A call of a named function or method, whatever it turns out to be.

    The link stage decides which calls matter: rule-pack APIs, inferred
    wrappers, dispatcher registrations. `args` are the positional arguments
    before any `*args`.
    """

    name: str
    callee: Expr
    args: tuple[Expr, ...]
    keywords: tuple[tuple[str, Expr], ...]
    star_args: bool
    star_kwargs: bool
    position: Position
    function: str | None
    bare: bool  # the whole expression statement: its result (a coroutine?) is dropped

    def argument(self, position: int | None, keyword: str | None) -> Expr | None:
        """The argument bound to a parameter, or None when the call does not pass it."""
        for name, value in self.keywords:
            if keyword is not None and name == keyword:
                return value
        if position is not None and position < len(self.args):
            return self.args[position]
        return None


@dataclass(frozen=True)
class Payload:
    """A dict literal carrying a payload key: an envelope sent wherever it goes."""

    key: str
    value: Expr
    position: Position
    function: str | None


@dataclass(frozen=True)
class DispatchCase:
    """`param[key] == value` (or `.get`, `in (...)`, `match`) inside a function."""

    function: str
    param: str
    key: str
    value: Expr
    position: Position


@dataclass(frozen=True)
class ParseFailure:
    """Why a file could not be analysed, and where: `kind` is "parse" (syntax or
    encoding), "read" (the file system refused) or "size" (too large to parse)."""

    message: str
    position: Position
    kind: str = "parse"


@dataclass(frozen=True)
class Suppression:
    """A `# fedcl-lint: ignore[CODES] reason` comment (see suppressions.py)."""

    line: int
    column: int
    codes: tuple[str, ...] | None  # None: a bare `ignore`, every code; `ignore[]`: none
    reason: str | None


@dataclass(frozen=True)
class ModuleFacts:
    """Everything the later stages need to know about one file."""

    constants: dict[str, Assignment] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    star_imports: tuple[tuple[str, int], ...] = ()
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    calls: tuple[Call, ...] = ()
    payloads: tuple[Payload, ...] = ()
    dispatch_cases: tuple[DispatchCase, ...] = ()
    failure: ParseFailure | None = None
    suppressions: tuple[Suppression, ...] = ()  # `# fedcl-lint: ignore[...]` comments, by line
