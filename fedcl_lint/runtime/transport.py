"""In-memory transport with the two MOE-FedCL mechanisms: rpc and events.

Unlike the seed's ``MemoryTransport``, every registry lives on the transport
instance (two federations in one process never see each other), every wait is
bounded, and nothing fails silently: an rpc to an unknown node, a handler that
raises or hangs, an event nobody listens to, and a message type sent on the
mechanism its receiver does not use each end in an error or a dead letter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .errors import (
    DeadLetter,
    DuplicateRegistrationError,
    MechanismMismatchError,
    RemoteHandlerError,
    RpcTimeoutError,
    UndeliveredEventError,
    UnhandledMessageError,
    UnknownNodeError,
)

__all__ = [
    "EVENT",
    "HANDLE",
    "RPC",
    "SEND",
    "DeadLetter",
    "EventListener",
    "MemoryTransport",
    "RequestHandler",
    "TraceObserver",
    "TracedMessage",
]

# Mechanisms and roles, spelled as the static linter's rule pack spells them.
RPC: Final = "rpc"
EVENT: Final = "event"
SEND: Final = "send"
HANDLE: Final = "handle"

RequestHandler = Callable[[str, Any], Awaitable[Any]]
"""A node's rpc entry point, called as ``await handler(source, payload)``."""

EventListener = Callable[[Any], Awaitable[Any]]
"""An event listener, called as ``await handler(data)``; its result is ignored."""


@dataclass(frozen=True)
class TracedMessage:
    """One send as seen by the transport, handed to trace observers."""

    mechanism: str
    source: str
    target: str
    message_type: str


TraceObserver = Callable[[TracedMessage], None]


@dataclass(frozen=True)
class _Outcome:
    """What a handler did, so its own TimeoutError is never taken for ours."""

    value: Any = None
    error: Exception | None = None


async def _capture(call: Callable[..., Awaitable[Any]], *args: Any) -> _Outcome:
    try:
        return _Outcome(value=await call(*args))
    except Exception as exc:  # the handler's failure is reported to the sender, not lost
        return _Outcome(error=exc)


def _message_type_of(payload: Any) -> str:
    """The rpc payload's message type; rpc payloads are ``{"message_type": ..., "data": ...}``."""
    if isinstance(payload, Mapping):
        message_type = payload.get("message_type")
        if isinstance(message_type, str):
            return message_type
    raise TypeError(
        "an rpc payload must be a mapping with a str 'message_type' "
        f"(as built by send_business_message), got {payload!r:.200}"
    )


class MemoryTransport:
    """Delivers rpcs and events between the nodes of one federation, in one process.

    ``default_timeout`` bounds every rpc and every event listener unless a call
    passes its own ``timeout``. With ``strict=True`` an event that reaches no
    listener raises :class:`UndeliveredEventError` instead of becoming a dead
    letter.
    """

    def __init__(self, *, default_timeout: float = 5.0, strict: bool = False) -> None:
        if not default_timeout > 0:
            raise ValueError(f"default_timeout must be positive, got {default_timeout!r}")
        self.default_timeout = default_timeout
        self.strict = strict
        self._request_handlers: dict[str, RequestHandler] = {}
        # The rpc message types each node's manager handles; a node with a raw
        # request handler and no declarations is opaque to the guard.
        self._rpc_message_types: dict[str, set[str]] = {}
        self._event_listeners: dict[str, dict[str, list[EventListener]]] = {}
        self._dead_letters: list[DeadLetter] = []
        self._protocol: set[tuple[str, str, str]] = set()
        self._observers: list[TraceObserver] = []

    # ----------------------------------------------------------- registration

    def register_request_handler(self, node_id: str, handler: RequestHandler) -> None:
        """Make ``node_id`` reachable by rpc; ``handler(source, payload)`` answers every rpc to it."""
        if node_id in self._request_handlers:
            raise DuplicateRegistrationError(
                f"node {node_id!r} already has a request handler on this transport; "
                "each node id belongs to one CommunicationManager"
            )
        self._request_handlers[node_id] = handler

    def declare_rpc_message_type(self, node_id: str, message_type: str) -> None:
        """Tell the transport that ``node_id`` handles ``message_type`` by rpc.

        CommunicationManager calls this from ``register_message_handler``: the
        transport then knows each node's rpc handler table, which the mechanism
        guard and the protocol recorder need.
        """
        self._rpc_message_types.setdefault(node_id, set()).add(message_type)
        self._protocol.add((message_type, RPC, HANDLE))

    def register_event_listener(self, node_id: str, event_type: str, handler: EventListener) -> None:
        """Call ``handler(data)`` for every ``event_type`` event pushed to ``node_id``."""
        self._event_listeners.setdefault(node_id, {}).setdefault(event_type, []).append(handler)
        self._protocol.add((event_type, EVENT, HANDLE))

    def add_observer(self, observer: TraceObserver) -> None:
        """Call ``observer(TracedMessage)`` synchronously at the start of every send."""
        self._observers.append(observer)

    def remove_observer(self, observer: TraceObserver) -> None:
        """Stop calling ``observer`` (ValueError if it was never added)."""
        self._observers.remove(observer)

    # ---------------------------------------------------------- introspection

    @property
    def known_nodes(self) -> tuple[str, ...]:
        """Nodes reachable by rpc, sorted."""
        return tuple(sorted(self._request_handlers))

    def rpc_message_types(self, node_id: str) -> frozenset[str]:
        """The rpc message types ``node_id`` declared (empty for unknown or opaque nodes)."""
        return frozenset(self._rpc_message_types.get(node_id, ()))

    def event_types(self, node_id: str) -> frozenset[str]:
        """The event types ``node_id`` has at least one listener for."""
        listeners = self._event_listeners.get(node_id, {})
        return frozenset(event_type for event_type, handlers in listeners.items() if handlers)

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Events that reached no listener, oldest first (a copy: clearing it changes nothing)."""
        return list(self._dead_letters)

    @property
    def recorded_protocol(self) -> frozenset[tuple[str, str, str]]:
        """Every ``(message_type, mechanism, role)`` that happened at run time.

        Role ``"handle"`` comes from registrations (rpc handlers declared by a
        manager, event listeners), role ``"send"`` from sends (``send`` with the
        payload's message type, ``push_event``), including sends that failed.
        """
        return frozenset(self._protocol)

    # ---------------------------------------------------------------- sending

    async def send(self, source: str, target: str, data: Any, *, timeout: float | None = None) -> Any:
        """Rpc: await ``target``'s request handler with ``(source, data)`` and return its answer.

        Raises UnknownNodeError, MechanismMismatchError, UnhandledMessageError
        (before the handler runs), RpcTimeoutError (the handler is cancelled)
        or RemoteHandlerError (the handler raised; chained as ``__cause__``).
        """
        message_type = _message_type_of(data)
        self._record_send(RPC, source, target, message_type)
        handler = self._request_handlers.get(target)
        if handler is None:
            raise UnknownNodeError(source, target, message_type, self.known_nodes)
        self._check_rpc_is_handled(source, target, message_type)
        limit = self._resolve_timeout(timeout)
        try:
            outcome = await asyncio.wait_for(_capture(handler, source, data), limit)
        except asyncio.TimeoutError:
            raise RpcTimeoutError(source, target, message_type, limit) from None
        if outcome.error is not None:
            raise RemoteHandlerError(source, target, message_type, outcome.error) from outcome.error
        return outcome.value

    async def push_event(
        self, source: str, target: str, event_type: str, data: Any, *, timeout: float | None = None
    ) -> int:
        """Event: call every listener of ``event_type`` on ``target``; return how many got it.

        0 means nobody received the event: it is recorded in ``dead_letters``
        (or raised as UndeliveredEventError in strict mode). A listener that
        raises or exceeds the timeout is not counted and is dead-lettered too.
        An event type that ``target`` handles only by rpc raises
        MechanismMismatchError: that is a bug in the sender, not a lost event.
        """
        self._record_send(EVENT, source, target, event_type)
        listeners = list(self._event_listeners.get(target, {}).get(event_type, ()))
        if not listeners:
            if event_type in self._rpc_message_types.get(target, ()):
                raise MechanismMismatchError(event_type, target, used=EVENT, registered=RPC)
            if target in self._request_handlers or target in self._event_listeners:
                reason = f"no listener for {event_type} on {target}"
            else:
                reason = f"unknown node {target}"
            self._dead_letter(DeadLetter(source, target, event_type, data, reason))
            return 0
        limit = self._resolve_timeout(timeout)
        delivered = 0
        failures: list[tuple[DeadLetter, BaseException]] = []
        for listener in listeners:
            try:
                outcome = await asyncio.wait_for(_capture(listener, data), limit)
            except asyncio.TimeoutError as exc:
                reason = f"listener {_name_of(listener)} timed out after {limit:g}s"
                failures.append((DeadLetter(source, target, event_type, data, reason), exc))
                continue
            if outcome.error is not None:
                error = outcome.error
                reason = f"listener {_name_of(listener)} raised {type(error).__name__}: {error}"
                failures.append((DeadLetter(source, target, event_type, data, reason), error))
                continue
            delivered += 1
        for letter, error in failures:
            self._dead_letter(letter, cause=error)
        return delivered

    # ---------------------------------------------------------------- helpers

    def _record_send(self, mechanism: str, source: str, target: str, message_type: str) -> None:
        self._protocol.add((message_type, mechanism, SEND))
        if self._observers:
            traced = TracedMessage(mechanism, source, target, message_type)
            for observer in list(self._observers):
                observer(traced)

    def _check_rpc_is_handled(self, source: str, target: str, message_type: str) -> None:
        """The guard for rpcs: fail before the handler runs if ``target`` cannot handle the type."""
        declared = self._rpc_message_types.get(target)
        if declared is None or message_type in declared:
            return
        if message_type in self.event_types(target):
            raise MechanismMismatchError(message_type, target, used=RPC, registered=EVENT)
        raise UnhandledMessageError(source, target, message_type, sorted(declared))

    def _resolve_timeout(self, timeout: float | None) -> float:
        if timeout is None:
            return self.default_timeout
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        return timeout

    def _dead_letter(self, letter: DeadLetter, cause: BaseException | None = None) -> None:
        if self.strict:
            raise UndeliveredEventError(letter) from cause
        self._dead_letters.append(letter)


def _name_of(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
