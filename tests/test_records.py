"""Records and frozen classes (`fedcl_lint/records.py`) keep the value semantics the frozen
dataclasses had: equality, hash and repr by fields, pickling (the fact cache, the worker processes),
and for frozen classes order, defaults, immutability, `replace` and the constructor's errors."""

from __future__ import annotations

import inspect
import pickle
import sys
from functools import cached_property
from types import ModuleType

import pytest

import fedcl_lint.analysis.link  # noqa: F401 - defines the link stage's records
from fedcl_lint.analysis import facts
from fedcl_lint.records import FrozenInstanceError, Record, field, fields, frozen, replace
from fedcl_lint.settings.rulepack import ArgSlot
from fedcl_lint.types import Location


def _records(cls: type = Record) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_records(sub)]
    return found


def test_every_record_is_made_from_its_fields_in_order():
    """Unpickling calls the class with the fields in `__slots__` order: `__init__` must take them so."""
    for cls in _records():
        init = vars(cls).get("__init__")
        params = tuple(inspect.signature(init).parameters)[1:] if init is not None else ()
        assert params == tuple(cls.__slots__), cls.__name__


def test_records_compare_hash_repr_and_pickle_by_value():
    call = facts.Call("send", facts.NameRef("send"), (facts.Literal("x"),), (("k", facts.Opaque("why")),),
                      False, False, (1, 2), None, True)
    again = pickle.loads(pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == call and hash(again) == hash(call) and again is not call
    assert call != facts.Call("send", facts.NameRef("send"), (facts.Literal("y"),), (), False, False, (1, 2),
                              None, True)
    assert facts.Literal("x") != facts.NameRef("x")  # same fields, another class
    assert facts.EnumAuto() == facts.EnumAuto()
    assert repr(facts.Literal("x")) == "Literal(value='x')"
    module = facts.ModuleFacts(calls=(call,))
    assert pickle.loads(pickle.dumps(module)) == module


# Frozen classes (`@frozen`): what `@dataclass(frozen=True)` gave their callers.

@frozen(order=True)
class _Place:
    path: str
    line: int
    end: int | None = field(default=None, compare=False)


@frozen
class _Settings:
    name: str
    tags: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    hidden: str = field(default="", repr=False)

    @cached_property
    def size(self) -> int:
        return len(self.counts)


def test_frozen_instances_compare_hash_and_order_by_their_compared_fields():
    assert _Place("a", 1) == _Place("a", 1, end=9) and hash(_Place("a", 1)) == hash(_Place("a", 1, 9))
    assert _Place("a", 1) != _Place("a", 2) and _Place("a", 1) != ("a", 1)
    assert sorted([_Place("b", 1), _Place("a", 2), _Place("a", 1)]) == [_Place("a", 1), _Place("a", 2), _Place("b", 1)]
    assert _Place("a", 1) < _Place("a", 2) <= _Place("a", 2) and _Place("b", 0) > _Place("a", 9) >= _Place("a", 9)
    with pytest.raises(TypeError):
        _ = _Settings("x") < _Settings("y")  # no order asked for
    with pytest.raises(TypeError):
        _ = _Place("a", 1) < _Settings("y")


def test_frozen_defaults_are_filled_in_and_each_factory_called_per_instance():
    one, two = _Settings("one"), _Settings("two", ("t",))
    assert (one.tags, one.counts, two.tags) == ((), {}, ("t",))
    assert one.counts is not two.counts
    assert _Settings(name="x", counts={"a": 1}) == _Settings("x", (), {"a": 1})
    assert fields(_Settings) == fields(one) == ("name", "tags", "counts", "hidden")


def test_frozen_instances_cannot_change():
    place = _Place("a", 1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'line'"):
        place.line = 2
    with pytest.raises(AttributeError):
        del place.path
    assert place == _Place("a", 1)


def test_replace_makes_a_changed_copy():
    place = _Place("a", 1, 5)
    assert replace(place, line=2) == _Place("a", 2) and replace(place, line=2).end == 5
    assert replace(place) == place and replace(place) is not place
    with pytest.raises(TypeError, match="unexpected keyword argument 'column'"):
        replace(place, column=3)


def test_frozen_instances_pickle_with_their_cached_properties_and_repr_their_shown_fields():
    settings = _Settings("x", ("a",), {"k": 1}, hidden="secret")
    assert settings.size == 1  # cached in the instance
    again = pickle.loads(pickle.dumps(settings))
    assert again == settings and again.size == 1 and again.hidden == "secret"
    assert repr(settings) == "_Settings(name='x', tags=('a',), counts={'k': 1})"
    assert repr(_Place("a", 1)) == "_Place(path='a', line=1, end=None)"


@pytest.mark.parametrize(("call", "message"), [
    (lambda: _Place("a"), r"_Place.__init__\(\) missing required argument 'line'"),
    (lambda: _Settings(), r"missing required argument 'name'"),
    (lambda: _Place(), r"missing required arguments 'path', 'line'"),
    (lambda: _Place("a", 1, 2, 3), r"takes at most 3 arguments, but 4 were given"),
    (lambda: _Place("a", 1, column=2), r"got an unexpected keyword argument 'column'"),
    (lambda: _Place("a", 1, path="b"), r"got multiple values for argument 'path'"),
])
def test_frozen_constructors_reject_bad_arguments(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_frozen_classes_refuse_a_field_without_default_after_one_with():
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        @frozen
        class _Bad:
            a: int = 0
            b: int


def test_a_frozen_init_written_by_hand_takes_the_fields_in_order_with_their_defaults():
    """`replace` and the callers rely on it: it stands for the generic one."""
    for module in _check_path_modules():
        for cls in vars(module).values():
            if not (isinstance(cls, type) and cls.__module__ == module.__name__ and hasattr(cls, "__frozen_fields__")):
                continue
            params = list(inspect.signature(cls.__init__).parameters.values())[1:]
            if [p.kind for p in params] == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
                continue  # the generic one
            assert tuple(p.name for p in params) == fields(cls), cls
            instance = cls(*[object() for p in params if p.default is inspect.Parameter.empty])
            for p in params:
                if p.default is not inspect.Parameter.empty:
                    assert getattr(instance, p.name) == p.default, (cls, p.name)


def _check_path_modules() -> list[ModuleType]:
    import fedcl_lint.output.report  # noqa: F401 - imports every stage but the reporters and actions
    import fedcl_lint.workflow.pipeline  # noqa: F401

    return [module for name, module in sys.modules.items() if name.startswith("fedcl_lint.")]


def test_equality_written_by_hand_is_by_the_compared_fields():
    assert Location("a", 1, 2) == Location("a", 1, 2, end=(1, 9)) and hash(Location("a", 1, 2)) == hash(
        Location("a", 1, 2, end=(1, 9)))
    assert Location("a", 1, 2) != Location("a", 1, 3) and Location("a", 1, 2) != ("a", 1, 2)
    assert ArgSlot(0, "x") == ArgSlot(0, "x") and hash(ArgSlot(0, "x")) == hash(ArgSlot(0, "x"))
    assert ArgSlot(0, "x") != ArgSlot(0, None) and ArgSlot(None, "x") != ArgSlot(0, "x")
