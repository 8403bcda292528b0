"""One node of the federation in a process of its own, on the gRPC transport.

    python -m fedcl_lint.runtime.node server --clients 3 --rounds 2 [--port P]
    python -m fedcl_lint.runtime.node client --id client_1 --value 1 --server 127.0.0.1:P

The process tells its parent what happens on standard output, one JSON object
a line (``{"report": KIND, ...}``): where it listens, every message it sends
(``trace``), the rounds, the shutdown report, and last what it registered and
sent (``protocol``) and how it ends (``exit``). Errors go to standard error.

It always ends by itself:

- the server after SHUTDOWN (exit 0 when every client acknowledged, else 1),
  or when no client registered within ``--join-timeout`` (3);
- a client after it acknowledged SHUTDOWN (0), when the server could not be
  reached within ``--connect-timeout`` (it retries with backoff meanwhile) or
  stopped answering its heartbeats (3);
- any node when its parent process dies (5), after ``--max-lifetime`` seconds
  (4), on SIGTERM (143), or when it cannot start (2: its port in use).

``main`` takes the server and client classes, so a variant (the demo's buggy
server, a test's client that hangs) runs the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Final, TextIO

from .errors import FedclRuntimeError, MechanismMismatchError, RpcTimeoutError, TransportError, UnknownNodeError
from .federation import Client, Server
from .grpc_transport import GrpcTransport, loopback_address
from .transport import TracedMessage, TransportBase

__all__ = [
    "EXIT_INCOMPLETE",
    "EXIT_LIFETIME",
    "EXIT_OK",
    "EXIT_ORPHANED",
    "EXIT_TERMINATED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "main",
    "report",
]

EXIT_OK: Final = 0
EXIT_INCOMPLETE: Final = 1  # a client missed SHUTDOWN, or the guard stopped a buggy send
EXIT_USAGE: Final = 2  # bad arguments, or the node could not start (its port in use)
EXIT_UNREACHABLE: Final = 3  # no client joined / the server could not be reached or was lost
EXIT_LIFETIME: Final = 4
EXIT_ORPHANED: Final = 5
EXIT_TERMINATED: Final = 143

_WATCH_INTERVAL: Final = 0.2
_LOST_SERVER_ERRORS: Final = (TransportError, RpcTimeoutError, UnknownNodeError)

ServerFactory = Callable[..., Server]
ClientFactory = Callable[..., Client]

_output: TextIO = sys.stdout


def report(kind: str, **fields: Any) -> None:
    """Write one report line for the parent (and flush: the parent reads as it comes).

    A parent that is gone reads nothing: the line is dropped, and the watchdog ends the process."""
    with contextlib.suppress(OSError, ValueError):
        _output.write(json.dumps({"report": kind, **fields}, separators=(",", ":")) + "\n")
        _output.flush()


def _trace(message: TracedMessage) -> None:
    report(
        "trace",
        mechanism=message.mechanism,
        source=message.source,
        target=message.target,
        message_type=message.message_type,
        time=time.time(),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fedcl_lint.runtime.node", description=__doc__.splitlines()[0])
    roles = parser.add_subparsers(dest="role", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, default=0, help="port to listen on, on 127.0.0.1 (default: any free)")
    common.add_argument("--rpc-timeout", type=float, default=10.0, help="bound of every rpc and listener, s")
    common.add_argument("--max-lifetime", type=float, default=300.0, help="exit (4) after this many seconds")
    common.add_argument("--no-trace", action="store_true", help="do not report every message sent")

    server = roles.add_parser("server", parents=[common], help="run the server")
    server.add_argument("--id", default="server")
    server.add_argument("--clients", type=int, required=True, help="clients to wait for before the first round")
    server.add_argument("--rounds", type=int, required=True)
    server.add_argument("--join-timeout", type=float, default=30.0, help="longest wait for the clients to join, s")
    server.add_argument(
        "--rejoin-wait", type=float, default=0.0,
        help="before a round, wait up to this long for lost clients to register again, s",
    )
    server.add_argument("--shutdown-timeout", type=float, default=2.0)

    client = roles.add_parser("client", parents=[common], help="run a client")
    client.add_argument("--id", required=True)
    client.add_argument("--value", type=float, default=0.0, help="the client's local value")
    client.add_argument("--server", required=True, help="the server's address, 127.0.0.1:PORT")
    client.add_argument("--server-id", default="server")
    client.add_argument(
        "--connect-timeout", type=float, default=30.0,
        help="retry registering for this long while the server cannot be reached, s",
    )
    client.add_argument(
        "--idle-heartbeat", type=float, default=10.0,
        help="after this long without a message from the server, send a heartbeat; exit (3) if it fails, s",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    server_class: ServerFactory = Server,
    client_class: ClientFactory = Client,
) -> int:
    args = _parser().parse_args(argv)
    if args.role == "server" and (args.clients < 1 or args.rounds < 0):
        print(f"error: need --clients >= 1 and --rounds >= 0 (got {args.clients}, {args.rounds})", file=sys.stderr)
        return EXIT_USAGE
    if args.role == "client":
        try:
            loopback_address(args.server)
        except ValueError as exc:
            print(f"error: --server: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return asyncio.run(_run(args, server_class, client_class))


async def _run(args: argparse.Namespace, server_class: ServerFactory, client_class: ClientFactory) -> int:
    """The role, under the watchdog: parent death, lifetime and SIGTERM end it, cleanly."""
    role = _serve(args, server_class) if args.role == "server" else _participate(args, client_class)
    work = asyncio.create_task(role)
    terminated = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, terminated.set)
    guard = asyncio.create_task(_watch(os.getppid(), args.max_lifetime, terminated))
    await asyncio.wait({work, guard}, return_when=asyncio.FIRST_COMPLETED)
    if work.done():
        guard.cancel()
        try:
            code, reason = work.result()
        except Exception as exc:  # could not start (a port in use), or a bug: said, and the process ends
            traceback.print_exc()
            code, reason = EXIT_USAGE, f"{type(exc).__name__}: {exc}"
    else:
        code, reason = guard.result()
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(work, 5.0)  # its finally blocks report and close the transport
        print(f"{args.id}: {reason}", file=sys.stderr)
    report("exit", node=args.id, code=code, reason=reason)
    return code


async def _watch(parent: int, lifetime: float, terminated: asyncio.Event) -> tuple[int, str]:
    deadline = time.monotonic() + lifetime
    while True:
        if terminated.is_set():
            return EXIT_TERMINATED, "terminated (SIGTERM)"
        if os.getppid() != parent:
            return EXIT_ORPHANED, f"the parent process {parent} ended: exiting rather than running orphaned"
        if time.monotonic() >= deadline:
            return EXIT_LIFETIME, f"still running after --max-lifetime {lifetime:g}s: giving up"
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(terminated.wait(), _WATCH_INTERVAL)


def _report_protocol(node_id: str, transport: TransportBase) -> None:
    report(
        "protocol",
        node=node_id,
        recorded=sorted(list(entry) for entry in transport.recorded_protocol),
        dead_letters=[
            {"source": d.source, "target": d.target, "event_type": d.event_type, "reason": d.reason}
            for d in transport.dead_letters
        ],
    )


async def _serve(args: argparse.Namespace, server_class: ServerFactory) -> tuple[int, str]:
    transport = GrpcTransport(ports={args.id: args.port}, default_timeout=args.rpc_timeout)
    if not args.no_trace:
        transport.add_observer(_trace)
    server = server_class(
        transport, args.id, rpc_timeout=args.rpc_timeout, shutdown_timeout=args.shutdown_timeout
    )
    try:
        await transport.start()
        report("listening", node=args.id, address=transport.address_of(args.id), pid=os.getpid())
        joined = await server.wait_for_clients(args.clients, args.join_timeout)
        report("joined", clients=list(server.active_clients))
        if not joined:
            return EXIT_UNREACHABLE, f"no client registered within {args.join_timeout:g}s"
        delivered = await server.announce_registrations()
        report("announced", delivered=delivered, clients=len(server.active_clients))
        for round_number in range(1, args.rounds + 1):
            if server.lost_clients and args.rejoin_wait > 0:
                await server.wait_for_clients(args.clients, args.rejoin_wait)
            await server.run_round(round_number)
            done = server.round_reports[-1]
            report(
                "round", round=done.round, value=done.value, answered=list(done.answered),
                missing=list(done.missing), reasons=dict(done.reasons),
            )
        try:
            shutdown = await server.shutdown()
        except MechanismMismatchError as exc:
            report(
                "mismatch", message=str(exc), message_type=exc.message_type, node_id=exc.node_id,
                used=exc.used, registered=exc.registered,
            )
            return EXIT_INCOMPLETE, "the mechanism guard stopped SHUTDOWN"
        report(
            "shutdown", acknowledged=list(shutdown.acknowledged), missing=list(shutdown.missing),
            reasons=dict(shutdown.reasons),
        )
        if shutdown.complete:
            return EXIT_OK, "every client acknowledged SHUTDOWN"
        return EXIT_INCOMPLETE, f"SHUTDOWN not acknowledged by {', '.join(shutdown.missing)}"
    except FedclRuntimeError as exc:
        report("error", node=args.id, message=str(exc), error=type(exc).__name__)
        print(f"{args.id}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE, str(exc)
    finally:
        _report_protocol(args.id, transport)
        await transport.close()


async def _participate(args: argparse.Namespace, client_class: ClientFactory) -> tuple[int, str]:
    transport = GrpcTransport(
        ports={args.id: args.port}, peers={args.server_id: args.server}, default_timeout=args.rpc_timeout
    )
    if not args.no_trace:
        transport.add_observer(_trace)
    client = client_class(
        transport, args.id, local_value=args.value, server_id=args.server_id, rpc_timeout=args.rpc_timeout
    )
    try:
        await transport.start()
        report("listening", node=args.id, address=transport.address_of(args.id), pid=os.getpid())
        try:
            await client.start(retry_for=args.connect_timeout)
        except _LOST_SERVER_ERRORS as exc:
            report("error", node=args.id, message=str(exc), error=type(exc).__name__)
            return EXIT_UNREACHABLE, f"could not register with {args.server_id}: {exc}"
        report("registered", node=args.id, server=args.server)
        while True:
            remaining = args.idle_heartbeat - (time.monotonic() - client.last_contact)
            if remaining > 0 and await client.wait_for_shutdown(remaining):
                break
            if remaining > 0:
                continue
            try:  # the server has been silent for a while: is it still there?
                await client.heartbeat()
            except _LOST_SERVER_ERRORS as exc:
                report("error", node=args.id, message=str(exc), error=type(exc).__name__)
                return EXIT_UNREACHABLE, f"lost the server: {exc}"
            client.last_contact = time.monotonic()
        report("stopped", node=args.id, rounds=client.rounds_trained)
        return EXIT_OK, "acknowledged SHUTDOWN"
    finally:
        _report_protocol(args.id, transport)
        await transport.close()  # lets the acknowledgement go out first


if __name__ == "__main__":
    sys.exit(main())
