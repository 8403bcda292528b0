"""Everything the user's settings do to the checks' findings, in one place, after the checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from fedcl_lint.analysis.discover import display_path
from fedcl_lint.analysis.facts import Suppression
from fedcl_lint.checks.suppression import UnusedSuppression
from fedcl_lint.records import frozen, replace
from fedcl_lint.refine.baseline import SourceLines, load_baseline
from fedcl_lint.refine.suppressions import apply_suppressions
from fedcl_lint.settings.config import Config
from fedcl_lint.types import Finding, Location

_UNUSED_SUPPRESSION = UnusedSuppression()


@frozen
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
