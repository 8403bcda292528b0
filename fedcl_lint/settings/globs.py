"""Gitignore-style globs (`include`, `exclude`, `per-file-ignores`, `.gitignore`), matched in linear time.

A pattern's segments are matched against a path's segments by a set of reachable
states (no backtracking across `**`), and each segment by the two-pointer
wildcard algorithm (backtracking only to the last `*`). Regular-expression
translations, as pathspec makes them, backtrack: a pattern like
`*a*a*a*a*a*a*a*a*a*a*a*a*b` against a 60-character name never finished, so a
committed `.gitignore` could hang a CI job.

The syntax is git's: `#` comments, `!` negation, `\\` escapes, trailing spaces
dropped unless escaped, a trailing `/` for folders only, a `/` at the start or in
the middle anchors the pattern to its base, `*`, `?`, `[...]` (with `!` or `^`
negation and ranges), and `**` for any number of folders. A pattern matches a
path, or any folder above it. Of several patterns, the last that matches decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from fedcl_lint.records import frozen

_ANY_FOLDERS = "**"


@frozen
class _Char:
    """One character of a segment: a literal, any character (`?`), a class, or `*`."""

    kind: str  # "literal", "any", "class", "star"
    text: str = ""  # the literal, or the class's characters and ranges ("a-c" kept as a triple)
    negated: bool = False

    def accepts(self, char: str) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "literal":
            return char == self.text
        inside = any(
            self.text[i] <= char <= self.text[i + 2] if self.text[i + 1: i + 2] == "\0" else char == self.text[i]
            for i in _class_starts(self.text)
        )
        return inside != self.negated


def _class_starts(text: str) -> Iterable[int]:
    """The start of each member of a class's text: a character, or a range `a\0z`."""
    index = 0
    while index < len(text):
        yield index
        index += 3 if text[index + 1: index + 2] == "\0" else 1


@frozen
class _Pattern:
    segments: tuple[tuple[_Char, ...] | str, ...]  # a segment's characters, or `**`
    folders_only: bool
    include: bool  # False for a `!` pattern

    def matches(self, parts: list[str], is_folder: bool) -> bool:
        """Whether the pattern matches the path `parts`, or a folder above it."""
        states = self._closure({0})
        last = len(self.segments)
        for index, part in enumerate(parts):
            states = self._closure(self._step(states, part))
            if not states:
                return False
            if last in states and (index < len(parts) - 1 or is_folder or not self.folders_only):
                return True
        return False

    def _step(self, states: set[int], part: str) -> set[int]:
        following = set()
        for state in states:
            if state == len(self.segments):
                continue
            segment = self.segments[state]
            if segment == _ANY_FOLDERS:
                following.add(state)
            elif not isinstance(segment, str) and _segment_matches(segment, part):
                following.add(state + 1)
        return following

    def _closure(self, states: set[int]) -> set[int]:
        """`**` also matches no folder at all."""
        pending = list(states)
        while pending:
            state = pending.pop()
            if state < len(self.segments) and self.segments[state] == _ANY_FOLDERS and state + 1 not in states:
                states.add(state + 1)
                pending.append(state + 1)
        return states


def _segment_matches(pattern: tuple[_Char, ...], text: str) -> bool:
    """Wildcard matching of one path segment: O(len(pattern) * len(text)) at worst."""
    p = t = 0
    star, resume = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p].kind == "star":
            star, resume = p, t
            p += 1
        elif p < len(pattern) and pattern[p].accepts(text[t]):
            p += 1
            t += 1
        elif star >= 0:
            p, resume = star + 1, resume + 1
            t = resume
        else:
            return False
    while p < len(pattern) and pattern[p].kind == "star":
        p += 1
    return p == len(pattern)


class GlobSpec:
    """Compiled patterns of one source (a setting, or one ignore file)."""

    def __init__(self, patterns: tuple[_Pattern, ...]):
        self.patterns = patterns

    def decide(self, path: str) -> bool | None:
        """True when the last matching pattern includes `path`, False when it is a `!` pattern,
        None when none matches. `path` is relative and `/`-separated; a folder ends with `/`."""
        is_folder = path.endswith("/")
        parts = path.rstrip("/").split("/")
        for pattern in reversed(self.patterns):
            if pattern.matches(parts, is_folder):
                return pattern.include
        return None

    def match_file(self, path: str) -> bool:
        return self.decide(path) is True


def glob_spec(lines: Iterable[str]) -> GlobSpec:
    """Gitignore-style patterns, compiled; ValueError names a line git cannot read as a pattern."""
    return GlobSpec(tuple(pattern for line in lines if (pattern := _parse(line)) is not None))


def _parse(line: str) -> _Pattern | None:
    """One line as a pattern; None for blank lines, comments and patterns that match nothing."""
    text = _strip_trailing_spaces(line.rstrip("\n\r"))
    if not text or text.startswith("#"):
        return None
    include = not text.startswith("!")
    if not include:
        text = text[1:]
        if not text:
            raise ValueError(f"invalid pattern {line!r}: `!` negates nothing")
    folders_only = text.endswith("/") and not text.endswith("\\/")
    text = text.rstrip("/") if folders_only else text
    if not text:
        return None  # `/` alone: git ignores it
    anchored = "/" in text
    raw_segments = text.lstrip("/").split("/")
    if raw_segments[-1] == _ANY_FOLDERS and len(raw_segments) > 1:  # `a/**`: whatever is inside `a`
        raw_segments.pop()
        folders_only = True
    segments: list[tuple[_Char, ...] | str] = [] if anchored else [_ANY_FOLDERS]
    for raw in raw_segments:
        if raw == _ANY_FOLDERS:
            if not segments or segments[-1] != _ANY_FOLDERS:
                segments.append(_ANY_FOLDERS)
            continue
        chars = _segment(raw, line)
        if chars is None:
            return None  # an unterminated `[`: matches nothing
        segments.append(chars)
    return _Pattern(tuple(segments), folders_only, include)


def _strip_trailing_spaces(text: str) -> str:
    """Git drops trailing spaces unless the last one is escaped with a backslash."""
    stripped = text.rstrip(" ")
    if len(stripped) < len(text) and stripped.endswith("\\") and _escaped_at_end(stripped):
        return stripped + " "
    return stripped


def _escaped_at_end(text: str) -> bool:
    """Whether `text` ends with an odd number of backslashes (the last one escapes what follows)."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def _segment(raw: str, line: str) -> tuple[_Char, ...] | None:
    """The characters of one segment; None for an unterminated class."""
    chars: list[_Char] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\":
            if index + 1 >= len(raw):
                raise ValueError(f"invalid pattern {line!r}: it ends with an escaping backslash")
            chars.append(_Char("literal", raw[index + 1]))
            index += 2
        elif char == "*":
            if not chars or chars[-1].kind != "star":  # `***` is `*`
                chars.append(_Char("star"))
            index += 1
        elif char == "?":
            chars.append(_Char("any"))
            index += 1
        elif char == "[":
            parsed = _character_class(raw, index + 1)
            if parsed is None:
                return None
            klass, index = parsed
            chars.append(klass)
        else:
            chars.append(_Char("literal", char))
            index += 1
    return tuple(chars)


def _character_class(raw: str, index: int) -> tuple[_Char, int] | None:
    """`[...]` starting after its `[`: the class and the index after its `]`, or None if unterminated."""
    negated = index < len(raw) and raw[index] in "!^"
    index += negated
    members: list[str] = []
    first = True
    while index < len(raw):
        char = raw[index]
        if char == "]" and not first:
            return _Char("class", "".join(members), negated), index + 1
        first = False
        if char == "\\" and index + 1 < len(raw):
            char = raw[index + 1]
            index += 1
        if raw[index + 1: index + 2] == "-" and index + 2 < len(raw) and raw[index + 2] != "]":
            members.append(f"{char}\0{raw[index + 2]}")
            index += 3
            continue
        members.append(char)
        index += 1
    return None
