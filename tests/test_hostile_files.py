"""A repository an attacker controls: every read is bounded, special files are refused with a located
error, and input that breaks a parser is a clear error, never a traceback. The run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import findings_of, write_project

GOOD = {"good.py": "async def go(comm):\n    await comm.send_business_message('s', 'GOOD', {})\n"}
GOOD_FINDING = ("FCL002", "GOOD", "good.py", 2)
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")


def _check(run_cli, root: Path, *options: str):
    return run_cli(["check", "--format", "json", "--no-cache", *options], cwd=root)


@needs_dev_zero
def test_an_ignore_file_linked_to_a_device_is_a_located_read_error(run_cli, tmp_path):
    write_project(tmp_path, GOOD)
    (tmp_path / ".gitignore").symlink_to("/dev/zero")

    result = _check(run_cli, tmp_path)

    assert result.exit_code == 1
    assert findings_of(result.json) == [("FCL901", None, ".gitignore", 1), GOOD_FINDING]
    assert result.json["findings"][0]["message"] == "cannot read: not a regular file (a character device)"


@needs_dev_zero
def test_a_baseline_linked_to_a_device_is_a_usage_error(run_cli, tmp_path):
    write_project(tmp_path, GOOD)
    (tmp_path / "baseline.json").symlink_to("/dev/zero")

    result = _check(run_cli, tmp_path, "--baseline", "baseline.json")

    assert result.exit_code == 2
    assert "baseline.json: cannot read: not a regular file (a character device)" in result.stderr


@needs_dev_zero
def test_a_source_linked_to_a_device_is_a_read_error(run_cli, tmp_path):
    write_project(tmp_path, GOOD)
    (tmp_path / "device.py").symlink_to("/dev/zero")

    result = _check(run_cli, tmp_path)

    assert findings_of(result.json) == [("FCL901", None, "device.py", 1), GOOD_FINDING]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_cache_files_linked_to_a_special_file_are_misses(run_cli, tmp_path):
    """A named pipe of our own, not a device: were a regression to write through the links, it
    must not write into the machine's /dev (as root, an earlier bug replaced /dev/zero)."""
    write_project(tmp_path / "app", GOOD)
    cache = tmp_path / "cache"
    run_cli(["check", "--cache-dir", str(cache)], cwd=tmp_path / "app")
    cache_files = [p for p in cache.rglob("*.pickle")]
    assert cache_files
    os.mkfifo(tmp_path / "pipe")
    for path in cache_files:
        path.unlink()
        path.symlink_to(tmp_path / "pipe")

    result = run_cli(["check", "--format", "json", "--cache-dir", str(cache)], cwd=tmp_path / "app")

    assert findings_of(result.json) == [GOOD_FINDING]
    assert all(not path.is_symlink() for path in cache_files)  # replaced by files of ours, not written through


def test_a_huge_source_is_refused_without_being_read_whole(tmp_path):
    """A 4 GB file (sparse: it takes no disk) that mentions the API is reported as too large; read
    whole, it crashed the run. In a child process with its memory capped below the file's size."""
    write_project(tmp_path, GOOD)
    with open(tmp_path / "huge.py", "wb") as huge:
        huge.write(b"# send_business_message\n")
        huge.truncate(4 << 30)
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
    script = limit + "from fedcl_lint.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", script, "check", "--no-cache", "--format", "json", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )

    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert findings_of(document) == [GOOD_FINDING, ("FCL902", None, "huge.py", 1)]
    assert document["findings"][1]["message"] == "not analysed: 4295.0 MB is over the 5 MB limit for one file"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("deep", "[tool.fedcl-lint]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("digits", "[tool.fedcl-lint]\nx = " + "9" * 5_000 + "\n", "an integer with too many digits"),
    ],
)
def test_a_settings_file_that_breaks_the_parser_is_a_clear_error(run_cli, tmp_path, name, content, reason):
    write_project(tmp_path, {**GOOD, "pyproject.toml": content})

    result = _check(run_cli, tmp_path)

    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: pyproject.toml: invalid TOML: {reason}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [("[" * 100_000 + "]" * 100_000, "nested too deeply"), ('{"version": ' + "9" * 5_000 + "}",
                                                           "an integer with too many digits")],
    ids=["deep", "digits"],
)
def test_json_files_that_break_the_parser_are_clear_errors(run_cli, tmp_path, content, reason):
    write_project(tmp_path, {**GOOD, "input.json": content})

    baseline = _check(run_cli, tmp_path, "--baseline", "input.json")
    diff = run_cli(["diff", "input.json", "input.json"], cwd=tmp_path)

    assert baseline.exit_code == diff.exit_code == 2
    assert f"input.json: not a fedcl-lint baseline: invalid JSON: {reason}" in baseline.stderr
    assert f"input.json: invalid JSON: {reason}" in diff.stderr


def test_a_rule_pack_that_breaks_the_parser_is_a_clear_error(run_cli, tmp_path):
    write_project(tmp_path, {**GOOD, "pack.toml": "x = " + "[" * 100_000 + "]" * 100_000 + "\n"})

    result = _check(run_cli, tmp_path, "--rules", "pack.toml")

    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: pack.toml: invalid TOML: nested too deeply"


def test_a_message_type_of_thousands_of_digits_is_unresolved_not_a_crash(run_cli, tmp_path):
    huge = "0x" + "f" * 4_000
    write_project(tmp_path, {**GOOD, "big.py": f"async def go(comm):\n    await comm.send_business_message('s', {huge}, {{}})\n"})

    result = _check(run_cli, tmp_path)

    assert findings_of(result.json) == [("FCL005", None, "big.py", 2), GOOD_FINDING]
    assert result.json["findings"][0]["message"].endswith(f"`{huge[:57]}...` is not a string")


@pytest.fixture
def deep_tree(tmp_path):
    """A folder 990 levels deep, made and removed by loops (os.makedirs, pathlib and shutil.rmtree,
    which pytest's clean-up uses, all recurse)."""
    folders = [tmp_path]
    for _ in range(990):
        folders.append(folders[-1] / "d")
        os.mkdir(folders[-1])
    yield folders[-1]
    for folder in reversed(folders[1:]):
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


def test_a_folder_tree_a_thousand_deep_is_walked(run_cli, tmp_path, deep_tree):
    (deep_tree / "good.py").write_text(GOOD["good.py"], encoding="utf-8")
    (deep_tree / "__init__.py").write_text("")

    result = _check(run_cli, tmp_path)

    assert [f[0] for f in findings_of(result.json)] == ["FCL002"]


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")
def test_file_names_that_are_not_utf8_reach_every_report(run_cli, tmp_path):
    name = b"\xff.py"
    os.makedirs(tmp_path, exist_ok=True)
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as source:
        source.write(GOOD["good.py"].encode())
    shown = os.fsdecode(name)

    sarif = run_cli(["check", "--no-cache", "--format", "sarif"], cwd=tmp_path)
    written = run_cli(["check", "--no-cache", "--write-baseline", "baseline.json"], cwd=tmp_path)
    baselined = run_cli(["check", "--no-cache", "--baseline", "baseline.json", "-o", "report.txt"], cwd=tmp_path)

    [result] = sarif.json["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "%FF.py"
    assert written.exit_code == 0 and "Wrote 1 finding" in written.output
    assert json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))["findings"][0]["path"] == shown
    assert baselined.exit_code == 0
    assert "Not shown: 1 finding in the baseline." in (tmp_path / "report.txt").read_text(encoding="utf-8")
