"""GitHub Actions output: escaped workflow commands, the job summary, and the README's workflow run for real."""

from __future__ import annotations

import json
import shlex
import shutil

import yaml

from conftest import FIXTURES, doc_block, write_project
from fedcl_lint.output.github import escape_data, escape_property

REPO = FIXTURES.parent.parent


def test_escaping_follows_github_rules():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("C:\\dir,x%\nnew") == "C%3A\\dir%2Cx%25%0Anew"


def test_seed_annotation_is_exact(run_cli, tmp_path):
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")  # outside any git repository: paths from here
    result = run_cli(["check", "--format", "github"], cwd=tmp_path / "bug")

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "::error file=fedapp/server.py,line=38,col=19,endLine=40,endColumn=14,title=FCL001 mechanism-mismatch::"
        "`SHUTDOWN` is sent as an event (`send_control_message`) but only handled over rpc "
        "(`register_message_handler`), so it is never delivered; send it with `send_business_message`, "
        "or register it with `register_event_listener`"
        "%0Afedapp/client.py:13:9: handled over rpc here (`register_message_handler`)",
        "Found 1 error, 0 warnings, 0 infos in 4 files.",
        "10 of 10 call sites resolved.",
    ]


def test_levels_and_escaped_properties(run_cli, tmp_path):
    write_project(tmp_path, {
        "odd,dir:x/a.py": (
            "async def f(cm, t, kind):\n"
            "    await cm.send_control_message(t, '50%\\n', {})\n"
            "    await cm.send_business_message(t, kind.upper(), {})\n"
        ),
    })
    lines = run_cli(["check", "--format", "github"], cwd=tmp_path).output.splitlines()

    assert lines[0].startswith("::warning file=odd%2Cdir%3Ax/a.py,line=2,col=11,endLine=2,endColumn=50,"
                               "title=FCL002 unhandled-message::")
    assert "::`50%25%0A` is sent as an event" in lines[0]
    assert lines[1].startswith("::notice file=odd%2Cdir%3Ax/a.py,line=3,col=11,endLine=3,endColumn=56,"
                               "title=FCL005 unresolved-message-type::")


def test_full_report_is_appended_to_the_step_summary(run_cli, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    shutil.copytree(FIXTURES / "checks", tmp_path / "checks")  # outside any git repository: paths from here
    run_cli(["check", "--format", "github"], cwd=tmp_path / "checks")

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Earlier step\n## fedcl-lint\n\nFound 3 errors, 4 warnings, 1 info in 3 files.\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "FCL" in line]
    assert len(rows) == 8  # every finding, not just the 10 per level GitHub annotates
    assert rows[0].startswith("| error | FCL900 | `broken.py:1:")


def test_no_step_summary_without_the_variable(run_cli, monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = run_cli(["check", "--format", "github"], cwd=FIXTURES / "seed" / "rpc_fix")

    assert result.exit_code == 0
    assert result.output == "All checks passed (4 files analysed).\n10 of 10 call sites resolved.\n"


def readme_workflow() -> dict:
    return yaml.safe_load(doc_block("README.md", "yaml", "jobs:"))


def test_readme_workflow_uploads_the_sarif_it_writes(run_cli, monkeypatch, tmp_path):
    workflow = readme_workflow()
    [job] = workflow["jobs"].values()
    assert workflow["permissions"]["security-events"] == "write"
    steps = job["steps"]
    commands = [shlex.split(s["run"]) for s in steps if s.get("run", "").startswith("fedcl-lint check ")]
    [upload] = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["if"] == "${{ !cancelled() }}"
    assert len(commands) == 2
    # the protocol diff needs a base branch: pull requests only (on a push `github.base_ref` is empty)
    [protocol_diff] = [s for s in steps if s.get("run", "").startswith("fedcl-lint diff ")]
    assert protocol_diff["if"] == "${{ github.event_name == 'pull_request' }}"
    [checkout] = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0

    # Run the workflow's fedcl-lint steps on the seed, as GitHub would in a checkout.
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "checkout")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    annotations, sarif_step = (run_cli(command[1:], cwd=tmp_path / "checkout") for command in commands)
    assert annotations.exit_code == 1  # the check fails the job on the SHUTDOWN bug...
    assert annotations.output.startswith("::error file=fedapp/server.py,line=38,col=19,")
    assert "| error | FCL001 |" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert sarif_step.exit_code == 0  # ...while the SARIF step still writes the report to upload
    sarif = json.loads((tmp_path / "checkout" / upload["with"]["sarif_file"]).read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["FCL001"]


def test_unwritable_step_summary_is_a_tool_error(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing-dir" / "summary.md"))
    result = run_cli(["check", "--format", "github"], cwd=FIXTURES / "seed" / "rpc_fix")

    assert result.exit_code == 2
    assert "cannot write the job summary" in result.stderr
