"""The static view and the running view of the reference runtime agree, in one process and across processes."""

from __future__ import annotations

import ast
import asyncio
import graphlib
import json
from pathlib import Path

import pytest

from fedcl_lint.runtime import MemoryTransport
from fedcl_lint.runtime.federation import Client, Server, run_federation
from fedcl_lint.runtime.processes import NodeProcess, live_process_ids, stop_all

RUNTIME = Path(__file__).parent.parent / "fedcl_lint" / "runtime"


def _running_protocol() -> frozenset[tuple[str, str, str]]:
    async def scenario() -> MemoryTransport:
        transport = MemoryTransport()
        server = Server(transport)
        clients = [Client(transport, f"client_{i}", local_value=float(i)) for i in range(3)]
        await run_federation(server, clients, rounds=2)
        return transport

    return asyncio.run(scenario()).recorded_protocol


def _running_protocol_over_the_network() -> tuple[frozenset[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """A server and three clients, each a process talking gRPC on 127.0.0.1: what each recorded, together,
    and what their traces show they sent."""

    async def scenario() -> list[NodeProcess]:
        processes: list[NodeProcess] = []
        try:
            server = await NodeProcess.start("server", ["server", "--clients", "3", "--rounds", "2"])
            processes.append(server)
            address = (await server.wait_for("listening", timeout=30))["address"]
            for index in range(3):
                processes.append(
                    await NodeProcess.start(
                        f"client_{index}",
                        ["client", "--id", f"client_{index}", "--value", str(index), "--server", address],
                    )
                )
            codes = [await process.wait(60) for process in processes]
            assert codes == [0, 0, 0, 0], [process.stderr for process in processes]
            return processes
        finally:
            await stop_all()

    processes = asyncio.run(asyncio.wait_for(scenario(), 90))
    recorded = frozenset(
        tuple(entry) for process in processes for entry in process.reports_of("protocol")[0]["recorded"]
    )
    traced = {
        (report["message_type"], report["mechanism"], "send")
        for process in processes
        for report in process.reports_of("trace")
    }
    return recorded, traced


@pytest.fixture(scope="module")
def static_protocol(tmp_path_factory):
    """What `fedcl-lint table` finds in fedcl_lint/runtime: (message type, mechanism, role) of every site."""
    from click.testing import CliRunner

    from fedcl_lint.cli import cli

    result = CliRunner().invoke(
        cli,
        ["table", str(RUNTIME), "--format", "json", "--cache-dir", str(tmp_path_factory.mktemp("cache"))],
        catch_exceptions=False,
    )
    table = json.loads(result.stdout)
    assert all(message["status"] == "ok" for message in table["messages"])
    return {
        (message["message_type"], site["mechanism"], site["role"])
        for message in table["messages"]
        for site in message["sites"]
    }


def test_static_table_of_the_runtime_equals_what_a_run_registers_and_sends(static_protocol):
    assert static_protocol == _running_protocol()


def test_static_table_of_the_runtime_equals_what_a_federation_of_processes_registers_and_sends(static_protocol):
    recorded, traced = _running_protocol_over_the_network()

    assert static_protocol == recorded
    assert traced == {entry for entry in recorded if entry[2] == "send"}
    assert live_process_ids() == []


def test_the_runtime_lints_clean(run_cli):
    result = run_cli(["check", str(RUNTIME), "--format", "json", "--no-cache"], cwd=RUNTIME.parent.parent)

    assert result.exit_code == 0
    assert result.json["findings"] == []
    assert result.json["summary"]["call_sites"] == result.json["summary"]["resolved_call_sites"] == 10


def test_the_runtime_modules_import_one_another_without_a_cycle():
    """Counting imports made for type checking only: each module can be read (and type-checked)
    after the ones it needs, as DeadLetter once tied errors.py and transport.py together."""
    needs = {
        module.stem: {
            node.module.split(".")[0]
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        }
        for module in RUNTIME.glob("*.py")
    }

    order = list(graphlib.TopologicalSorter(needs).static_order())  # raises CycleError on a cycle
    assert order.index("errors") < order.index("transport")
