"""The pipeline in one call: discover -> extract -> link -> table -> checks.

The CLI and the tests both go through `analyze`, so what the tests assert is
what users see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from fedcl_lint.checks import CheckContext, FileFailure, run_checks
from fedcl_lint.discover import SourceFile, discover
from fedcl_lint.extract import extract
from fedcl_lint.facts import ModuleFacts, ParseFailure
from fedcl_lint.link import Linker, Module
from fedcl_lint.rulepack import RulePack, load_packs
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
) -> Analysis:
    """Analyse the Python files under `paths` (relative to `cwd`) with the given rule packs.

    `policy` declares the mechanism of some message types; `external` names message
    types that are sent or handled outside the analysed tree.
    """
    pack = load_packs(packs)
    files = discover(paths, cwd)
    modules = [Module(file, _facts_of(file, pack)) for file in files]
    failures = tuple(
        FileFailure(Location(m.file.display, *m.facts.failure.position), m.facts.failure.message)
        for m in modules
        if m.facts.failure is not None
    )
    table = build_table(Linker(modules, pack).link())
    context = CheckContext(table=table, pack=pack, failures=failures, policy=dict(policy or {}), external=external)
    findings = run_checks(context)
    return Analysis(files=tuple(files), table=table, findings=tuple(findings))


def _facts_of(file: SourceFile, pack: RulePack) -> ModuleFacts:
    try:
        source = file.path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return ModuleFacts(failure=ParseFailure(f"cannot read: {reason}", (1, 1)))
    return extract(source, pack)
