"""FCL002's "did you mean": difflib's answer on ordinary projects, bounded work on huge ones
(fedcl_lint/checks/suggestions.py)."""

from __future__ import annotations

import difflib
import random

from fedcl_lint.checks.suggestions import Suggestions


def _difflib_answer(name: str, candidates: list[str]) -> str | None:
    """What comparing every pair says: the first same-but-for-case in order, else difflib's best."""
    for candidate in sorted(candidates):
        if candidate.casefold() == name.casefold():
            return candidate
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


def test_on_ordinary_projects_the_answer_is_difflibs():
    generator = random.Random(7)
    alphabet = "ABCDEFGHIJ_"
    for _ in range(300):
        handled = ["".join(generator.choices(alphabet, k=generator.randint(3, 12))) for _ in range(40)]
        name = "".join(generator.choices(alphabet, k=generator.randint(3, 12)))
        assert Suggestions(handled).suggest(name) == _difflib_answer(name, handled), (name, handled)


def test_the_usual_near_misses_are_suggested():
    suggestions = Suggestions(["SHUTDOWN", "TRAIN_REQUEST", "EVALUATE"])

    assert suggestions.suggest("shutdown") == "SHUTDOWN"
    assert suggestions.suggest("TRAIN_REQEST") == "TRAIN_REQUEST"
    assert suggestions.suggest("XVALUATE") == "EVALUATE"  # a typo at the start: found from the end
    assert suggestions.suggest("HEARTBEAT") is None


def test_thousands_of_handled_and_unhandled_types_take_bounded_work(monkeypatch):
    """3,000 handled and 3,000 unhandled types compared every pair: 9 million comparisons, 24 s."""
    compared = []

    class Counting(difflib.SequenceMatcher):
        def set_seq1(self, a):
            if a:  # not the empty start every matcher has
                compared.append(a)
            super().set_seq1(a)

    monkeypatch.setattr(difflib, "SequenceMatcher", Counting)  # what the module imports when it suggests
    handled = [f"MESSAGE_TYPE_{number:05d}" for number in range(3000)]
    suggestions = Suggestions(handled)
    found = [suggestions.suggest(f"MESSAGE_TYPO_{number:05d}") for number in range(3000)]

    assert len(compared) <= Suggestions.BUDGET + Suggestions.LIMIT
    assert found[:3] == ["MESSAGE_TYPE_00000", "MESSAGE_TYPE_00001", "MESSAGE_TYPE_00002"]
    assert found[-1] is None  # past the budget: same-but-for-case only
