"""The pipeline in one call: discover -> extract -> link -> table -> checks.

The CLI and the tests both go through `analyze`, so what the tests assert is
what users see.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from fedcl_lint.checks import CheckContext, FileFailure, run_checks
from fedcl_lint.discover import SourceFile, discover
from fedcl_lint.engine import EngineOptions, FactStore, ProgressAfter
from fedcl_lint.link import Linker
from fedcl_lint.rulepack import load_packs
from fedcl_lint.table import ProtocolTable, build_table
from fedcl_lint.types import Finding, Location, Mechanism, Severity

DEFAULT_PACKS = ("fedcl",)


@dataclass(frozen=True)
class Analysis:
    """The outcome of one run over a project."""

    files: tuple[SourceFile, ...]
    table: ProtocolTable
    findings: tuple[Finding, ...]

    def failing(self, threshold: Severity = Severity.WARNING) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity.rank >= threshold.rank)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def analyze(
    paths: list[str] | tuple[str, ...],
    packs: tuple[str, ...] = DEFAULT_PACKS,
    cwd: Path | None = None,
    policy: Mapping[str, Mechanism] | None = None,
    external: frozenset[str] = frozenset(),
    options: EngineOptions = EngineOptions(),
    show_progress: bool = False,
) -> Analysis:
    """Analyse the Python files under `paths` (relative to `cwd`) with the given rule packs.

    `policy` declares the mechanism of some message types; `external` names message
    types that are sent or handled outside the analysed tree. `options` tune
    speed (jobs, cache, prefilter), never the findings.
    """
    with paused_gc():
        return _analyze(paths, load_packs(packs), cwd, policy, external, options, show_progress)


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


def _analyze(paths, pack, cwd, policy, external, options, show_progress) -> Analysis:
    files = discover(paths, cwd)
    progress = ProgressAfter() if show_progress else None
    store = FactStore(files, pack, options, on_progress=progress)
    try:
        table = build_table(Linker(store, pack).link())
    finally:
        if progress is not None:
            progress.close()
    store.save()
    failures = tuple(
        FileFailure(m.location(m.facts.failure.position), m.facts.failure.message)
        for m in sorted(store.modules.values(), key=lambda m: m.file.display)
        if m.facts.failure is not None
    )
    context = CheckContext(table=table, pack=pack, failures=failures, policy=dict(policy or {}), external=external)
    findings = run_checks(context)
    return Analysis(files=tuple(files), table=table, findings=tuple(findings))
