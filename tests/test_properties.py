"""Property tests: extraction survives any program Python's grammar allows, and finds a send in it.

Programs come from hypothesmith's grammar-based generator; the runs are
derandomised (the same examples every run, so CI is reproducible) and bounded.
"""

from __future__ import annotations

import ast
import tempfile
import warnings
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from fedcl_lint.analysis.extract import extract
from fedcl_lint.analysis.facts import Literal
from fedcl_lint.settings.rulepack import load_packs

PACK = load_packs(["fedcl"])
# hypothesmith compiles what it generates; Python warns about some of it (`1()`): noise here
NO_GENERATOR_WARNINGS = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore::DeprecationWarning")
PROBE = 'cm.send_business_message("t", "X", {})'
BOUNDED = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@NO_GENERATOR_WARNINGS
@BOUNDED
@given(hypothesmith.from_grammar())
def test_extract_never_raises(source):
    facts = extract(source.encode("utf-8", "surrogatepass"), PACK)

    if facts.failure is not None:  # a located failure, never an exception
        assert facts.failure.message and min(facts.failure.position) >= 1


@NO_GENERATOR_WARNINGS
@BOUNDED
@given(hypothesmith.from_grammar())
def test_an_appended_send_is_found(program):
    source = f"{program}\n\n{PROBE}\n"
    try:
        data = source.encode("utf-8")
        tree = ast.parse(data)
    except (UnicodeEncodeError, SyntaxError, ValueError):
        assume(False)  # the generator may produce what the grammar allows but the parser refuses
        return
    probe = tree.body[-1].value  # the appended call, at the start of its line

    facts = extract(data, PACK)

    assert facts.failure is None
    sends = [c.position for c in facts.calls
             if c.name == "send_business_message" and c.args[:2] == (Literal("t"), Literal("X"))]
    assert (probe.lineno, 1) in sends


def test_extraction_lets_no_warning_of_the_analysed_code_escape():
    """Python warns about some valid code while parsing it (an invalid escape such as "\\d": a
    DeprecationWarning on 3.11, a SyntaxWarning printed on stderr from 3.12). Those warnings are
    about the analysed code, not the run: they must neither reach the user's terminal nor, under
    `-W error`, turn a valid file into an FCL900."""
    source = b'PATTERN = "\\d+"\ncm.send_business_message("t", "X", {})\n'

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = extract(source, PACK)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        strict = extract(source, PACK)

    assert [str(w.message) for w in caught] == []
    assert facts.failure is None
    assert strict.failure is None


# Class hierarchies with every shape the linker must survive: bases in any order, cycles,
# Enum and StrEnum bases, attributes defined in terms of other classes, across two modules
# that import each other.
_CLASS = st.sampled_from(["C0", "C1", "C2", "C3"])
_BASE = st.one_of(_CLASS, st.sampled_from(["Enum", "StrEnum", "str", "object"]))
_VALUE = st.one_of(
    st.sampled_from(['"a"', '"b"', "auto()"]),
    st.builds(lambda c, a: f"{c}.{a}", _CLASS, st.sampled_from(["X", "Y"])),
)
_REFERENCE = st.builds(
    lambda c, a, tail: f"{c}.{a}{tail}", _CLASS, st.sampled_from(["X", "Y", "Z"]),
    st.sampled_from(["", ".value", ".name"]),
)


def _class_source(name: str, bases: list[str], attributes: dict[str, str]) -> str:
    body = "".join(f"    {attribute} = {value}\n" for attribute, value in attributes.items()) or "    pass\n"
    return f"class {name}({', '.join(bases)}):\n{body}\n"


@st.composite
def _class_graph_project(draw) -> dict[str, str]:
    modules = {"m0.py": "from enum import Enum, StrEnum, auto\nfrom m1 import C2, C3\n\n",
               "m1.py": "from enum import Enum, StrEnum, auto\nfrom m0 import C0, C1\n\n"}
    for index in range(4):
        bases = draw(st.lists(_BASE, max_size=3, unique=True))
        attributes = draw(st.dictionaries(st.sampled_from(["X", "Y"]), _VALUE, max_size=2))
        modules[f"m{index // 2}.py"] += _class_source(f"C{index}", bases, attributes)
    for reference in draw(st.lists(_REFERENCE, min_size=1, max_size=3)):
        modules["m0.py"] += f'comm.send_business_message("t", {reference}, {{}})\n'
    modules["m1.py"] += f"comm.register_message_handler({draw(_REFERENCE)}, print)\n"
    return modules


@BOUNDED
@given(_class_graph_project())
@example({
    "m0.py": "class C0(C1):\n    pass\n\nclass C1(C0):\n    pass\n\ncomm.send_business_message('t', C0.X, {})\n",
    "m1.py": "",
})
def test_linking_survives_any_class_hierarchy(project):
    """Resolution follows bases and attributes across modules; a cycle must end in an unresolved
    reason, never in a RecursionError."""
    from fedcl_lint.workflow.pipeline import analyze

    with tempfile.TemporaryDirectory() as folder:
        for name, source in project.items():
            (Path(folder) / name).write_text(source)
        analysis = analyze(["."], cwd=Path(folder))

    sites = sum(source.count("comm.") for source in project.values())
    assert analysis.table.site_count == sites
