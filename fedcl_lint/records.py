"""Records and frozen classes: immutable values with named fields, made without `@dataclass`.

`@dataclass(frozen=True)` compiles five or six methods for each class when its module is
imported (~0.8 ms a class, four methods more with `order`: 50 classes took a fifth of the
start-up of a check) and sets every field through `object.__setattr__`. Two replacements:

- `Record`, for the classes a run makes by the hundred thousand (facts, link results): its
  fields in `__slots__` (no instance dictionary to fill or keep), assigned in a plain `__init__`;
  equality, hash, repr and pickling (as a call of the class with its fields) come from here.
  Records are immutable by convention: nothing assigns to a field after `__init__`.
- `@frozen`, for the others: `@dataclass(frozen=True)` to its callers and to mypy (through
  `dataclass_transform`), with `field`, `replace` and `fields` as in `dataclasses`, built from the
  class's annotations without compiling anything. Assigning to an instance raises; instances keep
  a `__dict__` (so `cached_property` works) and pickle as plain objects do.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform  # in `typing` from Python 3.11
else:
    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        """Read by type checkers only."""
        return lambda decorator: decorator

_T = TypeVar("_T")


class Record:
    """Equality, hash, repr and pickling by the fields named in `__slots__`, in order."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()  # the names in `__slots__`: set for each subclass
    _values: Any  # the fields as a tuple: set for each subclass

    def __init_subclass__(cls) -> None:
        names: tuple[str, ...] = tuple(cls.__slots__)
        cls._fields = names
        cls._values = staticmethod(_getter(names))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._values(self) == self._values(other))

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, self._values(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self._values(self), strict=True))
        return f"{self.__class__.__name__}({fields})"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return self.__class__, self._values(self)


_MISSING: Any = object()  # no default
_SPECS = "__frozen_specs__"  # a frozen class's `_Field`s, in order
_NAMES = "__frozen_fields__"  # their names
# How an `__init__` sets a field of a frozen instance, as `dataclass`'s does. (Assigning to
# `self.__dict__` is faster, but turns the instance's values into a dictionary, slower to read.)
set_field = object.__setattr__


class FrozenInstanceError(AttributeError):
    """An assignment to (or deletion of) an attribute of a frozen instance."""


class _Field:
    """One field of a frozen class, as its annotation and `field()` declare it."""

    __slots__ = ("name", "default", "default_factory", "compare", "repr")

    def __init__(self, name: str, default: Any = _MISSING, default_factory: Any = _MISSING,
                 compare: bool = True, repr: bool = True):
        self.name = name
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr


@overload
def field(*, default: _T, compare: bool = True, repr: bool = True) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T], compare: bool = True, repr: bool = True) -> _T: ...
@overload
def field(*, compare: bool = True, repr: bool = True) -> Any: ...
def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, compare: bool = True,
          repr: bool = True) -> Any:
    """A field's default (a value, or `default_factory()` for each instance), and whether it takes part
    in equality, hash and order (`compare`) and in `repr`: `dataclasses.field`'s meaning."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field("", default, default_factory, compare, repr)


@overload
def frozen(cls: type[_T], /) -> type[_T]: ...
@overload
def frozen(*, order: bool = False) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[_T] | None = None, /, *, order: bool = False) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """`@dataclass(frozen=True)` (with `order`, `@dataclass(frozen=True, order=True)`): fields from the
    class's annotations, `__init__`, `__eq__`, `__hash__`, `__repr__`, the order and frozenness.

    Methods the class defines itself are kept. A class made by the thousand in a run writes its own
    `__init__` (with `set_field`), and `__eq__` and `__hash__` if it is hashed as often: faster than
    these, which bind the arguments and read the fields by name at run time.
    """
    if cls is None:
        return lambda cls: _frozen(cls, order)
    return _frozen(cls, order)


def fields(value: object) -> tuple[str, ...]:
    """The field names of a frozen class or instance, in order (`dataclasses.fields`' names)."""
    names: tuple[str, ...] | None = getattr(value, _NAMES, None)
    if names is None:
        raise TypeError(f"{value!r} is not a frozen class or instance")
    return names


def is_frozen(value: object) -> bool:
    """Whether `value` is an instance of a frozen class."""
    return not isinstance(value, type) and hasattr(value, _NAMES)


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of a frozen instance with some fields changed (`dataclasses.replace`), made by its `__init__`."""
    for name in fields(obj):
        if name not in changes:
            changes[name] = getattr(obj, name)
    return obj.__class__(**changes)


def _frozen(cls: type[_T], order: bool) -> type[_T]:
    own = cls.__dict__
    specs = {spec.name: spec for spec in getattr(cls, _SPECS, ())}  # a frozen base's first
    for name, annotation in own.get("__annotations__", {}).items():
        if str(annotation).partition("[")[0] in ("ClassVar", "typing.ClassVar"):
            continue
        declared = own.get(name, _MISSING)
        if isinstance(declared, _Field):
            declared.name = name
            specs[name] = declared
            if declared.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, declared.default)
        else:
            specs[name] = _Field(name, declared)
    ordered = tuple(specs.values())
    _check_defaults(cls, ordered)
    compared = _getter(tuple(spec.name for spec in ordered if spec.compare))
    methods: dict[str, Any] = {
        _SPECS: ordered,
        _NAMES: tuple(specs),
        "__match_args__": tuple(specs),
        "__init__": _init(cls, ordered),
        "__repr__": _repr(tuple(spec.name for spec in ordered if spec.repr)),
        "__eq__": _comparison(compared, operator.eq),
        "__hash__": lambda self: hash(compared(self)),
        "__setattr__": _no_assignment,
        "__delattr__": _no_deletion,
    }
    if order:
        methods.update({f"__{op.__name__}__": _comparison(compared, op)
                        for op in (operator.lt, operator.le, operator.gt, operator.ge)})
    for name, method in methods.items():
        if name not in own or (name == "__hash__" and own[name] is None):  # `__eq__` alone sets `__hash__ = None`
            setattr(cls, name, method)
    return cls


def _check_defaults(cls: type, specs: tuple[_Field, ...]) -> None:
    """A field without a default after one with a default: `dataclass`'s TypeError."""
    defaulted = False
    for spec in specs:
        if spec.default is not _MISSING or spec.default_factory is not _MISSING:
            defaulted = True
        elif defaulted:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument in {cls.__qualname__}")


def _getter(names: tuple[str, ...], get: Callable[..., Callable[[Any], Any]] = attrgetter,
            ) -> Callable[[Any], tuple[Any, ...]]:
    """The attributes (or, with `itemgetter`, the items) `names` of an object as a tuple: `get`'s, in C,
    which gives a bare value for one name."""
    if len(names) > 1:
        return get(*names)
    return lambda obj: tuple(get(name)(obj) for name in names)


def _init(cls: type, specs: tuple[_Field, ...]) -> Callable[..., None]:
    names = tuple(spec.name for spec in specs)
    count = len(names)
    known = frozenset(names)
    in_order = _getter(names, itemgetter)
    defaults = {spec.name: spec.default for spec in specs if spec.default is not _MISSING}
    factories = {spec.name: spec.default_factory for spec in specs if spec.default_factory is not _MISSING}

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs or len(args) != count:  # bound as dictionaries, in C
            values = {**defaults, **dict(zip(names, args, strict=False)), **kwargs}
            for name, factory in factories.items():
                if name not in values:
                    values[name] = factory()
            if values.keys() != known or len(args) > count or not kwargs.keys().isdisjoint(names[:len(args)]):
                _refuse(cls, names, args, kwargs, values)
            args = in_order(values)
        for name, value in zip(names, args, strict=True):
            set_field(self, name, value)

    return __init__


def _refuse(cls: type, names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any],
            values: dict[str, Any]) -> NoReturn:
    """The TypeError of a call of a frozen class: an argument too many, given twice, unknown or missing."""
    where = f"{cls.__qualname__}.__init__()"
    if len(args) > len(names):
        raise TypeError(f"{where} takes at most {len(names)} arguments, but {len(args)} were given")
    for problem, wrong in (
        ("got multiple values for argument", [name for name in names[:len(args)] if name in kwargs]),
        ("got an unexpected keyword argument", [name for name in kwargs if name not in names]),
        ("missing required argument", [name for name in names if name not in values]),
    ):
        if wrong:
            raise TypeError(f"{where} {problem}{'s' * (len(wrong) > 1)} {', '.join(repr(name) for name in wrong)}")
    raise AssertionError("a call it accepts")


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _comparison(values: Callable[[Any], tuple[Any, ...]], op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    """`op` on the compared fields' values of two instances of one class (NotImplemented for another)."""

    def compare(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return op(values(self), values(other))
        return NotImplemented

    return compare


def _no_assignment(self: object, name: str, value: object) -> NoReturn:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _no_deletion(self: object, name: str) -> NoReturn:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
