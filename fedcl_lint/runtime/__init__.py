"""Reference runtime of the MOE-FedCL messaging model (asyncio, standard library only).

It implements both mechanisms the linter reasons about, rpc and events, with
the failures made loud: a message type sent on the mechanism its receiver does
not use raises MechanismMismatchError at the first send (the seed's SHUTDOWN
bug), and ``MemoryTransport.recorded_protocol`` lists what actually happened,
to cross-check the static linter's view of this package.
"""

from .errors import (
    DeadLetter,
    DuplicateRegistrationError,
    FedclRuntimeError,
    MechanismMismatchError,
    RemoteHandlerError,
    RpcTimeoutError,
    UndeliveredEventError,
    UnhandledMessageError,
    UnknownNodeError,
)
from .federation import Client, FederationResult, Server, ShutdownReport, run_federation
from .manager import CommunicationManager, MessageHandler
from .messages import CLIENT_REGISTERED, HEARTBEAT, REGISTRATION, SHUTDOWN, TRAIN
from .transport import (
    EVENT,
    HANDLE,
    RPC,
    SEND,
    EventListener,
    MemoryTransport,
    RequestHandler,
    TracedMessage,
    TraceObserver,
)

__all__ = [
    "CLIENT_REGISTERED",
    "EVENT",
    "HANDLE",
    "HEARTBEAT",
    "REGISTRATION",
    "RPC",
    "SEND",
    "SHUTDOWN",
    "TRAIN",
    "Client",
    "CommunicationManager",
    "DeadLetter",
    "DuplicateRegistrationError",
    "EventListener",
    "FederationResult",
    "FedclRuntimeError",
    "MechanismMismatchError",
    "MemoryTransport",
    "MessageHandler",
    "RemoteHandlerError",
    "RequestHandler",
    "RpcTimeoutError",
    "Server",
    "ShutdownReport",
    "TraceObserver",
    "TracedMessage",
    "UndeliveredEventError",
    "UnhandledMessageError",
    "UnknownNodeError",
    "run_federation",
]
