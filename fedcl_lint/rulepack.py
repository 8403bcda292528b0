"""Rule packs: the messaging API of a framework, declared in TOML.

A pack says which calls send or handle messages, on which mechanism, and
where the message type and handler sit among the arguments. The engine knows
no API names of its own; everything comes from here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from fedcl_lint.types import Mechanism, Role

BUILTIN_PACKS = ("fedcl",)


class RulePackError(Exception):
    """A rule pack that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ArgSlot:
    """Where an argument sits: 0-based position after the receiver, or keyword."""

    position: int | None
    keyword: str | None


@dataclass(frozen=True)
class CallSpec:
    """One call of the API: e.g. `send_business_message` sends over rpc."""

    name: str
    role: Role
    mechanism: Mechanism
    message_type: ArgSlot
    handler: ArgSlot | None


@dataclass(frozen=True)
class MechanismDoc:
    title: str
    description: str


@dataclass(frozen=True)
class RulePack:
    """One or more merged packs, ready for the engine."""

    names: tuple[str, ...]
    calls: tuple[CallSpec, ...]
    mechanisms: dict[Mechanism, MechanismDoc]

    def call(self, name: str) -> CallSpec | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, CallSpec]:
        return {spec.name: spec for spec in self.calls}

    def call_names(self, mechanism: Mechanism, role: Role) -> list[str]:
        """API names that do `role` on `mechanism`, in pack order (for fix hints)."""
        return [c.name for c in self.calls if c.mechanism is mechanism and c.role is role]

    @property
    def fingerprint(self) -> str:
        """A stable text that changes whenever the pack's meaning changes (cache key)."""
        return repr((self.names, self.calls))


def builtin_pack_path(name: str) -> Path:
    """Built-in packs ship inside the wheel (fedcl_lint/rules) or sit at the repo root."""
    here = Path(__file__).resolve().parent
    for folder in (here / "rules", here.parent / "rules"):
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    raise RulePackError(f"built-in rule pack {name!r} is missing from the installation")


def load_packs(specs: list[str] | tuple[str, ...]) -> RulePack:
    """Load and merge packs given by built-in name or by path to a TOML file."""
    calls: dict[str, CallSpec] = {}
    mechanisms: dict[Mechanism, MechanismDoc] = {}
    names = []
    for spec in specs:
        path = builtin_pack_path(spec) if spec in BUILTIN_PACKS else Path(spec)
        name, pack_calls, pack_mechanisms = _load_one(path)
        names.append(name)
        for call in pack_calls:
            calls[call.name] = call
        mechanisms.update(pack_mechanisms)
    return RulePack(names=tuple(names), calls=tuple(calls.values()), mechanisms=mechanisms)


def _load_one(path: Path) -> tuple[str, list[CallSpec], dict[Mechanism, MechanismDoc]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulePackError(f"{path}: rule pack not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(f"{path}: cannot read rule pack: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"{path}: invalid TOML: {exc}") from None
    reader = _Reader(path)
    reader.keys(data, "", {"pack", "mechanisms", "calls"})
    pack = reader.table(data, "pack", required=True)
    reader.keys(pack, "pack", {"name", "description"})
    name = reader.string(pack, "pack", "name", required=True)
    reader.string(pack, "pack", "description")

    mechanisms = {}
    raw_mechanisms = reader.table(data, "mechanisms")
    for key, doc in raw_mechanisms.items():
        where = f"mechanisms.{key}"
        mechanism = reader.enum(Mechanism, key, where)
        if not isinstance(doc, dict):
            raise reader.error(where, "a table with `title` and `description`", doc)
        reader.keys(doc, where, {"title", "description"})
        mechanisms[mechanism] = MechanismDoc(
            title=reader.string(doc, where, "title", required=True),
            description=reader.string(doc, where, "description", required=True).strip(),
        )

    calls = []
    raw_calls = data.get("calls", [])
    if not isinstance(raw_calls, list):
        raise reader.error("calls", "an array of tables ([[calls]])", raw_calls)
    for index, raw in enumerate(raw_calls):
        where = f"calls[{index}]"
        if not isinstance(raw, dict):
            raise reader.error(where, "a table", raw)
        reader.keys(raw, where, {"name", "role", "mechanism", "message_type", "handler"})
        role = reader.enum(Role, reader.string(raw, where, "role", required=True), f"{where}.role")
        handler = reader.slot(raw, where, "handler", required=False)
        if role is Role.HANDLE and handler is None:
            raise reader.error(f"{where}.handler", "a handler slot for a `handle` call", None)
        calls.append(
            CallSpec(
                name=reader.string(raw, where, "name", required=True),
                role=role,
                mechanism=reader.enum(
                    Mechanism, reader.string(raw, where, "mechanism", required=True), f"{where}.mechanism"
                ),
                message_type=reader.slot(raw, where, "message_type", required=True),
                handler=handler,
            )
        )
    if not calls:
        raise reader.error("calls", "at least one [[calls]] entry", None)
    return name, calls, mechanisms


class _Reader:
    """Typed access to a parsed pack that fails with file, key and expectation."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, key: str, expected: str, got: Any) -> RulePackError:
        found = "nothing" if got is None else f"{got!r}"
        return RulePackError(f"{self.path}: `{key}`: expected {expected}, found {found}")

    def keys(self, table: dict, where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                full = f"{where}.{key}" if where else key
                raise RulePackError(
                    f"{self.path}: unknown key `{full}` (allowed: {', '.join(sorted(allowed))})"
                )

    def table(self, data: dict, key: str, required: bool = False) -> dict:
        value = data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, "a table", value)
        return value

    def string(self, data: dict, where: str, key: str, required: bool = False) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value:
            raise self.error(f"{where}.{key}", "a non-empty string", value)
        return value

    def enum(self, kind: type, value: str, where: str):
        try:
            return kind(value)
        except ValueError:
            choices = " or ".join(repr(member.value) for member in kind)
            raise self.error(where, choices, value) from None

    def slot(self, data: dict, where: str, key: str, required: bool) -> ArgSlot | None:
        value = data.get(key)
        full = f"{where}.{key}"
        expected = "a table like { position = 1, keyword = \"message_type\" }"
        if value is None:
            if required:
                raise self.error(full, expected, None)
            return None
        if not isinstance(value, dict):
            raise self.error(full, expected, value)
        self.keys(value, full, {"position", "keyword"})
        position = value.get("position")
        keyword = value.get("keyword")
        if position is not None and (not isinstance(position, int) or isinstance(position, bool) or position < 0):
            raise self.error(f"{full}.position", "a non-negative integer (0 = first argument)", position)
        if keyword is not None and (not isinstance(keyword, str) or not keyword.isidentifier()):
            raise self.error(f"{full}.keyword", "a parameter name", keyword)
        if position is None and keyword is None:
            raise self.error(full, "`position`, `keyword` or both", value)
        return ArgSlot(position=position, keyword=keyword)
