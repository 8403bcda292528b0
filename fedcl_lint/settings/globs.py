"""Gitignore-style globs (`include`, `exclude`, `per-file-ignores`, `.gitignore`): the one place they are compiled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import pathspec


def glob_spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """Gitignore-style patterns, compiled (the one place pathspec is used)."""
    import pathspec  # loaded only when there are patterns to match: most runs have none

    return pathspec.GitIgnoreSpec.from_lines(lines)
