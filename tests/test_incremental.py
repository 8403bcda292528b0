"""A run after a few source files changed patches the last full run (fedcl_lint/incremental.py):
it re-links only what the changes reach, and must report exactly what a fresh run reports;
whatever a change reaches beyond that makes a full run instead."""

from __future__ import annotations

import os
import pickle
import random
import textwrap
from pathlib import Path

import pytest

import fedcl_lint.api
from conftest import write_project
from fedcl_lint import incremental, replay

LONG_AGO = 1_600_000_000

PROTOCOL = {
    "msgs.py": """
        from enum import Enum


        class Kind(str, Enum):
            TRAIN = "TRAIN"
            STOP = "STOP"


        PING = "PING"
        """,
    "conn.py": """
        async def route(cm, kind):
            await cm.send_business_message("peer", kind, {})
        """,
    "node.py": """
        from msgs import PING


        class Node:
            def __init__(self, transport):
                transport.register_request_handler("me", self.handle)

            async def handle(self, source, data):
                message_type = data.get("message_type")
                if message_type == PING:
                    return {}
        """,
    "server.py": """
        from conn import route
        from msgs import Kind


        async def go(cm):
            await route(cm, Kind.TRAIN)
            await cm.send_business_message("peer", Kind.STOP, {})
            await cm.send_business_message("peer", "PING", {})
        """,
    "client.py": """
        from msgs import Kind


        class Client:
            def setup(self, cm):
                cm.register_message_handler(Kind.TRAIN, self.on_train)
                cm.register_message_handler(Kind.STOP, self.on_stop)

            async def on_train(self, source, data):
                return {}

            async def on_stop(self, source, data):
                return {}
        """,
    "util.py": """
        def idle():
            return 1
        """,
}


def _shifted(source: str) -> str:
    return "# moved down a line\n" + textwrap.dedent(source)


VARIANTS = {
    "msgs.py": [
        _shifted(PROTOCOL["msgs.py"]),
        PROTOCOL["msgs.py"].replace('STOP = "STOP"', 'STOP = "SHUTDOWN"'),
        PROTOCOL["msgs.py"].replace('PING = "PING"', 'PING = "Ping"'),
        PROTOCOL["msgs.py"] + '\nEXTRA = "EXTRA"\n',
    ],
    "conn.py": [
        _shifted(PROTOCOL["conn.py"]),
        PROTOCOL["conn.py"].replace("send_business_message", "send_control_message"),  # the wrapper changes
        PROTOCOL["conn.py"].replace("kind, {}", '"ROUTED", {}'),  # no longer a wrapper
    ],
    "node.py": [
        _shifted(PROTOCOL["node.py"]),
        PROTOCOL["node.py"].replace("== PING", '== "PONG"'),
        PROTOCOL["node.py"].replace("message_type == PING", "message_type == PING or message_type == PING"),
    ],
    "server.py": [
        _shifted(PROTOCOL["server.py"]),
        PROTOCOL["server.py"].replace('cm.send_business_message("peer", Kind.STOP',
                                      'cm.send_control_message("peer", Kind.STOP'),
        PROTOCOL["server.py"].replace('"PING", {})', '"PNG", {})'),
        PROTOCOL["server.py"].replace('await cm.send_business_message("peer", "PING"',
                                      'cm.send_business_message("peer", "PING"'),
        PROTOCOL["server.py"].replace(
            'await cm.send_business_message("peer", Kind.STOP, {})',
            'await cm.send_control_message("peer", Kind.STOP, {})  # fedcl-lint: ignore[FCL001]'),
        PROTOCOL["server.py"].replace('"PING", {})', "kind, {})").replace("async def go(cm):",
                                                                           "async def go(cm, kind):"),
    ],
    "client.py": [
        _shifted(PROTOCOL["client.py"]),
        PROTOCOL["client.py"].replace("async def on_stop(self, source, data)", "async def on_stop(self, data)"),
        PROTOCOL["client.py"].replace("self.on_stop)", "self.on_train)  # fedcl-lint: ignore"),
        PROTOCOL["client.py"].replace("cm.register_message_handler(Kind.STOP, self.on_stop)", ""),
    ],
    "util.py": [
        "def idle():\n    return 2  # fedcl-lint: ignore[FCL002]\n",
        "from conn import route\n\n\nasync def idle(cm):\n    await route(cm, 'IDLE')\n",  # now it matters
    ],
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = write_project(tmp_path / "app", PROTOCOL)
    monkeypatch.setattr(replay, "RACY_SECONDS", 0.0)  # the files look long untouched, as under version control
    for path in [root, *root.rglob("*")]:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return root


@pytest.fixture
def runs(monkeypatch):
    """How each run reached its report: "analyze" (a full run) or "patch"."""
    seen = []
    real_analyze, real_patch = fedcl_lint.api.analyze, incremental.patch

    def analyzed(*args, **kwargs):
        seen.append("analyze")
        return real_analyze(*args, **kwargs)

    def patched(*args, **kwargs):
        result = real_patch(*args, **kwargs)
        if result is not None:
            seen.append("patch")
        return result

    monkeypatch.setattr(fedcl_lint.api, "analyze", analyzed)
    monkeypatch.setattr(incremental, "patch", patched)
    return seen


def _check(run_cli, root: Path, *options: str):
    return run_cli(["check", ".", "--cache-dir", str(root.parent / "cache"), *options], cwd=root)


def _edit(root: Path, name: str, source: str, when: int = 60) -> None:
    path = root / name
    path.write_text(textwrap.dedent(source))
    os.utime(path, (LONG_AGO + when, LONG_AGO + when))  # saved a while before the run


def _fresh(run_cli, root: Path, *options: str):
    return run_cli(["check", ".", "--no-cache", *options], cwd=root)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_patched_run_reports_what_a_fresh_run_would(run_cli, project, runs, seed):
    """Random edits of the sources; after each, two cached commands (JSON; text with unused
    suppressions reported) must print exactly what the same commands print without a cache."""
    chooser = random.Random(seed)
    commands = [("--format", "json"), ("--warn-unused-ignores",)]
    for options in commands:
        _check(run_cli, project, *options)
    assert runs == ["analyze", "analyze"]
    for step in range(30):
        name = chooser.choice(sorted(VARIANTS))
        source = chooser.choice([PROTOCOL[name], *VARIANTS[name]])
        _edit(project, name, source, when=step + 1)
        for options in commands:
            cached = _check(run_cli, project, *options)
            fresh = _fresh(run_cli, project, *options)
            assert (cached.exit_code, cached.output) == (fresh.exit_code, fresh.output), (step, name, source)
    patched, analysed = runs.count("patch"), runs.count("analyze") - 60  # the fresh runs analyse too
    assert patched >= 20 and analysed >= 2, (patched, analysed)  # both paths were taken, often


def test_an_edit_reaches_the_modules_that_read_the_edited_one(run_cli, project, runs):
    first = _check(run_cli, project, "--format", "json")
    _edit(project, "msgs.py", PROTOCOL["msgs.py"].replace('STOP = "STOP"', 'STOP = "SHUTDOWN"'))
    second = _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch"]
    assert first.json["findings"] == []
    # server.py and client.py were re-linked through their import of msgs.py
    assert [(f["code"], f["message_type"], f["path"]) for f in second.json["findings"]] == []
    assert second.json["summary"]["call_sites"] == first.json["summary"]["call_sites"]
    _edit(project, "client.py", PROTOCOL["client.py"].replace("Kind.STOP", '"STOP"'), when=120)
    third = _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch", "patch"]
    assert [(f["code"], f["message_type"], f["path"]) for f in third.json["findings"]] == [
        ("FCL003", "STOP", "client.py"), ("FCL002", "SHUTDOWN", "server.py"),
    ]
    fresh = _fresh(run_cli, project, "--format", "json")
    assert (third.exit_code, third.output) == (fresh.exit_code, fresh.output)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        pytest.param("conn.py", VARIANTS["conn.py"][1], id="a-wrapper-changes"),
        pytest.param("util.py", VARIANTS["util.py"][1], id="a-skipped-file-starts-to-matter"),
        pytest.param("server.py", "def broken(:\n    send_business_message\n", id="a-file-breaks"),
    ],
)
def test_a_change_that_reaches_further_makes_a_full_run(run_cli, project, runs, name, source):
    _check(run_cli, project, "--format", "json")
    _edit(project, name, source)
    cached = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs == ["analyze", "analyze", "analyze"]
    assert (cached.exit_code, cached.output) == (fresh.exit_code, fresh.output)


def test_a_touched_file_with_the_same_content_is_no_change(run_cli, project, runs):
    first = _check(run_cli, project, "--format", "json")
    os.utime(project / "server.py", (LONG_AGO + 60, LONG_AGO + 60))
    second = _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch"]
    assert second.output == first.output


def test_patched_runs_keep_the_state_and_too_many_changes_make_a_new_one(run_cli, project, runs, monkeypatch):
    _check(run_cli, project, "--format", "json")
    [state] = (project.parent / "cache" / "runs").glob("*.state")
    saved = state.read_bytes()
    _edit(project, "server.py", VARIANTS["server.py"][0])
    _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch"] and state.read_bytes() == saved
    monkeypatch.setattr(incremental, "_MAX_CHANGED", 1)
    _edit(project, "client.py", VARIANTS["client.py"][0], when=120)
    _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch", "analyze"] and state.read_bytes() != saved


@pytest.mark.parametrize("damage", [lambda data: data[: len(data) // 2], lambda data: data[:30] + b"x" * 50,
                                    lambda data: b"garbage"])
def test_a_damaged_state_means_a_full_run(run_cli, project, runs, damage):
    _check(run_cli, project, "--format", "json")
    [state] = (project.parent / "cache" / "runs").glob("*.state")
    state.write_bytes(damage(state.read_bytes()))
    _edit(project, "server.py", VARIANTS["server.py"][2])
    again = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs == ["analyze", "analyze", "analyze"]
    assert (again.exit_code, again.output) == (fresh.exit_code, fresh.output)


def test_a_state_cannot_run_code(run_cli, project, runs, tmp_path):
    _check(run_cli, project, "--format", "json")
    [state] = (project.parent / "cache" / "runs").glob("*.state")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    data = state.read_bytes()
    head = pickle.dumps(Exploit())
    state.write_bytes(data[: len(incremental._MAGIC)] + len(head).to_bytes(8, "little") + head)
    _edit(project, "server.py", VARIANTS["server.py"][0])
    _check(run_cli, project, "--format", "json")

    assert not marker.exists()
    assert runs == ["analyze", "analyze"]
