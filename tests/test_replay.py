"""A run whose inputs are all unchanged replays the last identical run's report; any change
to an input (a source's bytes, a new or deleted file, an ignore file, the settings, the
options) makes the next run do the work again. See fedcl_lint/workflow/replay.py."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, LONG_AGO, findings_of, long_untouched, write_project
from fedcl_lint.analysis.cache_folder import CacheFolder
from fedcl_lint.settings.config import load_config, with_overrides
from fedcl_lint.workflow import replay
from fedcl_lint.workflow.check_run import CheckRequest, CheckRun, run_check


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the seed's buggy app (one FCL001), whose files look long untouched."""
    root = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed" / "bug", root)
    return long_untouched(root, monkeypatch)


def _check(project: Path, output_format: str = "json", *, ignore: tuple[str, ...] = (),
           warn_unused_ignores: bool = False, **request) -> CheckRun:
    """`fedcl-lint check . --format FORMAT --cache-dir ../cache` in `project`, through the workflow the CLI runs."""
    config = load_config((".",), project)
    config = with_overrides(config, ignore=config.ignore + ignore, warn_unused_ignores=warn_unused_ignores or None)
    return run_check(CheckRequest((".",), config, project, cache_dir=project.parent / "cache",
                                  output_format=output_format, **request))


def _fresh(run_cli, project: Path) -> tuple[int, str]:
    """The exit code and report of the same check through the CLI without any cache."""
    fresh = run_cli(["check", ".", "--format", "json", "--no-cache"], cwd=project)
    return fresh.exit_code, fresh.output


def _said(run: CheckRun) -> tuple[int, str]:
    return run.exit_code, run.report.report


def _json(run: CheckRun) -> dict:
    return json.loads(run.report.report)


def test_an_unchanged_run_is_replayed_without_analysing(project):
    first = _check(project)
    second = _check(project)

    assert (first.replayed, first.analyses, second.replayed, second.analyses) == (False, 1, True, 0)
    assert second.result is None  # the engine was never reached
    assert second.report == first.report
    assert first.exit_code == 1 and [f["code"] for f in _json(first)["findings"]] == ["FCL001"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "fedapp" / "client.py").write_text(
            (root / "fedapp" / "client.py").read_text().replace("register_message_handler",
                                                                "register_event_listener")), id="source-edited"),
        pytest.param(lambda root: (root / "fedapp" / "extra.py").write_text(
            "async def go(cm):\n    await cm.send_business_message('c', 'EXTRA', {})\n"), id="file-added"),
        pytest.param(lambda root: (root / "fedapp" / "client.py").unlink(), id="file-deleted"),
        pytest.param(lambda root: (root / "fedapp" / ".gitignore").write_text("client.py\n"), id="ignore-file-added"),
        pytest.param(lambda root: (root / "pyproject.toml").write_text(
            '[tool.fedcl-lint]\nignore = ["FCL001"]\n'), id="settings-added"),
    ],
)
def test_any_changed_input_is_analysed_again(run_cli, project, change):
    first = _check(project)
    change(project)
    changed = _check(project)

    assert not changed.replayed
    assert _said(changed) == _fresh(run_cli, project)
    assert changed.report != first.report


def test_an_edit_that_keeps_the_size_is_seen(project):
    messages = project / "fedapp" / "messages.py"
    _check(project)
    source = messages.read_text()
    messages.write_text(source.replace('"SHUTDOWN"', '"SHUTDOWX"'))
    again = _check(project)

    assert messages.stat().st_size == len(source.encode())
    assert not again.replayed
    assert findings_of(_json(again)) == [
        ("FCL003", "SHUTDOWX", "fedapp/client.py", 13), ("FCL002", "SHUTDOWN", "fedapp/server.py", 38),
    ]


def test_other_options_are_another_run(project):
    _check(project)
    ignored = _check(project, ignore=("FCL001",))
    text = _check(project, "text")

    assert not ignored.replayed and not text.replayed
    assert (ignored.exit_code, _json(ignored)["findings"]) == (0, [])
    assert text.report.report == (
        "fedapp/server.py:38:19: FCL001 `SHUTDOWN` is sent as an event (`send_control_message`) but only handled "
        "over rpc (`register_message_handler`), so it is never delivered; send it with `send_business_message`, "
        "or register it with `register_event_listener`\n"
        "    fedapp/client.py:13:9: handled over rpc here (`register_message_handler`)\n"
        "Found 1 error, 0 warnings, 0 infos in 4 files.\n"
        "[*] 1 fixable with the `--fix` option.\n"
        "10 of 10 call sites resolved.\n"
    )


def test_inputs_changed_just_before_the_run_are_not_recorded(project, monkeypatch):
    monkeypatch.setattr(replay, "RACY_SECONDS", 2.0)
    (project / "fedapp" / "server.py").touch()  # as an editor saving the file a moment ago

    _check(project)
    second = _check(project)

    assert not second.replayed
    assert not list((project.parent / "cache" / "runs").glob("*.pickle"))


def test_a_report_drawn_on_a_terminal_is_never_recorded(run_cli, project, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then draws as on a terminal
    drawn = run_cli(["check", ".", "--cache-dir", str(project.parent / "cache")], cwd=project)
    again = _check(project, "text", drawn=True)

    assert "\x1b[" in drawn.output
    assert (again.replayed, again.report, again.draw, again.exit_code) == (False, None, True, 1)
    assert [f.code for f in again.result.findings] == ["FCL001"]
    assert not list((project.parent / "cache" / "runs").glob("*.pickle"))


def test_no_cache_neither_records_nor_replays(run_cli, project):
    (project / "pyproject.toml").write_text("[project]\nname = 'app'\n")  # the project root: cache here
    run_cli(["check", ".", "--format", "json", "--no-cache"], cwd=project)
    request = CheckRequest((".",), load_config((".",), project), project, output_format="json")
    runs = [run_check(request), run_check(request)]

    assert [run.replayed for run in runs] == [False, False]
    assert not (project / ".fedcl-lint-cache").exists()


def test_github_job_summary_is_replayed_too(project, tmp_path):
    summary = tmp_path / "summary.md"
    first = _check(project, "github", step_summary=str(summary))
    written = summary.read_text()
    second = _check(project, "github", step_summary=str(summary))

    assert second.replayed
    assert second.report == first.report and "::error" in first.report.report
    assert summary.read_text() == written * 2


@pytest.mark.parametrize("damage", [lambda data: data[: len(data) // 2], lambda data: b"garbage"])
def test_a_damaged_record_means_analysing_again(project, damage):
    first = _check(project)
    [record] = (project.parent / "cache" / "runs").glob("*.pickle")
    record.write_bytes(damage(record.read_bytes()))

    again = _check(project)

    assert not again.replayed
    assert again.report == first.report


def test_a_record_cannot_run_code(project, tmp_path):
    _check(project)
    [record] = (project.parent / "cache" / "runs").glob("*.pickle")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    record.write_bytes(pickle.dumps(Exploit()))  # not ours: never unpickled
    first = _check(project)
    folder = CacheFolder(record.parent, top=record.parent.parent)
    assert folder.write(record.name, pickle.dumps(Exploit()))  # ours, and still refused by the allow-list
    second = _check(project)

    assert not marker.exists()
    assert not first.replayed and not second.replayed


def test_a_report_written_into_the_project_is_replayed_there_too(project):
    """Writing the report changes its folder's times: folders are compared by their entries."""
    first = _check(project, output="report.json")
    written = (project / "report.json").read_text()
    (project / "report.json").unlink()
    second = _check(project, output="report.json")
    third = _check(project, output="report.json")

    # the deleted report changed the folder's entries once
    assert [run.replayed for run in (first, second, third)] == [False, False, True]
    assert first.exit_code == second.exit_code == third.exit_code == 1
    assert (project / "report.json").read_text() == written


WRAPPED = {
    "conn.py": """
        async def route(cm, kind):
            await cm.send_business_message("peer", kind, {})
        """,
    "handlers.py": """
        def setup(cm):
            cm.register_message_handler("PING", on_ping)


        async def on_ping(source, data):
            return {}
        """,
    "app.py": """
        from conn import route


        async def go(cm):
            await route(cm, "PING")
        """,
    "util.py": """
        def idle():
            return 1
        """,
}


@pytest.fixture
def wrapped(tmp_path, monkeypatch):
    """A project whose `util.py` mentions nothing that matters: the prefilter skips it."""
    return long_untouched(write_project(tmp_path / "wrapped", WRAPPED), monkeypatch)


def _edit(path: Path, source: str) -> None:
    path.write_text(textwrap.dedent(source))
    os.utime(path, (LONG_AGO + 60, LONG_AGO + 60))  # an edit made a while ago, as the racy rule wants


def test_an_edit_to_a_file_that_cannot_matter_is_replayed(wrapped):
    first = _check(wrapped)
    record = next((wrapped.parent / "cache" / "runs").glob("*.pickle"))
    recorded = record.read_bytes()
    _edit(wrapped / "util.py", "def idle():\n    return 2  # still no messaging\n")
    second = _check(wrapped)

    assert second.replayed
    assert second.report == first.report
    assert record.read_bytes() != recorded  # it now holds util.py's new status


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('async def go(cm):\n    await cm.send_business_message("peer", "PONG", {})\n', id="api"),
        pytest.param('from conn import route\n\n\nasync def go(cm):\n    await route(cm, "PONG")\n', id="wrapper"),
    ],
)
def test_an_edit_that_makes_a_skipped_file_matter_is_analysed(wrapped, source):
    first = _check(wrapped)
    _edit(wrapped / "util.py", source)
    second = _check(wrapped)

    assert not second.replayed
    assert [f["code"] for f in _json(first)["findings"]] == []
    assert [(f["code"], f["message_type"]) for f in _json(second)["findings"]] == [("FCL002", "PONG")]


def test_with_unused_ignores_reported_skipped_files_matter_too(wrapped):
    _check(wrapped, warn_unused_ignores=True)
    _edit(wrapped / "util.py", "def idle():\n    return 1  # fedcl-lint: ignore[FCL002]\n")
    second = _check(wrapped, warn_unused_ignores=True)

    assert not second.replayed
    assert [f["code"] for f in _json(second)["findings"]] == ["FCL100"]


def test_a_record_of_the_right_key_but_the_wrong_shape_means_analysing_again(project):
    first = _check(project)
    [record] = (project.parent / "cache" / "runs").glob("*.pickle")
    folder = CacheFolder(record.parent, top=record.parent.parent)
    key, statuses, skipped, names, (report, exit_code, summary) = pickle.loads(folder.read(record.name, 1 << 20))
    wrong = (key, [(path,) for path, _ in statuses], skipped, names, (report, 1, summary))
    assert folder.write(record.name, pickle.dumps(wrong))  # authenticated as ours: the shape check refuses it

    again = _check(project)

    assert not again.replayed
    assert again.report == first.report


def test_old_records_are_dropped_beyond_the_limit(project):
    folder = project.parent / "cache" / "runs"
    folder.mkdir(parents=True)
    for number in range(replay._KEEP + 5):
        (folder / f"{number:024x}.pickle").write_bytes(b"old")
        os.utime(folder / f"{number:024x}.pickle", (LONG_AGO + number, LONG_AGO + number))
    _check(project)

    kept = sorted(path.name for path in folder.glob("*.pickle"))
    assert len(kept) == replay._KEEP
    assert f"{0:024x}.pickle" not in kept and f"{replay._KEEP + 4:024x}.pickle" in kept
    assert len([path for path in folder.glob("*.pickle") if path.read_bytes() != b"old"]) == 1  # this run's


_VARIANTS = {
    "util.py": [
        "def idle():\n    return 1\n",
        "def idle():\n    return 2  # nothing that matters\n",
        'async def go(cm):\n    await cm.send_business_message("peer", "PONG", {})\n',
        'from conn import route\n\n\nasync def go(cm):\n    await route(cm, "PONG")\n',
    ],
    "app.py": [
        'from conn import route\n\n\nasync def go(cm):\n    await route(cm, "PING")\n',
        'from conn import route\n\n\nasync def go(cm):\n    await route(cm, "PONG")\n',
        'async def go(cm):\n    await cm.send_control_message("peer", "PING", {})\n',
    ],
    "extra.py": [
        "VALUE = 1\n",
        'async def go(cm):\n    await cm.send_business_message("peer", "EXTRA", {})\n',
        None,  # deleted
    ],
    ".gitignore": ["extra.py\n", "util.py\n", None],
    "pyproject.toml": ['[tool.fedcl-lint]\nignore = ["FCL002"]\n', None],
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replayed_or_not_every_run_reports_what_a_fresh_run_would(run_cli, wrapped, seed):
    """Random edits, additions, deletions, ignore files and settings; after each, the cached
    run (replayed or not) must print exactly what a run without any cache prints."""
    import random

    chooser = random.Random(seed)
    replayed = 0
    for step in range(25):
        name = chooser.choice(sorted(_VARIANTS))
        source = chooser.choice(_VARIANTS[name])
        path = wrapped / name
        if source is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(source)
            os.utime(path, (LONG_AGO + step + 1, LONG_AGO + step + 1))  # written a while ago, as the racy rule wants
        cached = _check(wrapped)
        replayed += cached.replayed

        assert _said(cached) == _fresh(run_cli, wrapped), (step, name, source)
    assert replayed > 0  # some runs were replays, or this test proved nothing about them


def test_a_repository_made_above_the_project_is_seen(run_cli, project):
    """`git init` above the project brings its ignore files into play: no replay of the old report."""
    first = _check(project)
    git = project.parent / ".git"
    (git / "info").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "info" / "exclude").write_text("app/fedapp/client.py\n")  # the handler's file is now ignored
    again = _check(project)

    assert not again.replayed
    assert _said(again) == _fresh(run_cli, project)
    assert ("FCL002", "SHUTDOWN") in [(f["code"], f["message_type"]) for f in _json(again)["findings"]]
    assert again.report != first.report
