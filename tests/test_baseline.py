"""Baseline: record today's findings, then report only new ones, surviving edits above them."""

from __future__ import annotations

import json
import shutil

from conftest import FIXTURES, findings_of, write_project

SERVER = (
    "async def stop(cm, cid):\n"
    "    await cm.send_control_message(cid, 'SHUTDOWN', {})\n"
)
CLIENT = "def setup(cm, h):\n    cm.register_message_handler('SHUTDOWN', h)\n"


def test_write_baseline_records_findings_deterministically(run_cli, tmp_path):
    write_project(tmp_path, {"server.py": SERVER, "client.py": CLIENT})
    result = run_cli(["check", "--write-baseline", "baseline.json"], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == "Wrote 1 finding to baseline.json.\n"
    document = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    [entry] = document["findings"]
    assert (document["version"], document["tool"]) == (1, "fedcl-lint")
    assert (entry["code"], entry["path"], entry["message_type"]) == ("FCL001", "server.py", "SHUTDOWN")
    assert "line" not in entry  # a line number would churn with every edit above it
    first = (tmp_path / "baseline.json").read_bytes()
    run_cli(["check", "--write-baseline", "baseline.json"], cwd=tmp_path)
    assert (tmp_path / "baseline.json").read_bytes() == first


def test_baseline_hides_known_findings_even_after_lines_are_inserted_above(run_cli, tmp_path):
    write_project(tmp_path, {"server.py": SERVER, "client.py": CLIENT})
    run_cli(["check", "--write-baseline", "baseline.json"], cwd=tmp_path)

    clean = run_cli(["check", "--baseline", "baseline.json"], cwd=tmp_path)
    assert clean.exit_code == 0
    assert clean.output == (
        "All checks passed (2 files analysed).\n"
        "Not shown: 1 finding in the baseline.\n"
        "2 of 2 call sites resolved.\n"
    )

    shifted = '"""A docstring."""\n\nimport os\n\n\n' + SERVER.replace("cid):\n", "cid):\n    os.sync()\n\n")
    write_project(tmp_path, {"server.py": shifted})
    assert run_cli(["check", "--format", "json"], cwd=tmp_path).json["findings"][0]["line"] == 9
    assert run_cli(["check", "--baseline", "baseline.json"], cwd=tmp_path).exit_code == 0


def test_fingerprints_read_the_line_python_reports_after_a_form_feed(run_cli, tmp_path):
    """A form feed is not a line end for Python: the fingerprint must hash the finding's own line."""
    write_project(tmp_path, {"server.py": SERVER, "client.py": CLIENT})
    run_cli(["check", "--write-baseline", "baseline.json"], cwd=tmp_path)
    (tmp_path / "server.py").write_text("# section one\x0c section two\n" + SERVER)
    result = run_cli(["check", "--baseline", "baseline.json"], cwd=tmp_path)

    assert result.exit_code == 0
    assert "Not shown: 1 finding in the baseline." in result.output


def test_baseline_reports_only_new_findings(run_cli, tmp_path):
    write_project(tmp_path, {"server.py": SERVER, "client.py": CLIENT})
    run_cli(["check", "--write-baseline", "baseline.json"], cwd=tmp_path)
    write_project(tmp_path, {
        "server.py": SERVER + "    await cm.send_control_message(cid, 'SHUTDOWN', {'again': True})\n"
                              "    await cm.send_business_message(cid, 'PING', {})\n",
    })
    result = run_cli(["check", "--baseline", "baseline.json", "--format", "json"], cwd=tmp_path)

    assert result.exit_code == 1
    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "server.py", 3), ("FCL002", "PING", "server.py", 4)]


def test_identical_findings_are_counted(run_cli, tmp_path):
    write_project(tmp_path, {"server.py": SERVER, "client.py": CLIENT})
    run_cli(["check", "--write-baseline", "baseline.json"], cwd=tmp_path)
    write_project(tmp_path, {"server.py": SERVER + SERVER.splitlines(keepends=True)[1]})
    result = run_cli(["check", "--baseline", "baseline.json", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "server.py", 3)]


def test_baseline_paths_are_relative_to_the_baseline_file(run_cli, tmp_path):
    seed = tmp_path / "bug"
    shutil.copytree(FIXTURES / "seed" / "bug", seed)
    run_cli(["check", "--write-baseline", "fedapp/baseline.json"], cwd=seed)
    assert json.loads((seed / "fedapp" / "baseline.json").read_text(encoding="utf-8"))["findings"][0]["path"] == (
        "server.py"
    )

    result = run_cli(["check", "bug", "--baseline", "bug/fedapp/baseline.json"], cwd=tmp_path)
    assert result.exit_code == 0
    assert "Not shown: 1 finding in the baseline." in result.output  # matched from another folder


def test_baseline_from_the_configuration(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nbaseline = "ci/fedcl-lint-baseline.json"\n',
        "src/server.py": SERVER,
        "src/client.py": CLIENT,
    })
    missing = run_cli(["check"], cwd=tmp_path / "src")
    assert missing.exit_code == 2
    assert "baseline not found (create it with --write-baseline" in missing.stderr

    # the commands that describe the protocol neither read nor need it
    assert [run_cli([command], cwd=tmp_path / "src").exit_code for command in ("table", "docs")] == [0, 0]

    assert run_cli(["check", "--write-baseline", "ci/fedcl-lint-baseline.json"], cwd=tmp_path).exit_code == 0
    assert run_cli(["check"], cwd=tmp_path / "src").exit_code == 0


def test_a_baseline_that_cannot_be_written_is_a_clear_error(run_cli, tmp_path):
    write_project(tmp_path, {"server.py": SERVER, "client.py": CLIENT, "taken/keep.txt": "mine\n"})
    result = run_cli(["check", "--write-baseline", "taken", "--no-cache"], cwd=tmp_path)

    assert (result.exit_code, result.stderr) == (2, "Error: cannot write taken: Is a directory\n")
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client.py", "server.py", "taken"]  # no temporary left


def test_broken_baselines_are_usage_errors(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "X = 1\n", "bad.json": "{", "other.json": '{"version": 7}'})

    for name, message in [
        ("missing.json", "missing.json: baseline not found"),
        ("bad.json", "bad.json: not a fedcl-lint baseline: invalid JSON"),
        ("other.json", 'other.json: not a fedcl-lint baseline (expected an object with "version": 1)'),
    ]:
        result = run_cli(["check", "--baseline", name], cwd=tmp_path)
        assert result.exit_code == 2
        assert message in result.stderr


def test_baseline_and_write_baseline_together_is_a_usage_error(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "X = 1\n"})
    result = run_cli(["check", "--baseline", "a.json", "--write-baseline", "b.json"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "--baseline and --write-baseline cannot be used together" in result.stderr
