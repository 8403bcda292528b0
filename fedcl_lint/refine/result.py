"""What a run says: the findings the user's settings leave, and what was analysed to find them."""

from __future__ import annotations

from pathlib import Path

from fedcl_lint.analysis.discover import SourceFile
from fedcl_lint.analysis.load import RunInputs
from fedcl_lint.analysis.table import ProtocolTable
from fedcl_lint.records import frozen
from fedcl_lint.settings.config import Config
from fedcl_lint.settings.rulepack import RulePack
from fedcl_lint.types import Finding, Severity


@frozen
class CheckResult:
    """What a `check` report says: the findings the user's settings leave, and how much was analysed."""

    findings: tuple[Finding, ...]
    file_count: int
    site_count: int
    resolved_count: int
    config: Config = Config()
    cwd: Path | None = None  # display paths are relative to it
    suppressed: int = 0  # findings hidden by `# fedcl-lint: ignore` comments
    baselined: int = 0  # findings hidden because the baseline knows them
    warnings: tuple[str, ...] = ()  # what the run says on standard error, e.g. a protocol scope without files

    def failing(self, threshold: Severity | None = None) -> tuple[Finding, ...]:
        """Findings at or above the threshold (default: the configured `fail-on`)."""
        threshold = threshold or self.config.fail_on
        return tuple(f for f in self.findings if f.severity.rank >= threshold.rank)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@frozen
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
    inputs: RunInputs = RunInputs()  # what decided the findings (for replay)
    warnings: tuple[str, ...] = ()  # what the run says on standard error, e.g. a protocol scope without files

    @property
    def result(self) -> CheckResult:
        return CheckResult(self.findings, len(self.files), self.table.site_count, self.table.resolved_count,
                           self.config, self.cwd, self.suppressed, self.baselined, self.warnings)

    def failing(self, threshold: Severity | None = None) -> tuple[Finding, ...]:
        """Findings at or above the threshold (default: the configured `fail-on`)."""
        return self.result.failing(threshold)

    def count(self, severity: Severity) -> int:
        return self.result.count(severity)


