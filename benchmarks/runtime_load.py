"""Load benchmark of the reference runtime: many clients, many rpcs, many events, nothing lost.

Phase 1 runs a real federation (fedcl_lint.runtime.Server / Client): every
client registers and sends a heartbeat, the server announces CLIENT_REGISTERED,
then ``--messages`` rounds each send one ``train`` rpc to every client, then
SHUTDOWN by rpc. Phase 2 pushes ``--events`` events from the server to every
client. Both phases count what the receivers actually got against what was
sent; any difference is a lost message and the exit code is 1.

    python benchmarks/runtime_load.py --clients 1000 --messages 100
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, uninstalled

from fedcl_lint.runtime import Client, MemoryTransport, Server, TracedMessage, run_federation  # noqa: E402

BENCH_TICK = "BENCH_TICK"


@dataclass(frozen=True)
class PhaseResult:
    name: str
    messages: int
    seconds: float
    lost: int

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else math.inf


async def run_benchmark(client_count: int, rounds: int, events: int, timeout: float) -> list[PhaseResult]:
    transport = MemoryTransport(default_timeout=timeout)
    sent: Counter[str] = Counter()

    def count(message: TracedMessage) -> None:
        sent[message.mechanism] += 1

    transport.add_observer(count)
    server = Server(transport, shutdown_timeout=timeout, rpc_timeout=timeout)
    clients = [Client(transport, f"client_{i}", local_value=float(i % 10)) for i in range(client_count)]
    ticks = [0] * client_count
    for index, client in enumerate(clients):
        client.manager.register_event_listener(client.node_id, BENCH_TICK, _tick_counter(ticks, index))

    # Phase 1: the federation, rpc-heavy.
    started = time.perf_counter()
    result = await run_federation(server, clients, rounds)
    federation_seconds = time.perf_counter() - started
    federation_messages = sent["rpc"] + sent["event"]

    expected_rpcs = client_count * (rounds + 3)  # registration, heartbeat, train per round, SHUTDOWN
    trained = sum(len(client.rounds_trained) for client in clients)
    heartbeats = sum(server.manager.heartbeats.values())
    informed = sum(1 for client in clients if len(client.federation) == client_count)
    lost_federation = (
        (client_count - len(server.registered_clients))
        + (client_count - heartbeats)
        + (client_count * rounds - trained)
        + (client_count - informed)
        + len(result.missing)
        + abs(expected_rpcs - sent["rpc"])
    )
    mean = math.fsum(client.local_value for client in clients) / client_count
    expected_final = mean + (0.0 - mean) / 2**rounds  # halfway towards the mean each round
    if not math.isclose(result.final_value, expected_final, rel_tol=1e-9, abs_tol=1e-12):
        print(f"wrong global value: {result.final_value!r}, expected {expected_final!r}", file=sys.stderr)
        lost_federation += 1

    # Phase 2: a burst of events, one listener per client.
    events_before = sent["event"]
    started = time.perf_counter()
    for _ in range(events):
        counts = await asyncio.gather(
            *(server.manager.send_control_message(client.node_id, BENCH_TICK, None) for client in clients)
        )
        if any(count != 1 for count in counts):
            print(f"an event reached {sorted(set(counts))} listeners instead of 1", file=sys.stderr)
    event_seconds = time.perf_counter() - started
    pushed = sent["event"] - events_before
    # An event is lost when no listener processed it; each such event is also a
    # dead letter, so those are reported but not counted a second time.
    lost_events = max(client_count * events - sum(ticks), len(transport.dead_letters))
    lost_events += abs(pushed - client_count * events)
    if transport.dead_letters:
        print(f"dead letters: {len(transport.dead_letters)}, first: {transport.dead_letters[0]}", file=sys.stderr)

    return [
        PhaseResult("federation (rpc + announcements)", federation_messages, federation_seconds, lost_federation),
        PhaseResult("events", pushed, event_seconds, lost_events),
    ]


def _tick_counter(ticks: list[int], index: int) -> Any:
    async def on_tick(data: Any) -> None:
        ticks[index] += 1

    return on_tick


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000, help="number of clients (default 1000)")
    parser.add_argument("--messages", type=int, default=100, help="train rpcs per client (default 100)")
    parser.add_argument("--events", type=int, default=100, help="events pushed to each client (default 100)")
    parser.add_argument("--timeout", type=float, default=30.0, help="bound of every rpc and listener, s")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.messages < 0 or args.events < 0:
        parser.error("--clients must be >= 1, --messages and --events >= 0")

    print(f"runtime load: {args.clients} clients, {args.messages} rpc rounds, {args.events} events each")
    phases = asyncio.run(run_benchmark(args.clients, args.messages, args.events, args.timeout))
    for phase in phases:
        print(
            f"  {phase.name:<34} {phase.messages:>9,} messages in {phase.seconds:7.2f} s"
            f"  = {phase.rate:>10,.0f} msg/s   lost: {phase.lost}"
        )
    total_messages = sum(phase.messages for phase in phases)
    total_seconds = sum(phase.seconds for phase in phases)
    lost = sum(phase.lost for phase in phases)
    print(f"  {'total':<34} {total_messages:>9,} messages in {total_seconds:7.2f} s"
          f"  = {total_messages / total_seconds if total_seconds else math.inf:>10,.0f} msg/s")
    print(f"lost messages: {lost}")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
