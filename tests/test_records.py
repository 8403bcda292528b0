"""Records (`fedcl_lint/records.py`) keep the value semantics the frozen dataclasses had: equality,
hash and repr by fields, and pickling (the fact cache) as a call of the class with them."""

from __future__ import annotations

import inspect
import pickle

import fedcl_lint.analysis.link  # noqa: F401 - defines the link stage's records
from fedcl_lint.analysis import facts
from fedcl_lint.records import Record


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
