"""Message types of the reference runtime.

One module-level constant per message type, so that every send and every
handler registration names its type by a constant a static reader can resolve
(fedcl-lint checks the runtime's own source). The comment on each constant
states the one mechanism the type travels on: the sender and the receiver must
agree on it, which is exactly what the seed's SHUTDOWN bug got wrong.
"""

from __future__ import annotations

__all__ = ["CLIENT_REGISTERED", "HEARTBEAT", "REGISTRATION", "SHUTDOWN", "TRAIN"]

# rpc: client -> server; handled by every CommunicationManager (built-in).
REGISTRATION = "registration"

# rpc: client -> server; handled by every CommunicationManager (built-in).
HEARTBEAT = "heartbeat"

# rpc: server -> client; the client answers with its local update.
TRAIN = "train"

# rpc: server -> client; the answer is the client's acknowledgement.
SHUTDOWN = "SHUTDOWN"

# event: server -> client; a notification, nobody answers it.
CLIENT_REGISTERED = "CLIENT_REGISTERED"
