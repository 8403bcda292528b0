"""The `check` workflow as the CLI, the tests and an editor call it: `run_check(request) -> CheckRun`.
(Replaying and recording: see test_replay.py.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES
from fedcl_lint.records import replace
from fedcl_lint.settings.config import Config
from fedcl_lint.workflow.check_run import CheckError, CheckRequest, Fixing, run_check

SEED_REPORT = "fedapp/server.py:38:19: FCL001 `SHUTDOWN` is sent as an event"


@pytest.fixture
def seed(tmp_path) -> Path:
    """The seed bug in a scratch folder (one FCL001 in fedapp/server.py)."""
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    return tmp_path / "bug"


def test_a_plain_run_analyses_once_and_renders_the_report(seed):
    run = run_check(CheckRequest(cwd=seed))

    assert (run.exit_code, run.replayed, run.analyses, run.draw, run.fixes, run.baseline) == (1, False, 1, False,
                                                                                               None, None)
    assert [f.code for f in run.result.findings] == ["FCL001"]
    assert run.report.report.startswith(SEED_REPORT)
    assert (run.report.exit_code, run.report.summary) == (1, None)


def test_fix_writes_the_files_and_reports_what_is_left(seed):
    run = run_check(CheckRequest(cwd=seed, fixing=Fixing.APPLY))

    assert (run.exit_code, run.analyses, run.result.findings) == (0, 2, ())
    assert run.fixes.summary == "Fixed 1 of 1 FCL001 findings (1 file).\n"
    assert (run.fixes.failures, run.fixes.diff, run.fixes.plan.fixed) == ((), None, 1)
    assert run.report.report == "All checks passed (4 files analysed).\n10 of 10 call sites resolved.\n"
    assert "send_business_message(" in (seed / "fedapp" / "server.py").read_text(encoding="utf-8")


def test_diff_shows_the_fixes_writes_nothing_and_reports_nothing(seed):
    before = (seed / "fedapp" / "server.py").read_bytes()

    run = run_check(CheckRequest(cwd=seed, fixing=Fixing.DIFF))

    assert (run.exit_code, run.analyses, run.report, run.draw) == (1, 1, None, False)
    assert run.fixes.diff.startswith("--- fedapp/server.py\n+++ fedapp/server.py\n")
    assert run.fixes.summary == "Would fix 1 of 1 FCL001 findings (1 file).\n"
    assert (seed / "fedapp" / "server.py").read_bytes() == before


def test_write_baseline_records_every_finding_and_reports_nothing(seed):
    run = run_check(CheckRequest(cwd=seed, write_baseline="known.json"))
    later = run_check(CheckRequest(cwd=seed, config=replace(Config(), baseline=seed / "known.json")))

    assert (run.exit_code, run.baseline, run.report) == (0, 1, None)
    assert [entry["code"] for entry in json.loads((seed / "known.json").read_text())["findings"]] == ["FCL001"]
    assert (later.exit_code, later.result.findings, later.result.baselined) == (0, (), 1)


def test_a_drawn_report_is_left_to_the_caller(seed):
    run = run_check(CheckRequest(cwd=seed, drawn=True))

    assert (run.report, run.draw, run.exit_code) == (None, True, 1)
    assert [f.code for f in run.result.findings] == ["FCL001"]


def test_the_report_goes_to_its_file_and_the_job_summary_is_appended(seed, tmp_path):
    (tmp_path / "summary.md").write_text("# Earlier step\n")

    run = run_check(CheckRequest(cwd=seed, output_format="github", output="out/report.txt",
                                 step_summary=str(tmp_path / "summary.md")))

    assert (seed / "out" / "report.txt").read_text() == run.report.report
    assert run.report.report.startswith("::error file=fedapp/server.py,line=38,col=19")
    assert (tmp_path / "summary.md").read_text() == "# Earlier step\n" + run.report.summary


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        pytest.param(CheckRequest(config=replace(Config(), rules=("missing.toml",))),
                     "missing.toml: rule pack not found (built-in packs: fedcl; or the path of a TOML file)",
                     id="rule-pack"),
        pytest.param(CheckRequest(paths=("nowhere",)), "path does not exist: nowhere", id="path"),
        pytest.param(CheckRequest(output="fedapp/server.py/report.json"),
                     "cannot write fedapp/server.py/report.json: File exists", id="output"),
    ],
)
def test_problems_with_the_input_or_the_files_written_are_check_errors(seed, request_, message):
    with pytest.raises(CheckError) as error:
        run_check(replace(request_, cwd=seed))

    assert str(error.value) == message
