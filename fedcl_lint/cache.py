"""A cache of per-file facts, keyed by content hash, tool version, Python version and rule pack.

All entries of one tool version and rule pack live in one file, read once at
the start of a run and replaced atomically (a temporary file, then a rename) at
the end: thousands of small files would cost more in system calls than parsing
saves. Concurrent runs each write a complete, valid file and the last one wins.
A corrupted or truncated file is an empty cache, never an error. Entries are
unpickled with an allow-list of fact classes only, so a cache folder shipped
inside an untrusted repository cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from fedcl_lint import __version__

if TYPE_CHECKING:  # the fact classes are loaded when the cache is read: a replayed run never needs them
    from fedcl_lint.facts import ModuleFacts
    from fedcl_lint.rulepack import RulePack

CACHE_DIR_NAME = ".fedcl-lint-cache"
_FORMAT = "3"
_MAX_ENTRIES = 200_000  # bounds the file when many trees share one cache


class FactCache:
    """Facts by content key, for one tool version and rule pack."""

    def __init__(self, directory: Path, pack: RulePack):
        self.directory = Path(directory)
        # the parser is Python's own: another Python may accept other syntax
        python = ".".join(map(str, sys.version_info[:2]))
        identity = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{python}\0{pack.fingerprint}".encode()).hexdigest()
        self.path = self.directory / f"facts-{identity[:16]}.pickle"
        self._entries: dict[str, ModuleFacts] | None = None
        self._added = False

    @staticmethod
    def key(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def get(self, key: str) -> ModuleFacts | None:
        return self._load().get(key)

    def put(self, key: str, value: ModuleFacts) -> None:
        entries = self._load()
        entries[key] = value
        self._added = True

    def save(self) -> None:
        """Write the cache if this run added to it; a read-only or full disk costs speed only."""
        if not self._added:
            return
        entries = self._load()
        if len(entries) > _MAX_ENTRIES:
            entries = dict(list(entries.items())[-_MAX_ENTRIES:])
        import tempfile  # only a run that adds entries writes

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by fedcl-lint: the cache is not for version control.\n*\n")
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".pickle")
            try:
                with os.fdopen(handle, "wb") as stream:
                    pickle.dump(entries, stream, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            return
        self._added = False

    def _load(self) -> dict[str, ModuleFacts]:
        if self._entries is None:
            self._entries = _read(self.path)
        return self._entries


def default_cache_dir(paths: Iterable[str], cwd: Path) -> Path:
    """`.fedcl-lint-cache` at the project root: the nearest folder above the first path
    (or the working directory) holding a pyproject.toml or a .git, else the working directory."""
    start = Path(os.path.abspath(cwd / next(iter(paths), ".")))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate / CACHE_DIR_NAME
    return cwd / CACHE_DIR_NAME


def _read(path: Path) -> dict[str, ModuleFacts]:
    from fedcl_lint.facts import ModuleFacts

    try:
        data = path.read_bytes()
    except OSError:
        return {}
    try:
        entries = _FactsUnpickler(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, IndexError, KeyError,
            ImportError, MemoryError):
        return {}  # corrupted or truncated: start afresh
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, ModuleFacts)}


class _FactsUnpickler(pickle.Unpickler):
    """Only fact classes may be rebuilt: anything else is a corrupted (or hostile) file."""

    def find_class(self, module: str, name: str):
        from fedcl_lint import facts

        if module == facts.__name__ and name in facts.__all__:
            return getattr(facts, name)
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the cache")
