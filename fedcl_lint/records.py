"""Records: immutable values with named fields, for the classes a run makes by the hundred thousand.

`@dataclass(frozen=True)` compiles five or six methods for each class when its module is
imported (for the engine's 36 classes, a fifth of the start-up of a check) and sets every field
through `object.__setattr__`, five times slower than an assignment. A `Record` lists its fields
in `__slots__` (no instance dictionary to fill or keep) and assigns them in a plain `__init__`;
equality, hash, repr and pickling (as a call of the class with its fields) come from here.
Records are immutable by convention: nothing assigns to a field after `__init__`.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any


class Record:
    """Equality, hash, repr and pickling by the fields named in `__slots__`, in order."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()  # the names in `__slots__`: set for each subclass
    _values: Any  # the fields as a tuple: set for each subclass

    def __init_subclass__(cls) -> None:
        names: tuple[str, ...] = tuple(cls.__slots__)
        cls._fields = names
        if len(names) > 1:
            cls._values = staticmethod(attrgetter(*names))  # in C
        else:
            cls._values = staticmethod(lambda record: tuple(getattr(record, name) for name in names))

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
