"""Each check: its documented example fires, its documented fix is clean, and a planted tree gives exactly the planted findings."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, findings_of, write_project
from fedcl_lint.checks import ALL_CHECKS
from fedcl_lint.output.rule_page import render_rule_page

# FCL901 and FCL902 need a file system state (an unreadable file, a 50 MB file) that a page
# cannot show as source: tests/test_hostile.py covers them end to end.
RUNNABLE_EXAMPLES = [c for c in ALL_CHECKS if c.code not in ("FCL901", "FCL902")]


# What each page's example reports, all of it: a typo'd message type (FCL002) also leaves the
# handler of the right name unused (FCL003); a policy (FCL008) is broken by the send and the handler.
EXAMPLE_FINDINGS = {
    "FCL001": [("FCL001", "server.py", 2)],
    "FCL002": [("FCL003", "client.py", 2), ("FCL002", "server.py", 2)],
    "FCL003": [("FCL003", "client.py", 2)],
    "FCL004": [("FCL004", "client.py", 4)],
    "FCL005": [("FCL005", "server.py", 2)],
    "FCL006": [("FCL006", "client.py", 3)],
    "FCL007": [("FCL007", "server.py", 2)],
    "FCL008": [("FCL008", "client.py", 2), ("FCL008", "server.py", 2)],
    "FCL900": [("FCL900", "broken.py", 1)],
    "FCL100": [("FCL100", "server.py", 2)],
}


@pytest.mark.parametrize("check", RUNNABLE_EXAMPLES, ids=lambda c: c.code)
def test_documented_example_is_reported(run_cli, tmp_path, check):
    write_project(tmp_path, check.example)
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert [(f["code"], f["path"], f["line"]) for f in result.json["findings"]] == EXAMPLE_FINDINGS[check.code]
    assert result.exit_code == (1 if check.severity.value != "info" else 0)


# What each page's further examples (reflection, loops, templates) report, all of it.
MORE_FINDINGS = {
    ("FCL001", "a registration loop"): [("FCL001", "server.py", 6)],
    ("FCL002", "a proxy"): [("FCL002", "server.py", 6)],
    ("FCL003", "a template"): [("FCL003", "client.py", 4), ("FCL005", "task.py", 11)],
    ("FCL004", "decorators"): [("FCL004", "client.py", 6)],
    ("FCL005", "a registration loop"): [("FCL005", "client.py", 3)],
    ("FCL006", "a bound service"): [("FCL006", "learner.py", 2)],
    ("FCL007", "a proxy"): [("FCL007", "server.py", 5)],
    ("FCL008", "a registration loop"): [("FCL008", "client.py", 3), ("FCL008", "server.py", 3)],
}
MORE_EXAMPLES = [pytest.param(check, title, files, id=f"{check.code}-{title}")
                 for check in ALL_CHECKS for title, _, files in check.examples]


@pytest.mark.parametrize(("check", "title", "files"), MORE_EXAMPLES)
def test_further_documented_examples_are_reported(run_cli, tmp_path, check, title, files):
    write_project(tmp_path, files)
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert [(f["code"], f["path"], f["line"]) for f in result.json["findings"]] == MORE_FINDINGS[(check.code, title)]
    assert result.exit_code == (1 if check.severity.value != "info" else 0)


def test_every_protocol_check_shows_a_further_example():
    assert sorted({code for code, _ in MORE_FINDINGS}) == [f"FCL00{n}" for n in range(1, 9)]
    assert sorted(MORE_FINDINGS) == sorted((check.code, title) for check in ALL_CHECKS for title, _, _ in check.examples)


@pytest.mark.parametrize("check", RUNNABLE_EXAMPLES, ids=lambda c: c.code)
def test_documented_fix_is_clean(run_cli, tmp_path, check):
    write_project(tmp_path, check.fix)
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert result.json["findings"] == []
    assert result.exit_code == 0


def test_planted_tree_gives_exactly_the_planted_findings(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=FIXTURES / "checks")

    assert result.exit_code == 1
    assert findings_of(result.json) == [
        ("FCL900", None, "broken.py", 1),
        ("FCL004", "TRAIN", "client.py", 10),
        ("FCL003", "PAUSE", "client.py", 11),
        ("FCL003", "STATUS", "client.py", 13),
        ("FCL001", "STOP", "server.py", 8),
        ("FCL002", "Train", "server.py", 9),
        ("FCL002", "PROGRESS", "server.py", 10),
        ("FCL005", None, "server.py", 13),
    ]
    by_line = {(f["path"], f["line"]): f for f in result.json["findings"]}
    assert by_line[("server.py", 9)]["severity"] == "error"
    assert by_line[("server.py", 9)]["message"].endswith("did you mean `TRAIN`?")
    assert by_line[("server.py", 10)]["severity"] == "warning"
    assert by_line[("client.py", 10)]["related"][0]["line"] == 9
    assert by_line[("client.py", 13)]["message"] == (
        "`STATUS` is handled as an event (`register_event_listener`) but only ever sent over rpc, "
        "so this handler never runs"
    )
    assert by_line[("broken.py", 1)]["message"] == "syntax error: invalid syntax"
    assert result.json["summary"] == {
        "files": 3, "errors": 3, "warnings": 4, "infos": 1, "call_sites": 15, "resolved_call_sites": 14,
    }


def test_mismatched_type_is_not_reported_again_as_unhandled_or_unused(run_cli, tmp_path):
    write_project(tmp_path, {
        "a.py": """
            async def f(cm, t):
                await cm.send_control_message(t, "X", {})
                await cm.push_event("a", t, "X", {})
            def g(cm, h):
                cm.register_message_handler("X", h)
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL001", "X", "a.py", 3), ("FCL001", "X", "a.py", 4)]


def test_case_difference_suggests_the_handled_name(run_cli, tmp_path):
    write_project(tmp_path, {
        "a.py": """
            async def f(cm, t):
                await cm.send_business_message(t, "shutdown", {})
            def g(cm, h):
                cm.register_message_handler("SHUTDOWN", h)
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert [(f["code"], f["line"], f["message"]) for f in result.json["findings"]] == [
        ("FCL002", 3, "`shutdown` is sent over rpc (`send_business_message`) but no handler is registered for it; "
                      "did you mean `SHUTDOWN`?"),
        ("FCL003", 5, "`SHUTDOWN` has a handler over rpc (`register_message_handler`) but is never sent"),
    ]
    assert [r["line"] for r in result.json["findings"][0]["related"]] == [5]  # the handler it means


def test_duplicates_in_different_classes_are_different_nodes(run_cli, tmp_path):
    write_project(tmp_path, {
        "a.py": """
            class Server:
                def setup(self, cm):
                    cm.register_message_handler("PING", self.ping)
            class Client:
                def setup(self, cm):
                    cm.register_message_handler("PING", self.ping)
            async def go(cm):
                await cm.send_business_message("x", "PING", {})
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert result.json["findings"] == []


def test_a_repeated_dispatcher_branch_is_a_branch_that_never_runs(run_cli, tmp_path):
    write_project(tmp_path, {
        "node.py": """
            class Node:
                def __init__(self, transport):
                    transport.register_request_handler("me", self.handle)

                async def handle(self, source, data):
                    kind = data.get("message_type")
                    if kind == "PING":
                        return 1
                    if kind == "PING":
                        return 2
            async def go(cm):
                await cm.send_business_message("x", "PING", {})
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert [(f["code"], f["line"], f["message"], [r["line"] for r in f["related"]])
            for f in result.json["findings"]] == [
        ("FCL004", 10, "`PING` is already compared in an earlier branch of the dispatcher `Node.handle` at "
                       "node.py:8:20; this branch never runs", [8]),
    ]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.code)
def test_rule_command_prints_the_page(run_cli, tmp_path, check):
    result = run_cli(["rule", check.code], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == render_rule_page(check)
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in result.output


def test_rule_lists_every_check(run_cli, tmp_path):
    result = run_cli(["rule"], cwd=tmp_path)

    assert [line.split()[0] for line in result.output.splitlines()] == [c.code for c in ALL_CHECKS]


def test_unknown_rule_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["rule", "FCL999"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "unknown check 'FCL999'" in result.stderr


def test_the_settings_know_every_check_code():
    """The settings validate selectors before any check is loaded, against a list of their own."""
    from fedcl_lint.types import CODES

    assert CODES == tuple(check.code for check in ALL_CHECKS)
