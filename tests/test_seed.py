"""The user's bug, end to end: SHUTDOWN sent as an event, handled over rpc."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, findings_of

REPO = FIXTURES.parent.parent
SEED = "tests/fixtures/seed"


def test_bug_variant_reports_exactly_one_mismatch_for_shutdown(run_cli):
    result = run_cli(["check", f"{SEED}/bug", "--format", "json"], cwd=REPO)

    assert result.exit_code == 1
    document = result.json
    assert findings_of(document) == [("FCL001", "SHUTDOWN", f"{SEED}/bug/fedapp/server.py", 38)]
    finding = document["findings"][0]
    assert finding["severity"] == "error"
    assert finding["mechanism"] == "event"
    assert (finding["column"], finding["end_line"], finding["end_column"]) == (19, 40, 14)  # the call, to its `)`
    assert finding["related"] == [
        {
            "path": f"{SEED}/bug/fedapp/client.py",
            "line": 13,
            "column": 9,
            "end_line": 13,
            "end_column": 87,
            "role": "handle",
            "mechanism": "rpc",
            "note": "handled over rpc here (`register_message_handler`)",
        }
    ]
    # Both ways out of the seed's section 4 are offered.
    assert "send it with `send_business_message`" in finding["message"]
    assert "register it with `register_event_listener`" in finding["message"]
    assert document["summary"]["call_sites"] == 10
    assert document["summary"]["resolved_call_sites"] == 10


def test_bug_variant_text_names_send_and_handler_sites(run_cli):
    result = run_cli(["check", f"{SEED}/bug"], cwd=REPO)

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{SEED}/bug/fedapp/server.py:38:19: FCL001 `SHUTDOWN` is sent as an event")
    assert lines[1] == f"    {SEED}/bug/fedapp/client.py:13:9: handled over rpc here (`register_message_handler`)"
    assert lines[-3:-1] == ["Found 1 error, 0 warnings, 0 infos in 4 files.", "[*] 1 fixable with the `--fix` option."]
    assert lines[-1] == "10 of 10 call sites resolved."


@pytest.mark.parametrize("variant", ["rpc_fix", "event_fix"])
def test_fixed_variants_are_clean(run_cli, variant):
    result = run_cli(["check", f"{SEED}/{variant}", "--format", "json"], cwd=REPO)

    assert result.exit_code == 0
    assert result.json["findings"] == []


def test_table_shows_shutdown_on_both_mechanisms_as_a_mismatch(run_cli):
    result = run_cli(["table", f"{SEED}/bug", "--format", "json"], cwd=REPO)

    assert result.exit_code == 0
    messages = {m["message_type"]: m for m in result.json["messages"]}
    assert sorted(messages) == ["CLIENT_DISCONNECTED", "CLIENT_REGISTERED", "SHUTDOWN", "evaluate", "train"]
    shutdown = messages["SHUTDOWN"]
    assert shutdown["status"] == "mismatch"
    assert [(s["role"], s["mechanism"], s["path"], s["line"]) for s in shutdown["sites"]] == [
        ("handle", "rpc", f"{SEED}/bug/fedapp/client.py", 13),
        ("send", "event", f"{SEED}/bug/fedapp/server.py", 38),
    ]
    assert {m: messages[m]["status"] for m in messages if m != "SHUTDOWN"} == dict.fromkeys(
        ["CLIENT_DISCONNECTED", "CLIENT_REGISTERED", "evaluate", "train"], "ok"
    )
    assert result.json["unresolved"] == []


@pytest.mark.parametrize(("variant", "shutdown"), [("rpc_fix", ("rpc", "ok")), ("bug", ("rpc, event", "mismatch"))])
def test_table_text_lists_every_message_type(run_cli, monkeypatch, variant, shutdown):
    monkeypatch.setenv("COLUMNS", "200")  # one line per cell
    result = run_cli(["table", f"{SEED}/{variant}", "--no-cache"], cwd=REPO)

    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in result.output.splitlines()
            if line.startswith("│ ") and not line.startswith("│  ")]
    assert result.exit_code == 0
    assert [(row[0], row[1], row[4]) for row in rows] == [
        ("CLIENT_DISCONNECTED", "event", "ok"), ("CLIENT_REGISTERED", "event", "ok"), ("SHUTDOWN", *shutdown),
        ("evaluate", "rpc", "ok"), ("train", "rpc", "ok"),
    ]
    assert result.output.endswith("\n10 of 10 call sites resolved.\n")


def test_installed_console_script_reports_the_bug():
    script = Path(sys.executable).parent / "fedcl-lint"
    assert script.exists(), "install the project first: pip install -e '.[test]'"
    completed = subprocess.run(
        [str(script), "check", f"{SEED}/bug", "--format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 1, completed.stderr
    assert findings_of(json.loads(completed.stdout)) == [("FCL001", "SHUTDOWN", f"{SEED}/bug/fedapp/server.py", 38)]


