"""Pathological but valid code, and a run killed midway: every run finishes, says what Python would
run, and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import findings_of, write_project

SEED_CLIENT = "def setup(comm, h):\n    comm.register_message_handler('SHUTDOWN', h)\n"


def _json_check(run_cli, root: Path, *options: str) -> list[tuple]:
    result = run_cli(["check", "--format", "json", "--no-cache", *options], cwd=root)
    assert result.exit_code in (0, 1), result.stderr
    return findings_of(result.json)


def _in_child(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A run in its own process, with a time-out that turns a hang into a failure (not a speed target)."""
    return subprocess.run([sys.executable, "-m", "fedcl_lint", *args], cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_self_calling_and_mutually_recursive_wrappers_finish(tmp_path):
    """A retry helper that calls itself, and `a -> b -> a`, made wrapper inference add longer and
    longer call chains: `check`, `table` and `check --no-cache` never finished."""
    write_project(tmp_path, {"comm.py": """\
        async def retry(comm, target, kind, data, attempts=3):
            try:
                return await comm.send_business_message(target, kind, data)
            except Exception:
                return await retry(comm, target, kind, data, attempts - 1)


        async def a(comm, kind):
            await b(comm, kind)
            await comm.send_control_message("x", kind, {})


        async def b(comm, kind):
            await a(comm, kind)


        async def go(comm):
            await retry(comm, "s", "PING", {})
            await a(comm, "PONG")
        """})

    checked = _in_child(tmp_path, "check", "--no-cache", "--format", "json", ".")
    table = _in_child(tmp_path, "table", "--no-cache", "--format", "json", ".")

    assert checked.returncode == 1, checked.stderr

    manifest = json.loads(table.stdout)
    sites = {(m["message_type"], s["via"]) for m in manifest["messages"] for s in m["sites"]}
    assert sites == {("PING", "retry -> send_business_message"), ("PONG", "a -> send_control_message")}
    # each function once in a chain: `b` reaches the send through `a`, `a` never through `b` and itself
    assert sorted(w["via"] for w in manifest["wrappers"]) == [
        "a -> send_control_message", "b -> a -> send_control_message", "retry -> send_business_message"]
    assert [f[:2] for f in findings_of(json.loads(checked.stdout))] == [("FCL002", "PING"), ("FCL002", "PONG")]


def test_a_star_re_export_through_a_package_init_is_followed(run_cli, tmp_path):
    """`pkg/__init__.py: from .messages import *` then `from pkg import *`: the seed's bug was missed,
    with a false FCL003 and an FCL005 saying `SHUTDOWN` is not defined."""
    write_project(tmp_path, {
        "pkg/__init__.py": "from .messages import *\n",
        "pkg/messages.py": "SHUTDOWN = 'SHUTDOWN'\n",
        "server.py": "from pkg import *\n\nasync def stop(comm, cid):\n    await comm.send_control_message(cid, SHUTDOWN, {})\n",
        "client.py": SEED_CLIENT,
    })

    assert _json_check(run_cli, tmp_path) == [("FCL001", "SHUTDOWN", "server.py", 4)]


def test_the_end_of_a_long_re_export_chain_is_not_a_parse_error(run_cli, tmp_path):
    """A valid one-line file at the end of a 325-long chain of re-exports was a false FCL900
    "nested too deeply": parsed deep in the linker's recursion, Python's parser had no stack left."""
    files = {f"m{i}.py": f"from m{i + 1} import NAME\n" for i in range(325)}
    files["m325.py"] = "NAME = 'DEEP'\n"
    files["app.py"] = "from m0 import NAME\n\nasync def go(comm):\n    await comm.send_business_message('s', NAME, {})\n"
    write_project(tmp_path, files)

    result = run_cli(["check", "--format", "json", "--no-cache"], cwd=tmp_path)

    assert result.exit_code == 0, result.stderr  # an info does not fail the run: never FCL900, never a crash
    assert findings_of(result.json) == [("FCL005", None, "app.py", 4)]
    assert result.json["findings"][0]["message"].endswith("the definition chain is too deep")


@pytest.mark.parametrize(
    "source",
    [
        "async def stop(comm, cid):\n    await comm.\uff53end_control_message(cid, 'SHUTDOWN', {})\n",  # fullwidth s
        "# coding: unicode_escape\nasync def stop(comm, cid):\n    await comm.\\u0073end_control_message(cid, 'SHUTDOWN', {})\n",
    ],
    ids=["nfkc", "unicode-escape"],
)
def test_the_prefilter_reads_names_as_python_does(run_cli, tmp_path, source):
    """Python runs `comm.ｓend_control_message` (NFKC makes it `send_...`) and a `unicode_escape` file's
    `\\u0073end_...`: the byte prefilter skipped both files, hiding the FCL001."""
    write_project(tmp_path, {"client.py": SEED_CLIENT})
    (tmp_path / "server.py").write_bytes(source.encode("utf-8"))

    assert _json_check(run_cli, tmp_path) == [("FCL001", "SHUTDOWN", "server.py", source.count("\n") - 0)]


@pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform != "linux", reason="reads /proc")
def test_worker_processes_exit_when_their_run_is_killed(tmp_path):
    """After SIGKILL of `check -j 2` while parsing, the workers stayed, asleep, for more than 24 minutes."""
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from trees import build_parse_bound

    tree = build_parse_bound(tmp_path / "tree", 6000)
    parent = subprocess.Popen([sys.executable, "-m", "fedcl_lint", "check", "--no-cache", "-j", "2", str(tree)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers = _children(parent.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the run never started its workers"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in workers if _alive(pid)]
    finally:
        parent.kill()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
