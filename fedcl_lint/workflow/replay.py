"""Replaying an unchanged run: the report of the last identical run, when none of its inputs changed.

Most runs of a pre-commit hook or a CI job see a project whose Python files did
not change since the last run. A run of `check` therefore records, in the cache
folder, its report and exit code under a key of everything that decides them
besides files (the settings, the options, the working directory, the tool's
version and installation, the Python version), with the status of every input:
each source file, ignore file and `__init__.py` looked for, rule pack, settings
file, baseline, and module of fedcl-lint (type, size, inode,
times), and each folder listed (its entries). A later run with the same key
replays the report if every status is the same, without importing the engine.
A source the prefilter skipped may have changed too, if it still mentions none
of the names it was searched for: no finding can depend on it.

An unchanged status means unchanged content, except for a file changed again
within its clock's granularity while a run read it. So a run whose inputs
changed less than `RACY_SECONDS` before it started records nothing (git calls
such entries "racily clean"): the next run does the work and records instead.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import os
import pickle
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from fedcl_lint import __version__
from fedcl_lint.analysis.cache import UNPICKLING_ERRORS
from fedcl_lint.analysis.cache_folder import CacheFolder
from fedcl_lint.files import USER_FILE_LIMIT, read_bounded
from fedcl_lint.records import fields, is_frozen
from fedcl_lint.workflow.outcome import Outcome

if TYPE_CHECKING:
    from fedcl_lint.analysis.load import RunInputs  # the engine is never loaded to replay

_FORMAT = "2"
RACY_SECONDS = 2.0
_KEEP = 64  # recorded runs per cache folder: one per distinct command, oldest dropped first

# A file: mode, inode, size, mtime_ns, ctime_ns. A folder: its entries, each with whether it is
# a folder (its times change whenever anything is written in it, e.g. a report). None: missing.
_Status = tuple[int, int, int, int, int] | tuple[tuple[str, bool], ...] | None
# key, (path, status) of every input, skipped sources, names they were searched for, (report, exit code, summary)
_Record = tuple[str, list[tuple[str, _Status]], frozenset[str], tuple[str, ...], tuple[str, int, str | None]]


class RunRecord:
    """The recorded run of one key, in `cache_dir/runs`."""

    def __init__(self, cache_dir: Path, key: object):
        self.started = time.time()
        # the installation too: two checkouts of one version can hold different code
        text = repr((_FORMAT, __version__, os.path.dirname(__file__), sys.version, _canonical(key)))
        self.key = text
        self.cache_dir = Path(cache_dir)
        self.folder = CacheFolder(self.cache_dir / "runs", top=self.cache_dir)
        self.path = self.folder.path / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.pickle"
        self.seen: dict[str, _Status] = {}  # statuses taken when this run started

    def status(self, path: str) -> _Status:
        """The status of an input as this run found it (taken once)."""
        if path not in self.seen:
            self.seen[path] = _status(path)
        return self.seen[path]

    def replay(self) -> Outcome | None:
        """The recorded outcome, if there is one and every input is as it was.

        A source the recorded run skipped (it mentioned no name that matters) may have
        changed, if it still mentions none: the findings cannot depend on it. The record
        then takes its new status, so that the next run need not read it again.
        """
        loaded = _load(self.folder, self.path.name)
        if loaded is None or loaded[0] != self.key:
            return None  # none recorded, a corrupted one, or another key's (a hash collision)
        _, statuses, skipped, names, outcome = loaded
        changed = []
        for path, status in statuses:
            if self.status(path) != status:
                if path not in skipped or _mentions(path, names):
                    return None
                changed.append(path)
        replayed = Outcome(*outcome)
        if changed:
            self._write([path for path, _ in statuses], skipped, names, replayed)
        return replayed

    def record(self, inputs: RunInputs, outcome: Outcome) -> list[tuple[str, _Status]] | None:
        """Keep `outcome` for the next run, unless an input changed too recently to tell (see above).
        A read-only or full disk costs speed only."""
        paths = list(dict.fromkeys([*inputs.paths, *_code_that_decided()]))
        return self._write(paths, inputs.skipped, inputs.names, outcome)

    def settled(self, paths: list[str]) -> list[tuple[str, _Status]] | None:
        """The statuses of `paths` now, or None if one changed too recently to tell (see above)."""
        limit = (self.started - RACY_SECONDS) * 1e9
        statuses = []
        for path in paths:
            status = _status(path)
            if _changed_at(status) >= limit:
                return None
            statuses.append((path, status))
        return statuses

    def _write(self, paths: list[str], skipped: frozenset[str], names: tuple[str, ...],
               outcome: Outcome) -> list[tuple[str, _Status]] | None:
        statuses = self.settled(paths)
        if statuses is None:
            return None
        record = (self.key, statuses, skipped, names, (outcome.report, outcome.exit_code, outcome.summary))
        if not self.folder.write(self.path.name, pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)):
            return None
        with contextlib.suppress(OSError):
            _drop_oldest(self.folder.path)
        return statuses


def _load(folder: CacheFolder, name: str) -> _Record | None:
    """A record as written by `_write`, or None if there is none or it is not one of ours."""
    content = folder.read(name, USER_FILE_LIMIT)
    if content is None:
        return None
    try:
        record = _PlainUnpickler(io.BytesIO(content)).load()
        key, statuses, skipped, names, (report, exit_code, summary) = record
    except (OSError, *UNPICKLING_ERRORS):
        return None
    well_formed = (
        isinstance(key, str) and isinstance(statuses, list)
        and all(isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str) for entry in statuses)
        and isinstance(skipped, frozenset) and isinstance(names, tuple) and all(isinstance(n, str) for n in names)
        and isinstance(report, str) and isinstance(exit_code, int) and isinstance(summary, (str, type(None)))
    )
    return (key, statuses, skipped, names, (report, exit_code, summary)) if well_formed else None


def _mentions(path: str, names: tuple[str, ...]) -> bool:
    """Whether the file mentions any of `names` (or cannot be read whole: then it may)."""
    try:
        content = read_bounded(path, USER_FILE_LIMIT)
    except OSError:
        return True
    return any(name.encode() in content for name in names)


def _status(path: str) -> _Status:
    try:
        status = os.stat(path)
        if stat.S_ISDIR(status.st_mode):
            with os.scandir(path) as entries:
                return tuple(sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries))
    except OSError:
        return None
    return (status.st_mode, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _changed_at(status: _Status) -> int:
    """When a file last changed (ns); folders are compared by their entries, not by time."""
    return max(status[3], status[4]) if status and isinstance(status[0], int) else 0


def _code_that_decided() -> list[str]:
    """The modules of fedcl-lint this run loaded: an edited checkout must not replay the old code's report."""
    files = (getattr(module, "__file__", None) for name, module in list(sys.modules.items())
             if name.partition(".")[0] == "fedcl_lint")
    return sorted(file for file in files if file)


def _drop_oldest(folder: Path) -> None:
    """Keep the `_KEEP` most recent records (another run may be dropping them too)."""
    records = [(status[3], path) for path in folder.glob("*.pickle")
               if (status := _status(str(path))) is not None and isinstance(status[0], int)]
    ordered = [path for _, path in sorted(records)]
    for old in ordered[:-_KEEP]:
        old.unlink(missing_ok=True)


def _canonical(value: object) -> object:
    """`value` with sets sorted and frozen instances (settings) as tuples: the same text in every
    process (a frozenset's order changes with the hash seed)."""
    if is_frozen(value):
        return (type(value).__name__, *(_canonical(getattr(value, name)) for name in fields(value)))
    if isinstance(value, (set, frozenset)):
        return ("set", *sorted(repr(_canonical(v)) for v in value))
    if isinstance(value, (tuple, list)):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, dict):
        return ("dict", *sorted((repr(_canonical(k)), _canonical(v)) for k, v in value.items()))
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


class _PlainUnpickler(pickle.Unpickler):
    """A record holds strings, numbers and tuples only: any class is a corrupted (or hostile) file."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a recorded run")
