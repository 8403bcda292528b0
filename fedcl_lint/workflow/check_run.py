"""`check` as one call: replay or analyse, fix or show the fixes, record a baseline, render, record the run.

The command line, the tests and an editor integration all call `run_check(request)`:
it decides which path a run takes, writes the files the run is asked to write (fixed
sources, a baseline, the report when `output` names a file, the GitHub job summary)
and returns a `CheckRun` saying what happened. Printing is left to the caller.

The engine, the checks and the reporters are imported by the functions that use
them: a replayed run (see `replay`) never loads them, and that is most of its time;
nor does a run without a cache load `replay`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from fedcl_lint.records import frozen, replace
from fedcl_lint.settings.config import Config
from fedcl_lint.workflow.outcome import Outcome

if TYPE_CHECKING:
    from fedcl_lint.actions.fix import FixPlan, WriteFailure
    from fedcl_lint.refine.result import Analysis, CheckResult
    from fedcl_lint.workflow.replay import RunRecord

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as the shell reports a process SIGINT ended


class CheckError(Exception):
    """A problem with the user's input or files that stops the run (the CLI exits 2)."""


class Fixing(Enum):
    """What to do with the findings' fixes."""

    APPLY = "apply"  # --fix: write them, then report what is left
    DIFF = "diff"  # --diff: show them as a unified diff, write nothing


@frozen
class CheckRequest:
    """One `check`: what to analyse and how, what to do with the findings, where the report goes.
    Relative paths (`paths`, `output`, `write_baseline`) are relative to `cwd`."""

    paths: tuple[str, ...] = ()  # none: the working directory
    config: Config = Config()
    cwd: Path | None = None  # None: the process's working directory
    jobs: int | None = None  # worker processes; None: one per CPU
    cache_dir: Path | None = None  # None: no cache, and the run is neither replayed nor recorded
    output_format: str = "text"  # text, json, sarif, github, gitlab or junit
    output: str | None = None  # the file the report is written to; None: the caller prints `CheckRun.report`
    exit_zero: bool = False
    fixing: Fixing | None = None
    write_baseline: str | None = None  # record today's findings in this file instead of reporting them
    step_summary: str | None = None  # the file the GitHub job summary is appended to ($GITHUB_STEP_SUMMARY)
    drawn: bool = False  # the caller draws the text report on a terminal: it is not rendered, and not recorded
    stdin: tuple[str, bytes] | None = None  # one file's content (path relative to `cwd`), as an editor has it
    statistics: bool = False  # counts per code instead of the findings (text or json)
    show_fixes: bool = False  # text: each fixable finding's fix; with `fixing`: list the fixes made
    quiet: bool = False  # the findings, without the summary lines

    @property
    def working_dir(self) -> Path:
        return Path(os.path.abspath(self.cwd or Path.cwd()))


@frozen
class FixRun:
    """What `--fix` did, or `--diff` would do."""

    plan: FixPlan
    summary: str  # "Fixed N of M FCL001 findings (K files).", then why each other one was not fixed
    failures: tuple[WriteFailure, ...] = ()  # files that could not be written (left as they were)
    diff: str | None = None  # --diff: the rewrites as a unified diff


@frozen
class CheckRun:
    """What one `check` did, for its caller to show."""

    exit_code: int
    replayed: bool = False  # the report is an identical earlier run's: nothing was analysed
    analyses: int = 0  # full analyses run: 0 when replayed, 2 when --fix wrote files and looked again
    result: CheckResult | None = None  # what the run found (after --fix, what is left); None when replayed
    report: Outcome | None = None  # the rendered report; None with --diff or --write-baseline, or when drawn
    draw: bool = False  # the caller is to draw `result` on its terminal (the request's `drawn`)
    fixes: FixRun | None = None
    baseline: int | None = None  # findings recorded in the request's `write_baseline`


def run_check(request: CheckRequest, on_progress: Callable[[int, int], None] | None = None) -> CheckRun:
    """Run `request`. `on_progress(done, total)` hears how parsing goes. Raises CheckError for
    problems with the user's settings, rule packs, paths or the files the run writes."""
    if request.write_baseline is not None:
        return _write_baseline(request, request.write_baseline, on_progress)
    if request.fixing is not None:
        return _fix(request, request.fixing, on_progress)
    record = _run_record(request)
    outcome = record.replay() if record is not None else None
    if outcome is not None:
        _deliver(outcome, request)
        return CheckRun(outcome.exit_code, replayed=True, report=outcome)
    analysis = _analyze(request, request.config, on_progress)
    outcome = _report(analysis.result, request)
    if record is not None and outcome is not None and not analysis.warnings:  # a warning is said every time
        record.record(analysis.inputs, outcome)
    return _reported(analysis.result, outcome, request, analyses=1)


def _run_record(request: CheckRequest) -> RunRecord | None:
    """Where this run is recorded for replay: keyed by all that decides its report besides files.
    A report drawn on a terminal depends on the terminal: never recorded."""
    if request.cache_dir is None or request.drawn or request.stdin is not None:
        return None
    from fedcl_lint.workflow.replay import RunRecord  # and what it needs: hashing, pickling

    key = ("check", str(request.working_dir), request.paths, request.config, request.output_format, request.output,
           request.exit_zero, request.statistics, request.show_fixes, request.quiet, _report_root(request))
    return RunRecord(request.cache_dir, key)


def _report_root(request: CheckRequest) -> str | None:
    """The repository root the CI formats' paths are relative to: it decides their report too."""
    if request.output_format in ("text", "json"):
        return None
    from fedcl_lint.output.root import repository_root

    return str(repository_root(request.working_dir))


def _write_baseline(request: CheckRequest, target: str,
                    on_progress: Callable[[int, int], None] | None) -> CheckRun:
    """Record every finding there is today (the configured baseline hides none), report nothing."""
    from fedcl_lint.refine.baseline import SourceLines, record_baseline

    analysis = _analyze(request, replace(request.config, baseline=None), on_progress)
    try:
        count = record_baseline(request.working_dir / target, analysis.findings, SourceLines(request.working_dir))
    except OSError as exc:
        raise CheckError(f"cannot write {target}: {exc.strerror or exc}") from None
    return CheckRun(EXIT_CLEAN, analyses=1, result=analysis.result, baseline=count)


def _fix(request: CheckRequest, fixing: Fixing, on_progress: Callable[[int, int], None] | None) -> CheckRun:
    """--diff: the fixes as a diff, written nowhere else. --fix: write them, then report what is left
    (analysed again if a file was written)."""
    from fedcl_lint.actions import fix as fixes

    analysis = _analyze(request, request.config, on_progress)
    plan = fixes.plan_fixes(analysis)
    if fixing is Fixing.DIFF:
        diff = fixes.unified_diff(plan)
        if request.output is not None:
            _write(request.working_dir / request.output, request.output, diff)
        return CheckRun(_exit_code(analysis.result, request.exit_zero), analyses=1, result=analysis.result,
                        fixes=FixRun(plan, fixes.summary(plan, dry_run=True, listed=request.show_fixes), diff=diff))
    failures = fixes.apply(plan)
    written = len(failures) < len(plan.files)
    after = _analyze(request, request.config, on_progress) if written else analysis
    run = _reported(after.result, _report(after.result, request), request, analyses=1 + int(written))
    return replace(run, exit_code=EXIT_ERROR if failures else run.exit_code,
                   fixes=FixRun(plan, fixes.summary(plan, failures, listed=request.show_fixes), failures))


def _reported(result: CheckResult, outcome: Outcome | None, request: CheckRequest, analyses: int) -> CheckRun:
    return CheckRun(_exit_code(result, request.exit_zero), analyses=analyses, result=result, report=outcome,
                    draw=outcome is None)


def _analyze(request: CheckRequest, config: Config, on_progress: Callable[[int, int], None] | None) -> Analysis:
    from fedcl_lint.analysis.discover import DiscoveryError
    from fedcl_lint.analysis.load import EngineOptions
    from fedcl_lint.refine.baseline import BaselineError
    from fedcl_lint.settings.config import ConfigError
    from fedcl_lint.settings.rulepack import RulePackError
    from fedcl_lint.workflow.pipeline import analyze

    options = EngineOptions(jobs=request.jobs, cache_dir=request.cache_dir)
    try:
        return analyze(request.paths or (".",), config, request.working_dir, options=options, on_progress=on_progress,
                       texts=dict([request.stdin]) if request.stdin is not None else None)
    except (DiscoveryError, RulePackError, BaselineError, ConfigError) as exc:
        raise CheckError(str(exc)) from None


def _exit_code(result: CheckResult, exit_zero: bool) -> int:
    return EXIT_FINDINGS if result.failing() and not exit_zero else EXIT_CLEAN


def _report(result: CheckResult, request: CheckRequest) -> Outcome | None:
    """Render the report and write it where it goes; None when the caller draws it."""
    if request.drawn:
        return None
    from fedcl_lint.output.report import ReportOptions, render_report

    options = ReportOptions(statistics=request.statistics, show_fixes=request.show_fixes, quiet=request.quiet)
    report, summary = render_report(result, request.output_format, options)
    outcome = Outcome(report, _exit_code(result, request.exit_zero), summary)
    _deliver(outcome, request)
    return outcome


def _deliver(outcome: Outcome, request: CheckRequest) -> None:
    """Append the job summary, write the report to its file (when it goes to one)."""
    if outcome.summary is not None and request.step_summary:
        try:
            path = request.working_dir / request.step_summary
            with open(path, "a", encoding="utf-8", errors="surrogateescape") as summary:  # file names as they are
                summary.write(outcome.summary)
        except OSError as exc:
            raise CheckError(
                f"cannot write the job summary to {request.step_summary}: {exc.strerror or exc}"
            ) from None
    if request.output is not None:
        _write(request.working_dir / request.output, request.output, outcome.report)


def _write(path: Path, display: str, text: str) -> None:
    from fedcl_lint.files import write_report

    try:
        write_report(path, text)
    except OSError as exc:
        raise CheckError(f"cannot write {display}: {exc.strerror or exc}") from None
