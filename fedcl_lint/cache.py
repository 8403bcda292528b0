"""A cache of per-file facts, keyed by content hash, tool version, Python version and rule pack.

The entries of one tool version and rule pack live in one base file, plus a few
small files of additions: a run that parsed a handful of changed files writes
only those (rewriting every entry cost 0.1 s on 2,000 files), and once there are
`_MAX_ADDITIONS` of them, or they outgrow a quarter of the base, the next run
folds them into a new base. Thousands of one-entry files would cost more in
system calls than parsing saves. Every file is written whole under a temporary
name and then renamed, so concurrent runs never see half a file, and a file that
vanishes or is corrupted or truncated is a cache miss, never an error. Entries
are unpickled with an allow-list of fact classes only, so a cache folder shipped
inside an untrusted repository cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fedcl_lint import __version__

if TYPE_CHECKING:  # the fact classes are loaded when the cache is read: a replayed run never needs them
    from fedcl_lint.facts import ModuleFacts
    from fedcl_lint.rulepack import RulePack

CACHE_DIR_NAME = ".fedcl-lint-cache"
_FORMAT = "3"
_MAX_ENTRIES = 200_000  # bounds the base when many trees share one cache
_MAX_ADDITIONS = 8


class FactCache:
    """Facts by content key, for one tool version and rule pack."""

    def __init__(self, directory: Path, pack: RulePack):
        self.directory = Path(directory)
        # the parser is Python's own: another Python may accept other syntax
        python = ".".join(map(str, sys.version_info[:2]))
        identity = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{python}\0{pack.fingerprint}".encode()).hexdigest()
        self.path = self.directory / f"facts-{identity[:16]}.pickle"
        self._entries: dict[str, ModuleFacts] | None = None  # read on first use
        self._base_size = 0
        self._additions: list[Path] = []  # the addition files read
        self._new: dict[str, ModuleFacts] = {}

    @staticmethod
    def key(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def get(self, key: str) -> ModuleFacts | None:
        return self._load().get(key)

    def put(self, key: str, value: ModuleFacts) -> None:
        self._load()[key] = value
        self._new[key] = value

    def save(self) -> None:
        """Write what this run added; a read-only or full disk costs speed only."""
        if not self._new:
            return
        entries = self._load()
        added = len(entries) - self._base_size
        folding = len(self._additions) + 1 > _MAX_ADDITIONS or added > self._base_size / 4
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by fedcl-lint: the cache is not for version control.\n*\n")
            if folding:
                if len(entries) > _MAX_ENTRIES:
                    entries = dict(list(entries.items())[-_MAX_ENTRIES:])
                _write(self.path, entries)
                for addition in self._additions:  # folded in: others written meanwhile stay
                    addition.unlink(missing_ok=True)
            else:
                _write(self.directory / f"{self.path.stem}.{os.getpid()}-{os.urandom(4).hex()}.added", self._new)
        except OSError:
            return
        self._new = {}

    def _load(self) -> dict[str, ModuleFacts]:
        if self._entries is None:
            self._entries = _read(self.path)
            self._base_size = len(self._entries)
            self._additions = sorted(self.directory.glob(f"{self.path.stem}.*.added"))
            for addition in self._additions:
                self._entries.update(_read(addition))
        return self._entries


def _write(path: Path, entries: dict[str, ModuleFacts]) -> None:
    from fedcl_lint.files import replace_atomically  # only a run that adds entries writes

    replace_atomically(path, pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))


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
