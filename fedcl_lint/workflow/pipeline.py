"""The pipeline in one call: discover -> load (extract, from the cache) -> link -> table -> checks -> refine.

The CLI, the tests and editors all go through `analyze` (or `run_check` above it),
so what the tests assert is what users see. Everything the user's settings do to
the findings (selection, per-file ignores, suppression comments, severities, the
baseline) happens in one place, `refine`, after the checks; the checks themselves
know nothing of it.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fedcl_lint.analysis.discover import Discovery, DiscoveryError, FileSelection, SourceFile, discover, display_path
from fedcl_lint.analysis.facts import Suppression
from fedcl_lint.analysis.link import Linker, LinkResult
from fedcl_lint.analysis.load import EngineOptions, FactStore, RunInputs
from fedcl_lint.analysis.suppression_comments import MARKER
from fedcl_lint.analysis.table import ProtocolTable, build_table, scoped_table
from fedcl_lint.checks import CheckContext, FileFailure, run_checks
from fedcl_lint.refine.refine import refine
from fedcl_lint.refine.result import Analysis
from fedcl_lint.settings.config import (
    SELECTOR_EXPECTED,
    Config,
    check_policy,
    parse_selector,
    protocol_pairs,
    with_overrides,
)
from fedcl_lint.settings.rulepack import RulePack, load_packs
from fedcl_lint.types import Location, Mechanism

_DEFAULT_OPTIONS = EngineOptions()  # the defaults: a worker per CPU, no cache, the prefilter

def analyze(
    paths: list[str] | tuple[str, ...],
    config: Config | None = None,
    cwd: Path | None = None,
    *,
    packs: tuple[str, ...] | None = None,
    policy: Mapping[str, Mechanism] | None = None,
    external: frozenset[str | int] | None = None,
    options: EngineOptions = _DEFAULT_OPTIONS,
    on_progress: Callable[[int, int], None] | None = None,
    texts: Mapping[str, bytes] | None = None,
) -> Analysis:
    """Analyse the Python files under `paths` (relative to `cwd`) with `config` (defaults if None).

    `packs`, `policy` and `external` override the configuration's `rules`,
    `[protocol]` and `external` (a shorthand for library callers and tests).
    `options` tune speed (jobs, cache, prefilter), never the findings; `on_progress(done, total)`
    hears how parsing goes. `texts` (path relative to `cwd` -> bytes) stand for those files' contents
    (an editor's unsaved text, `check --stdin-filename`); each must be one of the analysed files.
    """
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    config = with_overrides(
        config or Config(),
        rules=tuple(packs) if packs is not None else None,
        protocol=protocol_pairs(policy) if policy is not None else None,
        external=external,
    )
    pack = load_packs(config.rules)
    check_policy(config, pack.channels)
    with paused_gc():
        return _analyze(paths, config, pack, cwd, options, on_progress, texts or {})


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one run.

    A run builds some 100,000 small long-lived objects (facts) and frees them at
    the end; the collector would rescan them over and over (measured: unpickling
    cached facts 6x slower, parsing 40% slower). Nothing in a run makes cycles
    worth collecting early.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _analyze(
    paths: list[str] | tuple[str, ...], config: Config, pack: RulePack, cwd: Path, options: EngineOptions,
    on_progress: Callable[[int, int], None] | None, texts: Mapping[str, bytes],
) -> Analysis:
    discovery = discover(paths, cwd, selection_of(config))
    store = FactStore(list(discovery.files), pack, options, on_progress=on_progress)
    by_path = {os.path.abspath(cwd / path): content for path, content in texts.items()}
    for file in discovery.files:
        content = by_path.pop(str(file.path), None)
        if content is not None:
            store.replace(file, content)
    if by_path:
        raise DiscoveryError(f"{display_path(Path(next(iter(by_path))), cwd)} is not one of the analysed files")
    return analyze_store(store, discovery, config, cwd)


def selection_of(config: Config) -> FileSelection:
    """Which files the configuration makes the project's."""
    return FileSelection(
        root=config.root, include=config.include, exclude=config.exclude, respect_gitignore=config.respect_gitignore
    )


def analyze_store(store: FactStore, discovery: Discovery, config: Config, cwd: Path,
                  linked: LinkResult | None = None) -> Analysis:
    """Link (unless `linked` is given), tabulate, check and refine the files of `store` (whose facts
    it may hold already, as an editor's session keeps them from one analysis to the next)."""
    pack = store.pack
    files = list(discovery.files)
    if linked is None:
        linked = Linker(store, pack).link()
    table = _scoped(build_table(linked), files, config, cwd)
    store.save()
    modules = sorted(store.modules.values(), key=lambda m: m.file.display)
    failures = tuple(
        FileFailure(m.location(m.facts.failure.position), m.facts.failure.message, m.facts.failure.kind)
        for m in modules
        if m.facts.failure is not None
    ) + tuple(FileFailure(Location(path, 1, 1), reason, "read") for path, reason in discovery.unreadable)
    context = CheckContext(
        table=table, pack=pack, failures=failures, policy=config.policy, external=config.external,
        sources={file.display: content for file, content in store.contents.items()},
    )
    suppressions = {m.file.display: m.facts.suppressions for m in modules if m.facts.suppressions}
    unparsed = store.unparsed_suppressions()  # nothing in them can match; their codes are checked all the same
    if config.warn_unused_ignores:
        suppressions.update(unparsed)
    if table.scopes:
        from fedcl_lint.checks.scopes import run_scoped_checks

        findings = run_scoped_checks(context, config.external_of)
    else:
        findings = run_checks(context)
    refined = refine(findings, config, cwd, suppressions)
    return Analysis(
        files=tuple(files),
        table=table,
        findings=refined.findings,
        config=config,
        pack=pack,
        cwd=cwd,
        suppressed=refined.suppressed,
        baselined=refined.baselined,
        inputs=_inputs(discovery, store, config),
        warnings=_scope_warnings(table) + unknown_codes({**suppressions, **unparsed}),
    )


def _scoped(table: ProtocolTable, files: list[SourceFile], config: Config, cwd: Path) -> ProtocolTable:
    """With protocol scopes configured, the table with each scope's own (its files' sites and the shared ones)."""
    if not config.protocols:
        return table
    base = config.base(cwd)
    scope_of = {file.display: config.protocol_of(display_path(file.path, base)) for file in files}
    return scoped_table(table, scope_of, tuple(scope.name for scope in config.protocols))


def _scope_warnings(table: ProtocolTable) -> tuple[str, ...]:
    """A protocol scope that holds no analysed file (a typo in its paths, or a run on other folders)."""
    return tuple(
        f"protocol `{scope.name}`: its paths match none of the analysed files" for scope in table.scopes
        if not scope.files
    )


def unknown_codes(suppressions: Mapping[str, tuple[Suppression, ...]]) -> tuple[str, ...]:
    """A warning for each code of a suppression comment that names no check (`ignore[FCL9999]`, a typo,
    or another tool's code): it suppresses nothing, whatever the line holds."""
    return tuple(
        f"{path}:{s.line}:{s.column}: suppression comment: {code!r} is not {SELECTOR_EXPECTED}, "
        "so it suppresses nothing"
        for path, found in sorted(suppressions.items())
        for s in found
        for code in s.codes or ()
        if parse_selector(code) is None
    )


def _inputs(discovery: Discovery, store: FactStore, config: Config) -> RunInputs:
    """The sources, what discovery consulted (folders listed, ignore files and `__init__.py` looked
    for), the rule packs, the settings file and the baseline. Skipped sources matter through their
    suppression comments when unused ones are reported."""
    named = [config.path, config.baseline, *store.pack.sources]
    paths = (*(f.path for f in discovery.files), *discovery.consulted, *(p for p in named if p is not None))
    if config.warn_unused_ignores:
        return RunInputs(tuple(map(str, paths)))
    skipped = frozenset(str(f.path) for f in store.unparsed())
    # a skipped source matters once it holds a suppression comment: its codes are checked (`unknown_codes`)
    return RunInputs(tuple(map(str, paths)), skipped, tuple(sorted(store.searched | {MARKER})))


