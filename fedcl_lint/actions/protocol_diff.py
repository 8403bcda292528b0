"""Protocol diff: what a change does to the protocol, for a pull-request gate.

Compares two protocol manifests (`fedcl-lint table --format json`) by message
type, never by location: code moving around is not a protocol change. Nodes
of a federation are upgraded one at a time, so a change is breaking when a
peer still running the old code can no longer talk to the new code:

- `removed`: the type is gone; breaking if it had a handler (someone may still send it);
- `mechanism-changed`: its mechanisms differ; breaking if a mechanism that worked
  (sent and handled on it) no longer does. Fixing a mismatch is not breaking;
- `handler-removed`: the handler on a mechanism is gone while the type is still
  sent on it: always breaking;
- `added`: a new type, never breaking.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from fedcl_lint.files import json_text, parse_structured, read_user_text
from fedcl_lint.types import Mechanism, Role, plural

MANIFEST_VERSION = 1


class ManifestError(Exception):
    """A file that is not a protocol manifest; the message names it."""


@dataclass(frozen=True)
class Site:
    role: Role
    mechanism: Mechanism
    where: str  # path:line:column


@dataclass(frozen=True)
class Message:
    """One message type of a manifest, reduced to what the protocol is made of."""

    message_type: str
    sites: tuple[Site, ...]

    def mechanisms(self, role: Role | None = None) -> frozenset[Mechanism]:
        return frozenset(s.mechanism for s in self.sites if role is None or s.role is role)

    def working(self) -> frozenset[Mechanism]:
        """The mechanisms on which the type is both sent and handled."""
        return self.mechanisms(Role.SEND) & self.mechanisms(Role.HANDLE)

    def where(self, role: Role, mechanism: Mechanism) -> tuple[str, ...]:
        return tuple(s.where for s in self.sites if s.role is role and s.mechanism is mechanism)


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "mechanism-changed", "handler-removed"
    message_type: str
    breaking: bool
    description: str


def parse_manifest(document: object, display: str) -> dict[str, Message]:
    """The message types of a `table --format json` document; `display` names it in errors."""
    if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION:
        raise ManifestError(
            f"{display}: not a fedcl-lint protocol manifest (expected the output of "
            f"`fedcl-lint table --format json`, version {MANIFEST_VERSION})"
        )
    messages = document.get("messages")
    if not isinstance(messages, list):
        raise ManifestError(f"{display}: `messages`: expected an array")
    parsed = {}
    for index, raw in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("message_type"), str):
            raise ManifestError(f"{display}: `{where}`: expected an object with a `message_type`")
        raw_sites = raw.get("sites", [])
        if not isinstance(raw_sites, list):
            raise ManifestError(f"{display}: `{where}.sites`: expected an array")
        sites = []
        for site_index, site in enumerate(raw_sites):
            try:
                sites.append(
                    Site(Role(site["role"]), Mechanism(site["mechanism"]),
                         f"{site['path']}:{site['line']}:{site['column']}")
                )
            except (KeyError, TypeError, ValueError):
                raise ManifestError(
                    f"{display}: `{where}.sites[{site_index}]`: expected role, mechanism, path, line and column"
                ) from None
        parsed[raw["message_type"]] = Message(raw["message_type"], tuple(sites))
    return parsed


def load_manifest(path: Path, display: str) -> dict[str, Message]:
    text = read_user_text(path, display, ManifestError, "manifest not found")
    document = parse_structured(json.loads, text, display, ManifestError, "invalid JSON")
    return parse_manifest(document, display)


def diff_protocols(old: dict[str, Message], new: dict[str, Message]) -> tuple[Change, ...]:
    """Every protocol change from `old` to `new`, sorted by message type."""
    changes = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before is None and after is not None:
            changes.append(Change("added", name, False, f"new message type, {_mechanisms(after.mechanisms())}"))
        elif after is None and before is not None:
            handled = bool(before.mechanisms(Role.HANDLE))
            changes.append(
                Change("removed", name, handled,
                       f"no longer sent or handled (was {_mechanisms(before.mechanisms())})"
                       + ("; peers running the old code may still send it" if handled else ""))
            )
        elif before is not None and after is not None:
            changes.extend(_changes_of(before, after))
    return tuple(changes)


def _changes_of(before: Message, after: Message) -> list[Change]:
    name = before.message_type
    handler_removed = frozenset(
        m for m in before.mechanisms(Role.HANDLE) - after.mechanisms(Role.HANDLE) if after.where(Role.SEND, m)
    )
    changes = []
    send_changed = before.mechanisms(Role.SEND) != after.mechanisms(Role.SEND)
    handle_changed = before.mechanisms(Role.HANDLE) - handler_removed != after.mechanisms(Role.HANDLE)
    if send_changed or handle_changed:
        # what a peer running the old code can no longer do with the new code: send to its
        # handlers, or receive from its senders (for a message type that worked before)
        old_to_new = before.working() - after.mechanisms(Role.HANDLE)
        new_to_old = after.mechanisms(Role.SEND) - before.mechanisms(Role.HANDLE) if before.working() else frozenset()
        lost = (old_to_new | new_to_old) - handler_removed
        changes.append(
            Change(
                "mechanism-changed", name, bool(lost),
                f"{_shape(before)} -> {_shape(after)}"
                + (f"; {_mechanisms(lost)} no longer work{'s' if len(lost) == 1 else ''} with peers running "
                   f"the old code" if lost else ""),
            )
        )
    for mechanism in sorted(handler_removed, key=list(Mechanism).index):
        changes.append(
            Change(
                "handler-removed", name, True,
                f"the {mechanism.value} handler was removed but it is still sent on {mechanism.value} "
                f"at {', '.join(after.where(Role.SEND, mechanism))}",
            )
        )
    return changes


def _mechanisms(mechanisms: frozenset[Mechanism]) -> str:
    return " and ".join(m.value for m in Mechanism if m in mechanisms) or "no mechanism"


def _shape(message: Message) -> str:
    return (
        f"sent on {_mechanisms(message.mechanisms(Role.SEND)) if message.mechanisms(Role.SEND) else 'nothing'}, "
        f"handled on {_mechanisms(message.mechanisms(Role.HANDLE)) if message.mechanisms(Role.HANDLE) else 'nothing'}"
    )


def render_text(changes: tuple[Change, ...]) -> str:
    if not changes:
        return "No protocol changes.\n"
    width = max(len(c.kind) for c in changes)
    lines = [
        f"{'BREAKING' if c.breaking else 'ok':<8}  {c.kind:<{width}}  {c.message_type}: {c.description}"
        for c in changes
    ]
    breaking = sum(1 for c in changes if c.breaking)
    lines.append(f"{plural(len(changes), 'protocol change')}, {breaking} breaking.")
    return "\n".join(lines) + "\n"


def render_json(changes: tuple[Change, ...]) -> str:
    document = {
        "version": 1,
        "changes": [
            {"kind": c.kind, "message_type": c.message_type, "breaking": c.breaking, "description": c.description}
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
