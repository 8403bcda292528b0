"""Patching the last full run: re-link and re-check only what the changed files can reach.

A pre-commit hook runs `check` after a few files changed, and a full run links
the whole project again (the protocol is cross-file). So a full `check` that
records its run (`replay`) also keeps its state beside the record: per module,
its content hash (its facts are in the fact cache under it), the sites its code
made and every module its linking read; per message type, the modules with its
sites; and the checks' findings by what they depend on (`checks.ScopedFindings`).
A later run whose only changed inputs are source files re-extracts those,
re-links them and the modules that read them, re-checks the message types whose
sites they had or have, and reports, without reading the other modules at all.

Whatever a change can reach beyond that makes a full run instead: a changed
file that starts or stops mentioning a searched name (what is parsed changes)
or is broken; a re-linked module whose wrappers or dispatchers change, or that
needs a module the full run never parsed; a change to the functions that share
a wrapper's name; and any change besides sources (settings, rule packs, folders,
the tool itself). Patched runs leave the state as it is, so once more than
`_MAX_CHANGED` files differ from it, a full run makes a new one.
"""

from __future__ import annotations

import io
import pickle
import sys
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from fedcl_lint.api import Analysis, CheckResult, RunInputs, refine
from fedcl_lint.cache import UNPICKLING_ERRORS, FactCache, joined_parts, read_parts
from fedcl_lint.checks import CheckContext, ScopedFindings, check_entry, check_module, did_you_mean
from fedcl_lint.config import Config
from fedcl_lint.discover import SourceFile
from fedcl_lint.engine import Module, by_module_name, read_source, suppressions_in, too_large
from fedcl_lint.extract import extract
from fedcl_lint.facts import ModuleFacts, Suppression
from fedcl_lint.files import replace_atomically
from fedcl_lint.link import Linker, LinkedSite, ModuleLink
from fedcl_lint.replay import RunRecord
from fedcl_lint.rulepack import RulePack, load_packs
from fedcl_lint.table import MessageEntry, ProtocolTable, entry_of
from fedcl_lint.types import Role

if TYPE_CHECKING:
    from fedcl_lint.link import _Api

_MAGIC = b"fedcl-lint state 1\n"
_MAX_CHANGED = 32  # changed files past which a full run (and a new state) costs less

_Identity = tuple[str, str]  # a function: its file's display path and qualified name


@dataclass(frozen=True)
class _Header:
    """What every patched run reads; the modules' links follow it, read only when a change needs them."""

    key: str
    statuses: list  # [(path, status)] of the full run's inputs (`replay`)
    inputs: RunInputs
    sources: dict[str, tuple[str, tuple[str, ...]]]  # display path -> path, module names (a SourceFile)
    parsed: dict[str, str | None]  # display -> content hash (the fact cache's key), of the modules parsed
    links: dict[str, tuple[int, int]]  # display -> span of its ModuleLink, of the modules with sites (selected)
    entries: dict[str, tuple[str, ...]]  # message type -> the modules with its sites
    searched: tuple[str, ...]  # a file mentioning one of them is parsed
    broken: frozenset[str]  # modules that could not be read or parsed
    wrappers: dict[_Identity, frozenset[_Api]]
    by_name: dict[str, tuple[_Identity, ...]]
    claims: dict[_Identity, str]  # dispatcher -> the module whose registration made its sites
    dependents: dict[str, frozenset[str]]  # module -> the modules whose linking read it
    handled: frozenset[str]  # message types with handlers
    suggested: dict[str, tuple[str, ...]]  # handled type -> the unhandled types suggesting it
    findings: ScopedFindings
    suppressions: dict[str, tuple[Suppression, ...]]
    site_count: int
    resolved_count: int


def save(record: RunRecord, statuses: list, analysis: Analysis) -> None:
    """Keep what a full run found, whose inputs had `statuses`, for the runs that patch it.
    A read-only or full disk costs speed only."""
    trace = analysis.trace
    assert trace is not None, "only a full analysis has a state to keep"
    store, linked = trace.store, trace.link
    parsed = {}
    for file in store.modules:
        content = store.contents.get(file)
        parsed[file.display] = FactCache.key(content) if content is not None else None
    blobs = _Blobs()
    links = {}
    by_type: dict[str, list[str]] = {}
    dependents: dict[str, set[str]] = {}
    claims: dict[_Identity, str] = {}
    wrappers: dict[_Identity, set[_Api]] = {}
    for origin, link in linked.modules.items():  # in display order, as linking claims dispatchers
        links[origin] = blobs.add(link)
        for message_type in dict.fromkeys(s.message_type for s in link.sites if s.message_type is not None):
            by_type.setdefault(message_type, []).append(origin)
        for read in link.reads - {origin}:
            dependents.setdefault(read, set()).add(origin)
        for dispatcher in link.dispatchers:
            claims.setdefault(dispatcher, origin)
        for identity, api in link.wrappers:
            wrappers.setdefault(identity, set()).add(api)
    table = analysis.table
    handled = frozenset(e.message_type for e in table.entries if e.handles)
    suggested: dict[str, list[str]] = {}
    for entry in table.entries:
        if not entry.handles and entry.message_type not in analysis.config.external:
            suggestion = did_you_mean(entry.message_type, list(handled))
            if suggestion is not None:
                suggested.setdefault(suggestion, []).append(entry.message_type)
    header = _Header(
        key=record.key,
        statuses=statuses,
        inputs=analysis.inputs,
        sources={f.display: (str(f.path), f.module_names) for f in analysis.files},
        parsed=parsed,
        links=links,
        entries={message_type: tuple(origins) for message_type, origins in by_type.items()},
        searched=tuple(sorted(store.searched)),
        broken=frozenset(f.display for f, m in store.modules.items() if m.facts.failure is not None),
        wrappers={identity: frozenset(apis) for identity, apis in wrappers.items()},
        by_name=linked.by_name,
        claims=claims,
        dependents={display: frozenset(users) for display, users in dependents.items()},
        handled=handled,
        suggested={t: tuple(users) for t, users in suggested.items()},
        findings=trace.findings,
        suppressions=trace.suppressions,
        site_count=table.site_count,
        resolved_count=table.resolved_count,
    )
    head = pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        replace_atomically(_path(record), joined_parts(_MAGIC, head, blobs.parts))
    except OSError:
        pass


def patch(record: RunRecord, config: Config, cwd: Path) -> tuple[CheckResult, RunInputs] | None:
    """This run's result from the last full run's state and the files changed since, or None
    when there is no usable state or a change reaches further than a patch goes (see above)."""
    state = _State.load(_path(record))
    if state is None or state.header.key != record.key:
        return None
    changed = [path for path, status in state.header.statuses if record.status(path) != status]
    sources = {path for path, _ in state.header.sources.values()}
    if len(changed) > _MAX_CHANGED or not sources.issuperset(changed):
        return None  # too many changes, or a change besides sources: settings, a folder, the tool
    pack = load_packs(config.rules)  # unchanged since the full run read it
    try:
        return _patched(state, FactCache(record.cache_dir, pack), changed, pack, config, cwd)
    except _Unpatchable:
        return None


def _patched(state: _State, cache: FactCache, changed: list[str], pack: RulePack, config: Config,
             cwd: Path) -> tuple[CheckResult, RunInputs] | None:
    header = state.header
    edited: dict[str, ModuleFacts] = {}
    unparsed_suppressions: dict[str, tuple[Suppression, ...]] = {}
    displays = {path: display for display, (path, _) in header.sources.items()}
    for path in changed:
        display = displays[path]
        try:
            content = read_source(Path(path))
        except OSError:
            return None
        if any(name.encode() in content for name in header.searched) != (display in header.links):
            return None  # what is parsed changes
        if display not in header.parsed:  # skipped, and still mentions nothing
            if config.warn_unused_ignores:
                unparsed_suppressions[display] = suppressions_in(content)
            continue
        if header.parsed[display] == FactCache.key(content):
            continue  # touched, not changed
        facts = too_large(content) or extract(content, pack)
        if display in header.broken or facts.failure is not None:
            return None
        if display in header.links and _named(facts, header.by_name) != _named_before(display, header.by_name):
            return None
        edited[display] = facts
    dirty = set(edited).union(*(header.dependents.get(display, ()) for display in edited))
    relinked = sorted(dirty & header.links.keys())
    store = _PatchStore(state, cache, pack, edited)
    claimed = {dispatcher for dispatcher, origin in header.claims.items() if origin not in dirty}  # by the others
    links = Linker(store, pack).relink([store.by_display(d) for d in relinked], header.wrappers, header.by_name,
                                       claimed)
    if store.unparsed_needed:
        return None
    before = {display: state.link(display) for display in relinked}
    if any((links[d].wrappers, links[d].dispatchers) != (before[d].wrappers, before[d].dispatchers)
           for d in relinked):
        return None  # what other modules' linking relies on changed
    if any((before[d].reads - links[d].reads) & header.broken for d in relinked):
        return None  # a broken module it no longer reads may no longer be parsed, nor reported
    return _rechecked(state, config, cwd, pack, before, links, edited, unparsed_suppressions)


def _rechecked(state: _State, config: Config, cwd: Path, pack: RulePack, before: dict[str, ModuleLink],
               links: dict[str, ModuleLink], edited: dict[str, ModuleFacts],
               unparsed_suppressions: dict[str, tuple[Suppression, ...]]) -> tuple[CheckResult, RunInputs] | None:
    """Put the re-linked modules' sites into their entries and check again what they reach."""
    header = state.header
    touched = {site.message_type for display in links for site in (*before[display].sites, *links[display].sites)
               if site.message_type is not None}
    entries: dict[str, MessageEntry] = {}
    handled = set(header.handled)
    for message_type in sorted(touched):
        sites = state.sites_of(message_type, links)
        if sites:
            entries[message_type] = entry_of(message_type, sites)
        if any(s.role is Role.HANDLE for s in sites):
            handled.add(message_type)
        else:
            handled.discard(message_type)
    if handled == header.handled:  # the suggestions that can change are those of the touched types
        rechecked = touched.union(*(header.suggested.get(t, ()) for t in touched))
    else:  # any unhandled type's suggestion can
        rechecked = touched | (header.entries.keys() - header.handled)
    # entry and site checks read only the entries and sites they are given, and the handled types
    context = CheckContext(table=ProtocolTable((), (), 0), pack=pack, policy=config.policy,
                           external=config.external, handled=_Handled(state, entries, frozenset(handled)))
    by_entry = dict(header.findings.by_entry)
    for message_type in rechecked:
        entry = entries.get(message_type) or (state.entry(message_type) if message_type not in touched else None)
        found = check_entry(entry, context) if entry is not None else ()
        _put(by_entry, message_type, found)
    by_module = dict(header.findings.by_module)
    for display, link in links.items():
        _put(by_module, display, check_module(link, context))
    suppressions = dict(header.suppressions)
    for display, facts in edited.items():
        _put(suppressions, display, facts.suppressions)
    for display, found in unparsed_suppressions.items():
        _put(suppressions, display, found)
    sites = sum(len(links[d].sites) - len(before[d].sites) for d in links)
    resolved = sum(_resolved(links[d]) - _resolved(before[d]) for d in links)
    refined = refine(ScopedFindings(by_entry, by_module, header.findings.files).all(), config, cwd, suppressions)
    result = CheckResult(refined.findings, len(header.sources), header.site_count + sites,
                         header.resolved_count + resolved, config, cwd, refined.suppressed, refined.baselined)
    # the full run's inputs, the modules of the code that decided it among them (pathspec, which
    # a patched run does not load, included)
    inputs = header.inputs
    return result, RunInputs(tuple(path for path, _ in header.statuses), inputs.skipped, inputs.names)


def _put(groups: dict, key: str, values: tuple) -> None:
    if values:
        groups[key] = tuple(values)
    else:
        groups.pop(key, None)


def _resolved(link: ModuleLink) -> int:
    return sum(1 for site in link.sites if site.message_type is not None)


def _named(facts: ModuleFacts, by_name: Mapping[str, tuple[_Identity, ...]]) -> tuple[str, ...]:
    """The functions of a module that share a wrapper's name: `obj.name(...)` consults them all."""
    return tuple(sorted(qualname for qualname, function in facts.functions.items() if function.name in by_name))


def _named_before(display: str, by_name: Mapping[str, tuple[_Identity, ...]]) -> tuple[str, ...]:
    """`_named` of a module as the full run found it."""
    return tuple(sorted(qualname for identities in by_name.values() for owner, qualname in identities
                        if owner == display))


def _path(record: RunRecord) -> Path:
    return record.path.with_suffix(".state")


class _Blobs:
    """Pickles laid end to end, each found again by its span."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, value: object) -> tuple[int, int]:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.parts.append(data)
        self.size += len(data)
        return (self.size - len(data), len(data))


class _State:
    """A state file, its parts unpickled when first asked for."""

    def __init__(self, header: _Header, blobs: memoryview):
        self.header = header
        self.blobs = blobs
        self._links: dict[str, ModuleLink] = {}

    @classmethod
    def load(cls, path: Path) -> _State | None:
        """The state at `path`, or None if there is none or it is damaged (then a full run makes a new one)."""
        try:
            head, blobs = read_parts(path, _MAGIC)
            header = _unpickle(head)
        except (OSError, *UNPICKLING_ERRORS):
            return None
        if not _well_formed(header):
            return None
        return cls(header, blobs)

    def link(self, display: str) -> ModuleLink:
        """What linking the module found in the full run."""
        if display not in self._links:
            link = self._part(self.header.links[display])
            if not isinstance(link, ModuleLink):
                raise _Unpatchable(f"the link of {display}")
            self._links[display] = link
        return self._links[display]

    def sites_of(self, message_type: str, relinked: Mapping[str, ModuleLink]) -> list[LinkedSite]:
        """The sites of a message type, those of `relinked` modules as they are now, in module order."""
        origins = set(self.header.entries.get(message_type, ())).union(relinked)
        return [site for origin in sorted(origins)
                for site in (relinked[origin] if origin in relinked else self.link(origin)).sites
                if site.message_type == message_type]

    def entry(self, message_type: str) -> MessageEntry | None:
        """A message type's entry as the full run found it."""
        sites = self.sites_of(message_type, {})
        return entry_of(message_type, sites) if sites else None

    def _part(self, span: tuple[int, int]):
        start, length = span
        try:
            return _unpickle(self.blobs[start: start + length])
        except UNPICKLING_ERRORS as exc:
            raise _Unpatchable from exc


class _PatchStore:
    """The load stage for a patched run: edited facts, else the state's; `Linker` reads it like a FactStore."""

    def __init__(self, state: _State, cache: FactCache, pack: RulePack, edited: dict[str, ModuleFacts]):
        self.state = state
        self.cache = cache
        self.pack = pack
        self.edited = edited
        self._files: dict[str, SourceFile] = {}
        self._modules: dict[str, Module] = {}
        self.unparsed_needed = False  # linking wanted a module the full run never parsed

    @cached_property
    def files_by_name(self) -> Mapping[str, SourceFile]:
        """As `FactStore.files_by_name`; a SourceFile is made only when an import looks it up."""
        sources = self.state.header.sources.items()
        return _FilesByName(self, by_module_name((display, names) for display, (_, names) in sources))

    def file(self, display: str) -> SourceFile:
        if display not in self._files:
            path, names = self.state.header.sources[display]
            self._files[display] = SourceFile(Path(path), display, names)
        return self._files[display]

    def by_display(self, display: str) -> Module:
        return self.module(self.file(display))

    def module(self, file: SourceFile) -> Module:
        display = file.display
        if display not in self._modules:
            if display in self.edited:
                facts = self.edited[display]
            elif display in self.state.header.parsed:
                facts = self._unchanged(file)
            else:
                self.unparsed_needed = True
                facts = ModuleFacts()
            self._modules[display] = Module(file, facts)
        return self._modules[display]

    def _unchanged(self, file: SourceFile) -> ModuleFacts:
        """An unchanged module's facts: from the fact cache, else extracted again (its content is the
        full run's, as its status says; a read that says otherwise is a change racing this run)."""
        digest = self.state.header.parsed[file.display]
        facts = self.cache.get(digest) if digest is not None else None
        if facts is not None:
            return facts
        try:
            content = read_source(file.path)
        except OSError as exc:
            raise _Unpatchable(f"{file.display} cannot be read") from exc
        if FactCache.key(content) != digest:
            raise _Unpatchable(f"{file.display} changed during the run")
        return too_large(content) or extract(content, self.pack)


class _FilesByName(Mapping[str, SourceFile]):
    def __init__(self, store: _PatchStore, displays: dict[str, str]):
        self.store = store
        self.displays = displays

    def __getitem__(self, name: str) -> SourceFile:
        return self.store.file(self.displays[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.displays)

    def __len__(self) -> int:
        return len(self.displays)


class _Handled(Mapping[str, MessageEntry]):
    """Every handled message type, each entry read from the state when a suggestion needs it."""

    def __init__(self, state: _State, patched: dict[str, MessageEntry], types: frozenset[str]):
        self.state = state
        self.patched = patched  # the entries of the touched types
        self.types = types

    def __getitem__(self, message_type: str) -> MessageEntry:
        if message_type not in self.types:
            raise KeyError(message_type)
        return self.patched.get(message_type) or self.state.entry(message_type)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.types))

    def __len__(self) -> int:
        return len(self.types)


class _Unpatchable(Exception):
    """The run cannot be patched after all (a part of the state is damaged, a file changed while
    it ran): it is done in full instead."""


_ALLOWED_MODULES = ("fedcl_lint.facts", "fedcl_lint.link", "fedcl_lint.types", "fedcl_lint.rulepack",
                    "fedcl_lint.checks", "fedcl_lint.api", "fedcl_lint.incremental")


def _well_formed(header: object) -> bool:
    """A header as `save` writes it, as far as its fields' containers go (a state written by
    another version of the tool may lack some)."""
    kinds = {"key": str, "statuses": list, "inputs": RunInputs, "findings": ScopedFindings, "site_count": int,
             "resolved_count": int, "searched": tuple, "broken": frozenset, "handled": frozenset}
    return isinstance(header, _Header) and all(
        isinstance(getattr(header, f.name, None), kinds.get(f.name, dict)) for f in fields(_Header)
    )


def _unpickle(data: memoryview):
    return _StateUnpickler(io.BytesIO(data)).load()


class _StateUnpickler(pickle.Unpickler):
    """Only fedcl-lint's own value classes may be rebuilt: a state file shipped in an untrusted
    repository cannot run code."""

    def find_class(self, module: str, name: str):
        if module in _ALLOWED_MODULES:
            value = getattr(sys.modules[module], name, None)
            value_class = isinstance(value, type) and (is_dataclass(value) or issubclass(value, Enum))
            if value_class and value.__module__ == module:
                return value
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a saved state")

