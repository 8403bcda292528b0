"""Shared helpers: run the CLI end to end on fixture trees or on mini projects."""

from __future__ import annotations

import json
import os
import re
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from fedcl_lint.cli import cli
from fedcl_lint.settings.config import CACHE_DIR_ENV

FIXTURES = Path(__file__).parent / "fixtures"
REPO = FIXTURES.parent.parent


def doc_path(page: str) -> Path:
    """A page of the documentation: "README.md", or a page of docs/ ("configuration.md", "rules/FCL001.md")."""
    return REPO / page if page == "README.md" else REPO / "docs" / page


def doc_text(page: str) -> str:
    return doc_path(page).read_text(encoding="utf-8")


def doc_pages() -> list[str]:
    """Every page: the README, then docs/ and its folders."""
    docs = REPO / "docs"
    return ["README.md", *(path.relative_to(docs).as_posix() for path in sorted(docs.rglob("*.md")))]


def doc_blocks(page: str, language: str, *markers: str) -> list[str]:
    """The fenced ```language blocks of a page that hold every marker, in page order."""
    blocks = re.findall(rf"```{language}\n(.*?)```", doc_text(page), flags=re.S)
    return [block for block in blocks if all(marker in block for marker in markers)]


def doc_block(page: str, language: str, *markers: str) -> str:
    """The one fenced ```language block of a page that holds every marker."""
    matching = doc_blocks(page, language, *markers)
    assert len(matching) == 1, f"expected one ```{language} block with {markers!r} in {page}, found {len(matching)}"
    return matching[0]


_SCRATCH = pytest.StashKey[tempfile.TemporaryDirectory]()


def pytest_configure(config):
    """Before any test module is collected or any fixture runs (module-scoped ones included), send
    the CLI's cache and Hypothesis' data (example database, constants, Unicode tables; it builds
    strategies at collection) to a temporary folder, removed at the end: a test run writes nothing
    into the repository, and nothing recorded carries over from one test run to the next. The user's
    cache directory (where the key that authenticates cache files lives) is a temporary one too."""
    from hypothesis.configuration import set_hypothesis_home_dir

    scratch = config.stash[_SCRATCH] = tempfile.TemporaryDirectory(prefix="fedcl-lint-tests-")
    os.environ[CACHE_DIR_ENV] = os.path.join(scratch.name, "cache")
    os.environ["XDG_CACHE_HOME"] = os.path.join(scratch.name, "user-cache")
    set_hypothesis_home_dir(os.path.join(scratch.name, "hypothesis"))


def pytest_unconfigure(config):
    config.stash[_SCRATCH].cleanup()


@pytest.fixture(autouse=True)
def cache_of_its_own(tmp_path_factory, monkeypatch):
    """Each test's CLI runs, in process or in a subprocess (which inherits the variable), start from
    an empty cache: no test replays a run that another one recorded."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path_factory.mktemp("fedcl-lint-cache")))


@dataclass
class Run:
    exit_code: int
    output: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.output)


@pytest.fixture
def run_cli(monkeypatch):
    """Invoke `fedcl-lint ARGS` in directory `cwd` (paths in the output are relative to it)."""

    def run(args: list[str], cwd: Path) -> Run:
        monkeypatch.chdir(cwd)
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


def write_project(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write a mini project (path -> source) under `root`."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def findings_of(document: dict) -> list[tuple]:
    """(code, message_type, path, line) of every finding, in report order."""
    return [(f["code"], f["message_type"], f["path"], f["line"]) for f in document["findings"]]


LONG_AGO = 1_600_000_000  # 2020: older than any run's start


def long_untouched(root: Path, monkeypatch) -> Path:
    """Make a tree look long untouched, as a project under version control, and runs record at once:
    replay's racy rule would otherwise wait for files written a moment ago."""
    from fedcl_lint.workflow import replay

    monkeypatch.setattr(replay, "RACY_SECONDS", 0.0)
    for path in [root, *root.rglob("*")]:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return root


def pack_error(run_cli, root: Path, pack: str) -> str:
    """What `check --rules bad.toml` says of a bad rule pack (it must exit 2: a usage error)."""
    write_project(root, {"bad.toml": pack, "a.py": "X = 1\n"})
    result = run_cli(["check", "--rules", "bad.toml"], cwd=root)
    assert result.exit_code == 2, result.output
    return result.stderr
