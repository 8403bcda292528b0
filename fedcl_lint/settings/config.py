"""Configuration: `[tool.fedcl-lint]` in pyproject.toml, read once per run.

The file is found by walking up from the analysed paths (the first
pyproject.toml with a `[tool.fedcl-lint]` table wins, as with Ruff), or named
with `--config FILE`. Every key is validated when the file is read, so a typo
is an error naming the file and the key instead of a setting silently ignored.
Relative paths and globs in the file are relative to the file's folder.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


from fedcl_lint.files import parse_structured, read_user_text
from fedcl_lint.records import field, frozen, replace
from fedcl_lint.settings.globs import GlobSpec, glob_spec
from fedcl_lint.types import ALL_SELECTOR, CODES, Mechanism, Severity, selector_matches

TABLE = "tool.fedcl-lint"
CACHE_DIR_NAME = ".fedcl-lint-cache"  # the cache folder (`default_cache_dir`): never analysed
CACHE_DIR_ENV = "FEDCL_LINT_CACHE_DIR"  # a cache folder for every run without --cache-dir, as RUFF_CACHE_DIR
DEFAULT_INCLUDE = ("*.py",)
DEFAULT_SELECT = ("FCL",)
_SELECTOR = re.compile(r"^[A-Z]+[0-9]*$")
_E = TypeVar("_E", bound=Enum)


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and the key."""


@frozen
class ProtocolScope:
    """One closed protocol of the repository (`[[tool.fedcl-lint.protocols]]`): the files that belong
    to it (gitignore-style globs relative to the configuration's folder) and its own external types."""

    name: str
    paths: tuple[str, ...]
    external: frozenset[str | int] = frozenset()

    @cached_property
    def spec(self) -> GlobSpec:
        return glob_spec(self.paths)


@frozen
class Config:
    """Every setting of a run. Built once, from the file and then the command line.

    Mappings are kept as sorted tuples of pairs so that the object is immutable
    and hashable (`policy` gives the protocol back as a dict).
    """

    path: Path | None = None  # the file the settings came from (None: defaults)
    root: Path | None = None  # the folder globs are relative to (None: the working directory)
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    select: tuple[str, ...] = DEFAULT_SELECT
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()
    fail_on: Severity = Severity.WARNING
    rules: tuple[str, ...] = ("fedcl",)
    protocol: tuple[tuple[str, Mechanism], ...] = ()
    external: frozenset[str | int] = frozenset()  # message type values: strings and ints
    warn_unused_ignores: bool = False
    baseline: Path | None = None
    protocols: tuple[ProtocolScope, ...] = ()  # protocol scopes; none: one protocol for the whole tree
    # where `protocol` was read (the file's display and the table's key), for `check_policy`'s errors
    protocol_origin: tuple[str, str] | None = field(default=None, compare=False)

    @property
    def policy(self) -> dict[str, Mechanism]:
        """The declared mechanism of each message type (`[tool.fedcl-lint.protocol]`)."""
        return dict(self.protocol)

    def base(self, cwd: Path) -> Path:
        return self.root if self.root is not None else cwd

    def enabled(self, code: str) -> bool:
        """Whether `select`/`ignore` let `code` through; the most specific selector wins, ignore on a tie."""
        return _enabled(code, self.select, self.ignore)

    def ignored_in(self, code: str, relative_path: str) -> bool:
        """Whether a `per-file-ignores` entry turns `code` off for a file (path relative to `root`)."""
        return any(
            spec.match_file(relative_path) and _matches_any(code, codes)
            for spec, codes in self._per_file_specs
        )

    def severity_of(self, code: str, default: Severity) -> Severity:
        """The overridden severity of `code` (most specific selector wins), else `default`."""
        best: tuple[int, Severity] | None = None
        for selector, severity in self.severity:
            if selector_matches(selector, code):
                specificity = _specificity(selector)
                if best is None or specificity > best[0]:
                    best = (specificity, severity)
        return best[1] if best is not None else default

    def protocol_of(self, relative_path: str) -> str | None:
        """The name of the first protocol scope whose paths match a file (path relative to `root`),
        None when none does (shared code) or the file is outside `root`."""
        if relative_path.startswith("../"):
            return None
        return next((scope.name for scope in self.protocols if scope.spec.match_file(relative_path)), None)

    def external_of(self, protocol: str | None) -> frozenset[str | int]:
        """The external message types of a protocol scope: the global ones and its own."""
        scope = next((s for s in self.protocols if s.name == protocol), None)
        return self.external | scope.external if scope is not None else self.external

    @cached_property
    def _per_file_specs(self) -> tuple[tuple[GlobSpec, tuple[str, ...]], ...]:
        return tuple((glob_spec([pattern]), codes) for pattern, codes in self.per_file_ignores)


def _specificity(selector: str) -> int:
    return -1 if selector == ALL_SELECTOR else len(selector)


def _matches_any(code: str, selectors: Iterable[str]) -> bool:
    return any(selector_matches(s, code) for s in selectors)


def _enabled(code: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    best_select = max((_specificity(s) for s in select if selector_matches(s, code)), default=None)
    best_ignore = max((_specificity(s) for s in ignore if selector_matches(s, code)), default=None)
    if best_select is None:
        return False
    return best_ignore is None or best_select > best_ignore


# --- finding and reading the file -------------------------------------------------------------


def load_config(paths: Iterable[str], cwd: Path, explicit: str | None = None) -> Config:
    """The configuration for a run on `paths`: `explicit` if given, else the nearest pyproject.toml."""
    if explicit is not None:
        path = Path(os.path.abspath(cwd / explicit))
        if not path.is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        return read_config(path, cwd)
    found = find_config(_start_folder(paths, cwd), cwd)
    return read_config(found, cwd) if found is not None else Config()


def _start_folder(paths: Iterable[str], cwd: Path) -> Path:
    """The folder that holds every analysed path: where the walk up begins."""
    folders = []
    for given in paths:
        absolute = Path(os.path.abspath(cwd / given))
        folders.append(absolute if absolute.is_dir() else absolute.parent)
    if not folders:
        return cwd
    return Path(os.path.commonpath([str(f) for f in folders]))


def default_cache_dir(paths: Iterable[str], cwd: Path) -> Path:
    """The folder named by $FEDCL_LINT_CACHE_DIR (relative to the working directory), so CI, a
    read-only checkout or a test suite can keep the cache out of the tree; else `.fedcl-lint-cache`
    at the project root: the nearest folder holding a pyproject.toml or a .git, from the folder that
    holds every path (where the settings are looked for too) upwards; else the working directory."""
    if named := os.environ.get(CACHE_DIR_ENV):
        return cwd / named
    folder = _start_folder(paths, cwd)
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate / CACHE_DIR_NAME
    return cwd / CACHE_DIR_NAME


def find_config(start: Path, cwd: Path) -> Path | None:
    """The first pyproject.toml with a `[tool.fedcl-lint]` table in `start` or above."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_table(candidate, cwd):
            return candidate
    return None


def _has_table(path: Path, cwd: Path) -> bool:
    tool = _parse(path, _display(path, cwd)).get("tool")
    return isinstance(tool, dict) and "fedcl-lint" in tool


def _parse(path: Path, display: str) -> dict[str, Any]:
    text = read_user_text(path, display, ConfigError, "configuration file not found")
    return parse_structured(tomllib.loads, text, display, ConfigError, "invalid TOML")


def read_config(path: Path, cwd: Path) -> Config:
    """Read the settings of `path`: its `[tool.fedcl-lint]` table for a pyproject.toml,
    the whole file otherwise (e.g. a `fedcl-lint.toml` given with `--config`)."""
    display = _display(path, cwd)
    data = _parse(path, display)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("fedcl-lint", {}) if isinstance(tool, dict) else {}
        prefix = TABLE
    else:
        table, prefix = data, ""
    reader = _Reader(display, prefix)
    if not isinstance(table, dict):
        raise reader.error("", "a table", table)
    return reader.config(table, path)


def _display(path: Path, cwd: Path) -> str:
    relative = os.path.relpath(path, cwd)
    return path.as_posix() if relative.startswith("..") else relative.replace(os.sep, "/")


# --- validation ---------------------------------------------------------------------------------


def parse_selector(value: Any) -> str | None:
    """`value` as a check selector (a code, a prefix of one, or ALL), or None if it is not one."""
    if not isinstance(value, str):
        return None
    selector = value.strip().upper()
    if selector == ALL_SELECTOR:
        return selector
    if _SELECTOR.match(selector) and any(code.startswith(selector) for code in CODES):
        return selector
    return None


SELECTOR_EXPECTED = "a check code or prefix (e.g. FCL001, FCL00, FCL or ALL)"
_SEVERITIES = " or ".join(repr(s.value) for s in Severity)


class _Reader:
    """Typed access to the table that fails with the file, the full key and what was expected."""

    def __init__(self, display: str, prefix: str):
        self.display = display
        self.prefix = prefix

    def key(self, key: str) -> str:
        return ".".join(part for part in (self.prefix, key) if part)

    def error(self, key: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"{self.display}: `{self.key(key)}`: expected {expected}, found {got!r}")

    def config(self, table: dict[str, Any], path: Path) -> Config:
        folder = path.parent
        readers: dict[str, Callable[[Any, str], Any]] = {
            "include": lambda v, k: self.patterns(v, k),
            "exclude": lambda v, k: self.patterns(v, k),
            "respect-gitignore": self.boolean,
            "select": lambda v, k: self.selectors(v, k, at_least_one=True),
            "ignore": self.selectors,
            "per-file-ignores": self.per_file_ignores,
            "severity": self.severities,
            "fail-on": lambda v, k: self.choice(Severity, v, k, _SEVERITIES),
            "rules": lambda v, k: self.rules(v, k, folder),
            "protocol": self.protocol,
            "external": self.message_types,
            "warn-unused-ignores": self.boolean,
            "baseline": lambda v, k: folder / self.string(v, k, "a path to a baseline file"),
            "protocols": self.protocols,
        }
        unknown = sorted(set(table) - set(readers))
        if unknown:
            raise ConfigError(
                f"{self.display}: unknown key `{self.key(unknown[0])}` (allowed: {', '.join(sorted(readers))})"
            )
        values = {key.replace("-", "_"): readers[key](value, key) for key, value in table.items()}
        if "protocol" in table:
            values["protocol_origin"] = (self.display, self.key("protocol"))
        return Config(path=path, root=folder, **values)

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(key, "true or false", value)
        return value

    def string(self, value: Any, key: str, expected: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, expected, value)
        return value

    def strings(self, value: Any, key: str, expected: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(key, expected, value)
        return tuple(self.string(item, f"{key}[{index}]", "a non-empty string") for index, item in enumerate(value))

    def message_types(self, value: Any, key: str) -> frozenset[str | int]:
        """Message types by value: TOML strings and integers (a TOML boolean is neither)."""
        if not isinstance(value, list):
            raise self.error(key, "an array of message types", value)
        found: set[str | int] = set()
        for index, item in enumerate(value):
            if type(item) is int:
                found.add(item)
            else:  # an empty string is a string still: its error says so
                expected = "a non-empty string" if isinstance(item, str) else "a non-empty string or an integer"
                found.add(self.string(item, f"{key}[{index}]", expected))
        return frozenset(found)

    def patterns(self, value: Any, key: str) -> tuple[str, ...]:
        patterns = self.strings(value, key, "an array of glob patterns")
        for index, pattern in enumerate(patterns):
            try:
                glob_spec([pattern])
            except ValueError as exc:  # a pattern git cannot read
                raise self.error(f"{key}[{index}]", f"a valid glob pattern ({exc})", pattern) from None
        return patterns

    def selectors(self, value: Any, key: str, at_least_one: bool = False) -> tuple[str, ...]:
        """`at_least_one`: an empty `select` would turn every check off, surely not what was meant."""
        expected = "an array of check codes or prefixes (e.g. FCL001, FCL00, FCL or ALL)"
        if not isinstance(value, list):
            raise self.error(key, expected, value)
        if at_least_one and not value:
            raise self.error(key, "a non-empty " + expected.removeprefix("an "), value)
        selectors = []
        for index, item in enumerate(value):
            selector = parse_selector(item)
            if selector is None:
                raise self.error(f"{key}[{index}]", SELECTOR_EXPECTED, item)
            selectors.append(selector)
        return tuple(selectors)

    def table(self, value: Any, key: str, expected: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, expected, value)
        return value

    def per_file_ignores(self, value: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        table = self.table(value, key, 'a table of glob = [codes], e.g. "tests/**" = ["FCL003"]')
        entries = []
        for pattern, codes in sorted(table.items()):
            self.patterns([pattern], f'{key}."{pattern}"')
            entries.append((pattern, self.selectors(codes, f'{key}."{pattern}"')))
        return tuple(entries)

    def severities(self, value: Any, key: str) -> tuple[tuple[str, Severity], ...]:
        table = self.table(value, key, 'a table of code = severity, e.g. FCL003 = "error"')
        entries = []
        for raw, severity in sorted(table.items()):
            selector = parse_selector(raw)
            if selector is None:
                raise ConfigError(
                    f"{self.display}: `{self.key(f'{key}.{raw}')}`: {raw!r} is not {SELECTOR_EXPECTED}"
                )
            entries.append((selector, self.choice(Severity, severity, f"{key}.{raw}", _SEVERITIES)))
        return tuple(entries)

    def choice(self, kind: type[_E], value: Any, key: str, choices: str) -> _E:
        try:
            return kind(value)
        except ValueError:
            raise self.error(key, choices, value) from None

    def rules(self, value: Any, key: str, folder: Path) -> tuple[str, ...]:
        from fedcl_lint.settings.rulepack import BUILTIN_PACKS  # late: a replayed run loads no rule pack

        specs = []
        for index, spec in enumerate(self.strings(value, key, "an array of rule packs (built-in names or paths)")):
            if spec in BUILTIN_PACKS:
                specs.append(spec)
                continue
            path = folder / spec
            if not path.is_file():
                raise ConfigError(
                    f"{self.display}: `{self.key(f'{key}[{index}]')}`: rule pack not found: {spec} "
                    f"(built-in packs: {', '.join(BUILTIN_PACKS)}; paths are relative to this file)"
                )
            specs.append(str(path))
        if not specs:
            raise self.error(key, "at least one rule pack", value)
        return tuple(specs)

    def protocol(self, value: Any, key: str) -> tuple[tuple[str, Mechanism], ...]:
        """Message type = channel name; the names are checked against the rule packs' channels once
        the packs are loaded (`check_policy`)."""
        table = self.table(value, key, 'a table of message type = channel, e.g. SHUTDOWN = "rpc"')
        return tuple(
            (message_type, Mechanism(self.string(channel, f"{key}.{message_type}", "a channel name, e.g. 'rpc'")))
            for message_type, channel in sorted(table.items())
        )


    def protocols(self, value: Any, key: str) -> tuple[ProtocolScope, ...]:
        expected = 'an array of tables (`[[tool.fedcl-lint.protocols]]`) with a `name` and `paths`'
        if not isinstance(value, list):
            raise self.error(key, expected, value)
        scopes: list[ProtocolScope] = []
        for index, raw in enumerate(value):
            where = f"{key}[{index}]"
            table = self.table(raw, where, "a table with a `name` and `paths`")
            allowed = ("external", "name", "paths")
            unknown = sorted(set(table) - set(allowed))
            if unknown:
                raise ConfigError(
                    f"{self.display}: unknown key `{self.key(f'{where}.{unknown[0]}')}` (allowed: {', '.join(allowed)})"
                )
            for required in ("name", "paths"):
                if required not in table:
                    raise ConfigError(f"{self.display}: `{self.key(where)}`: missing key `{required}`")
            name = self.string(table["name"], f"{where}.name", "a non-empty protocol name")
            if any(scope.name == name for scope in scopes):
                raise ConfigError(f"{self.display}: `{self.key(f'{where}.name')}`: duplicate protocol name {name!r}")
            if not isinstance(table["paths"], list) or not table["paths"]:
                raise self.error(f"{where}.paths", "a non-empty array of glob patterns or folders", table["paths"])
            paths = self.patterns(table["paths"], f"{where}.paths")
            external = self.message_types(table.get("external", []), f"{where}.external")
            scopes.append(ProtocolScope(name, paths, external))
        return tuple(scopes)


def with_overrides(config: Config, **overrides: Any) -> Config:
    """`config` with the command line's settings on top (None means "not given")."""
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})


def check_policy(config: Config, channels: Collection[Mechanism]) -> None:
    """Every channel the protocol policy names is one the rule packs declare, or a ConfigError that
    names the file and the key (for a policy given by a caller, `protocol` alone)."""
    display, key = config.protocol_origin or ("", "protocol")
    for message_type, channel in config.protocol:
        if channel not in channels:
            where = f"{display}: " if display else ""
            choices = " or ".join(repr(c.value) for c in channels)
            raise ConfigError(f"{where}`{key}.{message_type}`: expected {choices}, found {channel.value!r}")


def protocol_pairs(policy: Mapping[str, Mechanism]) -> tuple[tuple[str, Mechanism], ...]:
    return tuple(sorted(policy.items()))

