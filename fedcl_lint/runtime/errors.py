"""Errors of the reference runtime.

Each failure the seed's runtime turned into a hang or a silent ``True`` gets
its own exception class here, with a message that names the nodes and the
message type involved, so the first failing send says what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DeadLetter",
    "DuplicateRegistrationError",
    "FedclRuntimeError",
    "MechanismMismatchError",
    "NodeUnavailableError",
    "RemoteException",
    "RemoteHandlerError",
    "RpcTimeoutError",
    "TransportError",
    "UndeliveredEventError",
    "UnhandledMessageError",
    "UnknownNodeError",
]

_MAX_LISTED_NODES = 10

# How to fix a one-sided registration, by the mechanism the receiver used.
_HOW_TO_SEND = {"rpc": "send_business_message", "event": "send_control_message"}
_HOW_TO_REGISTER = {"rpc": "register_message_handler", "event": "register_event_listener"}
_ARTICLE = {"rpc": "an rpc", "event": "an event"}
_HANDLER_NOUN = {"rpc": "an rpc handler", "event": "an event listener"}


def _list_names(names: Iterable[str]) -> str:
    """Join names for a message, cut after a few so 1,000 clients stay readable."""
    names = list(names)
    if not names:
        return "none"
    shown = ", ".join(names[:_MAX_LISTED_NODES])
    hidden = len(names) - _MAX_LISTED_NODES
    return f"{shown} and {hidden} more" if hidden > 0 else shown


class FedclRuntimeError(Exception):
    """Base of every error the runtime raises on purpose, to catch them together."""


class DuplicateRegistrationError(FedclRuntimeError):
    """A node id or an rpc message type registered twice: the second would silently replace the first."""


class UnknownNodeError(FedclRuntimeError):
    """An rpc was sent to a node that has no request handler on this transport."""

    def __init__(self, source: str, target: str, message_type: str, known_nodes: Iterable[str]) -> None:
        self.source = source
        self.target = target
        self.message_type = message_type
        self.known_nodes = tuple(known_nodes)
        super().__init__(
            f"rpc {message_type} from {source} to unknown node {target}: no node {target!r} is "
            f"registered on this transport (known nodes: {_list_names(self.known_nodes)})"
        )


class UnhandledMessageError(FedclRuntimeError):
    """An rpc was sent to a node that registered no handler for its message type at all."""

    def __init__(self, source: str, target: str, message_type: str, handled: Iterable[str]) -> None:
        self.source = source
        self.target = target
        self.message_type = message_type
        self.handled = tuple(handled)
        super().__init__(
            f"rpc {message_type} from {source} to {target}: {target} registered no handler for "
            f"{message_type} (register_message_handler); it handles: {_list_names(self.handled)}"
        )


class RpcTimeoutError(FedclRuntimeError):
    """The target's handler did not answer an rpc in time; the handler was cancelled."""

    def __init__(self, source: str, target: str, message_type: str, timeout: float) -> None:
        self.source = source
        self.target = target
        self.message_type = message_type
        self.timeout = timeout
        super().__init__(
            f"rpc {message_type} from {source} to {target} timed out after {timeout:g}s "
            f"without an answer"
        )


class RemoteException(Exception):
    """A handler's exception that happened in another process, rebuilt from its class name and message.

    Exceptions cross the network as text (never pickled): ``type_name`` is the name of the
    original class (``ValueError``), ``str()`` its message, so a RemoteHandlerError reads
    the same whichever transport carried it."""

    def __init__(self, type_name: str, message: str) -> None:
        self.type_name = type_name
        self.message = message
        super().__init__(message)


def exception_name(error: BaseException) -> str:
    """The class name of ``error``, or of the remote exception it stands for."""
    return error.type_name if isinstance(error, RemoteException) else type(error).__name__


class RemoteHandlerError(FedclRuntimeError):
    """The target's handler raised; the original exception is chained as ``__cause__``.

    Over the network the original is a :class:`RemoteException` carrying its class name and message."""

    def __init__(self, source: str, target: str, message_type: str, original: BaseException) -> None:
        self.source = source
        self.target = target
        self.message_type = message_type
        self.original = original
        super().__init__(
            f"rpc {message_type} from {source} to {target} failed in the handler: "
            f"{exception_name(original)}: {original}"
        )


class TransportError(FedclRuntimeError):
    """The network could not carry a message (a network transport only; the memory transport never fails so)."""


class NodeUnavailableError(TransportError):
    """The target's process could not be reached, or went away while it held the message.

    ``address`` is where the target was expected, ``detail`` what the network said."""

    def __init__(
        self, source: str, target: str, message_type: str, address: str, detail: str, mechanism: str = "rpc"
    ) -> None:
        self.source = source
        self.target = target
        self.message_type = message_type
        self.address = address
        self.detail = detail
        self.mechanism = mechanism
        super().__init__(
            f"{mechanism} {message_type} from {source} to {target} failed: {target} at {address} "
            f"is unavailable ({detail})"
        )


class MechanismMismatchError(FedclRuntimeError):
    """A message type was sent on one mechanism to a node that handles it only on the other.

    This is the seed's bug (SHUTDOWN pushed as an event to clients that
    registered an rpc handler): raised at the send instead of dropping the
    message and reporting success.
    """

    def __init__(self, message_type: str, node_id: str, used: str, registered: str) -> None:
        self.message_type = message_type
        self.node_id = node_id
        self.used = used
        self.registered = registered
        super().__init__(
            f"{message_type} was sent as {_ARTICLE[used]} to {node_id}, which registered it only as "
            f"{_HANDLER_NOUN[registered]} ({_HOW_TO_REGISTER[registered]}); send it with "
            f"{_HOW_TO_SEND[registered]}, or register {_HANDLER_NOUN[used]}"
            + (" (register_message_handler)" if used == "rpc" else "")
        )


@dataclass(frozen=True)
class DeadLetter:
    """An event that reached no listener, kept so the application can see what was lost.

    It lives here, beside the error that carries it, so errors.py imports nothing from
    transport.py (which imports this module): the runtime has no import cycle."""

    source: str
    target: str
    event_type: str
    data: Any
    reason: str


class UndeliveredEventError(FedclRuntimeError):
    """Strict mode only: an event reached no listener (or a listener failed)."""

    def __init__(self, dead_letter: DeadLetter) -> None:
        self.dead_letter = dead_letter
        super().__init__(
            f"event {dead_letter.event_type} from {dead_letter.source} to {dead_letter.target} "
            f"was not delivered: {dead_letter.reason}"
        )
