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
    consulted: tuple[str, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # ignore files that exist but cannot be read: display path, why


def discover(
    paths: list[str] | tuple[str, ...], cwd: Path | None = None, selection: FileSelection = FileSelection()
) -> Discovery:
    """All Python files under `paths`, sorted, each once, and what was consulted to find them.

    Paths are plain strings from here on, absolute and normalised: pathlib's operations cost more
    than the rest of discovery on a large tree. A file's `Path`, for its `SourceFile`, is its folder's
    (made once) joined with its name.
    """
    _PACKAGE_PARTS.clear()  # a memo for one run: the next may see a new `__init__.py`
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    root = os.path.abspath(selection.root or cwd)
    found: dict[str, list[str]] = {}  # each file, and the given folders that hold it
    consulted: list[str] = []
    unreadable: list[tuple[str, str]] = []
    for given in paths:
        absolute = Path(os.path.abspath(cwd / given))
        if not absolute.exists():
            raise DiscoveryError(f"path does not exist: {given}")
        if absolute.is_dir():
            top = str(absolute)
            for file in _Walker(selection, root, top, consulted, unreadable).files():
                found.setdefault(file, []).append(top)
        elif absolute.is_file():
            found.setdefault(str(absolute), []).append(str(absolute.parent))
        else:
            raise DiscoveryError(f"not a file or directory: {given}")
    files = _source_files(found, str(cwd), consulted)
    problems = tuple((display_path(path, cwd), reason) for path, reason in dict(unreadable).items())
    return Discovery(tuple(sorted(files, key=lambda f: f.display)), tuple(dict.fromkeys(consulted)), problems)


_Ignores = tuple[tuple[str, GlobSpec], ...]  # each ignore file's folder and patterns
_IGNORE_FILE_LIMIT = 8 * 1024 * 1024


class _Walker:
    """Walks one analysed folder, pruning excluded and git-ignored folders on the way down."""

    def __init__(self, selection: FileSelection, root: str, top: str, consulted: list[str],
                 unreadable: list[tuple[str, str]]):
        self.selection = selection
        self.root = root
        self.top = top
        self.base = root  # patterns are relative to it
        self.consulted = consulted  # folders listed, ignore files looked for
        self.unreadable = unreadable  # ignore files that exist but cannot be read, and why

    def files(self) -> Iterator[str]:
        ignores = self._inherited_ignores() if self.selection.respect_gitignore else ()
        if self.top != self.root and self._excluded(self.top, True, ignores):
            # The user named a folder the settings exclude: analyse it, as Ruff does,
            # matching the patterns (and ignore files) below it only.
            self.base, ignores = self.top, ()
        yield from self._walk(self.top, ignores)

    def _walk(self, top: str, inherited: _Ignores) -> Iterator[str]:
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
                if not self._excluded(entry.path, True, ignores):
                    stack.append(self._entries(entry.path, ignores))
            elif self._included(entry) and _file_like(entry):
                if not self._excluded(entry.path, False, ignores):
                    yield entry.path

    def _entries(self, folder: str, ignores: _Ignores) -> Iterator[tuple[os.DirEntry[str], _Ignores]]:
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

    def _relative(self, path: str, is_dir: bool) -> str:
        relative = _relative(path, self.base)
        if relative is None:  # `top` is outside the configuration's folder
            relative = _relative(path, self.top)
            assert relative is not None  # the walk stays in `top`
        return relative + ("/" if is_dir else "")

    def _included(self, entry: os.DirEntry[str]) -> bool:
        spec = self.selection.include_spec
        return entry.name.endswith(".py") if spec is None else spec.match_file(self._relative(entry.path, False))

    def _excluded(self, path: str, is_dir: bool, ignores: _Ignores) -> bool:
        spec = self.selection.exclude_spec
        if spec is not None and spec.match_file(self._relative(path, is_dir)):
            return True
        return bool(ignores) and _git_ignored(path, is_dir, ignores)

    def _inherited_ignores(self) -> _Ignores:
        """Ignore files that apply to the analysed folder from above it: those of its git
        repository (or, outside one, of the configuration's folder) down to its parent."""
        top = Path(self.top)  # a few folders up: pathlib's errors, as they always were
        repository = None
        for folder in (top, *top.parents):
            git = folder / ".git"
            # whether `folder` is a repository (a `.git` folder's HEAD, or a worktree's `.git` file)
            self.consulted.append(str(git if git.is_file() else git / "HEAD"))
            if git.exists():
                repository = folder
                break
        if repository is not None:
            base, ignores = repository, self._ignore_file(os.path.join(repository, ".git", "info", "exclude"),
                                                          str(repository))
        elif _relative(self.top, self.root) is not None:
            base, ignores = Path(self.root), ()
        else:
            return ()
        folder = base
        while folder != top:
            ignores += self._gitignore(str(folder))
            folder = folder / top.relative_to(folder).parts[0]
        return ignores

    def _gitignore(self, folder: str) -> _Ignores:
        return self._ignore_file(os.path.join(folder, ".gitignore"), folder)

    def _ignore_file(self, path: str, base: str) -> _Ignores:
        self.consulted.append(path)
        try:
            data = read_bounded(path, _IGNORE_FILE_LIMIT)
        except FileNotFoundError:
            return ()
        except OSError as exc:
            if Path(path).exists() or Path(path).is_symlink():  # not a missing one: a link to a device, a huge file...
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


def _git_ignored(path: str, is_dir: bool, ignores: _Ignores) -> bool:
    """Git's rule: the last matching pattern of the deepest ignore file decides."""
    ignored = False
    for base, spec in ignores:
        relative = _relative(path, base)
        if relative is None:
            continue
        decision = spec.decide(relative + ("/" if is_dir else ""))
        if decision is not None:
            ignored = decision
    return ignored


def _relative(path: str, folder: str) -> str | None:
    """`path` relative to `folder`, `/`-separated (`.` for the folder itself), when inside it (both
    absolute and normalised), else None: `PurePath.relative_to(folder).as_posix()`."""
    if path == folder:
        return "."
    prefix = folder if folder.endswith(os.sep) else folder + os.sep
    return path[len(prefix):].replace(os.sep, "/") if path.startswith(prefix) else None


def _source_files(found: dict[str, list[str]], cwd: str, consulted: list[str]) -> list[SourceFile]:
    """Each file found under the given folders `roots`: each is a way an import may name it, the
    outermost first, whatever the order of the command's paths. What a file's folder decides (its
    display path, its package, its path below each root) is worked out once per folder, when the
    `__init__.py` files its package depends on (up to the first folder without one) are consulted."""
    folders: dict[str, tuple[Path, str | None, tuple[str, ...]]] = {}  # its Path, relative to `cwd`, package
    below: dict[tuple[str, tuple[str, ...]], list[tuple[str, ...]]] = {}  # a folder's parts below each root
    files = []
    for path, roots in found.items():
        folder, name = os.path.split(path)
        if folder not in folders:
            folders[folder] = (Path(folder), _relative(folder, cwd), _package_parts(folder))
            consulted.extend(_init_files(folder, len(folders[folder][2])))
        folder_path, shown, package = folders[folder]
        outermost_first = tuple(roots) if len(roots) == 1 else tuple(sorted(set(roots), key=lambda r: (len(r), r)))
        if (folder, outermost_first) not in below:
            below[folder, outermost_first] = [tuple(relative.split("/")) if relative != "." else ()
                                              for root in outermost_first
                                              if (relative := _relative(folder, root)) is not None]
        display = (name if shown == "." else f"{shown}/{name}") if shown is not None else display_path(path, cwd)
        module_names = _module_names(name, package, below[folder, outermost_first])
        files.append(SourceFile(folder_path / name, display, module_names))
    return files


def _init_files(folder: str, depth: int) -> Iterator[str]:
    """The `__init__.py` of `folder` and of its `depth` nearest parents."""
    yield os.path.join(folder, "__init__.py")
    for _ in range(depth):
        folder = os.path.dirname(folder)
        yield os.path.join(folder, "__init__.py")


def display_path(path: Path | str, cwd: Path | str) -> str:
    return os.path.relpath(path, cwd).replace(os.sep, "/")


def _module_names(name: str, package: tuple[str, ...], below_roots: list[tuple[str, ...]]) -> tuple[str, ...]:
    """A file's module names: the name its package gives it, then its dotted path below each root
    (its folder's parts there given), a package's `__init__` left out."""
    stem = os.path.splitext(name)[0]
    parts = package if name == "__init__.py" else (*package, stem)
    names = [".".join(parts)] if parts else []
    for folder_parts in below_roots:
        relative = folder_parts if stem == "__init__" else (*folder_parts, stem)
        if relative:
            dotted = ".".join(relative)
            if dotted not in names:
                names.append(dotted)
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
