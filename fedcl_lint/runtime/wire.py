"""What the network transport puts on the wire: JSON documents, checked field by field.

Every request and every answer is one UTF-8 JSON object (never pickle: a
received message is data, decoding it runs no code), with a version field
``"v"``. Failures travel as data too: an answer names the kind of refusal
(``mechanism_mismatch``, ``unhandled``, ``timeout``, ``handler``, ...) and
the sender raises the same exception the memory transport raises, so a
MechanismMismatchError happens on the sender, said by the receiver.

Requests (sender -> the target's server)::

    rpc:   {"v": 1, "source", "target", "reply_to", "timeout", "payload"}
    event: {"v": 1, "source", "target", "reply_to", "timeout", "event_type", "data"}

``reply_to`` is the address the source node serves on (or null): the
receiver learns from it where to reach the source, which is how a server
finds its clients, and a restarted client its new place.

Answers::

    rpc:   {"v": 1, "ok": true, "value": ...}  or  {"v": 1, "ok": false, "error": {"kind": ..., ...}}
    event: {"v": 1, "delivered": n, "failures": [{"reason", "exception_type", "message"}], "error": null | {...}}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .errors import (
    FedclRuntimeError,
    MechanismMismatchError,
    RemoteException,
    TransportError,
    UnhandledMessageError,
    exception_name,
)

__all__ = [
    "VERSION",
    "EventAnswer",
    "EventRequest",
    "Failure",
    "ProtocolError",
    "RpcRequest",
    "decode",
    "encode",
]

VERSION: Final = 1

# The longest wait a request may ask of its receiver: a day; beyond is a malformed request.
MAX_TIMEOUT: Final = 86_400.0

# Kinds of the error an answer carries.
MISMATCH: Final = "mechanism_mismatch"
UNHANDLED: Final = "unhandled"
TIMEOUT: Final = "timeout"
HANDLER: Final = "handler"
WRONG_NODE: Final = "wrong_node"
BAD_REQUEST: Final = "bad_request"


class ProtocolError(TransportError):
    """A message on the wire that is not what this protocol sends: not JSON, a missing field, a wrong type."""


def encode(document: Mapping[str, Any]) -> bytes:
    """One document as compact UTF-8 JSON; TypeError naming the offending value if it is not JSON data."""
    try:
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:  # a set, an object, a circular reference, ...
        raise TypeError(f"the message is not JSON data, so it cannot cross the network: {exc}") from None


def decode(raw: bytes) -> dict[str, Any]:
    """A received document: a JSON object of this protocol's version, or ProtocolError."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"not a JSON document: {type(exc).__name__}: {exc}"[:300]) from None
    if not isinstance(document, dict):
        raise ProtocolError(f"expected a JSON object, got {type(document).__name__}")
    if document.get("v") != VERSION:
        raise ProtocolError(f"unsupported protocol version {document.get('v')!r} (this side speaks {VERSION})")
    return document


def _field(document: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ProtocolError(f"field {name!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _timeout(document: Mapping[str, Any]) -> float:
    value = float(_field(document, "timeout", (int, float)))
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ProtocolError(f"timeout {value!r} is not in (0, {MAX_TIMEOUT:g}] seconds")
    return value


def _reply_to(document: Mapping[str, Any]) -> str | None:
    value = document.get("reply_to")
    if value is not None and not isinstance(value, str):
        raise ProtocolError("field 'reply_to' is not a str")
    return value


@dataclass(frozen=True)
class RpcRequest:
    source: str
    target: str
    reply_to: str | None
    timeout: float
    payload: Any

    def to_bytes(self) -> bytes:
        return encode({**_routing_fields(self), "payload": self.payload})

    @classmethod
    def from_bytes(cls, raw: bytes) -> RpcRequest:
        document = decode(raw)
        payload = document.get("payload")
        if not (isinstance(payload, dict) and isinstance(payload.get("message_type"), str)):
            raise ProtocolError("field 'payload' is not an object with a str 'message_type'")
        return cls(*_routing(document), payload)


@dataclass(frozen=True)
class EventRequest:
    source: str
    target: str
    reply_to: str | None
    timeout: float
    event_type: str
    data: Any

    def to_bytes(self) -> bytes:
        return encode({**_routing_fields(self), "event_type": self.event_type, "data": self.data})

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventRequest:
        document = decode(raw)
        return cls(*_routing(document), _field(document, "event_type", str), document.get("data"))


def _routing_fields(request: RpcRequest | EventRequest) -> dict[str, Any]:
    """What every request carries besides its message: who sends it to whom, where the answer goes,
    how long the sender waits."""
    return {"v": VERSION, "source": request.source, "target": request.target, "reply_to": request.reply_to,
            "timeout": request.timeout}


def _routing(document: Mapping[str, Any]) -> tuple[str, str, str | None, float]:
    """`_routing_fields` read back, each checked."""
    return _field(document, "source", str), _field(document, "target", str), _reply_to(document), _timeout(document)


# ------------------------------------------------------------------ answers


def rpc_value(value: Any) -> bytes:
    """The answer to an rpc whose handler returned ``value`` (TypeError if it is not JSON data)."""
    return encode({"v": VERSION, "ok": True, "value": value})


def rpc_error(error: Mapping[str, Any]) -> bytes:
    return encode({"v": VERSION, "ok": False, "error": dict(error)})


def refusal(error: FedclRuntimeError) -> dict[str, Any]:
    """The guard's refusal on the receiver, as data the sender turns back into the same exception."""
    if isinstance(error, MechanismMismatchError):
        return {"kind": MISMATCH, "used": error.used, "registered": error.registered}
    if isinstance(error, UnhandledMessageError):
        return {"kind": UNHANDLED, "handled": list(error.handled)}
    return {"kind": BAD_REQUEST, "detail": str(error)}


def handler_failure(error: BaseException) -> dict[str, Any]:
    """A handler's exception as data: its class name and message, no traceback, no object."""
    return {"kind": HANDLER, "exception_type": exception_name(error), "message": str(error)[:4000]}


@dataclass(frozen=True)
class Failure:
    """Why one listener (or the whole target) did not receive an event."""

    reason: str
    exception_type: str | None = None
    message: str = ""

    def cause(self) -> RemoteException | None:
        return RemoteException(self.exception_type, self.message) if self.exception_type else None

    @classmethod
    def of(cls, reason: str, error: BaseException | None) -> Failure:
        if error is None:
            return cls(reason)
        return cls(reason, exception_name(error), str(error)[:4000])


@dataclass(frozen=True)
class EventAnswer:
    delivered: int
    failures: tuple[Failure, ...] = ()
    error: Mapping[str, Any] | None = None

    def to_bytes(self) -> bytes:
        return encode(
            {
                "v": VERSION,
                "delivered": self.delivered,
                "failures": [
                    {"reason": f.reason, "exception_type": f.exception_type, "message": f.message}
                    for f in self.failures
                ],
                "error": dict(self.error) if self.error is not None else None,
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventAnswer:
        document = decode(raw)
        delivered = _field(document, "delivered", int)
        failures = []
        for item in _field(document, "failures", list):
            if not isinstance(item, dict):
                raise ProtocolError("a failure is not an object")
            exception_type = item.get("exception_type")
            if exception_type is not None and not isinstance(exception_type, str):
                raise ProtocolError("field 'exception_type' is not a str")
            failures.append(Failure(_field(item, "reason", str), exception_type, str(item.get("message", ""))))
        error = document.get("error")
        if error is not None and not isinstance(error, dict):
            raise ProtocolError("field 'error' is not an object")
        return cls(delivered, tuple(failures), error)


def rpc_answer(raw: bytes) -> tuple[bool, Any]:
    """``(True, value)`` or ``(False, error document)`` from an rpc's answer."""
    document = decode(raw)
    ok = _field(document, "ok", bool)
    if ok:
        return True, document.get("value")
    return False, _field(document, "error", dict)
