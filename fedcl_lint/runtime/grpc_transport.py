"""The runtime's transport across processes: the same rpcs and events, carried by gRPC on loopback.

Needs ``grpcio`` (``pip install 'fedcl-lint[grpc]'``). No code generation:
each node serves one generic gRPC service, ``fedcl.runtime.Node``, whose two
unary methods take and return bytes (``Rpc`` and ``Event``); the bytes are
the JSON documents of :mod:`fedcl_lint.runtime.wire`.

Each hosted node listens on its own port (127.0.0.1, port 0 unless ``ports``
names one). A sender finds its target among its own nodes, the peers it was
given (``add_peer``), and the nodes that wrote to it: every request says
where its source node serves (``reply_to``), so a server learns where its
clients are when they register, and where a restarted client is now.

The semantics are the memory transport's, checked on the receiver and raised
on the sender: the receiver runs the handler bounded by the sender's timeout
and answers with its reply, or with the refusal (the mechanism guard's
MechanismMismatchError, UnhandledMessageError), the timeout or the handler's
failure (class name and message), which the sender raises as the memory
transport would. What only a network adds is a peer that cannot be reached or
goes away holding a message: NodeUnavailableError naming the node and its
address, or RpcTimeoutError when no answer crossed back in time.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
from collections.abc import Mapping
from typing import Any, Final

import grpc
import grpc.aio

from . import wire
from .errors import (
    DeadLetter,
    FedclRuntimeError,
    MechanismMismatchError,
    NodeUnavailableError,
    RemoteException,
    RemoteHandlerError,
    RpcTimeoutError,
    TransportError,
    UnhandledMessageError,
    UnknownNodeError,
)
from .transport import EVENT, RPC, TransportBase, _message_type_of

__all__ = ["EVENT_METHOD", "RPC_METHOD", "SERVICE", "GrpcTransport", "loopback_address"]

SERVICE: Final = "fedcl.runtime.Node"
RPC_METHOD: Final = f"/{SERVICE}/Rpc"
EVENT_METHOD: Final = f"/{SERVICE}/Event"

# The receiver bounds a handler by the sender's timeout; the sender gives the answer this much
# longer to cross back before it calls the call timed out (a receiver that hangs or is stopped).
NETWORK_MARGIN: Final = 1.0

# How long a closing node lets the answers it is still writing go out.
CLOSE_GRACE: Final = 1.0

_CHANNEL_OPTIONS: Final = (
    ("grpc.enable_http_proxy", 0),  # loopback traffic never goes to a proxy named by the environment
    # A peer that was down is tried again soon (gRPC's defaults back off up to 2 minutes).
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 1000),
)
_SERVER_OPTIONS: Final = (("grpc.so_reuseport", 0),)  # a port in use is an error, not shared with another process

_MECHANISMS: Final = (RPC, EVENT)
_UNKNOWN_NODE: Final = "unknown_node"


def loopback_address(address: str) -> str:
    """``address`` (``host:port``) if its host is a loopback one (127.0.0.0/8, ::1, localhost); else ValueError.

    The runtime's processes talk on this machine only: no address elsewhere is ever dialled or served."""
    host, separator, port = address.rpartition(":")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} is not a host:port address")
    if bare != "localhost":
        try:
            loopback = ipaddress.ip_address(bare).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"{address!r} is not a loopback address (127.0.0.1, [::1] or localhost)")
    return address


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class GrpcTransport(TransportBase):
    """Rpcs and events between processes, over gRPC on loopback; the memory transport's interface.

    ``ports`` fixes the port of some hosted nodes (default: any free port), ``peers``
    maps node ids of other processes to their ``host:port``. ``await start()`` (or
    ``async with``) makes the hosted nodes reachable; a send starts them too, so a
    node registered later is served before its first message leaves. ``close()``
    lets the answers being written go out (``CLOSE_GRACE``), then stops.

    ``rpc_message_types`` and ``event_types`` know the hosted nodes only: the guard for
    a remote node runs in its process, which says so in its answer.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        peers: Mapping[str, str] | None = None,
        default_timeout: float = 5.0,
        strict: bool = False,
    ) -> None:
        super().__init__(default_timeout=default_timeout, strict=strict)
        loopback_address(_join(host, 1))
        self.host = host
        self._ports = dict(ports or {})
        self._hosted: list[str] = []
        self._servers: dict[str, grpc.aio.Server] = {}
        self._addresses: dict[str, str] = {}
        self._peers: dict[str, str] = {}
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._stubs: dict[tuple[str, str], grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]] = {}
        self._start_lock: asyncio.Lock | None = None
        self._closing: set[asyncio.Task[Any]] = set()
        for node_id, address in (peers or {}).items():
            self.add_peer(node_id, address)

    # ------------------------------------------------------------- addresses

    def _hosting(self, node_id: str) -> None:
        if node_id not in self._hosted:
            self._hosted.append(node_id)

    def add_peer(self, node_id: str, address: str) -> None:
        """Reach ``node_id`` (in another process) at ``address``, a loopback ``host:port``."""
        previous = self._peers.get(node_id)
        self._peers[node_id] = loopback_address(address)
        if previous is not None and previous != address and previous not in self._peers.values():
            self._drop_channel(previous)

    def address_of(self, node_id: str) -> str:
        """Where ``node_id`` is reached: its own port when hosted here (after ``start``), else the peer's."""
        address = self._addresses.get(node_id) or self._peers.get(node_id)
        if address is None:
            raise KeyError(f"no address for {node_id!r}: not served here (yet) and no peer of that name")
        return address

    @property
    def known_nodes(self) -> tuple[str, ...]:
        """Nodes reachable by rpc: the hosted ones with a request handler and the known peers, sorted."""
        return tuple(sorted(set(self._request_handlers) | set(self._peers)))

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Serve every hosted node that is not served yet, each on its own port."""
        if all(node_id in self._servers for node_id in self._hosted):
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            for node_id in list(self._hosted):
                if node_id not in self._servers:
                    await self._serve(node_id)

    async def _serve(self, node_id: str) -> None:
        wanted = self._ports.get(node_id, 0)
        server = grpc.aio.server(options=_SERVER_OPTIONS)
        server.add_generic_rpc_handlers((self._service_of(node_id),))
        try:
            port = server.add_insecure_port(_join(self.host, wanted))
        except RuntimeError as exc:  # grpcio raises where older versions returned 0
            raise OSError(f"{node_id} cannot listen on {_join(self.host, wanted)}: {exc}") from None
        if port == 0:
            raise OSError(f"{node_id} cannot listen on {_join(self.host, wanted)} (in use?)")
        await server.start()
        self._servers[node_id] = server
        self._addresses[node_id] = _join(self.host, port)

    async def close(self, grace: float = CLOSE_GRACE) -> None:
        """Stop serving (answers being written get ``grace`` seconds) and close every channel."""
        servers, self._servers = list(self._servers.values()), {}
        await asyncio.gather(*(server.stop(grace) for server in servers))
        channels, self._channels = list(self._channels.values()), {}
        self._stubs.clear()
        await asyncio.gather(*(channel.close() for channel in channels))
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _stub(self, address: str, method: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
        stub = self._stubs.get((address, method))
        if stub is None:
            channel = self._channels.get(address)
            if channel is None:
                channel = self._channels[address] = grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)
            stub = self._stubs[(address, method)] = channel.unary_unary(method)
        return stub

    def _drop_channel(self, address: str) -> None:
        channel = self._channels.pop(address, None)
        for key in [key for key in self._stubs if key[0] == address]:
            del self._stubs[key]
        if channel is not None:
            task = asyncio.ensure_future(channel.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    # ---------------------------------------------------------------- sending

    async def send(self, source: str, target: str, data: Any, *, timeout: float | None = None) -> Any:
        """Rpc: ``target``'s handler answers ``(source, data)`` in its own process; returns its answer.

        Raises what the memory transport raises (UnknownNodeError, MechanismMismatchError,
        UnhandledMessageError, RpcTimeoutError, RemoteHandlerError with a RemoteException
        as the cause), NodeUnavailableError when the target's process cannot be reached
        or goes away, and TypeError before sending data that is not JSON."""
        message_type = _message_type_of(data)
        self._record_send(RPC, source, target, message_type)
        await self.start()
        address = self._addresses.get(target) or self._peers.get(target)
        if address is None:
            raise UnknownNodeError(source, target, message_type, self.known_nodes)
        limit = self._resolve_timeout(timeout)
        request = wire.RpcRequest(source, target, self._addresses.get(source), limit, dict(data)).to_bytes()
        try:
            raw = await self._stub(address, RPC_METHOD)(request, timeout=limit + NETWORK_MARGIN)
        except grpc.aio.AioRpcError as exc:
            raise self._network_error(exc, RPC, source, target, message_type, address, limit) from exc
        try:
            ok, value = wire.rpc_answer(raw)
        except wire.ProtocolError as exc:
            raise TransportError(f"rpc {message_type} from {source} to {target}: {address} answered: {exc}") from None
        if ok:
            return value
        error = self._rpc_failure(value, source, target, message_type, address, limit)
        raise error from error.__cause__

    async def push_event(
        self, source: str, target: str, event_type: str, data: Any, *, timeout: float | None = None
    ) -> int:
        """Event: ``target``'s listeners get ``data`` in its own process; returns how many did.

        As in memory, 0 means nobody received it and a dead letter says why (an unknown or
        unreachable node among the reasons), strict mode raises UndeliveredEventError instead,
        and an event type the target handles only by rpc raises MechanismMismatchError."""
        self._record_send(EVENT, source, target, event_type)
        await self.start()
        address = self._addresses.get(target) or self._peers.get(target)
        if address is None:
            self._dead_letter(DeadLetter(source, target, event_type, data, f"unknown node {target}"))
            return 0
        limit = self._resolve_timeout(timeout)
        request = wire.EventRequest(source, target, self._addresses.get(source), limit, event_type, data).to_bytes()
        try:
            raw = await self._stub(address, EVENT_METHOD)(request, timeout=limit + NETWORK_MARGIN)
        except grpc.aio.AioRpcError as exc:
            error = self._network_error(exc, EVENT, source, target, event_type, address, limit)
            self._dead_letter(DeadLetter(source, target, event_type, data, _network_reason(error)), cause=error)
            return 0
        try:
            answer = wire.EventAnswer.from_bytes(raw)
        except wire.ProtocolError as exc:
            raise TransportError(f"event {event_type} from {source} to {target}: {address} answered: {exc}") from None
        if answer.error is not None:
            kind = answer.error.get("kind")
            if kind == wire.MISMATCH:
                raise MechanismMismatchError(event_type, target, used=EVENT, registered=RPC)
            detail = str(answer.error.get("detail", kind))
            if kind in (wire.WRONG_NODE, _UNKNOWN_NODE):
                self._dead_letter(DeadLetter(source, target, event_type, data, detail))
                return 0
            raise TransportError(f"event {event_type} from {source} to {target}: {address} refused it: {detail}")
        for failure in answer.failures:
            self._dead_letter(DeadLetter(source, target, event_type, data, failure.reason), cause=failure.cause())
        return answer.delivered

    def _network_error(
        self, exc: grpc.aio.AioRpcError, mechanism: str, source: str, target: str, message_type: str,
        address: str, limit: float,
    ) -> FedclRuntimeError:
        code = exc.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return RpcTimeoutError(source, target, message_type, limit)
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
            detail = exc.details() or code.name
            return NodeUnavailableError(source, target, message_type, address, detail, mechanism)
        return TransportError(
            f"{mechanism} {message_type} from {source} to {target} at {address} failed: {code.name}: {exc.details()}"
        )

    def _rpc_failure(
        self, error: Mapping[str, Any], source: str, target: str, message_type: str, address: str, limit: float
    ) -> FedclRuntimeError:
        """The exception an rpc's refusal or failure stands for, as the memory transport raises it."""
        kind = error.get("kind")
        if kind == wire.MISMATCH and error.get("used") in _MECHANISMS and error.get("registered") in _MECHANISMS:
            return MechanismMismatchError(message_type, target, used=error["used"], registered=error["registered"])
        if kind == wire.UNHANDLED and isinstance(error.get("handled"), list):
            return UnhandledMessageError(source, target, message_type, [str(name) for name in error["handled"]])
        if kind == wire.TIMEOUT:
            return RpcTimeoutError(source, target, message_type, limit)
        if kind == wire.HANDLER:
            original = RemoteException(str(error.get("exception_type")), str(error.get("message", "")))
            failure = RemoteHandlerError(source, target, message_type, original)
            failure.__cause__ = original
            return failure
        if kind == _UNKNOWN_NODE:
            return UnknownNodeError(source, target, message_type, self.known_nodes)
        if kind == wire.WRONG_NODE:
            return NodeUnavailableError(source, target, message_type, address, str(error.get("detail")))
        return TransportError(f"rpc {message_type} from {source} to {target}: {address} refused it: {error!r:.300}")

    # ------------------------------------------------------ receiving (server)

    def _service_of(self, node_id: str) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Rpc": grpc.unary_unary_rpc_method_handler(functools.partial(self._answer_rpc, node_id)),
                "Event": grpc.unary_unary_rpc_method_handler(functools.partial(self._answer_event, node_id)),
            },
        )

    def _learn(self, source: str, reply_to: str | None) -> None:
        """Remember where ``source`` serves, from its request; a hosted node or a non-loopback address is not learnt."""
        if reply_to is None or source in self._hosted or self._peers.get(source) == reply_to:
            return
        try:
            self.add_peer(source, reply_to)
        except ValueError:
            pass

    def _not_here(self, node_id: str, target: str) -> dict[str, Any] | None:
        if target == node_id:
            return None
        return {"kind": wire.WRONG_NODE, "detail": f"{self._addresses.get(node_id)} serves {node_id}, not {target}"}

    async def _answer_rpc(self, node_id: str, raw: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        try:
            request = wire.RpcRequest.from_bytes(raw)
        except wire.ProtocolError as exc:
            return wire.rpc_error({"kind": wire.BAD_REQUEST, "detail": str(exc)})
        self._learn(request.source, request.reply_to)
        wrong = self._not_here(node_id, request.target)
        if wrong is not None:
            return wire.rpc_error(wrong)
        handler = self._request_handlers.get(node_id)
        if handler is None:
            return wire.rpc_error({"kind": _UNKNOWN_NODE})
        message_type = _message_type_of(request.payload)
        refusal = self._rpc_refusal(request.source, node_id, message_type)
        if refusal is not None:
            return wire.rpc_error(wire.refusal(refusal))
        outcome = await self._run_handler(handler, (request.source, request.payload), request.timeout)
        if outcome is None:
            return wire.rpc_error({"kind": wire.TIMEOUT})
        if outcome.error is not None:
            return wire.rpc_error(wire.handler_failure(outcome.error))
        try:
            return wire.rpc_value(outcome.value)
        except TypeError as exc:
            return wire.rpc_error(wire.handler_failure(TypeError(f"the handler's reply {exc}")))

    async def _answer_event(self, node_id: str, raw: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        try:
            request = wire.EventRequest.from_bytes(raw)
        except wire.ProtocolError as exc:
            return wire.EventAnswer(0, error={"kind": wire.BAD_REQUEST, "detail": str(exc)}).to_bytes()
        self._learn(request.source, request.reply_to)
        wrong = self._not_here(node_id, request.target)
        if wrong is not None:
            return wire.EventAnswer(0, error=wrong).to_bytes()
        refusal = self._event_refusal(node_id, request.event_type)
        if refusal is not None:
            return wire.EventAnswer(0, error=wire.refusal(refusal)).to_bytes()
        delivered, failures = await self._deliver_event(
            request.source, node_id, request.event_type, request.data, request.timeout
        )
        answer = wire.EventAnswer(delivered, tuple(wire.Failure.of(reason, error) for reason, error in failures))
        return answer.to_bytes()


def _network_reason(error: FedclRuntimeError) -> str:
    """A dead letter's reason for an event the network could not carry."""
    if isinstance(error, NodeUnavailableError):
        return f"{error.target} at {error.address} is unavailable ({error.detail})"
    if isinstance(error, RpcTimeoutError):
        return f"no answer from {error.target} within {error.timeout + NETWORK_MARGIN:g}s"
    return str(error)
