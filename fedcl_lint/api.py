"""The pipeline in one call: discover -> load (extract, from the cache) -> link -> table -> checks -> refine.

The CLI and the tests both go through `analyze`, so what the tests assert is
what users see. Everything the user's settings do to the findings (selection,
per-file ignores, suppression comments, severities, the baseline) happens in
one place, `refine`, after the checks; the checks themselves know nothing of it.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping

from fedcl_lint.baseline import SourceLines, load_baseline
from fedcl_lint.checks import CheckContext, FileFailure, ScopedFindings, UnusedSuppression, run_checks
from fedcl_lint.config import Config, protocol_pairs, with_overrides
from fedcl_lint.discover import Discovery, FileSelection, SourceFile, discover, display_path
from fedcl_lint.engine import EngineOptions, FactStore
from fedcl_lint.link import Linker, LinkResult
from fedcl_lint.rulepack import RulePack, load_packs
from fedcl_lint.suppressions import Suppression, apply_suppressions
from fedcl_lint.table import ProtocolTable, build_table
from fedcl_lint.types import Finding, Location, Mechanism, Severity

_UNUSED_SUPPRESSION = UnusedSuppression()


@dataclass(frozen=True)
class RunInputs:
    """Every file and folder whose content decided a run, for replaying it (see `replay`).

    `skipped` are sources the prefilter never parsed: they may change without changing
    the findings as long as they still mention none of `names`.
    """

    paths: tuple[str, ...] = ()
    skipped: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trace:
    """How a run reached its findings: what a later run needs to patch it (`incremental`)."""

    store: FactStore
    link: LinkResult
    findings: ScopedFindings  # before the user's settings
    suppressions: dict[str, tuple[Suppression, ...]]  # by display path


@dataclass(frozen=True)
class CheckResult:
    """What a `check` report says: the findings the user's settings leave, and how much was
    analysed. A full analysis and a patched run (`incremental`) both make one."""

    findings: tuple[Finding, ...]
    file_count: int
    site_count: int
    resolved_count: int
    config: Config = Config()
    cwd: Path | None = None  # display paths are relative to it
    suppressed: int = 0  # findings hidden by `# fedcl-lint: ignore` comments
    baselined: int = 0  # findings hidden because the baseline knows them

    def failing(self, threshold: Severity | None = None) -> tuple[Finding, ...]:
        """Findings at or above the threshold (default: the configured `fail-on`)."""
        threshold = threshold or self.config.fail_on
        return tuple(f for f in self.findings if f.severity.rank >= threshold.rank)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass(frozen=True)
class Analysis:
    """The outcome of one run over a project."""

    files: tuple[SourceFile, ...]
    table: ProtocolTable
    findings: tuple[Finding, ...]
    config: Config = Config()
    pack: RulePack | None = None
    cwd: Path | None = None  # display paths are relative to it
    suppressed: int = 0  # findings hidden by `# fedcl-lint: ignore` comments
    baselined: int = 0  # findings hidden because the baseline knows them
    inputs: RunInputs = RunInputs()  # what decided the findings
    trace: Trace | None = field(default=None, repr=False, compare=False)

    @property
    def result(self) -> CheckResult:
        return CheckResult(self.findings, len(self.files), self.table.site_count, self.table.resolved_count,
                           self.config, self.cwd, self.suppressed, self.baselined)

    def failing(self, threshold: Severity | None = None) -> tuple[Finding, ...]:
        """Findings at or above the threshold (default: the configured `fail-on`)."""
        return self.result.failing(threshold)

    def count(self, severity: Severity) -> int:
        return self.result.count(severity)


def analyze(
    paths: list[str] | tuple[str, ...],
    config: Config | None = None,
    cwd: Path | None = None,
    *,
    packs: tuple[str, ...] | None = None,
    policy: Mapping[str, Mechanism] | None = None,
    external: frozenset[str] | None = None,
    options: EngineOptions = EngineOptions(),
    on_progress: Callable[[int, int], None] | None = None,
    trace: bool = False,
) -> Analysis:
    """Analyse the Python files under `paths` (relative to `cwd`) with `config` (defaults if None).

    `packs`, `policy` and `external` override the configuration's `rules`,
    `[protocol]` and `external` (a shorthand for library callers and tests).
    `options` tune speed (jobs, cache, prefilter), never the findings; `on_progress(done, total)`
    hears how parsing goes. With `trace`, the analysis keeps how it got there (`Analysis.trace`,
    all the project's facts) for a later run to patch.
    """
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    config = with_overrides(
        config or Config(),
        rules=tuple(packs) if packs is not None else None,
        protocol=protocol_pairs(policy) if policy is not None else None,
        external=external,
    )
    with paused_gc():
        return _analyze(paths, config, load_packs(config.rules), cwd, options, on_progress, trace)


@contextmanager
def paused_gc():
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
    on_progress: Callable[[int, int], None] | None, trace: bool,
) -> Analysis:
    selection = FileSelection(
        root=config.root, include=config.include, exclude=config.exclude, respect_gitignore=config.respect_gitignore
    )
    discovery = discover(paths, cwd, selection)
    files = list(discovery.files)
    store = FactStore(files, pack, options, on_progress=on_progress)
    linked = Linker(store, pack).link()
    table = build_table(linked)
    store.save()
    modules = sorted(store.modules.values(), key=lambda m: m.file.display)
    failures = tuple(
        FileFailure(m.location(m.facts.failure.position), m.facts.failure.message, m.facts.failure.kind)
        for m in modules
        if m.facts.failure is not None
    )
    context = CheckContext(
        table=table, pack=pack, failures=failures, policy=config.policy, external=config.external
    )
    suppressions = {m.file.display: m.facts.suppressions for m in modules if m.facts.suppressions}
    if config.warn_unused_ignores:
        suppressions.update(store.unparsed_suppressions())
    scoped = run_checks(context, linked.modules)
    refined = refine(scoped.all(), config, cwd, suppressions)
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
        trace=Trace(store, linked, scoped, suppressions) if trace else None,
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
    return RunInputs(tuple(map(str, paths)), skipped, tuple(sorted(store.searched)))


@dataclass(frozen=True)
class Refined:
    findings: tuple[Finding, ...]
    suppressed: int
    baselined: int


def refine(
    findings: Iterable[Finding],
    config: Config,
    cwd: Path,
    suppressions: Mapping[str, tuple[Suppression, ...]],
) -> Refined:
    """Apply the user's settings to the checks' findings, in this order:

    1. `select`/`ignore` and `per-file-ignores` drop findings of disabled codes;
    2. suppression comments drop the findings on their line (a comment naming a
       disabled code therefore matches nothing);
    3. with `warn-unused-ignores`, comments that matched nothing become FCL100;
    4. `severity` overrides apply;
    5. the baseline drops the findings it knows.
    The failing threshold (`fail-on`) is applied by `Analysis.failing`.
    """
    base = config.base(cwd)

    def selected(finding: Finding) -> bool:
        if not config.enabled(finding.code):
            return False
        relative = display_path(cwd / finding.location.path, base)
        return relative.startswith("../") or not config.ignored_in(finding.code, relative)

    outcome = apply_suppressions([f for f in findings if selected(f)], suppressions)
    kept = list(outcome.kept)
    if config.warn_unused_ignores:
        unused = (
            _UNUSED_SUPPRESSION.finding_for(Location(u.path, u.suppression.line, u.suppression.column), u.unused_codes)
            for u in outcome.unused
        )
        kept.extend(f for f in unused if selected(f))
    kept = [replace(f, severity=config.severity_of(f.code, f.severity)) for f in kept]
    baselined = 0
    if config.baseline is not None:
        baseline = load_baseline(config.baseline, display_path(config.baseline, cwd))
        new, known = baseline.split(kept, SourceLines(cwd))
        kept, baselined = list(new), len(known)
    return Refined(tuple(sorted(kept, key=lambda f: f.sort_key)), len(outcome.suppressed), baselined)
