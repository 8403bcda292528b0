"""Discovery: which files make up the project, and what module each one is.

Which files: the `include` globs, minus the built-in excluded folders, the
`exclude` globs and whatever `.gitignore` ignores. Globs use gitignore syntax
(`settings.globs`) and are matched against paths relative to `root`, the
configuration file's folder. A file named on the command line is always
analysed, as in Ruff.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from fedcl_lint.files import read_bounded
from fedcl_lint.records import frozen, set_field
from fedcl_lint.settings.config import CACHE_DIR_NAME
from fedcl_lint.settings.globs import GlobSpec, glob_spec

# Folders no one wants linted, as in Ruff's defaults.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pytest_cache",
        ".ruff_cache", ".svn", ".tox", ".venv", "__pycache__", "__pypackages__", "_build",
        "buck-out", "build", "dist", "node_modules", "site-packages", "venv",
        CACHE_DIR_NAME,
    }
)


class DiscoveryError(Exception):
    """A path the user named cannot be analysed (a usage error)."""


@frozen
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

    # By hand, as `Location`'s: one for each file of the project.
    def __init__(self, path: Path, display: str, module_names: tuple[str, ...]):
        set_field(self, "path", path)
        set_field(self, "display", display)
        set_field(self, "module_names", module_names)

    def __hash__(self) -> int:
        # files key the load stage's tables, looked up some 50,000 times in a large run:
        # the display path alone tells files apart, and hashing a Path is slow
        return hash(self.display)

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


@frozen
class FileSelection:
    """Which files under an analysed folder belong to the project."""

    root: Path | None = None  # globs are relative to it (None: the working directory)
    include: tuple[str, ...] = ("*.py",)
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True

    @cached_property
    def include_spec(self) -> GlobSpec | None:
        """None for the default `*.py`, which a suffix test decides faster."""
        return None if self.include == ("*.py",) else glob_spec(self.include)

    @cached_property
    def exclude_spec(self) -> GlobSpec | None:
        return glob_spec(self.exclude) if self.exclude else None


@frozen
class Discovery:
    """The project's files, and every folder listed and file looked for (ignore files,
    `__init__.py`) to find them and name their modules: what a replayed run must find unchanged."""

    files: tuple[SourceFile, ...]
    consulted: tuple[Path, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # ignore files that exist but cannot be read: display path, why


def discover(
    paths: list[str] | tuple[str, ...], cwd: Path | None = None, selection: FileSelection = FileSelection()
) -> Discovery:
    """All Python files under `paths`, sorted, each once, and what was consulted to find them."""
    _PACKAGE_PARTS.clear()  # a memo for one run: the next may see a new `__init__.py`
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    root = Path(os.path.abspath(selection.root or cwd))
    found: dict[Path, list[Path]] = {}  # each file, and the given folders that hold it
    consulted: list[Path] = []
    unreadable: list[tuple[Path, str]] = []
    for given in paths:
        absolute = Path(os.path.abspath(cwd / given))
        if not absolute.exists():
            raise DiscoveryError(f"path does not exist: {given}")
        if absolute.is_dir():
            walker = _Walker(selection, root, absolute, consulted, unreadable)
            for file in walker.files():
                found.setdefault(file, []).append(absolute)
        elif absolute.is_file():
            found.setdefault(absolute, []).append(absolute.parent)
        else:
            raise DiscoveryError(f"not a file or directory: {given}")
    for folder in {file.parent for file in found}:
        # module names depend on the `__init__.py` files up to the first folder without one
        consulted.extend(f / "__init__.py" for f in [folder, *folder.parents[: len(_package_parts(str(folder)))]])
    files = [_source_file(file, roots, cwd) for file, roots in found.items()]
    problems = tuple((display_path(path, cwd), reason) for path, reason in dict(unreadable).items())
    return Discovery(tuple(sorted(files, key=lambda f: f.display)), tuple(dict.fromkeys(consulted)), problems)


_Ignores = tuple[tuple[Path, GlobSpec], ...]
_IGNORE_FILE_LIMIT = 8 * 1024 * 1024


class _Walker:
    """Walks one analysed folder, pruning excluded and git-ignored folders on the way down."""

    def __init__(self, selection: FileSelection, root: Path, top: Path, consulted: list[Path],
                 unreadable: list[tuple[Path, str]]):
        self.selection = selection
        self.root = root
        self.top = top
        self.base = root  # patterns are relative to it
        self.consulted = consulted  # folders listed, ignore files looked for
        self.unreadable = unreadable  # ignore files that exist but cannot be read, and why

    def files(self) -> Iterator[Path]:
        ignores = self._inherited_ignores() if self.selection.respect_gitignore else ()
        if self.top != self.root and self._excluded(self.top, True, ignores):
            # The user named a folder the settings exclude: analyse it, as Ruff does,
            # matching the patterns (and ignore files) below it only.
            self.base, ignores = self.top, ()
        yield from self._walk(self.top, ignores)

    def _walk(self, top: Path, inherited: _Ignores) -> Iterator[Path]:
        """Depth first, in name order, with a stack of its own: a tree a thousand folders deep
        must not exhaust Python's."""
        stack = [self._entries(top, inherited)]
        while stack:
            entry, ignores = next(stack[-1], (None, inherited))
            if entry is None:
                stack.pop()
            elif entry.is_dir(follow_symlinks=False):
                if entry.name in DEFAULT_EXCLUDED_DIRS or entry.name.endswith(".egg-info"):
                    continue
                path = Path(entry.path)
                if not self._excluded(path, True, ignores):
                    stack.append(self._entries(path, ignores))
            elif self._included(entry) and _file_like(entry):
                path = Path(entry.path)
                if not self._excluded(path, False, ignores):
                    yield path

    def _entries(self, folder: Path, ignores: _Ignores) -> Iterator[tuple[os.DirEntry[str], _Ignores]]:
        """A folder's entries in name order, each with the ignore files that apply to it."""
        if self.selection.respect_gitignore:
            ignores = ignores + self._gitignore(folder)
        self.consulted.append(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return  # an unreadable folder holds nothing we can analyse
        for entry in entries:
            yield entry, ignores

    def _relative(self, path: Path, is_dir: bool) -> str:
        base = self.base if path.is_relative_to(self.base) else self.top
        return path.relative_to(base).as_posix() + ("/" if is_dir else "")

    def _included(self, entry: os.DirEntry[str]) -> bool:
        spec = self.selection.include_spec
        return entry.name.endswith(".py") if spec is None else spec.match_file(self._relative(Path(entry.path), False))

    def _excluded(self, path: Path, is_dir: bool, ignores: _Ignores) -> bool:
        spec = self.selection.exclude_spec
        if spec is not None and spec.match_file(self._relative(path, is_dir)):
            return True
        return bool(ignores) and _git_ignored(path, is_dir, ignores)

    def _inherited_ignores(self) -> _Ignores:
        """Ignore files that apply to the analysed folder from above it: those of its git
        repository (or, outside one, of the configuration's folder) down to its parent."""
        repository = None
        for folder in (self.top, *self.top.parents):
            git = folder / ".git"
            # whether `folder` is a repository (a `.git` folder's HEAD, or a worktree's `.git` file)
            self.consulted.append(git if git.is_file() else git / "HEAD")
            if git.exists():
                repository = folder
                break
        if repository is not None:
            base, ignores = repository, self._ignore_file(repository / ".git" / "info" / "exclude", repository)
        elif self.top.is_relative_to(self.root):
            base, ignores = self.root, ()
        else:
            return ()
        folder = base
        while folder != self.top:
            ignores += self._gitignore(folder)
            folder = folder / self.top.relative_to(folder).parts[0]
        return ignores

    def _gitignore(self, folder: Path) -> _Ignores:
        return self._ignore_file(folder / ".gitignore", folder)

    def _ignore_file(self, path: Path, base: Path) -> _Ignores:
        self.consulted.append(path)
        try:
            data = read_bounded(path, _IGNORE_FILE_LIMIT)
        except FileNotFoundError:
            return ()
        except OSError as exc:
            if path.exists() or path.is_symlink():  # not a missing one: a link to a device, a huge file...
                self.unreadable.append((path, f"cannot read: {exc.strerror or exc}"))
            return ()
        lines = data.decode("utf-8", errors="replace").splitlines()
        return ((base, glob_spec([line for line in lines if _valid_pattern(line)])),)


def _file_like(entry: os.DirEntry[str]) -> bool:
    """Anything but a folder: a file, and also a link that leads nowhere (missing target, loop) or
    a device, pipe or socket, which are kept so that reading them reports the problem, instead of
    a file silently left out."""
    try:
        return not entry.is_dir()
    except OSError:  # e.g. too many levels of symbolic links
        return True


def _valid_pattern(line: str) -> bool:
    """Git skips a line it cannot read as a pattern (e.g. a lone `!`); so do we."""
    try:
        glob_spec([line])
    except ValueError:
        return False
    return True


def _git_ignored(path: Path, is_dir: bool, ignores: _Ignores) -> bool:
    """Git's rule: the last matching pattern of the deepest ignore file decides."""
    ignored = False
    for base, spec in ignores:
        if not path.is_relative_to(base):
            continue
        decision = spec.decide(path.relative_to(base).as_posix() + ("/" if is_dir else ""))
        if decision is not None:
            ignored = decision
    return ignored


def _source_file(path: Path, roots: list[Path], cwd: Path) -> SourceFile:
    """A file found under the given folders `roots`: each is a way an import may name it, the
    outermost first, whatever the order of the command's paths."""
    # Plain strings: the walker's paths are absolute and normalised, and pathlib's
    # operations cost more than the rest of discovery on a large tree.
    text = str(path)
    below_cwd = _below(text, str(cwd))
    display = below_cwd.replace(os.sep, "/") if below_cwd is not None else display_path(path, cwd)
    outermost_first = sorted({str(root) for root in roots}, key=lambda root: (len(root), root))
    return SourceFile(path=path, display=display, module_names=_module_names(text, outermost_first))


def display_path(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd).replace(os.sep, "/")


def _below(path: str, folder: str) -> str | None:
    """`path` relative to `folder` when inside it (both absolute and normalised), else None."""
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    return path[len(prefix):] if path.startswith(prefix) else None


def _module_names(path: str, roots: list[str]) -> tuple[str, ...]:
    folder, name = os.path.split(path)
    parts = list(_package_parts(folder))
    if name != "__init__.py":
        parts.append(os.path.splitext(name)[0])
    names = [".".join(parts)] if parts else []
    for root in roots:
        relative = _below(path, root)
        if relative is None:
            continue
        rel_parts = os.path.splitext(relative)[0].split(os.sep)
        if rel_parts[-1] == "__init__":
            rel_parts.pop()
        if rel_parts:
            rel_name = ".".join(rel_parts)
            if rel_name not in names:
                names.append(rel_name)
    return tuple(names)


_PACKAGE_PARTS: dict[str, tuple[str, ...]] = {}


def _package_parts(folder: str) -> tuple[str, ...]:
    """The dotted package path of a folder: its name after its parent's, while `__init__.py` files say so.

    Memoised per folder (and cleared by each `discover`): a tree's files share their folders,
    and each check is a system call. A loop, not a recursion: packages may nest a thousand deep.
    """
    pending: list[str] = []
    current = folder
    while current not in _PACKAGE_PARTS:
        if not os.path.isfile(os.path.join(current, "__init__.py")):
            _PACKAGE_PARTS[current] = ()
            break
        parent = os.path.dirname(current)
        if parent == current:
            _PACKAGE_PARTS[current] = (os.path.basename(current),)
            break
        pending.append(current)
        current = parent
    parts = _PACKAGE_PARTS[current]
    for child in reversed(pending):
        parts = (*parts, os.path.basename(child))
        _PACKAGE_PARTS[child] = parts
    return _PACKAGE_PARTS[folder]
