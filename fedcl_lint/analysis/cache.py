"""A cache of per-file facts, keyed by content hash, tool version, Python version and what
extraction reads of the rule pack.

Each entry is pickled on its own, so a run reads only the entries it asks for:
a run whose prefilter skips most files never unpickles their facts.
A file of entries is an index (key -> where its bytes are) followed by the
entries' bytes. The entries of one tool version and rule pack live in one base
file, plus a few small files of additions: a run that parsed a handful of
changed files writes only those, and once there are `_MAX_ADDITIONS` of them, or
they outgrow a quarter of the base, the next run folds them into a new base
(copying bytes, never pickling an entry again). Thousands of one-entry files
would cost more in system calls than parsing saves. Every file is written whole
under a temporary name and then renamed, so concurrent runs never see half a
file, and a file or entry that vanishes or is corrupted or truncated is a cache
miss, never an error. Entries are unpickled with an allow-list of fact classes
only, so a cache folder shipped inside an untrusted repository cannot run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import struct
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedcl_lint import __version__
from fedcl_lint.analysis.cache_folder import CacheFolder

if TYPE_CHECKING:  # the fact classes are loaded when the cache is read: a replayed run never needs them
    from fedcl_lint.analysis.facts import ModuleFacts
    from fedcl_lint.settings.rulepack import RulePack

_FORMAT = "15"  # 11: calls carry where they end; 12: reflection (loops, getattr, templates, decorators);
# 13: what a call's `**` passes; 14: comparisons of a received message's type; 15: literals stored on `self`
_MAGIC = f"fedcl-lint facts {_FORMAT}\n".encode()
_MAX_ENTRIES = 200_000  # bounds the base when many trees share one cache
# what unpickling a corrupted, truncated or hostile file raises (the allow-lists raise UnpicklingError)
UNPICKLING_ERRORS = (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, IndexError, KeyError,
                     ImportError, MemoryError)
_MAX_ADDITIONS = 8
_MAX_FILE_BYTES = 4 << 30  # a cache file larger than this was not written by us


class FactCache:
    """Facts by content key, for one tool version and rule pack."""

    def __init__(self, directory: Path, pack: RulePack):
        self.directory = Path(directory)
        self.folder = CacheFolder(self.directory)
        # the parser is Python's own: another Python may accept other syntax
        python = ".".join(map(str, sys.version_info[:2]))
        what = f"{_FORMAT}\0{__version__}\0{python}\0{pack.extraction_fingerprint}"
        identity = hashlib.sha256(what.encode()).hexdigest()
        self.path = self.directory / f"facts-{identity[:16]}.pickle"
        self._files: list[EntryFile] | None = None  # the base, then the additions: read on first use
        self._new: dict[str, bytes] = {}  # what this run added, pickled

    @staticmethod
    def key(content: bytes) -> str:
        return hashlib.sha256(content).hexdigest()

    def get(self, key: str) -> ModuleFacts | None:
        for entries in reversed(self._load()):
            if key in entries:
                return entries.facts(key)
        return None

    def put(self, key: str, value: ModuleFacts, data: bytes | None = None) -> None:
        """Add an entry; `data` is `value` pickled already (by the worker that extracted it)."""
        self._new[key] = data if data is not None else pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def save(self) -> None:
        """Write what this run added; a read-only or full disk costs speed only."""
        if not self._new:
            return
        base, *additions = self._load()
        added = sum(len(entries) for entries in additions) + len(self._new)
        folding = len(additions) + 1 > _MAX_ADDITIONS or added > len(base) / 4
        if folding:
            every: dict[str, bytes] = {}
            for entries in self._load():
                every.update(entries.items())
            every.update(self._new)
            if len(every) > _MAX_ENTRIES:
                every = dict(list(every.items())[-_MAX_ENTRIES:])
            if not self.folder.write(self.path.name, _entry_file(every)):
                return
            for entries in additions:  # folded in: others written meanwhile stay
                with contextlib.suppress(OSError):
                    entries.path.unlink(missing_ok=True)
        else:
            name = f"{self.path.stem}.{os.getpid()}-{os.urandom(4).hex()}.added"
            if not self.folder.write(name, _entry_file(self._new)):
                return
        self._new = {}

    def _load(self) -> list[EntryFile]:
        if self._files is None:
            additions = sorted(self.directory.glob(f"{self.path.stem}.*.added")) if self.folder.usable() else []
            self._files = [EntryFile.read(self.folder, path) for path in (self.path, *additions)]
        return self._files


class EntryFile:
    """One file of entries: its index, and the bytes of each entry."""

    def __init__(self, path: Path, index: dict[str, tuple[int, int]], blobs: memoryview):
        self.path = path
        self.index = index
        self.blobs = blobs

    @classmethod
    def read(cls, folder: CacheFolder, path: Path) -> EntryFile:
        """The entries of `path`; none if it is missing, corrupted, truncated or not ours."""
        data = folder.read(path.name, _MAX_FILE_BYTES)
        try:
            if data is None:
                raise ValueError("no entries")
            head, blobs = split_parts(data, _MAGIC)
            index = _PlainUnpickler(io.BytesIO(head)).load()
            if not isinstance(index, dict) or not all(
                isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and v[0] + v[1] <= len(blobs)
                for k, v in index.items()
            ):
                raise ValueError("not an index")
        except (OSError, *UNPICKLING_ERRORS):
            return cls(path, {}, memoryview(b""))
        return cls(path, index, blobs)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def data(self, key: str) -> bytes:
        start, length = self.index[key]
        return bytes(self.blobs[start: start + length])

    def items(self) -> Iterator[tuple[str, bytes]]:
        return ((key, self.data(key)) for key in self.index)

    def facts(self, key: str) -> ModuleFacts | None:
        """The entry's facts, or None if its bytes are not facts (then it is a miss)."""
        from fedcl_lint.analysis.facts import ModuleFacts

        start, length = self.index[key]
        try:
            value = _FactsUnpickler(io.BytesIO(self.blobs[start: start + length])).load()
        except UNPICKLING_ERRORS:
            return None  # corrupted or truncated
        return value if isinstance(value, ModuleFacts) else None


def _entry_file(entries: dict[str, bytes]) -> bytes:
    """A file of entries: an index (key -> offset and length), then the entries' bytes."""
    index, offset = {}, 0
    for key, data in entries.items():
        index[key] = (offset, len(data))
        offset += len(data)
    return joined_parts(_MAGIC, pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL), entries.values())


def joined_parts(magic: bytes, head: bytes, parts: Iterable[bytes]) -> bytes:
    """A file of this layout: `magic`, the length of `head`, `head` (what says where each part is),
    then the parts end to end."""
    return b"".join([magic, struct.pack("<Q", len(head)), head, *parts])


def split_parts(content: memoryview, magic: bytes) -> tuple[memoryview, memoryview]:
    """The head and the parts of what `joined_parts` made; ValueError if it is not that."""
    data = memoryview(content)
    start = len(magic) + 8
    if bytes(data[: len(magic)]) != magic or len(data) < start:
        raise ValueError("not a file of entries")
    (length,) = struct.unpack("<Q", data[len(magic): start])
    if len(data) < start + length:
        raise ValueError("truncated")
    return data[start: start + length], data[start + length:]


class _PlainUnpickler(pickle.Unpickler):
    """An index holds strings and numbers only."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a cache index")


class _FactsUnpickler(pickle.Unpickler):
    """Only fact classes may be rebuilt: anything else is a corrupted (or hostile) file."""

    def find_class(self, module: str, name: str) -> Any:
        from fedcl_lint.analysis import facts

        if module == facts.__name__ and name in facts.__all__:
            return getattr(facts, name)
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the cache")
