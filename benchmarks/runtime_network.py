"""Benchmark of the runtime's two transports: the same load in one process and across processes on loopback.

The server runs here. With ``memory`` its clients are objects beside it; with
``grpc`` each client is a process of its own (fedcl_lint.runtime.node) on
127.0.0.1. Either way the server sends ``--messages`` rounds of one ``train``
rpc to every client (all clients at once, so ``--clients`` rpcs are in flight),
then ``--events`` rounds of one event to every client, timing each send from
the call to its answer. The clients count what they received; anything short of
what was sent, a failed send or a dead letter is a lost message (exit code 1).

    python benchmarks/runtime_network.py --clients 32 --messages 100 --events 100

Needs grpcio (pip install -e '.[grpc]').
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, uninstalled

from fedcl_lint.runtime import Client, MemoryTransport, Server  # noqa: E402
from fedcl_lint.runtime.messages import TRAIN  # noqa: E402
from fedcl_lint.runtime.transport import TransportBase  # noqa: E402

BENCH_TICK = "BENCH_TICK"


class CountingClient(Client):
    """A client that also listens to BENCH_TICK; in a process it reports what it received at SHUTDOWN."""

    in_process = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticks = 0
        self.manager.register_event_listener(self.node_id, BENCH_TICK, self._on_tick)

    async def _on_tick(self, data: Any) -> None:
        self.ticks += 1

    async def _handle_shutdown(self, source: str, data: Any) -> dict[str, Any]:
        if self.in_process:
            from fedcl_lint.runtime.node import report

            report("counts", trained=len(self.rounds_trained), ticks=self.ticks)
        return await super()._handle_shutdown(source, data)


@dataclass
class Measured:
    transport: str
    kind: str
    latencies: list[float]
    seconds: float
    lost: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds > 0 else math.inf

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else math.nan


async def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    try:
        result = await call
    except Exception as exc:  # a failed send is a lost message, reported below
        result = exc
    return time.perf_counter() - started, result


async def load(name: str, server: Server, clients: list[str], messages: int, events: int) -> list[Measured]:
    """Send the load from ``server`` to ``clients``; what failed to arrive is counted by the caller."""
    measured = []
    latencies: list[float] = []
    failed = 0
    started = time.perf_counter()
    for round_number in range(1, messages + 1):
        request = {"round": round_number, "global_value": 0.0}
        answers = await asyncio.gather(
            *(_timed(server.manager.send_business_message(client, TRAIN, request)) for client in clients)
        )
        latencies.extend(latency for latency, _ in answers)
        failed += sum(1 for _, answer in answers if isinstance(answer, BaseException))
    measured.append(Measured(name, "rpc", latencies, time.perf_counter() - started, failed))

    latencies, failed = [], 0
    started = time.perf_counter()
    for _ in range(events):
        answers = await asyncio.gather(
            *(_timed(server.manager.send_control_message(client, BENCH_TICK, None)) for client in clients)
        )
        latencies.extend(latency for latency, _ in answers)
        failed += sum(1 for _, answer in answers if answer != 1)
    measured.append(Measured(name, "event", latencies, time.perf_counter() - started, failed))
    return measured


def _count_losses(measured: list[Measured], shutdown: Any, transport: TransportBase, clients: int,
                  messages: int, events: int, answers: dict[str, Any]) -> None:
    """Add to each phase what the clients did not receive (by their own counts) and the dead letters."""
    rpc, event = measured
    trained = sum(int(answer.get("trained", 0)) for answer in answers.values())
    ticks = sum(int(answer.get("ticks", 0)) for answer in answers.values())
    rpc.lost = max(rpc.lost, clients * messages - trained) + len(shutdown.missing)
    event.lost = max(event.lost, clients * events - ticks, len(transport.dead_letters))


async def run_memory(clients: int, messages: int, events: int) -> list[Measured]:
    transport = MemoryTransport(default_timeout=30.0)
    server = Server(transport, rpc_timeout=30.0, shutdown_timeout=30.0)
    nodes = [CountingClient(transport, f"client_{i}", local_value=float(i)) for i in range(clients)]
    await asyncio.gather(*(node.start() for node in nodes))
    measured = await load("memory", server, list(server.registered_clients), messages, events)
    shutdown = await server.shutdown()
    answers = {node.node_id: {"trained": len(node.rounds_trained), "ticks": node.ticks} for node in nodes}
    _count_losses(measured, shutdown, transport, clients, messages, events, answers)
    return measured


async def run_grpc(clients: int, messages: int, events: int) -> tuple[list[Measured], float]:
    from fedcl_lint.runtime.grpc_transport import GrpcTransport
    from fedcl_lint.runtime.processes import NodeProcess

    transport = GrpcTransport(default_timeout=30.0)
    server = Server(transport, rpc_timeout=30.0, shutdown_timeout=30.0)
    answers: dict[str, Any] = {}
    processes: list[NodeProcess] = []
    try:
        await transport.start()
        address = transport.address_of("server")
        started = time.perf_counter()
        processes = list(
            await asyncio.gather(
                *(
                    NodeProcess.start(
                        f"client_{i}",
                        ["--node", "client", "--id", f"client_{i}", "--value", str(i), "--server", address,
                         "--no-trace", "--rpc-timeout", "30", "--max-lifetime", "600"],
                        command=[sys.executable, str(Path(__file__).resolve())],
                    )
                    for i in range(clients)
                )
            )
        )
        if await server.wait_for_clients(clients, 120) < clients:
            raise RuntimeError(f"only {len(server.ready_clients)} of {clients} client processes registered")
        startup = time.perf_counter() - started
        measured = await load("grpc", server, list(server.registered_clients), messages, events)
        shutdown = await server.shutdown()
        for process in processes:
            await process.wait(30)
            counts = process.reports_of("counts")
            if counts:
                answers[process.name] = counts[0]
        _count_losses(measured, shutdown, transport, clients, messages, events, answers)
        return measured, startup
    finally:
        for process in processes:
            process.kill()
        await transport.close()


def _print(measured: list[Measured]) -> None:
    print(f"  {'transport':<10}{'kind':<7}{'messages':>9}{'seconds':>9}{'msg/s':>9}"
          f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'lost':>6}")
    for m in measured:
        print(
            f"  {m.transport:<10}{m.kind:<7}{len(m.latencies):>9,}{m.seconds:>9.2f}{m.rate:>9,.0f}"
            f"{m.percentile(0.5):>9.2f}{m.percentile(0.9):>9.2f}{m.percentile(0.99):>9.2f}"
            f"{max(m.latencies, default=0) * 1000:>9.2f}{m.lost:>6}"
        )


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--node"]:  # a client process of this benchmark
        from fedcl_lint.runtime.node import main as node_main

        CountingClient.in_process = True
        return node_main(arguments[1:], client_class=CountingClient)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="client processes (default 32)")
    parser.add_argument("--messages", type=int, default=100, help="train rpcs per client (default 100)")
    parser.add_argument("--events", type=int, default=100, help="events per client (default 100)")
    parser.add_argument("--transport", choices=["both", "memory", "grpc"], default="both")
    args = parser.parse_args(arguments)
    if args.clients < 1 or args.messages < 0 or args.events < 0:
        parser.error("--clients must be >= 1, --messages and --events >= 0")

    print(f"runtime transports: {args.clients} clients x ({args.messages} rpcs + {args.events} events), "
          f"{args.clients} in flight")
    measured: list[Measured] = []
    if args.transport in ("both", "memory"):
        measured += asyncio.run(run_memory(args.clients, args.messages, args.events))
    if args.transport in ("both", "grpc"):
        network, startup = asyncio.run(run_grpc(args.clients, args.messages, args.events))
        measured += network
        print(f"  ({args.clients} client processes started and registered in {startup:.2f} s)")
    _print(measured)
    for m in measured:
        if m.latencies:
            print(f"  {m.transport} {m.kind}: mean {statistics.fmean(m.latencies) * 1000:.3f} ms")
    lost = sum(m.lost for m in measured)
    print(f"lost messages: {lost}")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
