"""What a `check` printed and how it exited: made by `check_run`, kept and replayed by `replay`.

A module of its own so that a run without a cache loads neither `replay` nor what replaying
needs (hashing, pickling, the cache folder).
"""

from __future__ import annotations

from fedcl_lint.records import frozen


@frozen
class Outcome:
    """What a run printed and how it exited."""

    report: str
    exit_code: int
    summary: str | None = None  # the GitHub job summary, for --format github
