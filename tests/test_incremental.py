"""A run after a few source files changed patches the last full run (fedcl_lint/incremental.py):
it re-links only what the changes reach, and must report exactly what a fresh run reports;
whatever a change reaches beyond that makes a full run instead."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import LONG_AGO, long_untouched, write_project
from fedcl_lint import incremental

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
    "router.py": """
        async def dispatch(source, data):
            message_type = data.get("message_type")
            if message_type == "HELLO":
                return {}
        """,
    "boot.py": """
        from router import dispatch


        def start(transport):
            transport.register_request_handler("me", dispatch)
        """,
    "base.py": """
        class Base:
            KIND = "HELLO"
        """,
    "backup.py": """
        from router import dispatch


        def standby(transport):
            transport.register_request_handler("spare", dispatch)
        """,
    "worker.py": """
        from base import Base


        class Worker(Base):
            async def greet(self, cm):
                await cm.send_business_message("peer", self.KIND, {})
        """,
    "zone.py": """
        from worker import Worker


        class Zone:
            def __init__(self, conn):
                self.conn = conn

            async def tick(self, cm):
                await cm.send_business_message("peer", Worker.KIND, {})
                await self.conn.route(cm, "TRAIN")
        """,
    "util.py": """
        LABEL = "TRAIN"


        def idle():
            return 1
        """,
}


BASE = {name: textwrap.dedent(source) for name, source in PROTOCOL.items()}


def _shifted(source: str) -> str:
    return "# moved down a line\n" + source


VARIANTS = {
    "msgs.py": [
        _shifted(BASE["msgs.py"]),
        BASE["msgs.py"].replace('STOP = "STOP"', 'STOP = "SHUTDOWN"'),
        BASE["msgs.py"].replace('PING = "PING"', 'PING = "Ping"'),
        BASE["msgs.py"] + '\nEXTRA = "EXTRA"\n',
    ],
    "conn.py": [
        _shifted(BASE["conn.py"]),
        BASE["conn.py"].replace("send_business_message", "send_control_message"),  # the wrapper changes
        BASE["conn.py"].replace("kind, {}", '"ROUTED", {}'),  # no longer a wrapper
    ],
    "node.py": [
        _shifted(BASE["node.py"]),
        BASE["node.py"].replace("== PING", '== "PONG"'),
        BASE["node.py"].replace("message_type == PING", "message_type == PING or message_type == PING"),
    ],
    "server.py": [
        _shifted(BASE["server.py"]),
        BASE["server.py"].replace('cm.send_business_message("peer", Kind.STOP',
                                      'cm.send_control_message("peer", Kind.STOP'),
        BASE["server.py"].replace('"PING", {})', '"PNG", {})'),
        BASE["server.py"].replace('await cm.send_business_message("peer", "PING"',
                                      'cm.send_business_message("peer", "PING"'),
        BASE["server.py"].replace(
            'await cm.send_business_message("peer", Kind.STOP, {})',
            'await cm.send_control_message("peer", Kind.STOP, {})  # fedcl-lint: ignore[FCL001]'),
        BASE["server.py"].replace('"PING", {})', "kind, {})").replace("async def go(cm):",
                                                                           "async def go(cm, kind):"),
        "from util import LABEL\n" + BASE["server.py"].replace("Kind.TRAIN", "LABEL"),  # needs the skipped util.py
    ],
    "client.py": [
        _shifted(BASE["client.py"]),
        BASE["client.py"].replace("async def on_stop(self, source, data)", "async def on_stop(self, data)"),
        BASE["client.py"].replace("self.on_stop)", "self.on_train)  # fedcl-lint: ignore"),
        BASE["client.py"].replace("cm.register_message_handler(Kind.STOP, self.on_stop)", ""),
        BASE["client.py"] + "\n    def route(self):\n        return 1\n",  # `obj.route(...)` becomes ambiguous
        BASE["client.py"].replace("cm.register_message_handler(Kind.TRAIN, self.on_train)",
                                  'cm.register_message_handler(Kind.TRAIN, self.on_train)\n'
                                  '        cm.register_message_handler("PONG", self.on_train)'),
    ],
    "router.py": [
        _shifted(BASE["router.py"]),
        BASE["router.py"].replace('"HELLO"', '"HELO"'),
        BASE["router.py"] + '    if message_type == "BYE":\n        return {}\n',
    ],
    "boot.py": [
        _shifted(BASE["boot.py"]),
        BASE["boot.py"].replace('register_request_handler("me", dispatch)', "register_request_handler('me', dispatch)"
                                    "\n    transport.register_request_handler('you', dispatch)"),
    ],
    "base.py": [
        _shifted(BASE["base.py"]),
        BASE["base.py"].replace('"HELLO"', '"BYE"'),
        BASE["base.py"].replace('KIND = "HELLO"', "def KIND(self):\n        return 1"),
        'Base = object\n',  # not a class of the project: the lineage of `Worker` ends there
    ],
    "backup.py": [
        _shifted(BASE["backup.py"]),
        BASE["backup.py"].replace('    transport.register_request_handler("spare", dispatch)', "    return dispatch"),
    ],
    "worker.py": [
        _shifted(BASE["worker.py"]),
        BASE["worker.py"].replace("self.KIND", '"HELLO"'),
    ],
    "zone.py": [
        _shifted(BASE["zone.py"]),
        BASE["zone.py"].replace('"TRAIN"', '"TRAINING"'),
    ],
    "util.py": [
        "def idle():\n    return 2  # fedcl-lint: ignore[FCL002]\n",
        "from conn import route\n\n\nasync def idle(cm):\n    await route(cm, 'IDLE')\n",  # now it matters
    ],
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    return long_untouched(write_project(tmp_path / "app", PROTOCOL), monkeypatch)


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
        source = chooser.choice([BASE[name], *VARIANTS[name]])
        _edit(project, name, source, when=step + 1)
        for options in commands:
            cached = _check(run_cli, project, *options)
            fresh = _fresh(run_cli, project, *options)
            assert (cached.exit_code, cached.output) == (fresh.exit_code, fresh.output), (step, name, source)
    patched, analysed = runs.count("patch"), runs.count("analyze") - 60  # the fresh runs analyse too
    assert patched >= 20 and analysed >= 2, (patched, analysed)  # both paths were taken, often


@pytest.mark.parametrize("output_format", ["sarif", "github", "text"])
def test_every_report_format_is_patched_alike(run_cli, project, runs, output_format, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _check(run_cli, project, "--format", output_format)
    _edit(project, "server.py", VARIANTS["server.py"][1])
    patched = _check(run_cli, project, "--format", output_format)
    fresh = _fresh(run_cli, project, "--format", output_format)

    assert runs[:2] == ["analyze", "patch"]
    assert (patched.exit_code, patched.output) == (fresh.exit_code, fresh.output)
    assert "FCL001" in patched.output
    if output_format == "github":  # each run appends its job summary: the patched one as the fresh one
        *_, after_patch, after_fresh = summary.read_text().split("## fedcl-lint")
        assert after_patch == after_fresh and "FCL001" in after_patch


def test_an_edit_reaches_the_modules_that_read_the_edited_one(run_cli, project, runs):
    first = _check(run_cli, project, "--format", "json")
    renamed = BASE["msgs.py"].replace('STOP = "STOP"', 'STOP = "SHUTDOWN"').replace('PING = "PING"', 'PING = "Ping"')
    _edit(project, "msgs.py", renamed)
    second = _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch"]
    assert first.json["findings"] == []
    # node.py's dispatcher compares `PING` from msgs.py: it was re-linked through that import
    assert [(f["code"], f["message_type"], f["path"], f["line"]) for f in second.json["findings"]] == [
        ("FCL003", "Ping", "node.py", 11), ("FCL002", "PING", "server.py", 9),
    ]
    _edit(project, "client.py", PROTOCOL["client.py"].replace("Kind.STOP", '"STOP"'), when=120)
    third = _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch", "patch"]
    # server.py sends Kind.STOP, now "SHUTDOWN": it was re-linked through msgs.py too
    assert [(f["code"], f["message_type"], f["path"]) for f in third.json["findings"]] == [
        ("FCL003", "STOP", "client.py"), ("FCL003", "Ping", "node.py"),
        ("FCL002", "SHUTDOWN", "server.py"), ("FCL002", "PING", "server.py"),
    ]
    fresh = _fresh(run_cli, project, "--format", "json")
    assert (third.exit_code, third.output) == (fresh.exit_code, fresh.output)


def test_a_suggestion_follows_the_handler_it_points_at(run_cli, project, runs):
    """`PNG` is unhandled, and FCL002 suggests `PING`, pointing at its handler: moving that handler
    changes the finding of a message type no edited module sends."""
    _edit(project, "server.py", VARIANTS["server.py"][2])
    _check(run_cli, project, "--format", "json")
    _edit(project, "node.py", VARIANTS["node.py"][0], when=120)
    moved = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs[:2] == ["analyze", "patch"]
    assert [(f["code"], f["message_type"], [r["line"] for r in f["related"]]) for f in moved.json["findings"]] == [
        ("FCL003", "PING", []), ("FCL002", "PNG", [12]),
    ]
    assert moved.output == fresh.output


def test_a_newly_handled_type_changes_the_suggestions_of_unhandled_ones(run_cli, project, runs):
    """`PNG` suggested `PING`; a handler for `PONG`, in a module that has nothing to do with either,
    makes `PONG` the closer match."""
    _edit(project, "server.py", VARIANTS["server.py"][2])
    first = _check(run_cli, project, "--format", "json")
    _edit(project, "client.py", VARIANTS["client.py"][5], when=120)
    second = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs[:2] == ["analyze", "patch"]
    assert [f["message"].rsplit(";", 1)[-1] for f in first.json["findings"] if f["code"] == "FCL002"] == [
        " did you mean `PING`?"]
    assert [f["message"].rsplit(";", 1)[-1] for f in second.json["findings"] if f["code"] == "FCL002"] == [
        " did you mean `PONG`?"]
    assert second.output == fresh.output


def test_an_edited_base_class_reaches_every_module_that_walked_it(run_cli, project, runs):
    """`zone.py` reads `Worker.KIND`, found in `base.py` through the lineage `worker.py` walked first."""
    _check(run_cli, project, "--format", "json")
    _edit(project, "base.py", VARIANTS["base.py"][1])
    edited = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs[:2] == ["analyze", "patch"]
    assert [(f["code"], f["message_type"], f["path"]) for f in edited.json["findings"]] == [
        ("FCL003", "HELLO", "router.py"), ("FCL002", "BYE", "worker.py"), ("FCL002", "BYE", "zone.py"),
    ]
    assert edited.output == fresh.output


@pytest.mark.parametrize(
    ("name", "source"),
    [
        pytest.param("conn.py", VARIANTS["conn.py"][1], id="a-wrapper-changes"),
        pytest.param("client.py", VARIANTS["client.py"][4], id="a-function-shares-a-wrapper-name"),
        pytest.param("server.py", VARIANTS["server.py"][6], id="an-import-of-a-skipped-module"),
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


def test_a_touched_file_with_the_same_content_is_no_change(run_cli, project, runs, monkeypatch):
    first = _check(run_cli, project, "--format", "json")
    os.utime(project / "server.py", (LONG_AGO + 60, LONG_AGO + 60))
    extracted = []
    monkeypatch.setattr(incremental, "extract", lambda *args: extracted.append(args))
    second = _check(run_cli, project, "--format", "json")

    assert runs == ["analyze", "patch"] and extracted == []  # nothing was parsed or linked again
    assert second.output == first.output


def test_a_module_that_stops_registering_a_dispatcher_hands_its_cases_over(run_cli, project, runs):
    """`backup.py` registers the dispatcher `boot.py` registers too; `backup.py` comes first, so the
    cases are its sites until it stops registering: then they are `boot.py`'s. The report cannot
    tell whose they are, but it must still have them: a patch of `backup.py` alone would lose them."""
    first = _check(run_cli, project, "--format", "json")
    _edit(project, "backup.py", VARIANTS["backup.py"][1])
    second = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs[:2] == ["analyze", "analyze"]  # which module makes the cases changed: done in full
    assert second.output == fresh.output == first.output  # the same cases, from another registration


def test_a_base_that_becomes_a_class_reaches_the_subclasses(run_cli, project, runs):
    """While `Base = object`, `Worker`'s lineage ends at a name of `base.py` that is no class:
    `base.py` was read all the same, so turning it into a class re-links `worker.py`."""
    _edit(project, "base.py", VARIANTS["base.py"][3])
    before = _check(run_cli, project, "--format", "json")
    _edit(project, "base.py", BASE["base.py"], when=120)
    after = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs[:2] == ["analyze", "patch"]
    assert [(f["code"], f["message_type"], f["path"], f["line"]) for f in before.json["findings"]] == [
        ("FCL003", "HELLO", "router.py", 4), ("FCL005", None, "worker.py", 7), ("FCL005", None, "zone.py", 10),
    ]
    assert after.json["findings"] == [] and after.output == fresh.output


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


def test_a_patch_without_the_fact_cache_parses_what_it_needs(run_cli, project, runs):
    """The state keeps no facts: they come from the fact cache, or from the unchanged sources."""
    _check(run_cli, project, "--format", "json")
    for entries in (project.parent / "cache").glob("facts-*"):
        entries.unlink()
    _edit(project, "msgs.py", VARIANTS["msgs.py"][2])
    patched = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert runs[:2] == ["analyze", "patch"]
    assert [(f["code"], f["message_type"], f["path"], f["line"]) for f in patched.json["findings"]] == [
        ("FCL003", "Ping", "node.py", 11), ("FCL002", "PING", "server.py", 9),
    ]
    assert patched.output == fresh.output


BIG = "#" * 5_100_000 + "\n"  # over the size limit for one file (FCL902)
SEND_KIND = '\n\nasync def kind(cm):\n    await cm.send_business_message("peer", KIND, {})\n'


@pytest.mark.parametrize(
    ("files", "edits"),
    [
        pytest.param(  # the full run parsed broken.py for the import and reported it; the edit drops the import
            {"broken.py": "FLAG = (\n", "server.py": "from broken import FLAG\n\n" + BASE["server.py"] +
             '\n\nasync def flag(cm):\n    await cm.send_business_message("peer", FLAG, {})\n'},
            {"server.py": BASE["server.py"]}, id="a-broken-module-no-longer-imported"),
        pytest.param({}, {"server.py": BASE["server.py"] + BIG}, id="an-edit-over-the-size-limit"),
        pytest.param(  # the full run refused big.py; the patch must not read it after all
            {"big.py": 'KIND = "PING"\n' + BIG, "server.py": "from big import KIND\n" + BASE["server.py"] + SEND_KIND},
            {"server.py": "from big import KIND\n" + _shifted(BASE["server.py"]) + SEND_KIND},
            id="an-import-of-a-module-over-the-limit"),
    ],
)
def test_what_the_full_run_refused_or_reported_stays_so(run_cli, project, runs, files, edits, monkeypatch):
    write_project(project, files)
    long_untouched(project, monkeypatch)
    first = _check(run_cli, project, "--format", "json")
    for name, source in edits.items():
        _edit(project, name, source)
    cached = _check(run_cli, project, "--format", "json")
    fresh = _fresh(run_cli, project, "--format", "json")

    assert (cached.exit_code, cached.output) == (fresh.exit_code, fresh.output)
    assert cached.output != first.output


def test_the_record_of_a_patched_run_keeps_the_code_of_the_full_run(run_cli, project, monkeypatch):
    """pathspec matches the ignore files: the full run loads it, a patch does not. Its modules stay
    among the inputs of the record a patched run writes, so upgrading it is still a change."""
    write_project(project, {".gitignore": "build/\n"})
    long_untouched(project, monkeypatch)
    _check(run_cli, project, "--format", "json")
    [record] = (project.parent / "cache" / "runs").glob("*.pickle")
    [state] = (project.parent / "cache" / "runs").glob("*.state")
    recorded = [path for path, _ in pickle.loads(record.read_bytes())[1] if "pathspec" in path]
    saved, kept = record.read_bytes(), state.read_bytes()
    _edit(project, "server.py", VARIANTS["server.py"][0])
    # in a process of its own: this one has loaded pathspec already
    script = "from fedcl_lint import replay; replay.RACY_SECONDS = 0.0; from fedcl_lint.cli import main; main()"
    patched = subprocess.run([sys.executable, "-c", script, "check", ".", "--format", "json", "--cache-dir",
                              str(project.parent / "cache")], cwd=project, capture_output=True, text=True)

    assert (patched.returncode, patched.stderr) == (0, "") and recorded
    assert state.read_bytes() == kept and record.read_bytes() != saved  # a patch, which recorded its run
    assert [path for path, _ in pickle.loads(record.read_bytes())[1] if "pathspec" in path] == recorded


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
