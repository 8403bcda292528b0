"""Paths in CI reports: relative to the repository root, wherever in the repository the report is made.

GitHub code scanning, GitHub annotations and GitLab match a report's paths against the
repository's files, so a report made from a subfolder (`cd services/fl && fedcl-lint check
--format sarif`) must still say `services/fl/server.py`. The repository root is the nearest
folder, from the working directory upwards, that holds a `.git` (a folder, or the file of a
worktree or submodule); without one, the working directory. The text and JSON reports keep
paths relative to the working directory, as Ruff does.
"""

from __future__ import annotations

import os
from pathlib import Path

from fedcl_lint.records import frozen, replace
from fedcl_lint.types import Location


def repository_root(start: Path) -> Path | None:
    """The nearest folder from `start` (absolute) upwards that holds a `.git`, else None."""
    folder = Path(os.path.abspath(start))
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return candidate
    return None


@frozen
class ReportPaths:
    """Turns the display paths of a run (relative to `cwd`) into paths relative to `root`."""

    cwd: Path
    root: Path

    @classmethod
    def of(cls, cwd: Path | None) -> ReportPaths:
        here = Path(os.path.abspath(cwd or Path.cwd()))
        return cls(here, repository_root(here) or here)

    def path(self, display: str) -> str:
        if self.root == self.cwd:
            return display
        absolute = os.path.normpath(os.path.join(self.cwd, display))
        try:
            return os.path.relpath(absolute, self.root).replace(os.sep, "/")
        except ValueError:  # on another drive (Windows): no relative path
            return absolute.replace(os.sep, "/")

    def location(self, location: Location) -> Location:
        return replace(location, path=self.path(location.path))
