"""Did you mean: the handled message type an unhandled one was probably meant to be."""

from __future__ import annotations

import bisect
from collections.abc import Iterable


class Suggestions:
    """"Did you mean": the handled type an unhandled name was probably meant to be, the same but for
    case, or close (difflib's ratio >= 0.75, the best, the last in order on a tie).

    In bounded work: a project with thousands of handled and unhandled types compared every pair
    (24 s for 3,000 of each). Same-but-for-case is a lookup. Only names of a length that can reach
    the cutoff are compared; among more than `LIMIT` handled types, only the `LIMIT` nearest in
    sorted order and in sorted order of the reversed names (a typo keeps the start, or the end, of
    a name); and once a run has made `BUDGET` comparisons, only same-but-for-case is suggested.
    """

    LIMIT = 100
    BUDGET = 20_000
    CUTOFF = 0.75

    def __init__(self, candidates: Iterable[str]):
        self.ordered = sorted(candidates)
        self.by_case: dict[str, str] = {}
        for candidate in self.ordered:
            self.by_case.setdefault(candidate.casefold(), candidate)
        self.reversed = sorted(candidate[::-1] for candidate in self.ordered)
        self.budget = self.BUDGET

    def suggest(self, name: str) -> str | None:
        same = self.by_case.get(name.casefold())
        if same is not None or self.budget <= 0:
            return same
        import difflib  # loaded once a finding needs a suggestion

        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(name)
        best: tuple[float, str] | None = None
        pool = self._pool(name)
        self.budget -= len(pool)
        for candidate in pool:
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() >= self.CUTOFF and matcher.quick_ratio() >= self.CUTOFF:
                score = (matcher.ratio(), candidate)
                if score[0] >= self.CUTOFF and (best is None or score > best):
                    best = score
        return best[1] if best is not None else None

    def _pool(self, name: str) -> list[str]:
        """The candidates whose length lets the ratio reach the cutoff (2 * shorter / total)."""
        shortest, longest = len(name) * 0.6, len(name) / 0.6
        if len(self.ordered) <= self.LIMIT:
            return [c for c in self.ordered if shortest <= len(c) <= longest]
        quarter = self.LIMIT // 4
        near = _neighbours(self.ordered, name, quarter)
        near += [c[::-1] for c in _neighbours(self.reversed, name[::-1], quarter)]
        return sorted({c for c in near if shortest <= len(c) <= longest})


def _neighbours(ordered: list[str], name: str, count: int) -> list[str]:
    """The `count` entries of a sorted list before where `name` would go, and the `count` after."""
    at = bisect.bisect_left(ordered, name)
    return ordered[max(0, at - count): at + count]
