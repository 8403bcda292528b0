"""The static view and the running view of the reference runtime agree."""

from __future__ import annotations

import ast
import asyncio
import graphlib
from pathlib import Path

from fedcl_lint.runtime import MemoryTransport
from fedcl_lint.runtime.federation import Client, Server, run_federation

RUNTIME = Path(__file__).parent.parent / "fedcl_lint" / "runtime"


def _running_protocol() -> frozenset[tuple[str, str, str]]:
    async def scenario() -> MemoryTransport:
        transport = MemoryTransport()
        server = Server(transport)
        clients = [Client(transport, f"client_{i}", local_value=float(i)) for i in range(3)]
        await run_federation(server, clients, rounds=2)
        return transport

    return asyncio.run(scenario()).recorded_protocol


def test_static_table_of_the_runtime_equals_what_a_run_registers_and_sends(run_cli):
    table = run_cli(["table", str(RUNTIME), "--format", "json"], cwd=RUNTIME.parent.parent).json

    static = {
        (message["message_type"], site["mechanism"], site["role"])
        for message in table["messages"]
        for site in message["sites"]
    }
    assert static == _running_protocol()
    assert all(message["status"] == "ok" for message in table["messages"])


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
