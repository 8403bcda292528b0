"""The README's snippets, run as written: the Quick start, the configuration example, the suppression
comments and the baseline commands (and their copies in docs/output.md). Its GitHub Actions workflow
runs in test_github.py, its pre-commit snippet in test_precommit.py; the examples of docs/ run beside
the features they show."""

from __future__ import annotations

import json
import shlex
import shutil

import pytest

from conftest import FIXTURES, REPO, doc_block, doc_text, findings_of, write_project
from fedcl_lint.settings.config import load_config
from fedcl_lint.types import Mechanism, Severity


def _section(title: str) -> str:
    return doc_text("README.md").split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_quick_start_reports_what_the_readme_shows(run_cli):
    section = _section("Quick start")
    install_and_check, install_and_test = doc_block("README.md", "console", "pip install").splitlines()
    expected = section.split("```text\n", 1)[1].split("```", 1)[0]
    check = shlex.split(install_and_check.split(" && ", 1)[1])
    assert check[0] == "fedcl-lint"

    result = run_cli(check[1:], cwd=REPO)

    assert "exits 1" in section and (result.exit_code, result.output) == (1, expected)
    # the second command is the one CI runs last
    assert f"\n{install_and_test}\n" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_configuration_example_means_what_it_says(run_cli, tmp_path):
    example = doc_block("README.md", "toml", "[tool.fedcl-lint]")
    write_project(tmp_path, {
        "pyproject.toml": example,
        "src/server.py": """
            async def go(comm, cid, kind):
                await comm.send_control_message(cid, "SHUTDOWN", {})
                await comm.send_business_message(cid, "METRICS_REPORT", {})
                await comm.send_business_message(cid, kind, {})
        """,
        "src/client.py": """
            def setup(comm, h):
                comm.register_message_handler("SHUTDOWN", h)
        """,
        "tests/test_client.py": """
            def setup(comm, h):
                comm.register_message_handler("PAUSE", h)
        """,
        "tests/fixtures/broken.py": """
            async def go(comm, cid):
                await comm.send_business_message(cid, "GHOST", {})
        """,
    })
    config = load_config(["."], tmp_path)
    assert (config.path, config.ignore, config.fail_on, config.external) == (
        tmp_path / "pyproject.toml", ("FCL005",), Severity.WARNING, frozenset({"METRICS_REPORT"}))
    assert (config.exclude, config.per_file_ignores, config.policy) == (
        ("tests/fixtures/",), (("tests/**", ("FCL003",)),), {"SHUTDOWN": Mechanism("rpc")})

    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    # the fixtures are excluded (no FCL002 for GHOST), METRICS_REPORT is external, the unresolved send
    # (FCL005) ignored, the test's unused handler (FCL003) ignored there; the policy's fix is named
    assert (result.exit_code, result.json["summary"]["files"], findings_of(result.json)) == (
        1, 3, [("FCL001", "SHUTDOWN", "src/server.py", 3)])
    assert result.json["findings"][0]["message"].endswith(
        "send it with `send_business_message` (the protocol policy declares `SHUTDOWN` as rpc)")


@pytest.mark.parametrize("page", ["README.md", "output.md"])
def test_the_suppression_comments_shown_hide_what_they_name(run_cli, tmp_path, page):
    send, handle = doc_block(page, "python", "fedcl-lint: ignore").splitlines()
    files = {
        "server.py": f"async def shutdown(comm, cid):\n    {send}\n",
        "client.py": 'LEGACY = "LEGACY"\n\n\ndef setup(comm, on_legacy, on_shutdown):\n'
                     f'    comm.register_message_handler("SHUTDOWN", on_shutdown)\n    {handle}\n',
    }
    write_project(tmp_path / "with", files)
    write_project(tmp_path / "without", {name: source.replace(send, send.split("  #")[0])
                                         .replace(handle, handle.split("  #")[0]) for name, source in files.items()})

    bare = run_cli(["check", "--format", "json"], cwd=tmp_path / "without")
    assert findings_of(bare.json) == [("FCL003", "LEGACY", "client.py", 6), ("FCL001", "SHUTDOWN", "server.py", 2)]
    result = run_cli(["check", "--warn-unused-ignores"], cwd=tmp_path / "with")
    assert (result.exit_code, result.output) == (0, (
        "All checks passed (2 files analysed).\nNot shown: 2 findings suppressed by comments.\n"
        "3 of 3 call sites resolved.\n"))


@pytest.mark.parametrize("page", ["README.md", "output.md"])
def test_the_baseline_commands_shown_record_then_hide_the_findings(run_cli, tmp_path, page):
    record, use = (shlex.split(line) for line in doc_block(page, "console", "--write-baseline").splitlines())
    project = tmp_path / "bug"
    shutil.copytree(FIXTURES / "seed" / "bug", project)

    assert run_cli(record[1:], cwd=project).exit_code == 0
    recorded = json.loads((project / record[-1]).read_text(encoding="utf-8"))
    assert [(f["code"], f["message_type"]) for f in recorded["findings"]] == [("FCL001", "SHUTDOWN")]
    result = run_cli(use[1:], cwd=project)
    assert (result.exit_code, result.output.splitlines()[:2]) == (
        0, ["All checks passed (4 files analysed).", "Not shown: 1 finding in the baseline."])
