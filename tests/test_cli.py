"""The command line contract: exit codes, errors, broken inputs, JSON shape."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, findings_of, write_project
from fedcl_lint import __version__, cli as cli_module


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

    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("a.py:2:11: FCL005 ")


def test_warnings_fail_the_run(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "def f(cm, h):\n    cm.register_message_handler('X', h)\n"})
    result = run_cli(["check"], cwd=tmp_path)

    assert result.exit_code == 1


def test_missing_path_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "does/not/exist"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "path does not exist: does/not/exist" in result.stderr


def test_unknown_option_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "--formt", "json"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_bad_format_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "--format", "xml"], cwd=tmp_path)

    assert result.exit_code == 2


def test_internal_failure_exits_2_with_a_traceback(monkeypatch, capsys, tmp_path):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module, "analyze", explode)
    monkeypatch.setattr("sys.argv", ["fedcl-lint", "check", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()

    assert exit_info.value.code == 2
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
    assert table["version"] == 1
    assert set(table["messages"][0]) >= {"message_type", "status", "sites"}
    assert set(table["messages"][0]["sites"][0]) >= {"role", "mechanism", "path", "line", "column"}
    assert table["unresolved"] == []


def test_output_is_deterministic(run_cli):
    first = run_cli(["check", "--format", "json"], cwd=FIXTURES / "checks").output
    second = run_cli(["check", "--format", "json"], cwd=FIXTURES / "checks").output

    assert first == second


def test_paths_outside_the_working_directory_are_relative(run_cli):
    result = run_cli(["check", "../bug", "--format", "json"], cwd=FIXTURES / "seed" / "rpc_fix")

    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "../bug/fedapp/server.py", 38)]
