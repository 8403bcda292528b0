"""Reference runtime of the MOE-FedCL messaging model (asyncio, standard library only).

It implements both mechanisms the linter reasons about, rpc and events, with
the failures made loud: a message type sent on the mechanism its receiver does
not use raises MechanismMismatchError at the first send (the seed's SHUTDOWN
bug), and ``MemoryTransport.recorded_protocol`` lists what actually happened,
to cross-check the static linter's view of this package.

The same nodes run across processes on ``GrpcTransport``
(``fedcl_lint.runtime.grpc_transport``, needs grpcio: ``fedcl-lint[grpc]``), one
process per node with ``python -m fedcl_lint.runtime.node`` (started and
watched by ``fedcl_lint.runtime.processes``). See docs/runtime.md.
"""

from .errors import (
    DeadLetter,
    DuplicateRegistrationError,
    FedclRuntimeError,
    MechanismMismatchError,
    NodeUnavailableError,
    RemoteException,
    RemoteHandlerError,
    RpcTimeoutError,
    TransportError,
    UndeliveredEventError,
    UnhandledMessageError,
    UnknownNodeError,
)
from .federation import Client, FederationResult, RoundReport, Server, ShutdownReport, run_federation
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
    TransportBase,
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
    "NodeUnavailableError",
    "RemoteException",
    "RemoteHandlerError",
    "RequestHandler",
    "RoundReport",
    "RpcTimeoutError",
    "Server",
    "ShutdownReport",
    "TraceObserver",
    "TracedMessage",
    "TransportBase",
    "TransportError",
    "UndeliveredEventError",
    "UnhandledMessageError",
    "UnknownNodeError",
    "run_federation",
]
