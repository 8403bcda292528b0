"""Command line: `fedcl-lint check`, `table`, `rule`, `demo`.

Exit codes follow Ruff: 0 clean, 1 findings of severity warning or error,
2 usage errors and failures of the tool itself.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click
from rich.console import Console

from fedcl_lint import __version__
from fedcl_lint.api import DEFAULT_PACKS, Analysis, analyze
from fedcl_lint.checks import ALL_CHECKS, check_by_code
from fedcl_lint.discover import DiscoveryError
from fedcl_lint.engine import EngineOptions, default_cache_dir
from fedcl_lint.reporters import json_report, text
from fedcl_lint.reporters.rule_page import render_rule_page
from fedcl_lint.reporters.table_view import print_table
from fedcl_lint.rulepack import RulePackError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class FatalError(click.ClickException):
    """A problem with the user's input that stops the run (exit 2)."""

    exit_code = EXIT_ERROR


paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))
def engine_options(function):
    """--jobs, --no-cache, --cache-dir: how fast, never what is found."""
    function = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                            help="Worker processes for parsing. Default: one per CPU.")(function)
    function = click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")(function)
    function = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                            help="Cache folder. Default: .fedcl-lint-cache at the project root.")(function)
    return function


rules_option = click.option(
    "--rules",
    "packs",
    multiple=True,
    metavar="PACK",
    help="Rule pack: a built-in name (fedcl) or a path to a TOML file. Repeatable. Default: fedcl.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fedcl-lint")
def cli() -> None:
    """Find message-passing code whose sender and receiver disagree on the mechanism."""


@cli.command()
@paths_argument
@rules_option
@engine_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def check(paths: tuple[str, ...], packs: tuple[str, ...], output_format: str, jobs: int | None,
          no_cache: bool, cache_dir: Path | None) -> None:
    """Check PATHS (default: the current directory) and report findings."""
    analysis = _analyze(paths, packs, _engine(paths, jobs, no_cache, cache_dir))
    if output_format == "json":
        click.echo(json_report.dumps(json_report.findings_document(analysis)), nl=False)
    else:
        click.echo(text.render_findings(analysis), nl=False)
    sys.exit(EXIT_FINDINGS if analysis.failing() else EXIT_CLEAN)


@cli.command()
@paths_argument
@rules_option
@engine_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format: a rich table or the JSON manifest.")
def table(paths: tuple[str, ...], packs: tuple[str, ...], output_format: str, jobs: int | None,
          no_cache: bool, cache_dir: Path | None) -> None:
    """Print the message type -> mechanism table of PATHS."""
    analysis = _analyze(paths, packs, _engine(paths, jobs, no_cache, cache_dir))
    if output_format == "json":
        click.echo(json_report.dumps(json_report.table_document(analysis)), nl=False)
    else:
        print_table(analysis, Console(soft_wrap=False))


@cli.command()
@click.argument("code", required=False)
def rule(code: str | None) -> None:
    """Explain the check CODE (e.g. FCL001), or list every check."""
    if code is None:
        for check_ in ALL_CHECKS:
            click.echo(f"{check_.code}  {check_.name:<26} {check_.severity.value:<8} {check_.summary}")
        return
    found = check_by_code(code)
    if found is None:
        known = ", ".join(c.code for c in ALL_CHECKS)
        raise FatalError(f"unknown check {code!r} (known: {known})")
    click.echo(render_rule_page(found), nl=False)


@cli.command()
@click.option("--clients", default=5, show_default=True, type=click.IntRange(min=1), help="Number of clients.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(min=0), help="Training rounds.")
@click.option("--bug", is_flag=True, help="Run the seed's broken variant: SHUTDOWN sent as an event.")
def demo(clients: int, rounds: int, bug: bool) -> None:
    """Run a federation on the reference runtime and print its message trace."""
    from fedcl_lint.demo import run_demo  # the runtime is only loaded when asked for

    sys.exit(run_demo(clients=clients, rounds=rounds, bug=bug, console=Console()))


def _engine(paths: tuple[str, ...], jobs: int | None, no_cache: bool, cache_dir: Path | None) -> EngineOptions:
    if no_cache:
        cache_dir = None
    elif cache_dir is None:
        cache_dir = default_cache_dir(paths or (".",), Path.cwd())
    return EngineOptions(jobs=jobs, cache_dir=cache_dir)


def _analyze(paths: tuple[str, ...], packs: tuple[str, ...], options: EngineOptions) -> Analysis:
    try:
        return analyze(paths or (".",), packs=packs or DEFAULT_PACKS, options=options,
                       show_progress=sys.stderr.isatty())
    except (DiscoveryError, RulePackError) as exc:
        raise FatalError(str(exc)) from None


def main() -> None:
    """Console-script entry point: any crash of the tool itself exits 2, never 1."""
    try:
        cli.main(prog_name="fedcl-lint")
    except SystemExit:
        raise
    except Exception:  # the top-level crash guard: report and exit 2 so CI never reads it as findings
        click.echo("fedcl-lint: internal error, please report it with this traceback:", err=True)
        click.echo(traceback.format_exc(), err=True)
        sys.exit(EXIT_ERROR)
