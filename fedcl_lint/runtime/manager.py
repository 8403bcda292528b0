"""One node's communication manager: the API application code talks to.

It mirrors the seed's ``CommunicationManagerBase``: business messages go over
rpc (``send_business_message`` / ``register_message_handler``), control
messages over events (``send_control_message`` / ``register_event_listener``).
Every rpc message type it handles is declared to the transport, so the
transport's mechanism guard can reject the seed's bug at the first send.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .errors import DuplicateRegistrationError, UnhandledMessageError
from .messages import HEARTBEAT, REGISTRATION
from .transport import EventListener, TransportBase

__all__ = ["CommunicationManager", "MessageHandler"]

MessageHandler = Callable[[str, Any], Awaitable[Any]]
"""An rpc message handler, called as ``await handler(source, data)``; its result is the reply."""


class CommunicationManager:
    """Wraps a transport for one node: sends, handler table and built-in handlers.

    The built-ins (``registration``, ``heartbeat``) are registered through
    ``register_message_handler`` like any other handler, so there is one
    handler table and a static reader sees them.
    """

    def __init__(self, transport: TransportBase, node_id: str) -> None:
        self.transport = transport
        self.node_id = node_id
        self._handlers: dict[str, MessageHandler] = {}
        self._registered_clients: dict[str, Any] = {}
        self._registrations: dict[str, int] = {}
        self._heartbeats: dict[str, int] = {}
        self._last_heartbeat: dict[str, float] = {}
        transport.register_request_handler(node_id, self.handle_rpc_request)
        self.register_message_handler(REGISTRATION, self._handle_registration)
        self.register_message_handler(HEARTBEAT, self._handle_heartbeat)

    # ----------------------------------------------------------------- rpc

    async def send_business_message(
        self, target: str, message_type: str, data: Any, *, timeout: float | None = None
    ) -> Any:
        """Rpc to ``target``: returns the reply of its ``message_type`` handler."""
        payload = {"message_type": message_type, "data": data}
        return await self.transport.send(self.node_id, target, payload, timeout=timeout)

    def register_message_handler(self, message_type: str, handler: MessageHandler) -> None:
        """Answer rpcs of ``message_type`` with ``await handler(source, data)``."""
        if message_type in self._handlers:
            raise DuplicateRegistrationError(
                f"{self.node_id} already has an rpc handler for {message_type}; "
                "a second registration would silently replace it"
            )
        self._handlers[message_type] = handler
        self.transport.declare_rpc_message_type(self.node_id, message_type)

    async def handle_rpc_request(self, source: str, data: Any) -> Any:
        """The node's request handler on the transport: dispatch by ``data["message_type"]``."""
        message_type = data.get("message_type") if isinstance(data, Mapping) else None
        handler = self._handlers.get(message_type) if isinstance(message_type, str) else None
        if handler is None:
            raise UnhandledMessageError(source, self.node_id, str(message_type), sorted(self._handlers))
        return await handler(source, data.get("data"))

    @property
    def message_types(self) -> frozenset[str]:
        """The rpc message types this node handles, built-ins included."""
        return frozenset(self._handlers)

    # -------------------------------------------------------------- events

    async def send_control_message(
        self, target: str, message_type: str, data: Any, *, timeout: float | None = None
    ) -> int:
        """Event to ``target``: returns how many listeners received it (0: nobody)."""
        return await self.transport.push_event(self.node_id, target, message_type, data, timeout=timeout)

    def register_event_listener(self, node_id: str, event_type: str, handler: EventListener) -> None:
        """Same signature as the transport's (the seed passes the node id explicitly)."""
        self.transport.register_event_listener(node_id, event_type, handler)

    # ------------------------------------------------------------ built-ins

    @property
    def registered_clients(self) -> tuple[str, ...]:
        """Nodes that sent ``registration`` to this node, in registration order."""
        return tuple(self._registered_clients)

    def registrations(self, client_id: str) -> int:
        """How many times ``client_id`` registered with this node (a restarted client registers again)."""
        return self._registrations.get(client_id, 0)

    def registration_info(self, client_id: str) -> Any:
        """The data ``client_id`` sent with its registration (KeyError if it never registered)."""
        return self._registered_clients[client_id]

    @property
    def heartbeats(self) -> dict[str, int]:
        """How many heartbeats each node sent to this node (a copy)."""
        return dict(self._heartbeats)

    def last_heartbeat(self, node_id: str) -> float | None:
        """``time.monotonic()`` of ``node_id``'s last heartbeat, or None if it never sent one."""
        return self._last_heartbeat.get(node_id)

    async def _handle_registration(self, source: str, data: Any) -> dict[str, Any]:
        already_registered = source in self._registered_clients
        self._registered_clients[source] = data
        self._registrations[source] = self._registrations.get(source, 0) + 1
        return {
            "accepted": True,
            "node_id": self.node_id,
            "client_id": source,
            "already_registered": already_registered,
            "client_count": len(self._registered_clients),
        }

    async def _handle_heartbeat(self, source: str, data: Any) -> dict[str, Any]:
        self._heartbeats[source] = self._heartbeats.get(source, 0) + 1
        self._last_heartbeat[source] = time.monotonic()
        return {"alive": True, "node_id": self.node_id, "registered": source in self._registered_clients}
