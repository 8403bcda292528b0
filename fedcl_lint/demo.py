"""``fedcl-lint demo``: run a small federation on the reference runtime and show its messages.

With ``bug=True`` the server is the seed's broken one: it sends SHUTDOWN as an
event while the clients handle it by rpc. The runtime's mechanism guard turns
what was a silent loss (``push_event`` found no listener, ``True`` returned)
into a MechanismMismatchError at the first send, and the demo shows it.
"""

from __future__ import annotations

import asyncio

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

__all__ = ["BuggyServer", "run_demo"]

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


def run_demo(clients: int, rounds: int, bug: bool, console: Console) -> int:
    """Run the demo federation and print its message trace and shutdown summary.

    Returns 0 when the run is correct (every client acknowledged SHUTDOWN),
    1 when it shows a failure (with ``bug=True``: the guard caught the bug),
    2 for invalid arguments.
    """
    if clients < 1 or rounds < 0:
        console.print(
            f"[red]error:[/red] need at least 1 client and 0 or more rounds "
            f"(got --clients {clients}, --rounds {rounds})"
        )
        return EXIT_USAGE
    return asyncio.run(_run(clients, rounds, bug, console))


async def _run(client_count: int, rounds: int, bug: bool, console: Console) -> int:
    transport = MemoryTransport(default_timeout=2.0)
    trace: list[TracedMessage] = []
    transport.add_observer(trace.append)

    server_class = BuggyServer if bug else Server
    server = server_class(transport, "server", shutdown_timeout=2.0)
    clients = [
        Client(transport, f"client_{index}", local_value=float(index), server_id=server.node_id)
        for index in range(1, client_count + 1)
    ]

    variant = "BUGGY server: SHUTDOWN sent as an event" if bug else "correct server: SHUTDOWN sent as an rpc"
    console.rule(f"fedcl-lint demo: {client_count} clients, {rounds} rounds, {variant}")

    await asyncio.gather(*(client.start() for client in clients))
    announced = await server.announce_registrations()
    averages = [await server.run_round(round_number) for round_number in range(1, rounds + 1)]
    caught: MechanismMismatchError | None = None
    report: ShutdownReport | None = None
    try:
        report = await server.shutdown()
    except MechanismMismatchError as exc:
        caught = exc

    # With the guard, the send that raised is the last one traced.
    console.print(_trace_table(trace, rejected=len(trace) if caught is not None else None))
    console.print(f"CLIENT_REGISTERED delivered to {announced}/{client_count} clients")
    for round_number, average in enumerate(averages, start=1):
        console.print(f"round {round_number}: global value {average:g}")

    stopped = [client.node_id for client in clients if client.shutdown_received]
    if caught is not None:
        console.print(
            Panel(escape(str(caught)), title="MechanismMismatchError caught the bug", border_style="red")
        )
        console.print(
            "Without the guard, push_event would have found 0 listeners for SHUTDOWN, the seed's "
            "send_control_message would still have returned True, and the clients would never stop."
        )
        all_ids = tuple(client.node_id for client in clients)
        _print_shutdown_summary(console, client_count, acknowledged=(), missing=all_ids)
        console.print(f"clients that received SHUTDOWN: {len(stopped)}/{client_count}")
        return EXIT_FAILURE_SHOWN

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
