"""What users hit: the caret under a call, unknown codes in suppressions, unknown rule packs, a cache folder
that cannot be written, the progress bar, --help, the FCL001 advice on `push_event`, and `table` and `demo`
at 80 columns."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import FIXTURES, long_untouched, write_project

REPO = FIXTURES.parent.parent


def test_the_caret_underlines_the_call_not_a_guess_at_its_name(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("FORCE_COLOR", "1")  # the terminal form: a code frame under each finding
    monkeypatch.setenv("NO_COLOR", "1")
    write_project(tmp_path, {
        "client.py": 'def setup(comm, on_stop):\n    comm.register_message_handler("STOP", on_stop)\n',
        "server.py": 'async def stop(cid):\n    await get_comm().send_control_message(cid, "STOP", {})\n',
    })
    lines = run_cli(["check", "--no-cache"], cwd=tmp_path).output.splitlines()

    assert lines[1:7] == [
        "  |",
        "1 | async def stop(cid):",
        '2 |     await get_comm().send_control_message(cid, "STOP", {})',
        "  |           " + "^" * len('get_comm().send_control_message(cid, "STOP", {})') + " FCL001",
        "3 | ",
        "  |",
    ]


# --- suppression comments with unknown codes ----------------------------------------------------


def test_an_unknown_code_in_a_suppression_comment_is_warned_about(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": 'def setup(comm, on_stop):\n    comm.register_message_handler("STOP", on_stop)  '
                     "# fedcl-lint: ignore[FCL003, FCL9999] typo\n",
        "notes.py": "x = 1  # fedcl-lint: ignore[e501, FCL00]\n",  # skipped by the prefilter, read all the same
    })
    result = run_cli(["check", "--no-cache"], cwd=tmp_path)

    expected = "a check code or prefix (e.g. FCL001, FCL00, FCL or ALL), so it suppresses nothing"
    assert result.stderr.splitlines() == [
        f"warning: client.py:2:53: suppression comment: 'FCL9999' is not {expected}",
        f"warning: notes.py:1:8: suppression comment: 'E501' is not {expected}",
    ]
    assert result.exit_code == 0  # FCL003 is suppressed: the known code works


def test_a_replayed_run_still_sees_an_unknown_code_added_to_a_skipped_file(run_cli, monkeypatch, tmp_path):
    project = long_untouched(write_project(tmp_path / "p", {
        "client.py": 'def setup(comm, on_stop):\n    comm.register_message_handler("STOP", on_stop)\n',
        "notes.py": "x = 1\n",
    }), monkeypatch)
    assert run_cli(["check"], cwd=project).stderr == ""
    (project / "notes.py").write_text("x = 1  # fedcl-lint: ignore[FCL9999]\n", encoding="utf-8")
    os.utime(project / "notes.py", (1_600_000_000, 1_600_000_000))

    assert run_cli(["check"], cwd=project).stderr.startswith("warning: notes.py:1:8: suppression comment: 'FCL9999'")


# --- rule packs and the cache folder ------------------------------------------------------------


def test_an_unknown_rule_pack_lists_the_built_in_ones(run_cli, tmp_path):
    write_project(tmp_path, {"app.py": "x = 1\n"})
    result = run_cli(["check", "--rules", "nosuch"], cwd=tmp_path)

    assert result.exit_code == 2
    assert result.stderr == "Error: nosuch: rule pack not found (built-in packs: fedcl; or the path of a TOML file)\n"


def test_a_cache_folder_that_cannot_be_written_is_reported_once(run_cli, monkeypatch, tmp_path):
    from fedcl_lint.analysis import cache_folder

    def refused(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache_folder, "create_temporary", refused)  # as a read-only folder answers
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    result = run_cli(["check", "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path / "bug")

    assert result.stderr == (
        f"warning: cannot write to the cache folder {tmp_path / 'cache'} (Permission denied): "
        "nothing this run analyses is cached\n"
    )
    assert result.exit_code == 1 and result.output.startswith("fedapp/server.py:38:19: FCL001")
    assert run_cli(["check", "-q", "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path / "bug").stderr == ""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_cache_folder_is_reported(run_cli, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache").chmod(0o555)
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    try:
        result = run_cli(["check", "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path / "bug")
    finally:
        (tmp_path / "cache").chmod(0o755)

    assert result.stderr.startswith(f"warning: cannot write to the cache folder {tmp_path / 'cache'} (")


# --- the progress bar ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a POSIX pseudo-terminal")
def test_the_progress_bar_is_drawn_on_standard_error_and_cleared_when_parsing_ends(tmp_path):
    """A person at a terminal piping the report: the bar is on the terminal, gone once parsing is done,
    and nothing of it reaches the report."""
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    script = (
        "import fedcl_lint.cli as cli\n"
        "cli.ProgressAfter.__init__.__defaults__ = (0.0, None)  # at once, not after 2 s\n"
        "cli.main()\n"
    )
    primary, secondary = os.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE")}
    env.update(TERM="xterm", COLUMNS="80", PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]))
    with subprocess.Popen([sys.executable, "-c", script, "check", "--no-cache"], cwd=tmp_path / "bug", env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary) as process:
        os.close(secondary)
        report = process.stdout.read().decode("utf-8")
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(primary)
    terminal = b"".join(chunks).decode("utf-8")

    assert process.returncode == 1
    assert "Parsing" in terminal
    assert terminal.endswith("\x1b[2K")  # the bar's line erased, and nothing drawn after it
    assert report.startswith("fedapp/server.py:38:19: FCL001") and "Parsing" not in report
    assert report.endswith("10 of 10 call sites resolved.\n") and "\n\n" not in report


def test_a_finished_bar_is_cleared_at_once_and_shown_again_only_for_long_parsing():
    import io

    from rich.console import Console

    from fedcl_lint.cli import ProgressAfter

    stream = io.StringIO()
    progress = ProgressAfter(delay=0.0, console=Console(file=stream, force_terminal=True, width=80))
    progress(1, 3)
    assert "Parsing" in stream.getvalue()
    progress(3, 3)
    assert stream.getvalue().endswith("\x1b[2K") and progress._bar is None
    shown = len(stream.getvalue())
    progress.delay = 60.0
    progress(1, 2)  # a module an import needs, parsed at once: no bar again
    assert len(stream.getvalue()) == shown
    progress.close()
    time.sleep(0)  # nothing left running


# --- --help, messages -------------------------------------------------------------------------


def test_help_shows_each_command_summary_whole(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    output = run_cli(["--help"], cwd=tmp_path).output

    assert re.search(r"\n  rule +Explain the check CODE \(e\.g\. FCL001\), or list every check\.\n", output)
    commands = output.split("Commands:\n")[1].splitlines()
    assert len(commands) >= 6 and not any(line.endswith("...") for line in commands)  # wrapped, never cut


def test_fcl001_on_push_event_says_what_its_fix_note_says(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": 'def setup(comm, on_stop):\n    comm.register_message_handler("STOP", on_stop)\n',
        "server.py": 'async def stop(t, cid):\n    await t.push_event("server", cid, "STOP", {})\n',
    })
    result = run_cli(["check", "--no-cache", "-q"], cwd=tmp_path)
    note = (
        "`push_event(source, target, event_type, data)` is called on the transport, which has no "
        "`send_business_message`: send the message with the communication manager's "
        "`send_business_message(target, message_type, data)` instead"
    )

    assert result.output.splitlines() == [
        "server.py:2:11: FCL001 `STOP` is sent as an event (`push_event`) but only handled over rpc "
        f"(`register_message_handler`), so it is never delivered; {note}; or register it with "
        "`register_event_listener`",
        "    client.py:2:5: handled over rpc here (`register_message_handler`)",
    ]
    fix = run_cli(["check", "--no-cache", "--diff"], cwd=tmp_path)
    assert f"    server.py:2:11: not fixed: {note}." in fix.stderr.splitlines()


# --- table and demo at 80 columns ---------------------------------------------------------------


SEED_NARROW = """\
Message types

CLIENT_DISCONNECTED  ok  event
  send    fedapp/client.py:23:15
          send_control_message (event)
  handle  fedapp/server.py:10:9
          register_event_listener (event)

CLIENT_REGISTERED  ok  event
  send    fedapp/server.py:16:15
          send_control_message (event)
  handle  fedapp/client.py:18:9
          register_event_listener (event)

SHUTDOWN  mismatch  rpc, event
  send    fedapp/server.py:38:19
          send_control_message (event)
  handle  fedapp/client.py:13:9
          register_message_handler (rpc)

evaluate  ok  rpc
  send    fedapp/server.py:31:22
          send_business_message (rpc)
  handle  fedapp/client.py:15:9
          register_message_handler (rpc)

train  ok  rpc
  send    fedapp/server.py:24:23
          send_business_message (rpc)
  handle  fedapp/client.py:14:9
          register_message_handler (rpc)

10 of 10 call sites resolved.
"""


def test_table_piped_at_80_columns_is_a_narrow_list_with_nothing_cut(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(["table", "--no-cache"], cwd=FIXTURES / "seed" / "bug")

    assert result.output == SEED_NARROW


def test_table_follows_columns_and_draws_the_table_when_it_fits(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "130")
    lines = run_cli(["table", "--no-cache"], cwd=FIXTURES / "seed" / "bug").output.splitlines()

    assert max(map(len, lines)) <= 130
    assert [cell.strip() for cell in lines[2].split("┃")[1:-1]] == [
        "Message type", "Mechanism(s)", "Senders", "Handlers", "Status",
    ]
    assert [cell.strip() for cell in lines[4].split("│")[1:-1]] == [
        "CLIENT_DISCONNECTED", "event", "fedapp/client.py:23:15", "fedapp/server.py:10:9", "ok",
    ]


@pytest.mark.parametrize("fixture", ["scopes", "framework", "checks", "envelopes", "receivers"])
def test_table_at_80_columns_cuts_no_token(run_cli, monkeypatch, fixture):
    monkeypatch.setenv("COLUMNS", "80")
    wide = run_cli(["table", "--format", "json", "--no-cache"], cwd=FIXTURES / fixture).json
    lines = run_cli(["table", "--no-cache"], cwd=FIXTURES / fixture).output.splitlines()

    text = "\n".join(lines)
    for message in wide["messages"]:
        for site in message["sites"]:
            assert f"{site['path']}:{site['line']}:{site['column']}" in text  # every location whole
    for entry in wide["unresolved"]:
        assert f"{entry['path']}:{entry['line']}:{entry['column']}" in text
    assert all(len(line) <= 80 for line in lines if "…" not in line)
    assert "…" not in text


def test_demo_at_80_columns_fits_and_counts_in_words(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "80")
    one = run_cli(["demo", "--clients", "1", "--rounds", "1"], cwd=tmp_path).output.splitlines()
    buggy = run_cli(["demo", "--bug"], cwd=tmp_path).output.splitlines()

    assert one[:2] == ["fedcl-lint demo: 1 client, 1 round, correct server: SHUTDOWN sent as an rpc", "─" * 80]
    assert buggy[:2] == ["fedcl-lint demo: 5 clients, 3 rounds, BUGGY server: SHUTDOWN sent as an event", "─" * 80]
    for line in one + buggy:
        assert len(line) <= 80 and "…" not in line
