"""Discovery: which files make up the project, and what module each one is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Folders no one wants linted, as in Ruff's defaults.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pytest_cache",
        ".ruff_cache", ".svn", ".tox", ".venv", "__pycache__", "__pypackages__", "_build",
        "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
        ".fedcl-lint-cache",
    }
)


class DiscoveryError(Exception):
    """A path the user named cannot be analysed (a usage error)."""


@dataclass(frozen=True)
class SourceFile:
    """One Python file of the project.

    `display` is relative to the working directory with forward slashes.
    `module_names` are the dotted names an import may use for it: the name its
    packages (`__init__.py`) give it, then its path below the analysed root
    (for namespace packages and source folders without `__init__.py`).
    """

    path: Path
    display: str
    module_names: tuple[str, ...]

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def discover(paths: list[str] | tuple[str, ...], cwd: Path | None = None) -> list[SourceFile]:
    """All Python files under `paths`, sorted, each once."""
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    found: dict[Path, SourceFile] = {}
    for given in paths:
        absolute = Path(os.path.abspath(cwd / given))
        if not absolute.exists():
            raise DiscoveryError(f"path does not exist: {given}")
        if absolute.is_dir():
            root = absolute
            for file in _walk(absolute):
                found.setdefault(file, _source_file(file, root, cwd))
        elif absolute.is_file():
            found.setdefault(absolute, _source_file(absolute, absolute.parent, cwd))
        else:
            raise DiscoveryError(f"not a file or directory: {given}")
    return sorted(found.values(), key=lambda f: f.display)


def _walk(root: Path):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_EXCLUDED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def _source_file(path: Path, root: Path, cwd: Path) -> SourceFile:
    return SourceFile(path=path, display=display_path(path, cwd), module_names=_module_names(path, root))


def display_path(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd).replace(os.sep, "/")


def _module_names(path: Path, root: Path) -> tuple[str, ...]:
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        if folder == folder.parent:
            break
        folder = folder.parent
    names = [".".join(parts)] if parts else []
    try:
        relative = path.relative_to(root).with_suffix("")
    except ValueError:
        relative = None
    if relative is not None:
        rel_parts = list(relative.parts)
        if rel_parts and rel_parts[-1] == "__init__":
            rel_parts.pop()
        if rel_parts:
            rel_name = ".".join(rel_parts)
            if rel_name not in names:
                names.append(rel_name)
    return tuple(names)
