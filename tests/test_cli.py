"""The command line contract: exit codes, errors, broken inputs, JSON shape."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, findings_of, write_project
from fedcl_lint import __version__
from fedcl_lint import cli as cli_module


def test_broken_files_yield_one_located_finding_each_and_the_rest_is_still_checked(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=FIXTURES / "broken")

    assert result.exit_code == 1
    assert findings_of(result.json) == [
        ("FCL900", None, "latin1.py", 2),
        ("FCL001", "SHUTDOWN", "server.py", 2),
        ("FCL900", None, "syntax_error.py", 1),
    ]
    by_path = {f["path"]: f for f in result.json["findings"]}
    assert by_path["latin1.py"]["message"] == "cannot decode as utf-8: invalid continuation byte"
    assert by_path["latin1.py"]["column"] == 16
    assert by_path["syntax_error.py"]["message"] == "syntax error: invalid syntax"
    assert by_path["syntax_error.py"]["column"] == 12


def test_a_broken_file_that_mentions_no_api_is_not_parsed(run_cli, tmp_path):
    write_project(tmp_path, {"notes.py": "def f(:\n", "a.py": "X = 1\n"})
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.json["findings"] == []


def test_unknown_coding_cookie_is_a_located_parse_error(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": b"# -*- coding: klingon -*-\ncomm.push_event('a', 'b', 'C', {})\n"})
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    [finding] = result.json["findings"]
    assert (finding["code"], finding["line"]) == ("FCL900", 1)
    assert "klingon" in finding["message"]


def test_clean_tree_exits_zero(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "X = 1\n"})
    result = run_cli(["check"], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == "All checks passed (1 file analysed).\n0 of 0 call sites resolved.\n"


def test_info_findings_do_not_fail_the_run(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "async def f(cm, kind):\n    await cm.send_business_message('t', kind.upper(), {})\n"})
    result = run_cli(["check"], cwd=tmp_path)

    assert (result.exit_code, result.output) == (0, (
        "a.py:2:11: FCL005 cannot resolve the message type of `send_business_message` (send rpc): "
        "the result of calling `kind.upper`\n"
        "Found 0 errors, 0 warnings, 1 info in 1 file.\n"
        "0 of 1 call sites resolved.\n"
    ))


def test_warnings_fail_the_run(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "def f(cm, h):\n    cm.register_message_handler('X', h)\n"})
    result = run_cli(["check"], cwd=tmp_path)

    assert (result.exit_code, result.output) == (1, (
        "a.py:2:5: FCL003 `X` has a handler over rpc (`register_message_handler`) but is never sent\n"
        "Found 0 errors, 1 warning, 0 infos in 1 file.\n"
        "1 of 1 call sites resolved.\n"
    ))


def test_missing_path_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "does/not/exist"], cwd=tmp_path)

    assert (result.exit_code, result.stderr) == (2, "Error: path does not exist: does/not/exist\n")


def test_unknown_option_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "--formt", "json"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_bad_format_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "--format", "xml"], cwd=tmp_path)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--format' / '--output-format': 'xml' is not one of 'text', 'json', 'sarif', "
        "'github', 'gitlab', 'junit'."
    )


def test_internal_failure_exits_2_with_a_traceback(monkeypatch, capsys, tmp_path):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("fedcl_lint.workflow.pipeline.analyze", explode)
    monkeypatch.setattr("sys.argv", ["fedcl-lint", "check", str(tmp_path)])

    assert cli_module.run() == 2
    err = capsys.readouterr().err
    assert "internal error" in err
    assert "RuntimeError: boom" in err


def test_version(run_cli, tmp_path):
    result = run_cli(["--version"], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == f"fedcl-lint, version {__version__}\n"


def test_json_contract(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=FIXTURES / "seed" / "bug")
    document = result.json

    assert document["version"] == 1
    [finding] = document["findings"]
    assert set(finding) >= {"code", "severity", "message", "message_type", "mechanism", "path", "line", "column", "related"}
    assert set(finding["related"][0]) >= {"path", "line", "column", "role", "mechanism"}

    table = run_cli(["table", "--format", "json"], cwd=FIXTURES / "seed" / "bug").json
    assert table["version"] == 2  # version 2: int message types, with a `name`
    assert set(table["messages"][0]) >= {"message_type", "status", "sites"}
    assert set(table["messages"][0]["sites"][0]) >= {"role", "mechanism", "path", "line", "column"}
    assert table["unresolved"] == []


@pytest.mark.parametrize("command", [["check", "--format", "json"], ["table", "--format", "json"]])
def test_output_does_not_depend_on_the_hash_seed(command):
    """Set and dict orders change with PYTHONHASHSEED from one process to the next: the output must not."""
    outputs = set()
    for seed in ("0", "1", "2"):
        result = subprocess.run(
            [sys.executable, "-m", "fedcl_lint", *command, "--no-cache", "."],
            cwd=FIXTURES / "framework", capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert result.returncode in (0, 1), result.stderr
        outputs.add(result.stdout)

    assert len(outputs) == 1
    assert b'"message_type"' in outputs.pop()


def test_paths_outside_the_working_directory_are_relative(run_cli):
    result = run_cli(["check", "../bug", "--format", "json"], cwd=FIXTURES / "seed" / "rpc_fix")

    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "../bug/fedapp/server.py", 38)]


# --- text output: a code frame on a terminal, plain otherwise ---------------------------------

SEED_FRAME = [
    "fedapp/server.py:38:19: FCL001 `SHUTDOWN` is sent as an event (`send_control_message`) but only handled "
    "over rpc (`register_message_handler`), so it is never delivered; send it with `send_business_message`, "
    "or register it with `register_event_listener`",
    "   |",
    "37 |         for client_id in self.clients:",
    "38 |             await self.comm_components.communication_manager.send_control_message(",
    # the call's span, on its first line: it ends at the `)` on line 40
    "   |                   " + "^" * len("self.comm_components.communication_manager.send_control_message(") + " FCL001",
    '39 |                 client_id, "SHUTDOWN", shutdown_message',
    "   |",
    "    fedapp/client.py:13:9: handled over rpc here (`register_message_handler`)",
    "",
    "Found 1 error, 0 warnings, 0 infos in 4 files.",
    "[*] 1 fixable with the `--fix` option.",
    "10 of 10 call sites resolved.",
]


def test_text_is_plain_when_not_a_terminal(run_cli, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    result = run_cli(["check"], cwd=FIXTURES / "seed" / "bug")

    assert "\x1b[" not in result.output
    assert "   |" not in result.output
    assert result.output.splitlines()[0] == SEED_FRAME[0]


def test_terminal_text_has_a_code_frame_in_colour(run_cli, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    result = run_cli(["check"], cwd=FIXTURES / "seed" / "bug")

    assert "\x1b[1;31mFCL001\x1b[0m" in result.output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    assert plain.splitlines() == SEED_FRAME
    assert result.exit_code == 1


def test_no_color_keeps_the_frame_without_escape_codes(run_cli, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_cli(["check"], cwd=FIXTURES / "seed" / "bug")

    assert "\x1b" not in result.output
    assert result.output.splitlines() == SEED_FRAME


def test_text_written_to_a_file_is_plain(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("FORCE_COLOR", "1")
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    result = run_cli(["check", "-o", "report.txt"], cwd=tmp_path / "bug")

    assert (result.exit_code, result.output) == (1, "")
    report = (tmp_path / "bug" / "report.txt").read_text(encoding="utf-8")
    assert report.splitlines()[0] == SEED_FRAME[0]
    assert "\x1b" not in report and "   |" not in report


def test_a_report_written_through_a_symbolic_link_keeps_the_link(run_cli, tmp_path):
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "latest.json").write_text("old\n")
    (tmp_path / "bug" / "report.json").symlink_to(tmp_path / "reports" / "latest.json")
    result = run_cli(["check", "--format", "json", "-o", "report.json", "--no-cache"], cwd=tmp_path / "bug")

    assert (result.exit_code, result.output) == (1, "")
    assert (tmp_path / "bug" / "report.json").is_symlink()
    assert json.loads((tmp_path / "reports" / "latest.json").read_text())["summary"]["errors"] == 1


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a POSIX pseudo-terminal")
def test_a_real_terminal_gets_the_frame(tmp_path):
    """Run the installed command in a pseudo-terminal: what a person at a terminal sees."""
    primary, secondary = os.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    env.update(NO_COLOR="1", COLUMNS="200", PYTHONPATH=os.pathsep.join([str(FIXTURES.parent.parent), env.get("PYTHONPATH", "")]))
    with subprocess.Popen(
        [sys.executable, "-m", "fedcl_lint", "check"], cwd=FIXTURES / "seed" / "bug", env=env,
        stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary,
    ) as process:
        os.close(secondary)
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
    output = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")

    assert process.returncode == 1
    assert output.splitlines() == SEED_FRAME


def test_fedcl_lint_checks_its_own_code_clean(run_cli):
    repository = FIXTURES.parent.parent
    result = run_cli(["check", "--format", "json", "--no-cache"], cwd=repository)

    assert result.exit_code == 0
    assert {f["code"] for f in result.json["findings"]} <= {"FCL005"}  # infos only: dicts of reports, not envelopes


def test_an_interrupt_exits_130_never_1_the_code_for_findings(tmp_path):
    """Ctrl-C while the analysis runs (held here until the signal comes) must not read as findings."""
    import signal
    import time

    marker = tmp_path / "analysing"
    script = (
        "import pathlib, time\n"
        "import fedcl_lint.workflow.pipeline as pipeline\n"
        f"def held(*args, **kwargs):\n    pathlib.Path({str(marker)!r}).touch()\n    time.sleep(120)\n"
        "pipeline.analyze = held\n"
        "from fedcl_lint.cli import main\nmain()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, "check", "--no-cache", "."], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    assert stderr.strip() == "fedcl-lint: interrupted"


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        (["--select", ""], None, "Error: --select: names no check; give a check code or prefix"),
        (["--select", " , "], None, "Error: --select: names no check; give a check code or prefix"),
        ([], "[tool.fedcl-lint]\nselect = []\n",
         "Error: pyproject.toml: `tool.fedcl-lint.select`: expected a non-empty array of check codes"),
    ],
    ids=["option", "blank-items", "settings"],
)
def test_selecting_no_check_is_a_usage_error_not_a_clean_run(run_cli, tmp_path, args, settings, message):
    """An empty selection turned every check off: "All checks passed" on the seed's bug."""
    files = {"app.py": "async def go(cm):\n    await cm.send_control_message('c', 'SHUTDOWN', {})\n"}
    if settings is not None:
        files["pyproject.toml"] = settings
    write_project(tmp_path, files)

    result = run_cli(["check", *args], cwd=tmp_path)

    assert result.exit_code == 2
    assert result.stderr.startswith(message)
