"""Command line: `fedcl-lint check`, `table`, `docs`, `diff`, `rule`, `demo`.

Exit codes follow Ruff: 0 clean; 1 when findings reach the failing threshold
(`--fail-on`, default warning), when `docs --check` finds the page stale,
when `diff` finds a breaking change, or when `demo` sees a client miss SHUTDOWN
(as `--bug` shows); 2 for usage and configuration errors and for failures of
the tool itself; 130 when interrupted.

Settings come from the configuration file (read once per run, here) with the
command line's options on top. `check` is run by `workflow.check_run.run_check`,
the other commands' analyses by `workflow.pipeline.analyze`; this module parses
options and prints.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from fedcl_lint import __version__
from fedcl_lint.records import replace
from fedcl_lint.settings.config import (
    SELECTOR_EXPECTED,
    Config,
    ConfigError,
    default_cache_dir,
    load_config,
    parse_selector,
    with_overrides,
)
from fedcl_lint.types import Severity, plural
from fedcl_lint.workflow.check_run import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    CheckError,
    CheckRequest,
    CheckRun,
    Fixing,
    run_check,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from fedcl_lint.analysis.load import EngineOptions
    from fedcl_lint.analysis.protocol import Protocol
    from fedcl_lint.refine.result import Analysis

# The engine, the checks and the reporters are imported by the functions that use them:
# a replayed run (see `replay`) never loads them, and that is most of its time.


_Command = TypeVar("_Command", bound=Callable[..., Any])
STATISTICS_FORMATS = ("text", "json")  # what `check --statistics` prints counts as (see output/statistics.py)


class FatalError(click.ClickException):
    """A problem with the user's input that stops the run (exit 2)."""

    exit_code = EXIT_ERROR


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))
rules_option = click.option(
    "--rules",
    "packs",
    multiple=True,
    metavar="PACK",
    help="Rule pack: a built-in name (fedcl) or a path to a TOML file. Repeatable. "
    "Replaces `rules`. Default: fedcl.",
)
config_option = click.option(
    "--config",
    "config_file",
    metavar="FILE",
    help="Read the settings from FILE (a pyproject.toml, or a TOML file with the settings at top level) "
    "instead of the nearest pyproject.toml with a [tool.fedcl-lint] table.",
)


def engine_options(function: _Command) -> _Command:
    """--jobs, --no-cache, --cache-dir: how fast, never what is found."""
    function = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                            help="Worker processes for parsing. Default: one per CPU.")(function)
    function = click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")(function)
    function = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                            help="Cache folder. Default: $FEDCL_LINT_CACHE_DIR, else .fedcl-lint-cache at the "
                                 "project root.")(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fedcl-lint")
def cli() -> None:
    """Find message-passing code whose sender and receiver disagree on the mechanism."""


@cli.command()
@paths_argument
@config_option
@rules_option
@click.option("--select", metavar="CODES", help="Comma-separated codes or prefixes to report. Replaces `select`.")
@click.option("--ignore", metavar="CODES", help="Comma-separated codes or prefixes not to report. Added to `ignore`.")
@click.option("--fail-on", type=click.Choice([s.value for s in Severity]), default=None,
              help="Lowest severity that fails the run (exit 1). Replaces `fail-on`. Default: warning.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach the threshold.")
@click.option("--warn-unused-ignores", is_flag=True,
              help="Report suppression comments that match no finding (FCL100).")
@click.option("--baseline", metavar="FILE", help="Report only the findings FILE does not record. Replaces `baseline`.")
@click.option("--write-baseline", metavar="FILE", help="Record today's findings in FILE, report nothing, exit 0.")
@click.option("--format", "--output-format", "output_format",
              type=click.Choice(["text", "json", "sarif", "github", "gitlab", "junit"]), default="text",
              show_default=True, help="Output format.")
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option("--statistics", is_flag=True, help="Count the findings of each code instead of listing them "
              "(with --format text or json).")
@click.option("--show-fixes", is_flag=True, help="Show each fixable finding's fix (text); with --fix or --diff, "
              "list the fixes made.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings, and nothing else: no summary, no warnings.")
@click.option("--fix", is_flag=True,
              help="Rewrite each FCL001 send to the mechanism its handlers use, where the rule pack says how; "
              "then report what is left.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print the rewrites --fix would make as a unified diff, and write nothing.")
@click.option("--stdin-filename", metavar="PATH",
              help="Read PATH's content from standard input (an editor's unsaved text); the whole project "
                   "is analysed.")
@engine_options
def check(
    paths: tuple[str, ...],
    config_file: str | None,
    packs: tuple[str, ...],
    select: str | None,
    ignore: str | None,
    fail_on: str | None,
    exit_zero: bool,
    warn_unused_ignores: bool,
    baseline: str | None,
    write_baseline: str | None,
    output_format: str,
    output: str | None,
    statistics: bool,
    show_fixes: bool,
    quiet: bool,
    fix: bool,
    show_diff: bool,
    stdin_filename: str | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
) -> None:
    """Check PATHS (default: the current directory) and report findings."""
    if baseline is not None and write_baseline is not None:
        raise click.UsageError("--baseline and --write-baseline cannot be used together")
    if (fix or show_diff) and write_baseline is not None:
        raise click.UsageError("--fix and --diff cannot be used with --write-baseline")
    if stdin_filename is not None and (fix or show_diff or write_baseline is not None):
        raise click.UsageError("--stdin-filename cannot be used with --fix, --diff or --write-baseline")
    if show_diff and output_format != "text":
        raise click.UsageError("--diff prints a unified diff: it cannot be used with --format " + output_format)
    if statistics and (show_diff or write_baseline is not None):
        raise click.UsageError("--statistics counts the findings reported: it cannot be used with "
                               + ("--diff" if show_diff else "--write-baseline"))
    if statistics and output_format not in STATISTICS_FORMATS:
        raise click.UsageError(f"--statistics prints counts as {' or '.join(STATISTICS_FORMATS)}: "
                               f"it cannot be used with --format {output_format}")
    config = _settings(paths, config_file, packs)
    config = with_overrides(
        config,
        select=_selectors("--select", select) if select is not None else None,
        ignore=config.ignore + _selectors("--ignore", ignore) if ignore is not None else None,
        fail_on=Severity(fail_on) if fail_on is not None else None,
        warn_unused_ignores=True if warn_unused_ignores else None,
        baseline=Path(os.path.abspath(baseline)) if baseline is not None else None,
    )
    reports = write_baseline is None and not show_diff
    request = CheckRequest(
        paths=paths,
        config=config,
        cwd=Path.cwd(),
        jobs=jobs,
        cache_dir=_cache_dir(paths, no_cache, cache_dir, quiet),
        output_format=output_format,
        output=output,
        exit_zero=exit_zero,
        fixing=Fixing.DIFF if show_diff else Fixing.APPLY if fix else None,
        write_baseline=write_baseline,
        step_summary=os.environ.get("GITHUB_STEP_SUMMARY") or None,
        drawn=reports and output_format == "text" and output is None and not statistics and _on_terminal(),
        stdin=(stdin_filename, sys.stdin.buffer.read()) if stdin_filename is not None else None,
        statistics=statistics,
        show_fixes=show_fixes,
        quiet=quiet,
    )
    run = _run_check(request)
    _show(run, request)
    sys.exit(run.exit_code)


def _run_check(request: CheckRequest) -> CheckRun:
    progress = _progress()
    try:
        return run_check(request, on_progress=progress)
    except CheckError as exc:
        raise FatalError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()


def _show(run: CheckRun, request: CheckRequest) -> None:
    """Print what the run says: the diff and the fix summary (on standard error, so that the report
    keeps its format), the baseline written, the report (unless it went to a file)."""
    quiet = request.quiet  # the findings and errors only
    if run.fixes is not None:
        if run.fixes.diff is not None and request.output is None:
            click.echo(run.fixes.diff, nl=False)
        summary = run.fixes.summary
        if quiet:
            summary = "".join(line for line in summary.splitlines(keepends=True) if line.startswith("error:"))
        click.echo(summary, err=True, nl=False)
    if run.baseline is not None and not quiet:
        click.echo(f"Wrote {plural(run.baseline, 'finding')} to {request.write_baseline}.")
    for warning in run.result.warnings if run.result is not None and not quiet else ():  # a replayed run had none
        click.echo(f"warning: {warning}", err=True)
    if run.report is not None and request.output is None:
        click.echo(run.report.report, nl=False)
    if run.draw and run.result is not None:
        from fedcl_lint.output import text

        text.print_findings(run.result, _console(), show_fixes=request.show_fixes, quiet=quiet)


def _on_terminal() -> bool:
    """rich's `Console.is_terminal` for standard output, without loading rich (20 ms) when it is a
    pipe or a file (a pre-commit hook, CI) and none of rich's variables may say otherwise."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        piped = isatty is None or not isatty()
    except ValueError:  # closed: rich says no terminal too
        piped = True
    if piped and "FORCE_COLOR" not in os.environ and "TTY_COMPATIBLE" not in os.environ:
        return False
    return _console().is_terminal


def _console() -> Console:
    """A console for people: colour unless NO_COLOR is set (https://no-color.org)."""
    from rich.console import Console  # rich is loaded only for the views that draw with it

    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(highlight=False, soft_wrap=True, no_color=no_color, color_system=None if no_color else "auto")


def _write(report: str, output: str) -> None:
    from fedcl_lint.files import write_report

    try:
        write_report(Path(output), report)
    except OSError as exc:
        raise FatalError(f"cannot write {output}: {exc.strerror or exc}") from None


@cli.command(short_help="Print the message type -> mechanism table of PATHS.")
@paths_argument
@config_option
@rules_option
@click.option("--format", "--output-format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format: a rich table or the JSON manifest.")
@engine_options
def table(
    paths: tuple[str, ...], config_file: str | None, packs: tuple[str, ...], output_format: str,
    jobs: int | None, no_cache: bool, cache_dir: Path | None,
) -> None:
    """Print the message type -> mechanism table of PATHS (with --format json: the protocol manifest)."""
    analysis = _analyze(paths, _protocol_settings(paths, config_file, packs), _engine(paths, jobs, no_cache, cache_dir))
    if output_format == "json":
        from fedcl_lint.analysis.protocol import Protocol
        from fedcl_lint.output import json_report
        from fedcl_lint.output.manifest import manifest_document

        click.echo(json_report.dumps(manifest_document(Protocol.from_table(analysis.table, analysis.pack))), nl=False)
    else:
        from rich.console import Console  # rich is loaded only for the views that draw with it

        from fedcl_lint.output.table_view import print_table

        print_table(analysis, Console(soft_wrap=False))


@cli.command(short_help="Write the protocol of PATHS as a Markdown page.")
@paths_argument
@config_option
@rules_option
@click.option("-o", "--output", metavar="FILE", help="Write the page to FILE (links are relative to it).")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing: exit 1 and show a diff if FILE is not what would be written.")
@engine_options
def docs(
    paths: tuple[str, ...], config_file: str | None, packs: tuple[str, ...], output: str | None, check_only: bool,
    jobs: int | None, no_cache: bool, cache_dir: Path | None,
) -> None:
    """Write the protocol of PATHS as a Markdown page: table, mechanisms, policy, flow diagram."""
    if check_only and output is None:
        raise click.UsageError("--check needs the page to compare: --output FILE")
    analysis = _analyze(paths, _protocol_settings(paths, config_file, packs), _engine(paths, jobs, no_cache, cache_dir))
    link_base = Path(os.path.abspath(output)).parent if output is not None else Path.cwd()
    from fedcl_lint.output.protocol_doc import render_protocol_doc  # loaded for this command only

    page = render_protocol_doc(analysis, link_base)
    if output is None:
        click.echo(page, nl=False)
        return
    target = Path(output)
    if not check_only:
        _write(page, output)
        click.echo(f"Wrote {output}.")
        return
    try:
        current = target.read_text(encoding="utf-8")  # universal newlines: a CRLF page is not stale
    except FileNotFoundError:
        current = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise FatalError(f"cannot read {output}: {exc}") from None
    if current == page:
        click.echo(f"{output} is up to date.")
        return
    import difflib
    import shlex

    click.echo("".join(difflib.unified_diff(
        current.splitlines(keepends=True), page.splitlines(keepends=True),
        fromfile=f"{output} (on disk)", tofile=f"{output} (generated)",
    )), nl=False)
    settings = [*(["--config", config_file] if config_file else []), *(a for p in packs for a in ("--rules", p))]
    command = shlex.join(["fedcl-lint", "docs", *paths, *settings, "-o", output])
    click.echo(f"{output} is stale; regenerate it with `{command}`.", err=True)
    sys.exit(EXIT_FINDINGS)


@cli.command(name="diff", short_help="Report protocol changes between two manifests, or since a git revision.")
@click.argument("args", nargs=-1, metavar="[OLD.json NEW.json | PATHS]")
@click.option("--base", "base_revision", metavar="REV",
              help="Compare the protocol of PATHS at git revision REV with the working tree.")
@config_option
@rules_option
@click.option("--format", "--output-format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@engine_options
def diff(
    args: tuple[str, ...], base_revision: str | None, config_file: str | None, packs: tuple[str, ...],
    output_format: str, jobs: int | None, no_cache: bool, cache_dir: Path | None,
) -> None:
    """Report protocol changes between two manifests (`table --format json`): OLD.json NEW.json,
    or --base REV [PATHS]. Exits 1 when a change is breaking."""
    if base_revision is None:
        if len(args) != 2:
            raise click.UsageError("give two manifests, OLD.json NEW.json, or --base REV [PATHS]")
        old, new = _manifest(args[0]), _manifest(args[1])
    else:
        old, new = _protocols_since(base_revision, args, config_file, packs, _engine(args, jobs, no_cache, cache_dir))
    from fedcl_lint.actions.protocol_diff import diff_protocols, render_json, render_text

    changes = diff_protocols(old, new)
    click.echo(render_json(changes) if output_format == "json" else render_text(changes), nl=False)
    sys.exit(EXIT_FINDINGS if any(c.breaking for c in changes) else EXIT_CLEAN)


def _manifest(path: str) -> Protocol:
    from fedcl_lint.output.manifest import ManifestError, load_manifest

    try:
        return load_manifest(Path(path), path)
    except ManifestError as exc:
        raise FatalError(str(exc)) from None


def _protocols_since(
    revision: str, paths: tuple[str, ...], config_file: str | None, packs: tuple[str, ...], options: EngineOptions
) -> tuple[Protocol, Protocol]:
    """The protocol of PATHS at `revision` (read with git) and in the working tree, with today's settings
    (and today's cache, which is keyed by content)."""
    from fedcl_lint.actions.protocol_diff import GitError, tree_at
    from fedcl_lint.analysis.discover import DiscoveryError
    from fedcl_lint.analysis.protocol import Protocol
    from fedcl_lint.settings.rulepack import RulePackError
    from fedcl_lint.workflow.pipeline import analyze

    config = _protocol_settings(paths, config_file, packs)
    current = _analyze(paths, config, options)
    new = Protocol.from_table(current.table, current.pack)
    cwd = Path.cwd().resolve()
    try:
        with tree_at(revision, cwd) as (top, copy):
            top = top.resolve()

            def in_copy(path: Path) -> Path | None:
                """Where an absolute path of the working tree is in the revision's copy."""
                resolved = path.resolve()
                return copy / resolved.relative_to(top) if resolved.is_relative_to(top) else None

            base_cwd = copy / cwd.relative_to(top)
            base_cwd.mkdir(parents=True, exist_ok=True)
            root = config.root if config.root is None else in_copy(config.root) or config.root
            base_config = replace(config, root=root)
            base_paths = []
            for path in paths or (".",):
                moved = in_copy(Path(os.path.abspath(path)))
                if moved is None:
                    raise FatalError(f"--base {revision}: {path} is outside the git repository")
                base_paths.append(str(moved))
            try:
                analysis = analyze(base_paths, base_config, cwd=base_cwd, options=options)
            except (DiscoveryError, RulePackError, ConfigError) as exc:
                raise FatalError(f"at {revision}: {exc}") from None
            old = Protocol.from_table(analysis.table, analysis.pack)
    except GitError as exc:
        raise FatalError(f"--base {revision}: {exc}") from None
    return old, new


@cli.command(short_help="Explain the check CODE (e.g. FCL001), or list every check.")
@click.argument("code", required=False)
def rule(code: str | None) -> None:
    """Explain the check CODE (e.g. FCL001), or list every check."""
    from fedcl_lint.checks import ALL_CHECKS, check_by_code
    from fedcl_lint.output.rule_page import render_rule_page

    if code is None:
        for check_ in ALL_CHECKS:
            click.echo(f"{check_.code}  {check_.name:<26} {check_.severity.value:<8} {check_.summary}")
        return
    found = check_by_code(code)
    if found is None:
        known = ", ".join(c.code for c in ALL_CHECKS)
        raise FatalError(f"unknown check {code!r} (known: {known})")
    click.echo(render_rule_page(found), nl=False)


@cli.command(short_help="Run a federation on the reference runtime and print its message trace.")
# Bounded: every client, and every message of the trace, is held in memory.
@click.option("--clients", default=5, show_default=True, type=click.IntRange(1, 1000), help="Number of clients.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(0, 10000), help="Training rounds.")
@click.option("--bug", is_flag=True, help="Run the seed's broken variant: SHUTDOWN sent as an event.")
@click.option(
    "--transport",
    type=click.Choice(["memory", "grpc"]),
    default="memory",
    show_default=True,
    help="memory: one process; grpc: the server and each client in a process of its own, on 127.0.0.1.",
)
def demo(clients: int, rounds: int, bug: bool, transport: str) -> None:
    """Run a federation on the reference runtime and print its message trace."""
    from rich.console import Console

    from fedcl_lint.demo import run_demo  # the runtime is only loaded when asked for

    sys.exit(run_demo(clients=clients, rounds=rounds, bug=bug, console=Console(), transport=transport))


@cli.command(short_help="Serve editors over the Language Server Protocol (standard input and output).")
def server() -> None:
    """Serve editors over the Language Server Protocol (standard input and output)."""
    try:
        from fedcl_lint.server import serve
    except ImportError as exc:  # pygls is an optional dependency
        raise FatalError(f"the language server needs pygls: pip install 'fedcl-lint[server]' ({exc})") from None
    gc.enable()  # a long-lived process: `main` turned the collector off for one short run
    serve()


def _protocol_settings(paths: tuple[str, ...], config_file: str | None, packs: tuple[str, ...]) -> Config:
    """The settings of the commands that describe the protocol (`table`, `docs`, `diff`): the baseline
    only hides known findings from `check`, so it is neither read nor required there."""
    return replace(_settings(paths, config_file, packs), baseline=None)


def _settings(paths: tuple[str, ...], config_file: str | None, packs: tuple[str, ...]) -> Config:
    """The configuration file's settings (found from PATHS, or --config), with --rules on top."""
    try:
        config = load_config(paths or (".",), Path.cwd(), config_file)
    except ConfigError as exc:
        raise FatalError(str(exc)) from None
    return with_overrides(config, rules=tuple(packs) if packs else None)


def _selectors(option: str, value: str) -> tuple[str, ...]:
    selectors = []
    for item in value.split(","):
        if not item.strip():
            continue
        selector = parse_selector(item)
        if selector is None:
            raise FatalError(f"{option}: {item.strip()!r} is not {SELECTOR_EXPECTED}")
        selectors.append(selector)
    if not selectors and option == "--select":  # it would turn every check off: surely not what was meant
        raise FatalError(f"--select: names no check; give {SELECTOR_EXPECTED}")
    return tuple(selectors)


def _engine(paths: tuple[str, ...], jobs: int | None, no_cache: bool, cache_dir: Path | None) -> EngineOptions:
    from fedcl_lint.analysis.load import EngineOptions

    return EngineOptions(jobs=jobs, cache_dir=_cache_dir(paths, no_cache, cache_dir))


def _cache_dir(paths: tuple[str, ...], no_cache: bool, cache_dir: Path | None, quiet: bool = False) -> Path | None:
    """The cache folder, or None: none asked for, or one refused. A refused folder, and one that cannot
    be written (still read), are said once per command, unless `quiet`."""
    if no_cache:
        return None
    folder = cache_dir if cache_dir is not None else default_cache_dir(paths or (".",), Path.cwd())
    from fedcl_lint.analysis.cache_folder import problem, unwritable

    refused = problem(folder)
    warning = None
    if refused is not None:
        warning = f"not using the cache folder {folder}: {refused}"
    elif (reason := unwritable(folder)) is not None:
        warning = f"cannot write to the cache folder {folder} ({reason}): nothing this run analyses is cached"
    warned = click.get_current_context().meta.setdefault("fedcl_lint.refused_cache", set())
    if warning is not None and folder not in warned:
        warned.add(folder)
        if not quiet:
            click.echo(f"warning: {warning}", err=True)
    return folder if refused is None else None


def _analyze(paths: tuple[str, ...], config: Config, options: EngineOptions) -> Analysis:
    from fedcl_lint.analysis.discover import DiscoveryError
    from fedcl_lint.refine.baseline import BaselineError
    from fedcl_lint.settings.rulepack import RulePackError
    from fedcl_lint.workflow.pipeline import analyze

    progress = _progress()
    try:
        analysis = analyze(paths or (".",), config, options=options, on_progress=progress)
    except (DiscoveryError, RulePackError, BaselineError, ConfigError) as exc:
        raise FatalError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    for warning in analysis.warnings:  # e.g. a protocol scope that holds no analysed file
        click.echo(f"warning: {warning}", err=True)
    return analysis


def _progress() -> ProgressAfter | None:
    """A progress bar on standard error when that is a terminal (never in a piped report)."""
    return ProgressAfter() if sys.stderr.isatty() else None


class ProgressAfter:
    """A rich progress bar on a terminal (standard error), shown only once parsing has taken `delay`
    seconds, and cleared as soon as it finishes: the bar is gone before anything else is printed.
    Parsing that comes later (a module an import needs) shows a bar again only if it takes as long."""

    def __init__(self, delay: float = 2.0, console: Console | None = None):
        self.start = time.monotonic()
        self.delay = delay
        self.console = console
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None or self._task is None:
            if done >= total or time.monotonic() - self.start < self.delay:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(transient=True, console=self.console or Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task("Parsing", total=total)
        self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self.close()
            self.start = time.monotonic()

    def close(self) -> None:
        """Clear the bar (it is transient), if it is shown."""
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._task = None, None


def main() -> NoReturn:
    """Console-script entry point: run, then leave at once.

    A run is one short process. The cyclic collector is off: it would only rescan
    the run's facts (turned back on after `analyze`, it spent 0.15 s on one
    collection of them; see `api.paused_gc`). And the process exits without
    freeing those objects one by one, which took another 0.15 s on a large
    project: every file it writes is complete and closed by then.
    """
    gc.disable()
    code = run()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # the reader of a pipe has gone, or the server closed its stdout
        code = code or EXIT_ERROR
    os._exit(code)


def run() -> int:
    """The command line's exit code: any crash of the tool itself is 2, never 1, and an interrupt
    (Ctrl-C) is 130, as the shell reports a process that SIGINT ended: never read as findings."""
    try:
        returned = cli.main(prog_name="fedcl-lint", standalone_mode=False)
    except SystemExit as exc:
        return _system_exit_code(exc.code)
    except (KeyboardInterrupt, click.Abort):
        click.echo("\nfedcl-lint: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:  # usage errors and FatalError, as click's standalone mode shows them
        exc.show()
        return exc.exit_code
    except Exception:  # the top-level crash guard: report and exit 2 so CI never reads it as findings
        import traceback

        click.echo("fedcl-lint: internal error, please report it with this traceback:", err=True)
        click.echo(traceback.format_exc(), err=True)
        return EXIT_ERROR
    return returned if isinstance(returned, int) else EXIT_CLEAN  # --help and --version return 0


def _system_exit_code(code: object) -> int:
    """What the interpreter would exit with for `sys.exit(code)`."""
    if code is None:
        return EXIT_CLEAN
    if isinstance(code, int):
        return code
    click.echo(str(code), err=True)
    return 1
