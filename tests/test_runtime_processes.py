"""The federation across processes: the gRPC demo, a client killed mid-round and restarted, a server
that is late or never comes, and processes that always end by themselves.

Every process listens on 127.0.0.1 on a port it picks (or one picked free here). Each test kills what is
still running when it ends, whatever happened (the ``no_orphans`` finalizer); the nodes also watch their
parent and their own lifetime, which two tests check.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from fedcl_lint.cli import cli
from fedcl_lint.demo import run_demo
from fedcl_lint.runtime.processes import NodeProcess, kill_all, live_process_ids, stop_all

HOOKS = [sys.executable, str(Path(__file__).parent / "runtime_node_hooks.py")]
BOUND = 60.0  # no scenario takes more than a few seconds; this only stops a broken one


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    """Kill whatever a test left running (even when it failed), then check that nothing is left."""
    yield
    left = live_process_ids()
    kill_all()
    assert left == [], f"processes still running after the test: {left}"


def run(coro: Awaitable[Any]) -> Any:
    async def bounded() -> Any:
        try:
            return await asyncio.wait_for(coro, BOUND)
        finally:
            await stop_all()

    return asyncio.run(bounded())


def one_line(text: str) -> str:
    text = re.sub(r"[│╭╮╰╯─]", " ", text)
    return re.sub(r"\s+", " ", text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ended(pid: int) -> bool:
    """Gone, or a zombie left for a parent that did not reap it (it runs no code any more)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def start_server(*arguments: str) -> Awaitable[NodeProcess]:
    return NodeProcess.start("server", ["server", "--max-lifetime", "60", *arguments])


def start_client(index: int, server: str, *arguments: str, hang_in_round: int | None = None) -> Awaitable[NodeProcess]:
    hooks = ["--hang-in-round", str(hang_in_round)] if hang_in_round is not None else []
    return NodeProcess.start(
        f"client_{index}",
        ["client", "--id", f"client_{index}", "--value", str(index), "--server", server, "--max-lifetime", "60",
         *arguments],
        command=[*HOOKS, *hooks],
    )


# ---------------------------------------------------------------------------- demo


def demo_output(clients: int, rounds: int, bug: bool) -> tuple[int, str]:
    buffer = io.StringIO()
    code = run_demo(clients=clients, rounds=rounds, bug=bug, console=Console(file=buffer, width=120), transport="grpc")
    return code, buffer.getvalue()


def test_demo_over_grpc_shows_the_same_trace_rounds_and_acknowledgements_from_six_processes() -> None:
    code, output = demo_output(clients=5, rounds=3, bug=False)
    text = one_line(output)

    assert code == 0, output
    assert "fedcl-lint demo over gRPC (6 processes): 5 clients, 3 rounds, correct server: SHUTDOWN sent as an rpc" in text
    assert re.search(r"6 processes on 127\.0\.0\.1: server \(pid \d+\) at 127\.0\.0\.1:\d+, 5 clients; "
                     r"exit codes: server 0, clients 0", text)
    assert "message trace (35 messages)" in text  # as in memory: 5 x (registration, heartbeat, announcement, 3 train, SHUTDOWN)
    assert re.search(r"│\s+1 │ rpc\s+│ client_\d -> server\s+│ registration", output)
    assert len(re.findall(r"│ rpc\s+│ client_\d -> server\s+│ registration", output)) == 5
    assert len(re.findall(r"│ rpc\s+│ client_\d -> server\s+│ heartbeat", output)) == 5
    assert len(re.findall(r"│ event\s+│ server -> client_\d\s+│ CLIENT_REGISTERED", output)) == 5
    assert len(re.findall(r"│ rpc\s+│ server -> client_\d\s+│ train", output)) == 15
    assert re.findall(r"│ (\w+)\s+│ server -> client_\d\s+│ SHUTDOWN", output) == ["rpc"] * 5
    assert "round 1: global value 1.5" in text
    assert "round 2: global value 2.25" in text
    assert "round 3: global value 2.625" in text
    assert "CLIENT_REGISTERED delivered to 5/5 clients" in text
    assert "SHUTDOWN acknowledged by 5/5 clients: client_1, client_2, client_3, client_4, client_5" in text
    assert "missing: none" in text
    assert "MechanismMismatchError" not in text


def test_demo_over_grpc_bug_shows_the_guard_catching_the_seeds_bug_across_processes() -> None:
    code, output = demo_output(clients=5, rounds=3, bug=True)
    text = one_line(output)

    assert code == 1, output
    assert "over gRPC (6 processes): 5 clients, 3 rounds, BUGGY server: SHUTDOWN sent as an event" in text
    assert "message trace (31 messages)" in text  # stops at the first SHUTDOWN
    assert re.search(r"│ 31 │ event\s+│ server -> client_\d\s+│ SHUTDOWN <- rejected: MechanismMismatchError", output)
    assert len(re.findall(r"-> client_\d\s+│ SHUTDOWN", output)) == 1
    assert "MechanismMismatchError caught the bug" in text
    assert re.search(
        r"SHUTDOWN was sent as an event to client_\d, which registered it only as an rpc handler "
        r"\(register_message_handler\); send it with send_business_message, or register an event listener", text
    )
    assert "SHUTDOWN acknowledged by 0/5 clients" in text
    assert "missing: client_1, client_2, client_3, client_4, client_5" in text
    assert "clients that received SHUTDOWN: 0/5" in text
    assert "exit codes: server 1, clients 143" in text  # the demo stopped the waiting clients


def test_demo_command_takes_the_transport_and_bounds_the_processes() -> None:
    result = CliRunner().invoke(cli, ["demo", "--transport", "grpc", "--clients", "2", "--rounds", "1"])
    assert result.exit_code == 0, result.output
    assert "SHUTDOWN acknowledged by 2/2 clients: client_1, client_2" in one_line(result.output)

    result = CliRunner().invoke(cli, ["demo", "--transport", "grpc", "--clients", "65"])
    assert result.exit_code == 2
    assert "--transport grpc starts one process per client: at most 64" in one_line(result.output)

    result = CliRunner().invoke(cli, ["demo", "--transport", "carrier-pigeon"])
    assert result.exit_code == 2
    assert "'carrier-pigeon' is not one of 'memory', 'grpc'" in result.output


# ------------------------------------------------------------------------- faults


def test_a_client_killed_mid_round_is_named_the_round_completes_and_a_restarted_client_rejoins() -> None:
    """client_2 is killed in round 2 and started again; client_3 is killed in round 3 and stays dead."""

    async def scenario() -> dict[str, Any]:
        server = await start_server("--clients", "3", "--rounds", "3", "--rejoin-wait", "20")
        address = (await server.wait_for("listening", timeout=20))["address"]
        first = await start_client(1, address)
        second = await start_client(2, address, hang_in_round=2)
        third = await start_client(3, address, hang_in_round=3)

        await second.wait_for("training", timeout=20)  # round 2's train rpc is in flight
        second.kill()
        round_2 = await server.wait_for("round", timeout=20, where=lambda report: report["round"] == 2)
        restarted = await start_client(2, address)

        await third.wait_for("training", timeout=20)
        third.kill()
        codes = {"server": await server.wait(30)}
        for name, process in (("client_1", first), ("client_2 restarted", restarted)):
            codes[name] = await process.wait(10)
        codes["client_2 killed"] = await second.wait(10)
        codes["client_3 killed"] = await third.wait(10)
        rounds = server.reports_of("round")
        return {
            "codes": codes,
            "round_2": round_2,
            "rounds": rounds,
            "shutdown": server.reports_of("shutdown")[0],
            "registrations": [r for r in server.reports_of("trace") if r["message_type"] == "registration"],
            "restarted": restarted.reports_of("stopped"),
            "exit": server.reports_of("exit")[0],
        }

    outcome = run(scenario())
    assert outcome["codes"] == {
        "server": 1, "client_1": 0, "client_2 restarted": 0, "client_2 killed": -signal.SIGKILL,
        "client_3 killed": -signal.SIGKILL,
    }
    round_1, round_2, round_3 = outcome["rounds"]
    assert sorted(round_1["answered"]) == ["client_1", "client_2", "client_3"]
    # Round 2: the send to the killed client fails, naming it; the round completes with the others.
    assert sorted(round_2["answered"]) == ["client_1", "client_3"]
    assert round_2["missing"] == ["client_2"]
    assert re.fullmatch(
        r"rpc train from server to client_2 failed: client_2 at 127\.0\.0\.1:\d+ is unavailable \(.+\)",
        round_2["reasons"]["client_2"],
    )
    assert round_2["value"] == 1.5  # from global 1: client_1 (value 1) -> 1, client_3 (value 3) -> 2
    # Round 3: the restarted client_2 registered again and is back; client_3 dies in it.
    assert sorted(round_3["answered"]) == ["client_1", "client_2"]
    assert round_3["missing"] == ["client_3"]
    assert "client_3 at 127.0.0.1:" in round_3["reasons"]["client_3"]
    assert outcome["restarted"] == [{"report": "stopped", "node": "client_2", "rounds": [3]}]
    # SHUTDOWN says who did not acknowledge, and why.
    shutdown = outcome["shutdown"]
    assert sorted(shutdown["acknowledged"]) == ["client_1", "client_2"]
    assert shutdown["missing"] == ["client_3"]
    assert re.match(r"rpc SHUTDOWN from server to client_3 failed: client_3 at 127\.0\.0\.1:\d+ is unavailable",
                    shutdown["reasons"]["client_3"])
    assert outcome["exit"]["reason"] == "SHUTDOWN not acknowledged by client_3"


def test_clients_started_before_the_server_retry_until_it_is_up() -> None:
    async def scenario() -> tuple[list[int], dict[str, Any], float]:
        port = free_port()
        address = f"127.0.0.1:{port}"
        clients = [await start_client(index, address, "--connect-timeout", "30") for index in (1, 2)]
        await asyncio.sleep(0.6)  # they are retrying, with backoff
        assert all(client.returncode is None and not client.reports_of("registered") for client in clients)
        server = await start_server("--port", str(port), "--clients", "2", "--rounds", "1")
        await server.wait_for("listening", timeout=20)
        started = time.monotonic()
        await asyncio.gather(*(client.wait_for("registered", timeout=20) for client in clients))
        joined = time.monotonic() - started
        codes = [await server.wait(20)] + [await client.wait(10) for client in clients]
        return codes, server.reports_of("shutdown")[0], joined

    codes, shutdown, joined = run(scenario())
    assert codes == [0, 0, 0]
    assert sorted(shutdown["acknowledged"]) == ["client_1", "client_2"]
    assert joined < 5.0  # the backoff is capped at 1 s: no long silence once the server is up


def test_a_client_waits_for_a_server_that_never_comes_for_a_bounded_time_and_says_so() -> None:
    async def scenario() -> tuple[int, float, NodeProcess]:
        started = time.monotonic()
        client = await start_client(1, f"127.0.0.1:{free_port()}", "--connect-timeout", "1")
        code = await client.wait(20)
        return code, time.monotonic() - started, client

    code, elapsed, client = run(scenario())
    assert code == 3
    assert elapsed < 10.0
    [error] = client.reports_of("error")
    assert re.fullmatch(
        r"rpc registration from client_1 to server failed: server at 127\.0\.0\.1:\d+ is unavailable "
        r"\(.+; gave up after \d+ attempts in 1s\)",
        error["message"],
    )
    assert int(re.search(r"after (\d+) attempts", error["message"])[1]) >= 3  # it retried, with backoff
    assert client.reports_of("exit")[0]["code"] == 3


def test_a_client_whose_server_dies_notices_by_heartbeat_and_exits() -> None:
    async def scenario() -> tuple[int, NodeProcess]:
        server = await start_server("--clients", "2", "--rounds", "1", "--join-timeout", "30")
        address = (await server.wait_for("listening", timeout=20))["address"]
        client = await start_client(1, address, "--idle-heartbeat", "0.3")
        await client.wait_for("registered", timeout=20)
        server.kill()  # still waiting for its second client
        await server.wait(10)
        return await client.wait(20), client

    code, client = run(scenario())
    assert code == 3
    assert client.reports_of("exit")[0]["reason"].startswith("lost the server: rpc heartbeat from client_1 to server")


def test_a_node_exits_by_itself_after_its_lifetime() -> None:
    async def scenario() -> tuple[int, float, NodeProcess]:
        started = time.monotonic()
        client = await NodeProcess.start(
            "client_1",
            ["client", "--id", "client_1", "--server", f"127.0.0.1:{free_port()}", "--connect-timeout", "60",
             "--max-lifetime", "0.5"],
        )
        return await client.wait(20), time.monotonic() - started, client

    code, elapsed, client = run(scenario())
    assert code == 4
    assert elapsed < 10.0
    assert "still running after --max-lifetime 0.5s" in client.stderr
    assert client.reports_of("protocol")  # it reported and closed its transport on the way out


def test_a_node_whose_parent_dies_exits_instead_of_running_orphaned(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-m', 'fedcl_lint.runtime.node', 'client', '--id', 'c',\n"
        f"    '--server', '127.0.0.1:{free_port()}', '--connect-timeout', '60', '--max-lifetime', '60'],\n"
        "    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)\n"
        "print(child.pid, flush=True)\n"
        "child.stdout.readline()  # it is listening: its watchdog runs\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "ready"
        assert not ended(child)
        os.killpg(parent.pid, signal.SIGKILL)  # the parent dies without a chance to clean up
        parent.wait(10)
        deadline = time.monotonic() + 10
        while not ended(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ended(child), "the node outlived its parent"
    finally:
        for pid in (parent.pid, child):
            if pid and not ended(pid):
                os.killpg(pid, signal.SIGKILL)
        parent.wait(10)
