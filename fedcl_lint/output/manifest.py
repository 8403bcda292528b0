"""The protocol manifest (`table --format json`, `version: 2`): the protocol model as JSON, and back.

Writing and reading live side by side so that they cannot drift: `parse_manifest`
reads what `manifest_document` writes. Extra fields may be added, never removed; a
manifest written before a field existed still reads, with that field empty.

Version 2 added int message types: `message_type` is the JSON value (a string or a number) with
its `name` beside it (null for a string, or an int the code never names). Version 1 manifests,
whose message types are all strings, still read.

Channels (rule packs of version 2) added, within version 2: a top-level `channels` (the packs'
channels in their order, each `{"name", "local"}`), and `serves` on a handle site whose registry
serves more than one channel (its `mechanism` is then the first of them). `mechanism` stays the
field of a site's channel. A manifest without them reads as before: channels rpc then event, and
each handle site serving its `mechanism` alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TypeVar

from fedcl_lint.analysis.link import Step, Wrapper
from fedcl_lint.analysis.protocol import Channel, Message, Protocol, Site, Unresolved
from fedcl_lint.files import parse_structured, read_user_text
from fedcl_lint.types import Location, Mechanism, MessageType, Role

MANIFEST_VERSION = 2
_READABLE = (1, 2)  # version 1: string message types only, no `name`
_VIA = " -> "
_SITE_FIELDS = "expected role, mechanism, path, line and column"
_WRAPPER_FIELDS = "expected function, role, mechanism, path, line and column"
_STEP_FIELDS = "expected a `step`, with all of path, line and column or none"

JsonObject = dict[str, object]
_Member = TypeVar("_Member", bound=Enum)


class ManifestError(Exception):
    """A file that is not a protocol manifest; the message names it."""


# --- writing -------------------------------------------------------------------------------------


def manifest_document(protocol: Protocol) -> JsonObject:
    """What `table --format json` prints: for CI and scripts, and for a later `diff`. With protocol
    scopes, `protocols` names them and each message and unresolved site says its `protocol`
    (null for a site of the shared code); without, neither key is written."""
    scoped = bool(protocol.scopes)
    document: JsonObject = {
        "version": MANIFEST_VERSION,
        **({"protocols": list(protocol.scopes)} if scoped else {}),
        **({"channels": [{"name": c.name.value, "local": c.local} for c in protocol.channels]}
           if protocol.channels else {}),
        "messages": [_message_json(message, scoped, protocol.mechanisms_of) for message in protocol.messages],
        "unresolved": [
            {**({"protocol": u.scope} if scoped else {}), **_site_json(u.site), "reason": u.reason,
             **({"pattern": u.pattern} if u.pattern is not None else {})}
            for u in protocol.unresolved
        ],
        "wrappers": [_wrapper_json(wrapper) for wrapper in protocol.wrappers],
        "summary": {"call_sites": protocol.site_count, "resolved_call_sites": protocol.resolved_count},
    }
    return document


def _message_json(message: Message, scoped: bool, order: Callable[[Message], tuple[Mechanism, ...]]) -> JsonObject:
    return {
        **({"protocol": message.scope} if scoped else {}),
        "message_type": message.message_type.value,
        "name": message.message_type.name,
        "status": message.status.value,
        "mechanisms": [m.value for m in order(message)],
        "sites": [_site_json(site) for site in message.sites],
    }


def _site_json(site: Site) -> JsonObject:
    return {
        "role": site.role.value,
        "mechanism": site.mechanism.value,
        **_location_json(site.location),
        "api": site.api,
        "via": _VIA.join(site.via) if site.via else None,
        "function": site.function,
        "handler": site.handler,
        "resolution": [
            {"step": step.description, **(_location_json(step.location) if step.location else {})}
            for step in site.resolution
        ],
        **({"built_at": _location_json(site.built_at)} if site.built_at is not None else {}),
        **({"serves": [m.value for m in site.serves]} if site.serves else {}),
    }


def _wrapper_json(wrapper: Wrapper) -> JsonObject:
    return {
        "function": wrapper.qualname,
        **_location_json(wrapper.location),
        "role": wrapper.role.value,
        "mechanism": wrapper.mechanism.value,
        "via": _VIA.join(wrapper.via),
    }


def _location_json(location: Location) -> JsonObject:
    return {"path": location.path, "line": location.line, "column": location.column}


# --- reading -------------------------------------------------------------------------------------


class _Invalid(Exception):
    """A part of the document that is not what a manifest holds: where it is and what was expected."""

    def __init__(self, where: str, expected: str):
        super().__init__(f"`{where}`: {expected}")


def load_manifest(path: Path, display: str) -> Protocol:
    text = read_user_text(path, display, ManifestError, "manifest not found")
    return parse_manifest(parse_structured(json.loads, text, display, ManifestError, "invalid JSON"), display)


def parse_manifest(document: object, display: str) -> Protocol:
    """The protocol a `table --format json` document states; `display` names it in errors."""
    version = document.get("version") if isinstance(document, dict) else None
    if type(version) is not int or version not in _READABLE:
        raise ManifestError(
            f"{display}: not a fedcl-lint protocol manifest (expected the output of "
            f"`fedcl-lint table --format json`, version {' or '.join(map(str, _READABLE))})"
        )
    assert isinstance(document, dict)  # as `version` shows
    try:
        return Protocol(
            messages=tuple(
                _message(raw, f"messages[{i}]", version) for i, raw in _items(document.get("messages"), "messages")
            ),
            unresolved=tuple(
                _unresolved(raw, f"unresolved[{i}]") for i, raw in _items(document.get("unresolved", []), "unresolved")
            ),
            wrappers=tuple(
                _wrapper(raw, f"wrappers[{i}]") for i, raw in _items(document.get("wrappers", []), "wrappers")
            ),
            scopes=_scopes(document.get("protocols", [])),
            channels=_channels(document.get("channels", [])),
        )
    except _Invalid as exc:
        raise ManifestError(f"{display}: {exc}") from None


def _items(value: object, where: str) -> enumerate[object]:
    if not isinstance(value, list):
        raise _Invalid(where, "expected an array")
    return enumerate(value)


def _message(raw: object, where: str, version: int) -> Message:
    value = raw.get("message_type") if isinstance(raw, dict) else None
    if not isinstance(value, str) and (version < 2 or type(value) is not int):  # a JSON bool is no number
        kind = "a string" if version < 2 else "a string or an integer"
        raise _Invalid(where, f"expected an object with a `message_type` ({kind})")
    assert isinstance(raw, dict)  # as `value` shows
    name = _text(raw, "name", where) if version >= 2 and isinstance(value, int) else None
    sites = _items(raw.get("sites", []), f"{where}.sites")
    return Message(
        MessageType(value, name),
        tuple(_site(site, f"{where}.sites[{i}]") for i, site in sites),
        _text(raw, "protocol", where),
    )


def _scopes(value: object) -> tuple[str, ...]:
    names = tuple(name for _, name in _items(value, "protocols"))
    if not all(isinstance(name, str) for name in names):
        raise _Invalid("protocols", "expected an array of protocol names")
    return tuple(str(name) for name in names)


def _site(raw: object, where: str) -> Site:
    fields = _object(raw, where, _SITE_FIELDS)
    return Site(
        role=_enum(Role, fields.get("role"), where, _SITE_FIELDS),
        mechanism=_channel(fields.get("mechanism"), where, _SITE_FIELDS),
        location=_location(fields, where, _SITE_FIELDS),
        api=_text(fields, "api", where) or "",
        via=_chain(_text(fields, "via", where)),
        function=_text(fields, "function", where),
        handler=_text(fields, "handler", where),
        resolution=_steps(fields, f"{where}.resolution"),
        built_at=_location(_object(fields["built_at"], f"{where}.built_at", _SITE_FIELDS), f"{where}.built_at",
                           _SITE_FIELDS) if fields.get("built_at") is not None else None,
        serves=_serves(fields, where),
    )


def _unresolved(raw: object, where: str) -> Unresolved:
    fields = _object(raw, where, _SITE_FIELDS)
    return Unresolved(_site(raw, where), _text(fields, "reason", where), _text(fields, "protocol", where),
                      _text(fields, "pattern", where))


def _steps(fields: JsonObject, where: str) -> tuple[Step, ...]:
    return tuple(_step(raw, f"{where}[{i}]") for i, raw in _items(fields.get("resolution", []), where))


def _step(raw: object, where: str) -> Step:
    fields = _object(raw, where, _STEP_FIELDS)
    description = fields.get("step")
    if not isinstance(description, str):
        raise _Invalid(where, _STEP_FIELDS)
    located = any(key in fields for key in ("path", "line", "column"))
    return Step(description, _location(fields, where, _STEP_FIELDS) if located else None)


def _wrapper(raw: object, where: str) -> Wrapper:
    fields = _object(raw, where, _WRAPPER_FIELDS)
    qualname = fields.get("function")
    if not isinstance(qualname, str):
        raise _Invalid(where, _WRAPPER_FIELDS)
    return Wrapper(
        qualname=qualname,
        location=_location(fields, where, _WRAPPER_FIELDS),
        role=_enum(Role, fields.get("role"), where, _WRAPPER_FIELDS),
        mechanism=_channel(fields.get("mechanism"), where, _WRAPPER_FIELDS),
        via=_chain(_text(fields, "via", where)),
    )


def _chain(via: str | None) -> tuple[str, ...]:
    """A `via` read back into its calls; an empty chain is written as null or ""."""
    return tuple(via.split(_VIA)) if via else ()


def _object(raw: object, where: str, expected: str) -> JsonObject:
    if not isinstance(raw, dict):
        raise _Invalid(where, expected)
    return raw


def _location(fields: JsonObject, where: str, expected: str) -> Location:
    path, line, column = fields.get("path"), fields.get("line"), fields.get("column")
    if not isinstance(path, str) or type(line) is not int or type(column) is not int:  # a JSON bool is no number
        raise _Invalid(where, expected)
    return Location(path, line, column)


def _enum(kind: type[_Member], value: object, where: str, expected: str) -> _Member:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise _Invalid(where, expected) from None


def _channel(value: object, where: str, expected: str) -> Mechanism:
    """A channel's name: any non-empty string (a version 2 rule pack names its own channels)."""
    if not isinstance(value, str) or not value:
        raise _Invalid(where, expected)
    return Mechanism(value)


def _channels(value: object) -> tuple[Channel, ...]:
    """The top-level `channels`: the rule packs' channels in their order (absent: written before them)."""
    found = []
    for index, raw in _items(value, "channels"):
        where = f"channels[{index}]"
        fields = _object(raw, where, "expected an object with a `name`")
        local = fields.get("local", False)
        if not isinstance(local, bool):
            raise _Invalid(f"{where}.local", "expected true or false")
        found.append(Channel(_channel(fields.get("name"), where, "expected an object with a `name`"), local))
    return tuple(found)


def _serves(fields: JsonObject, where: str) -> tuple[Mechanism, ...]:
    return tuple(_channel(name, f"{where}.serves[{i}]", "expected a channel name")
                 for i, name in _items(fields.get("serves", []), f"{where}.serves"))


def _text(fields: JsonObject, key: str, where: str) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"{where}.{key}", "expected a string or null")
    return value
