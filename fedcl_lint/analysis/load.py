"""Loading facts fast: read every file, parse only those that can matter, in parallel, from a cache.

A file is parsed only when its bytes mention a name that can matter: a rule-pack
call, payload key or dispatcher registration, or (found by the link stage's
fixpoint) the name of an inferred wrapper. Modules that only define things
(constants, Enums, handlers) are parsed on demand when an import needs them.
Whatever is skipped cannot hold a send or handle site, so the findings are the
same as if every file had been parsed; only syntax errors in files that mention
none of these names go unreported.
"""

from __future__ import annotations

import codecs
import errno
import gc
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from fedcl_lint.analysis.discover import SourceFile
from fedcl_lint.analysis.extract import decode, extract_each
from fedcl_lint.analysis.facts import ModuleFacts, ParseFailure, Position, Suppression
from fedcl_lint.analysis.suppression_comments import MARKER, parse_suppressions
from fedcl_lint.files import UnreadableFile, read_bounded
from fedcl_lint.records import frozen
from fedcl_lint.settings.rulepack import RulePack
from fedcl_lint.types import Location

if TYPE_CHECKING:
    from fedcl_lint.analysis.cache import FactCache

T = TypeVar("T")
_CHUNK = 64  # files per worker task: big enough to amortise the round trip
MAX_FILE_BYTES = 5_000_000  # parsing 50 MB took 78 s and 9 GB here: such files are generated data
_COOKIE_WINDOW = 512  # a coding cookie is on line 1 or 2 (PEP 263)


class Module:
    """A file and its facts (one per file: compared by identity)."""

    __slots__ = ("file", "facts", "name", "package")

    def __init__(self, file: SourceFile, facts: ModuleFacts):
        self.file = file
        self.facts = facts
        self.name = file.module_names[0] if file.module_names else file.display
        parts = self.name.split(".")
        self.package = parts if file.is_package else parts[:-1]  # what its relative imports start from

    def location(self, position: Position, end: Position | None = None) -> Location:
        return Location(self.file.display, position[0], position[1], end)


@frozen
class EngineOptions:
    """How to load facts; none of these change the findings."""

    jobs: int | None = None  # worker processes; None: one per CPU
    cache_dir: Path | None = None  # None: no cache
    prefilter: bool = True


@frozen
class RunInputs:
    """Every file and folder whose content decided a run, for replaying it (see `replay`).

    `skipped` are sources the prefilter never parsed: they may change without changing
    the findings as long as they still mention none of `names`.
    """

    paths: tuple[str, ...] = ()
    skipped: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()


class FactStore:
    """The project's files and the facts of those parsed so far (each parsed at most once)."""

    def __init__(self, files: list[SourceFile], pack: RulePack, options: EngineOptions,
                 on_progress: Callable[[int, int], None] | None = None):
        self.files = files
        self.pack = pack
        self.options = options
        self.cache: FactCache | None = None
        if options.cache_dir is not None:
            from fedcl_lint.analysis.cache import FactCache  # and what it needs: hashing, pickling

            self.cache = FactCache(options.cache_dir, pack)
        self.on_progress = on_progress
        self.contents: dict[SourceFile, bytes] = {}
        self.oversized: dict[SourceFile, int] = {}  # files over the size limit, never read whole: their sizes
        self._normalised: dict[SourceFile, bytes] = {}  # see `_as_python_reads`
        self.modules: dict[SourceFile, Module] = {}
        self.searched: set[str] = set()  # every name a file was searched for: what could have made it matter
        for file in files:
            try:
                self.contents[file] = read_bounded(file.path, MAX_FILE_BYTES)
            except UnreadableFile as exc:
                if exc.size is not None:
                    self.oversized[file] = exc.size
                    continue
                failure = ParseFailure(f"cannot read: {exc}", (1, 1), kind="read")
                self.modules[file] = Module(file, ModuleFacts(failure=failure))
            except OSError as exc:
                failure = ParseFailure(f"cannot read: {_read_problem(file.path, exc)}", (1, 1), kind="read")
                self.modules[file] = Module(file, ModuleFacts(failure=failure))

    @cached_property
    def files_by_name(self) -> dict[str, SourceFile]:
        """The file an import of each module name finds."""
        return by_module_name((file, file.module_names) for file in self.files)

    def initial(self) -> list[Module]:
        """Parse every file that mentions a name of the rule pack (all files without the prefilter): a call,
        a payload key, a proxy class."""
        if not self.options.prefilter:
            return self.load(self.files)
        return self.load(self.mentioning(self.pack.prefilter_names, set()))

    def mentioning(self, names: Iterable[str], taken: set[SourceFile]) -> list[SourceFile]:
        """Files not in `taken` whose bytes contain any of `names` (parsed already or not: a module
        parsed because an import needed it may also call what `names` name)."""
        names = set(names)
        self.searched |= names
        if not names:
            return []
        needles = [name.encode() for name in sorted(names)]
        # one substring search per name beats a regex alternation threefold on large trees, and one
        # search for a part that several names share beats one per name where none is there
        groups = _shared_parts(needles)
        found = []
        for f, content in self.contents.items():
            if f not in taken:
                text = self._as_python_reads(f, content)  # once per file, not once per name
                if any(part in text and any(needle in text for needle in group) for part, group in groups):
                    found.append(f)
        return found + [f for f in self.oversized if f not in taken and _streamed_mentions(f.path, needles)]

    def _as_python_reads(self, file: SourceFile, content: bytes) -> bytes:
        """The bytes to search for names: the file's own, unless Python would read its names otherwise
        (non-ASCII text, which identifiers NFKC-normalise, `ｓend` being `send`; or a coding cookie,
        such as `unicode_escape`, under which `\\u0073end` is `send`): then its decoded, normalised text."""
        if content.isascii() and b"coding" not in content[:_COOKIE_WINDOW]:
            return content
        if file not in self._normalised:
            text, failure = decode(content)
            if failure is not None:
                self._normalised[file] = content
            elif unicodedata.is_normalized("NFKC", text):  # most non-ASCII text (accents in comments): a quick check
                utf8 = b"coding" not in content[:_COOKIE_WINDOW] and not content.startswith(codecs.BOM_UTF8)
                self._normalised[file] = content if utf8 else text.encode("utf-8", "surrogatepass")
            else:  # only non-ASCII text can normalise to another name's letters: those runs only
                normalised = _NON_ASCII.sub(lambda run: unicodedata.normalize("NFKC", run.group()), text)
                self._normalised[file] = normalised.encode("utf-8", "surrogatepass")
        return self._normalised[file]

    def replace(self, file: SourceFile, content: bytes) -> None:
        """Take `content` as the file's (an editor's unsaved text): its facts are extracted again
        when the next linking needs them; every other file's are kept."""
        self.contents[file] = content
        self.oversized.pop(file, None)
        self._normalised.pop(file, None)
        self.modules.pop(file, None)

    def module(self, file: SourceFile) -> Module:
        """One module, parsed on demand (an import needs its definitions)."""
        if file not in self.modules:
            self.load([file])
        return self.modules[file]

    def load(self, files: list[SourceFile]) -> list[Module]:
        """Parse `files` (from the cache where possible), in worker processes when it pays."""
        wanted = [f for f in files if f not in self.modules]
        missing: list[tuple[SourceFile, str | None]] = []
        for file in wanted:
            if file in self.oversized:
                self.modules[file] = Module(file, too_large(self.oversized[file]))
                continue
            content = self.contents[file]
            key, facts = None, None
            if self.cache is not None:
                key = self.cache.key(content)
                facts = self.cache.get(key)
            if facts is None:
                missing.append((file, key))
            else:
                self.modules[file] = Module(file, facts)
        extracted = self._extract([self.contents[f] for f, _ in missing])
        for (file, key), (facts, data) in zip(missing, extracted, strict=True):
            self.modules[file] = Module(file, facts)
            if self.cache is not None and key is not None:
                self.cache.put(key, facts, data)
        return [self.modules[f] for f in files]

    def _extract(self, sources: list[bytes]) -> list[tuple[ModuleFacts, bytes | None]]:
        """Each source's facts, and the facts pickled when a worker extracted them (what the
        cache stores: the parent need not pickle them again)."""
        jobs = self.options.jobs or os.cpu_count() or 1
        if jobs <= 1 or len(sources) < 2 * _CHUNK:
            results: list[tuple[ModuleFacts, bytes | None]] = []
            for facts in extract_each(sources, self.pack):
                results.append((facts, None))
                self._progress(len(results), len(sources))
            return results
        import pickle
        from concurrent.futures import ProcessPoolExecutor  # loaded only when a run is big enough

        chunks = [sources[i : i + _CHUNK] for i in range(0, len(sources), _CHUNK)]
        cached = self.cache is not None  # without a cache, the bytes would only add to the peak memory
        results = []
        with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), initializer=_exit_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            # map() keeps the input order, so the output never depends on worker timing
            for chunk in pool.map(_extract_chunk, chunks, [self.pack] * len(chunks), [cached] * len(chunks)):
                for item in chunk:
                    results.append((pickle.loads(item), item) if isinstance(item, bytes) else (item, None))
                self._progress(len(results), len(sources))
        return results

    def unparsed_suppressions(self) -> dict[str, tuple[Suppression, ...]]:
        """Suppression comments of the files the prefilter skipped (they mention no messaging
        API, so nothing in them can match): needed only to report them as unused."""
        found = {}
        for file in self.unparsed():
            if suppressions := suppressions_in(self.contents[file]):
                found[file.display] = suppressions
        return found

    def unparsed(self) -> list[SourceFile]:
        """The files the prefilter skipped: none mentions a name in `searched`."""
        return [file for file in self.contents if file not in self.modules]

    def save(self) -> None:
        """Keep what this run parsed for the next one."""
        if self.cache is not None:
            self.cache.save()

    def _progress(self, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)


def by_module_name(items: Iterable[tuple[T, tuple[str, ...]]]) -> dict[str, T]:
    """Module name -> the first of `items` (files, in discovery order) to have that name."""
    found: dict[str, T] = {}
    for item, names in items:
        for name in names:
            found.setdefault(name, item)
    return found


def suppressions_in(content: bytes) -> tuple[Suppression, ...]:
    """The suppression comments of a file that is not parsed (none if it cannot be decoded)."""
    if MARKER.encode() not in content:
        return ()
    text, failure = decode(content)
    return parse_suppressions(text) if failure is None else ()


def too_large(size: int) -> ModuleFacts:
    """The facts of a file too large to parse: a failure saying so."""
    over = f"{size / 1e6:.1f} MB is over the {MAX_FILE_BYTES / 1e6:g} MB limit for one file"
    return ModuleFacts(failure=ParseFailure(f"not analysed: {over}", (1, 1), kind="size"))


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_SHARED_PART = 6  # shorter parts are in too many files to tell anything
_GROUPED_NEEDLES = 16


def _shared_parts(needles: list[bytes]) -> list[tuple[bytes, list[bytes]]]:
    """The needles in groups, each with a part (at least `_SHARED_PART` bytes) that all of the group
    contain: a text without the part holds none of them. Greedy: the part most needles share first
    (the built-in pack's seven names make three groups: `message`, `_event`, `register_request_handler`)."""
    left = sorted(set(needles))
    if len(left) > _GROUPED_NEEDLES:  # many names (wrappers): grouping would cost more than it saves
        return [(needle, [needle]) for needle in left]
    groups = []
    while left:
        parts = {needle[i:j] for needle in left for i in range(len(needle))
                 for j in range(i + _SHARED_PART, len(needle) + 1)}
        if not parts:  # needles shorter than a part: each its own
            groups += [(needle, [needle]) for needle in left]
            break
        part = max(sorted(parts), key=lambda p: (sum(p in n for n in left), len(p)))
        group = [needle for needle in left if part in needle]
        groups.append((part, group))
        left = [needle for needle in left if part not in needle]
    return groups


def _streamed_mentions(path: Path, needles: list[bytes]) -> bool:
    """Whether a file too large to hold in memory mentions a needle: read in chunks that overlap by
    the longest needle, so that one split across two chunks is found (unreadable: it may)."""
    overlap = max(map(len, needles), default=1) - 1
    tail = b""
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                window = tail + chunk
                if any(needle in window for needle in needles):
                    return True
                tail = window[-overlap:] if overlap else b""
    except OSError:
        return True
    return False


def _read_problem(path: Path, error: OSError) -> str:
    """What went wrong, in words: the OS message, naming links that lead nowhere."""
    if path.is_symlink() and not path.exists():
        loop = error.errno == errno.ELOOP
        return "symbolic link loop" if loop else f"broken symbolic link to {os.readlink(path)}"
    return error.strerror or error.__class__.__name__


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the run that started it is gone. A run killed outright (SIGKILL,
    the OOM killer, a CI time-out) cannot stop its workers, which then slept on, orphaned, for good."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="fedcl-lint-parent-watch", daemon=True).start()


def _extract_chunk(sources: list[bytes], pack: RulePack, pickled: bool) -> list[ModuleFacts] | list[bytes]:
    """The facts of each source; `pickled` one by one for the cache, which keeps the bytes."""
    import pickle

    gc.disable()  # a worker only accumulates results; see api.paused_gc
    facts = list(extract_each(sources, pack))
    return [pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL) for f in facts] if pickled else facts
