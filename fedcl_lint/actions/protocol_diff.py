"""Protocol diff: what a change does to the protocol, for a pull-request gate.

Compares two protocols (read from manifests, `fedcl-lint table --format json`, of
version 1 or 2, or built from two analyses) by message type, never by location: code moving
around is not a protocol change. Nodes of a federation are upgraded one at a
time, so a change is breaking when a peer still running the old code can no
longer talk to the new code:

- `removed`: the type is gone; breaking if it had a handler (someone may still send it);
- `mechanism-changed`: its mechanisms differ; breaking if a mechanism that worked
  (sent and handled on it) no longer does. Fixing a mismatch is not breaking;
- `handler-removed`: the handler on a mechanism is gone while the type is still
  sent on it: always breaking;
- `added`: a new type, never breaking.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fedcl_lint.analysis.protocol import Message, Protocol
from fedcl_lint.files import json_text
from fedcl_lint.types import Mechanism, MessageType, Role, ordered, plural


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "mechanism-changed", "handler-removed"
    message_type: MessageType  # by the new protocol's name for it, when it has the type
    breaking: bool
    description: str
    protocol: str | None = None  # the protocol scope of the message type, with scopes


def diff_protocols(old: Protocol, new: Protocol) -> tuple[Change, ...]:
    """Every protocol change from `old` to `new`, sorted by protocol scope and message type. A message
    type is compared within its scope: one that moves to another scope is removed from one, added to the other."""
    before_by_type, after_by_type = _by_type(old), _by_type(new)
    order = new.channel_order
    changes = []
    for key in sorted(before_by_type.keys() | after_by_type.keys(), key=lambda k: (k[0] or "", k[1].sort_key)):
        before, after = before_by_type.get(key), after_by_type.get(key)
        scope, name = key
        if after is not None:
            name = after.message_type  # shown by the new protocol's name for it
        if before is None and after is not None:
            changes.append(Change("added", name, False, f"new message type, {_mechanisms(after.mechanisms, order)}",
                                  scope))
        elif after is None and before is not None:
            handled = bool(before.handled_on)
            changes.append(
                Change("removed", name, handled,
                       f"no longer sent or handled (was {_mechanisms(before.mechanisms, order)})"
                       + ("; peers running the old code may still send it" if handled else ""), scope)
            )
        elif before is not None and after is not None:
            changes.extend(_changes_of(before, after, order))
    return tuple(changes)


def _by_type(protocol: Protocol) -> dict[tuple[str | None, MessageType], Message]:
    """The messages by protocol scope and message type: what a change is keyed by, wherever the code moved."""
    return {(message.scope, message.message_type): message for message in protocol.messages}


def _changes_of(before: Message, after: Message, order: tuple[Mechanism, ...]) -> list[Change]:
    name = after.message_type
    handler_removed = frozenset(m for m in before.handled_on - after.handled_on if after.locations(Role.SEND, m))
    changes = []
    send_changed = before.sent_on != after.sent_on
    handle_changed = before.handled_on - handler_removed != after.handled_on
    if send_changed or handle_changed:
        # what a peer running the old code can no longer do with the new code: send to its
        # handlers, or receive from its senders (for a message type that worked before)
        old_to_new = before.working - after.handled_on
        new_to_old = after.sent_on - before.handled_on if before.working else frozenset()
        lost = (old_to_new | new_to_old) - handler_removed
        changes.append(
            Change(
                "mechanism-changed", name, bool(lost),
                f"{_shape(before, order)} -> {_shape(after, order)}"
                + (f"; {_mechanisms(lost, order)} no longer work{'s' if len(lost) == 1 else ''} with peers running "
                   f"the old code" if lost else ""),
                before.scope,
            )
        )
    for mechanism in ordered(handler_removed, order):
        changes.append(
            Change(
                "handler-removed", name, True,
                f"the {mechanism.value} handler was removed but it is still sent on {mechanism.value} "
                f"at {', '.join(str(where) for where in after.locations(Role.SEND, mechanism))}",
                before.scope,
            )
        )
    return changes


def _mechanisms(mechanisms: Collection[Mechanism], order: tuple[Mechanism, ...]) -> str:
    return " and ".join(m.value for m in ordered(mechanisms, order)) or "no mechanism"


def _shape(message: Message, order: tuple[Mechanism, ...]) -> str:
    return (
        f"sent on {_mechanisms(message.sent_on, order) if message.sent_on else 'nothing'}, "
        f"handled on {_mechanisms(message.handled_on, order) if message.handled_on else 'nothing'}"
    )


def render_text(changes: tuple[Change, ...]) -> str:
    if not changes:
        return "No protocol changes.\n"
    width = max(len(c.kind) for c in changes)
    lines = [
        f"{'BREAKING' if c.breaking else 'ok':<8}  {c.kind:<{width}}  "
        f"{c.message_type}{f' [{c.protocol}]' if c.protocol is not None else ''}: {c.description}"
        for c in changes
    ]
    breaking = sum(1 for c in changes if c.breaking)
    lines.append(f"{plural(len(changes), 'protocol change')}, {breaking} breaking.")
    return "\n".join(lines) + "\n"


def render_json(changes: tuple[Change, ...]) -> str:
    scoped = any(c.protocol is not None for c in changes)  # `protocol` only where scopes are
    document = {
        "version": 1,
        "changes": [
            {"kind": c.kind, "message_type": c.message_type.value,
             **({"name": c.message_type.name} if c.message_type.name else {}),  # an int the code names
             **({"protocol": c.protocol} if scoped else {}),
             "breaking": c.breaking, "description": c.description}
            for c in changes
        ],
        "summary": {"changes": len(changes), "breaking": sum(1 for c in changes if c.breaking)},
    }
    return json_text(document)


class GitError(Exception):
    """git could not give the tree of a revision."""


@contextmanager
def tree_at(revision: str, cwd: Path) -> Iterator[tuple[Path, Path]]:
    """The repository holding `cwd` as it was at `revision`, unpacked in a temporary folder.

    Yields (repository top, the unpacked copy of it). Nothing in the repository
    is changed: the files come from `git archive`. The copy is a repository too, with the
    same `.git/info/exclude` (it is not versioned), so that both sides ignore the same files.
    """
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    archive = _git(["archive", "--format=tar", revision], top)
    exclude = top / _git(["rev-parse", "--git-path", "info/exclude"], top).decode().strip()
    with tempfile.TemporaryDirectory(prefix="fedcl-lint-base-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(folder, filter="data")
            else:  # pragma: no cover - Python without extraction filters (before 3.10.12)
                tar.extractall(folder)
        info = Path(folder) / ".git" / "info"
        info.mkdir(parents=True)
        (info.parent / "HEAD").write_text("ref: refs/heads/fedcl-lint-base\n")
        if exclude.is_file():
            (info / "exclude").write_bytes(exclude.read_bytes())
        yield top, Path(folder)


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (needed by --base)") from None
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip() or f"git {args[0]} failed"
        raise GitError(message)
    return completed.stdout
