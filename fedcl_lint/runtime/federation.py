"""A toy federation on the runtime: registration, rounds of averaging, shutdown.

Every message type here travels on one mechanism on both sides (see
messages.py): registration, heartbeat, train and SHUTDOWN are rpcs,
CLIENT_REGISTERED is an event. SHUTDOWN is an rpc because the server needs
each client's acknowledgement: the seed pushed it as an event, so nothing was
delivered and the server still believed the clients had stopped.

The same classes run on any transport: in one process (MemoryTransport) or
one process per node (the gRPC transport, see node.py). Across processes a
client can die in the middle of a round: the round completes with the others
and the server records who did not answer (``round_reports``); a client that
registers again is back in the next round.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import NodeUnavailableError, RemoteHandlerError, RpcTimeoutError, TransportError, UnknownNodeError
from .manager import CommunicationManager
from .messages import CLIENT_REGISTERED, HEARTBEAT, REGISTRATION, SHUTDOWN, TRAIN
from .transport import TransportBase

__all__ = ["Client", "FederationResult", "RoundReport", "Server", "ShutdownReport", "run_federation"]

# A client that cannot be reached, or did not answer in time: it is out of the
# round (and "lost" until it registers again). Any other error, a handler's
# failure or a MechanismMismatchError above all, is a bug and propagates.
_UNREACHABLE_ERRORS = (RpcTimeoutError, UnknownNodeError, TransportError)

# What a client may do instead of acknowledging SHUTDOWN: these make it
# "missing". Any other error (a MechanismMismatchError above all) is a bug in
# the server and propagates.
_NO_ANSWER_ERRORS = (*_UNREACHABLE_ERRORS, RemoteHandlerError)

# How often a waiting server looks at its registrations again.
_POLL_INTERVAL = 0.02


@dataclass(frozen=True)
class ShutdownReport:
    """Which clients acknowledged SHUTDOWN, which did not, and why not."""

    acknowledged: tuple[str, ...]
    missing: tuple[str, ...]
    reasons: Mapping[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class RoundReport:
    """One round: the new global value, who answered, who did not and why."""

    round: int
    value: float
    answered: tuple[str, ...]
    missing: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FederationResult:
    """What a run produced: the per-round averages and the shutdown report."""

    round_averages: tuple[float, ...]
    final_value: float
    announcements_delivered: int
    shutdown: ShutdownReport

    @property
    def acknowledged(self) -> tuple[str, ...]:
        return self.shutdown.acknowledged

    @property
    def missing(self) -> tuple[str, ...]:
        return self.shutdown.missing


class Server:
    """Coordinates the rounds: sends ``train`` to every registered client and averages the answers."""

    def __init__(
        self,
        transport: TransportBase,
        node_id: str = "server",
        *,
        initial_value: float = 0.0,
        rpc_timeout: float | None = None,
        shutdown_timeout: float = 2.0,
    ) -> None:
        self.manager = CommunicationManager(transport, node_id)
        self.node_id = node_id
        self.global_value = initial_value
        self.rpc_timeout = rpc_timeout
        self.shutdown_timeout = shutdown_timeout
        self.round_reports: list[RoundReport] = []
        # Clients that did not answer, with how many registrations they had then:
        # one that registers again is active again.
        self._lost: dict[str, int] = {}

    @property
    def registered_clients(self) -> tuple[str, ...]:
        return self.manager.registered_clients

    @property
    def active_clients(self) -> tuple[str, ...]:
        """Registered clients, less those lost (no answer) and not registered again since."""
        return tuple(
            client_id
            for client_id in self.registered_clients
            if client_id not in self._lost or self.manager.registrations(client_id) > self._lost[client_id]
        )

    @property
    def lost_clients(self) -> tuple[str, ...]:
        active = set(self.active_clients)
        return tuple(client_id for client_id in self.registered_clients if client_id not in active)

    @property
    def ready_clients(self) -> tuple[str, ...]:
        """Active clients that have also proved liveness with a heartbeat (``Client.start`` sends one)."""
        heartbeats = self.manager.heartbeats
        return tuple(client_id for client_id in self.active_clients if heartbeats.get(client_id))

    async def wait_for_clients(self, count: int, timeout: float) -> int:
        """Wait until ``count`` clients are ready (active, and heard from by heartbeat), for at most
        ``timeout`` seconds; returns how many are."""
        deadline = time.monotonic() + timeout
        while len(self.ready_clients) < count and time.monotonic() < deadline:
            await asyncio.sleep(min(_POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
        return len(self.ready_clients)

    async def announce_registrations(self) -> int:
        """Tell every active client who is in the federation; returns the number of listeners reached."""
        clients = self.active_clients
        counts = await asyncio.gather(
            *(
                self.manager.send_control_message(
                    client_id, CLIENT_REGISTERED, {"client_id": client_id, "clients": clients}
                )
                for client_id in clients
            )
        )
        return sum(counts)

    async def run_round(self, round_number: int) -> float:
        """One round: every active client trains from the global value; the new global value is their mean.

        A client that cannot be reached or does not answer in time is left out of the
        round (and of the next ones until it registers again); ``round_reports`` says who
        and why. The round fails only when no client answered."""
        clients = self.active_clients
        if not clients:
            raise ValueError(f"{self.node_id} cannot run round {round_number}: no client registered")
        request = {"round": round_number, "global_value": self.global_value}
        replies = await asyncio.gather(
            *(
                self.manager.send_business_message(client_id, TRAIN, request, timeout=self.rpc_timeout)
                for client_id in clients
            ),
            return_exceptions=True,
        )
        values: list[float] = []
        answered: list[str] = []
        reasons: dict[str, str] = {}
        for client_id, reply in zip(clients, replies, strict=True):
            if isinstance(reply, _UNREACHABLE_ERRORS):
                reasons[client_id] = str(reply)
                self._lost[client_id] = self.manager.registrations(client_id)
            elif isinstance(reply, BaseException):
                raise reply
            else:
                values.append(float(reply["value"]))
                answered.append(client_id)
        if not values:
            first = next(iter(reasons.values()))
            raise TransportError(f"round {round_number}: no client answered ({len(reasons)} tried; first: {first})")
        self.global_value = math.fsum(values) / len(values)
        self.round_reports.append(
            RoundReport(round_number, self.global_value, tuple(answered), tuple(reasons), reasons)
        )
        return self.global_value

    async def shutdown(self) -> ShutdownReport:
        """Send SHUTDOWN by rpc to every registered client, lost ones included, and wait (bounded) for each
        acknowledgement."""
        clients = self.registered_clients
        replies = await asyncio.gather(
            *(
                self.manager.send_business_message(
                    client_id, SHUTDOWN, {"reason": "training finished"}, timeout=self.shutdown_timeout
                )
                for client_id in clients
            ),
            return_exceptions=True,
        )
        acknowledged: list[str] = []
        missing: list[str] = []
        reasons: dict[str, str] = {}
        for client_id, reply in zip(clients, replies, strict=True):
            if isinstance(reply, _NO_ANSWER_ERRORS):
                missing.append(client_id)
                reasons[client_id] = str(reply)
            elif isinstance(reply, BaseException):
                raise reply
            elif isinstance(reply, Mapping) and reply.get("acknowledged") is True:
                acknowledged.append(client_id)
            else:
                missing.append(client_id)
                reasons[client_id] = f"answered SHUTDOWN without acknowledging it: {reply!r:.200}"
        return ShutdownReport(tuple(acknowledged), tuple(missing), reasons)

    async def run(self, rounds: int) -> FederationResult:
        """Announce, train for ``rounds`` rounds, shut down."""
        if rounds < 0:
            raise ValueError(f"rounds must be >= 0, got {rounds}")
        if not self.registered_clients:
            raise ValueError(f"{self.node_id} has no registered client to train with")
        delivered = await self.announce_registrations()
        averages = [await self.run_round(round_number) for round_number in range(1, rounds + 1)]
        report = await self.shutdown()
        return FederationResult(tuple(averages), self.global_value, delivered, report)


class Client:
    """A participant: registers, trains on request, and acknowledges SHUTDOWN.

    Its toy local update moves the global value halfway towards the client's
    own ``local_value``, so the averages of a run are known in closed form.
    """

    def __init__(
        self,
        transport: TransportBase,
        node_id: str,
        *,
        local_value: float = 0.0,
        server_id: str = "server",
        rpc_timeout: float | None = None,
    ) -> None:
        self.manager = CommunicationManager(transport, node_id)
        self.node_id = node_id
        self.server_id = server_id
        self.local_value = local_value
        self.rpc_timeout = rpc_timeout
        self.registered = False
        self.federation: tuple[str, ...] = ()
        self.rounds_trained: list[int] = []
        self.shutdown_received = False
        self.last_contact = time.monotonic()  # when the server last sent something
        self._shutdown = asyncio.Event()
        self.manager.register_message_handler(TRAIN, self._handle_train)
        self.manager.register_message_handler(SHUTDOWN, self._handle_shutdown)
        self.manager.register_event_listener(self.node_id, CLIENT_REGISTERED, self._on_client_registered)

    async def start(self, *, retry_for: float = 0.0) -> None:
        """Register with the server, then prove liveness with one heartbeat.

        With ``retry_for`` > 0, a server that cannot be reached yet (not started, or
        restarting) is tried again with exponential backoff (50 ms doubling to 1 s, with
        jitter) for at most ``retry_for`` seconds in all; then the last error is raised."""
        await self.register_with_retry(retry_for)
        await self.heartbeat()

    async def register_with_retry(self, retry_for: float) -> dict[str, Any]:
        deadline = time.monotonic() + retry_for
        delay = 0.05
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self.register()
            except (NodeUnavailableError, RpcTimeoutError) as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if isinstance(exc, NodeUnavailableError) and retry_for > 0:
                        detail = f"{exc.detail}; gave up after {attempts} attempts in {retry_for:g}s"
                        raise NodeUnavailableError(
                            exc.source, exc.target, exc.message_type, exc.address, detail
                        ) from exc
                    raise
                await asyncio.sleep(min(remaining, delay * random.uniform(0.8, 1.2)))
                delay = min(delay * 2, 1.0)

    async def wait_for_shutdown(self, timeout: float | None = None) -> bool:
        """Wait until SHUTDOWN arrives, for at most ``timeout`` seconds; returns whether it did."""
        try:
            await asyncio.wait_for(self._shutdown.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def register(self) -> dict[str, Any]:
        reply = await self.manager.send_business_message(
            self.server_id, REGISTRATION, {"node_id": self.node_id}, timeout=self.rpc_timeout
        )
        if not (isinstance(reply, Mapping) and reply.get("accepted") is True):
            raise RuntimeError(f"{self.server_id} refused the registration of {self.node_id}: {reply!r}")
        self.registered = True
        return dict(reply)

    async def heartbeat(self) -> dict[str, Any]:
        reply = await self.manager.send_business_message(
            self.server_id, HEARTBEAT, {"node_id": self.node_id}, timeout=self.rpc_timeout
        )
        return dict(reply)

    def local_update(self, round_number: int, global_value: float) -> float:
        """The toy training step; override to change what a client contributes."""
        return (global_value + self.local_value) / 2

    async def _handle_train(self, source: str, data: Any) -> dict[str, Any]:
        self.last_contact = time.monotonic()
        round_number = int(data["round"])
        value = self.local_update(round_number, float(data["global_value"]))
        self.rounds_trained.append(round_number)
        return {"client_id": self.node_id, "round": round_number, "value": value}

    async def _handle_shutdown(self, source: str, data: Any) -> dict[str, Any]:
        self.last_contact = time.monotonic()
        self.shutdown_received = True
        self._shutdown.set()
        return {"acknowledged": True, "client_id": self.node_id}

    async def _on_client_registered(self, data: Any) -> None:
        self.last_contact = time.monotonic()
        self.federation = tuple(data["clients"])


async def run_federation(server: Server, clients: Sequence[Client], rounds: int) -> FederationResult:
    """Start every client (registration and heartbeat), then run the server's rounds and shutdown."""
    await asyncio.gather(*(client.start() for client in clients))
    return await server.run(rounds)
