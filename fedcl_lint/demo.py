"""``fedcl-lint demo``: run a small federation on the reference runtime and show its messages.

With ``bug=True`` the server is the seed's broken one: it sends SHUTDOWN as an
event while the clients handle it by rpc. The runtime's mechanism guard turns
what was a silent loss (``push_event`` found no listener, ``True`` returned)
into a MechanismMismatchError at the first send, and the demo shows it.

With ``transport="grpc"`` every node is a process (fedcl_lint.runtime.node) on
127.0.0.1 and the guard's refusal crosses the network: the client answers that
it handles SHUTDOWN by rpc and the server raises. This module is also the
buggy server's process: ``python -m fedcl_lint.demo server ...``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from fedcl_lint.runtime import (
    EVENT,
    RPC,
    Client,
    MechanismMismatchError,
    MemoryTransport,
    Server,
    ShutdownReport,
    TracedMessage,
)
from fedcl_lint.runtime.messages import SHUTDOWN
from fedcl_lint.types import plural

if TYPE_CHECKING:
    from fedcl_lint.runtime.processes import NodeProcess

__all__ = ["GRPC", "MEMORY", "BuggyServer", "run_demo"]

MEMORY = "memory"
GRPC = "grpc"
MAX_PROCESS_CLIENTS = 64  # --transport grpc: one process per client

EXIT_OK = 0
EXIT_FAILURE_SHOWN = 1
EXIT_USAGE = 2

_MECHANISM_STYLE = {RPC: "cyan", EVENT: "magenta"}


class BuggyServer(Server):
    """The seed's server: SHUTDOWN pushed as an event, one client after the other.

    The clients registered SHUTDOWN with ``register_message_handler`` (rpc), so
    no event listener exists. The seed's runtime dropped the event and reported
    success; this runtime raises MechanismMismatchError at the first send.
    """

    async def shutdown(self) -> ShutdownReport:
        for client_id in self.registered_clients:
            await self.manager.send_control_message(  # fedcl-lint: ignore[FCL001] the seed's bug, on purpose
                client_id, SHUTDOWN, {"reason": "training finished"}
            )
        # Unreachable with the guard: nothing was acknowledged, whatever was "sent".
        return ShutdownReport(acknowledged=(), missing=self.registered_clients)


def run_demo(clients: int, rounds: int, bug: bool, console: Console, transport: str = MEMORY) -> int:
    """Run the demo federation and print its message trace and shutdown summary.

    ``transport="memory"`` runs every node in this process; ``"grpc"`` runs the
    server and each client as a process of its own, talking gRPC on 127.0.0.1.
    Returns 0 when the run is correct (every client acknowledged SHUTDOWN),
    1 when it shows a failure (with ``bug=True``: the guard caught the bug),
    2 for invalid arguments, or when the processes could not be run.
    """
    if clients < 1 or rounds < 0:
        console.print(
            f"[red]error:[/red] need at least 1 client and 0 or more rounds "
            f"(got --clients {clients}, --rounds {rounds})"
        )
        return EXIT_USAGE
    if transport == MEMORY:
        return _print_outcome(console, clients, rounds, bug, asyncio.run(_run(clients, rounds, bug)))
    if transport != GRPC:
        console.print(f"[red]error:[/red] unknown transport {transport!r} (known: {MEMORY}, {GRPC})")
        return EXIT_USAGE
    if clients > MAX_PROCESS_CLIENTS:
        console.print(
            f"[red]error:[/red] --transport grpc starts one process per client: at most "
            f"{MAX_PROCESS_CLIENTS} (got --clients {clients})"
        )
        return EXIT_USAGE
    if importlib.util.find_spec("grpc") is None:
        console.print(
            "[red]error:[/red] --transport grpc needs grpcio: pip install 'fedcl-lint[grpc]'"
        )
        return EXIT_USAGE
    from fedcl_lint.runtime.processes import NodeProcessError

    try:
        outcome = asyncio.run(_run_processes(clients, rounds, bug))
    except NodeProcessError as exc:
        console.print(Panel(escape(str(exc)), title="the federation's processes failed", border_style="red"))
        return EXIT_USAGE
    return _print_outcome(console, clients, rounds, bug, outcome)


@dataclass
class _Outcome:
    """What a demo run showed, whichever transport carried it."""

    trace: list[TracedMessage]
    announced: int
    rounds: list[tuple[int, float, dict[str, str]]]  # number, global value, who did not answer and why
    client_ids: tuple[str, ...]
    stopped: int  # clients that received SHUTDOWN
    mismatch: str | None = None
    rejected: int | None = None  # the number of the send the guard refused
    report: ShutdownReport | None = None
    processes: str = ""  # over gRPC: which processes ran where


async def _run(client_count: int, rounds: int, bug: bool) -> _Outcome:
    transport = MemoryTransport(default_timeout=2.0)
    trace: list[TracedMessage] = []
    transport.add_observer(trace.append)

    server_class = BuggyServer if bug else Server
    server = server_class(transport, "server", shutdown_timeout=2.0)
    clients = [
        Client(transport, f"client_{index}", local_value=float(index), server_id=server.node_id)
        for index in range(1, client_count + 1)
    ]

    await asyncio.gather(*(client.start() for client in clients))
    announced = await server.announce_registrations()
    averages = [await server.run_round(round_number) for round_number in range(1, rounds + 1)]
    outcome = _Outcome(
        trace,
        announced,
        [(report.round, report.value, dict(report.reasons)) for report in server.round_reports],
        tuple(client.node_id for client in clients),
        stopped=0,
    )
    assert len(averages) == len(outcome.rounds)
    try:
        outcome.report = await server.shutdown()
    except MechanismMismatchError as exc:
        # With the guard, the send that raised is the last one traced.
        outcome.mismatch, outcome.rejected = str(exc), len(trace)
    outcome.stopped = sum(1 for client in clients if client.shutdown_received)
    return outcome


async def _run_processes(client_count: int, rounds: int, bug: bool) -> _Outcome:
    """The same federation, one process per node on 127.0.0.1; the trace gathered from their reports."""
    from fedcl_lint.runtime.processes import NodeProcess, stop_all

    lifetime = 60.0 + rounds * 2.0  # every process bounds its own life; the demo waits a little longer
    common = ["--max-lifetime", f"{lifetime:g}", "--rpc-timeout", "5"]
    try:
        server = await NodeProcess.start(
            "server",
            ["server", "--clients", str(client_count), "--rounds", str(rounds), "--join-timeout", "30", *common],
            # The buggy server lives here, beside the demo, not in the runtime.
            command=[sys.executable, "-m", "fedcl_lint.demo"] if bug else None,
        )
        address = (await server.wait_for("listening", timeout=30))["address"]
        clients = await asyncio.gather(
            *(
                NodeProcess.start(
                    f"client_{index}",
                    ["client", "--id", f"client_{index}", "--value", str(index), "--server", address,
                     "--idle-heartbeat", "30", *common],
                )
                for index in range(1, client_count + 1)
            )
        )
        await server.wait(lifetime + 5)
        if not server.reports_of("shutdown"):  # nobody will ever tell the clients to stop: the demo does
            for client in clients:
                client.terminate()
        for client in clients:
            await client.wait(15)
    finally:
        await stop_all()  # none is left running, whatever happened
    return _outcome_of_processes(server, clients)


def _outcome_of_processes(server: NodeProcess, clients: Sequence[NodeProcess]) -> _Outcome:
    events = [
        (document["time"], TracedMessage(
            document["mechanism"], document["source"], document["target"], document["message_type"]
        ))
        for process in (server, *clients)
        for document in process.reports_of("trace")
    ]
    trace = [message for _, message in sorted(events, key=lambda event: event[0])]
    announced = server.reports_of("announced")
    joined = server.reports_of("joined")
    if not announced:
        from fedcl_lint.runtime.processes import NodeProcessError

        found = f" (joined: {', '.join(joined[0]['clients']) or 'none'})" if joined else ""
        raise NodeProcessError(server.explain(f"ended before the rounds{found}"))
    outcome = _Outcome(
        trace,
        int(announced[0]["delivered"]),
        [(int(r["round"]), float(r["value"]), dict(r["reasons"])) for r in server.reports_of("round")],
        tuple(client.name for client in clients),
        stopped=sum(1 for client in clients if client.reports_of("stopped")),
    )
    mismatch = server.reports_of("mismatch")
    if mismatch:
        outcome.mismatch = str(mismatch[0]["message"])
        wanted = (mismatch[0]["used"], "server", mismatch[0]["node_id"], mismatch[0]["message_type"])
        outcome.rejected = max(
            (n for n, m in enumerate(trace, 1) if (m.mechanism, m.source, m.target, m.message_type) == wanted),
            default=None,
        )
    shutdown = server.reports_of("shutdown")
    if shutdown:
        acknowledged = tuple(sorted(shutdown[0]["acknowledged"], key=_natural))
        missing = tuple(sorted(shutdown[0]["missing"], key=_natural))
        outcome.report = ShutdownReport(acknowledged, missing, dict(shutdown[0]["reasons"]))
    elif not mismatch:
        from fedcl_lint.runtime.processes import NodeProcessError

        raise NodeProcessError(server.explain("ended without a shutdown report"))
    listening = server.reports_of("listening")
    outcome.processes = (
        f"{1 + len(clients)} processes on 127.0.0.1: server (pid {server.pid}) at "
        f"{listening[0]['address'] if listening else '?'}, {len(clients)} clients; exit codes: server "
        f"{server.returncode}, clients {', '.join(sorted({str(c.returncode) for c in clients}))}"
    )
    return outcome


def _natural(name: str) -> tuple[str, int]:
    """client_2 before client_10."""
    stem, _, number = name.rpartition("_")
    return (stem, int(number)) if number.isdigit() else (name, -1)


def _print_outcome(console: Console, client_count: int, rounds: int, bug: bool, outcome: _Outcome) -> int:
    variant = "BUGGY server: SHUTDOWN sent as an event" if bug else "correct server: SHUTDOWN sent as an rpc"
    over = f" over gRPC ({client_count + 1} processes)" if outcome.processes else ""
    # a heading that wraps between words at any width (a rule's title would be cut), then a rule under it
    console.print(f"fedcl-lint demo{over}: {plural(client_count, 'client')}, {plural(rounds, 'round')}, {variant}",
                  style="bold")
    console.rule()
    if outcome.processes:
        console.print(escape(outcome.processes))
    console.print(_trace_table(outcome.trace, rejected=outcome.rejected))
    console.print(f"CLIENT_REGISTERED delivered to {outcome.announced}/{client_count} clients")
    for round_number, average, reasons in outcome.rounds:
        console.print(f"round {round_number}: global value {average:g}")
        for client_id, reason in reasons.items():
            console.print(f"  {client_id} did not answer: {escape(reason)}")

    if outcome.mismatch is not None:
        console.print(
            Panel(escape(outcome.mismatch), title="MechanismMismatchError caught the bug", border_style="red")
        )
        console.print(
            "Without the guard, push_event would have found 0 listeners for SHUTDOWN, the seed's "
            "send_control_message would still have returned True, and the clients would never stop."
        )
        _print_shutdown_summary(console, client_count, acknowledged=(), missing=outcome.client_ids)
        console.print(f"clients that received SHUTDOWN: {outcome.stopped}/{client_count}")
        if outcome.processes:
            console.print("(the demo stopped the waiting client processes itself, with SIGTERM)")
        return EXIT_FAILURE_SHOWN

    report = outcome.report
    assert report is not None
    _print_shutdown_summary(console, client_count, report.acknowledged, report.missing)
    for client_id, reason in report.reasons.items():
        console.print(f"  {client_id}: {escape(reason)}")
    if bug:
        console.print("[red]the buggy shutdown was not caught by the mechanism guard[/red]")
        return EXIT_FAILURE_SHOWN
    return EXIT_OK if report.complete else EXIT_FAILURE_SHOWN


def _trace_table(trace: list[TracedMessage], rejected: int | None = None) -> Table:
    """One row per message; ``rejected`` is the number of the send the guard refused."""
    table = Table(title=f"message trace ({len(trace)} messages)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("mechanism")
    table.add_column("source -> target")
    table.add_column("message type")
    for number, message in enumerate(trace, start=1):
        style = _MECHANISM_STYLE.get(message.mechanism, "")
        message_type = escape(message.message_type)
        if number == rejected:
            message_type += " [bold red]<- rejected: MechanismMismatchError[/bold red]"
        table.add_row(
            str(number),
            f"[{style}]{message.mechanism}[/{style}]" if style else message.mechanism,
            escape(f"{message.source} -> {message.target}"),
            message_type,
        )
    return table


def _print_shutdown_summary(
    console: Console, client_count: int, acknowledged: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    style = "green" if not missing else "red"
    console.print(
        f"[{style}]SHUTDOWN acknowledged by {len(acknowledged)}/{client_count} clients[/{style}]"
        + (f": {', '.join(acknowledged)}" if acknowledged else "")
    )
    console.print(f"missing: {', '.join(missing) if missing else 'none'}")


if __name__ == "__main__":  # the buggy server's process, for `fedcl-lint demo --transport grpc --bug`
    from fedcl_lint.runtime.node import main

    sys.exit(main(server_class=BuggyServer))
