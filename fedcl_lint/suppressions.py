"""Suppression comments: `# fedcl-lint: ignore[FCL001] reason` on the line of a finding.

They are read from the tokens of a file (so a `#` inside a string never
counts) during extraction and kept in the file's facts; matching them
against findings happens once the findings are known.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Iterable, Mapping

from fedcl_lint.facts import Suppression
from fedcl_lint.types import Finding, selector_matches

MARKER = "fedcl-lint:"  # every suppression comment holds it

# `fedcl-lint: ignore`, optionally `[CODE, CODE]`, optionally a reason after `--`, `:` or a space;
# at the start of the comment or after another `#` (`# noqa  # fedcl-lint: ignore`).
_DIRECTIVE = re.compile(
    r"(?:^|#)\s*fedcl-lint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?=$|[\s:#-])(?:\s*(?:--|:|-)?\s*(?P<reason>.*))?$",
)
_CODE_SEPARATOR = re.compile(r"[\s,]+")


def parse_suppressions(text: str) -> tuple[Suppression, ...]:
    """Every suppression comment of a Python source text, in order."""
    if MARKER not in text:
        return ()  # the tokenizer costs more than parsing: only run it where a comment can be
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                suppression = parse_comment(token.string, *token.start)
                if suppression is not None:
                    found.append(suppression)
    except (tokenize.TokenError, SyntaxError):
        # Text this Python's tokenizer cannot finish (e.g. newer syntax): keep the comments
        # read so far; a suppression lost here shows its finding, it never hides one.
        pass
    return tuple(found)


def parse_comment(comment: str, line: int, offset: int) -> Suppression | None:
    """The suppression in one comment token (`offset` 0-based), if it holds one."""
    match = _DIRECTIVE.search(comment.lstrip("#").strip())
    if match is None:
        return None
    raw_codes = match.group("codes")
    codes = None if raw_codes is None else tuple(c.upper() for c in _CODE_SEPARATOR.split(raw_codes.strip()) if c)
    reason = (match.group("reason") or "").strip() or None
    return Suppression(line=line, column=offset + 1, codes=codes, reason=reason)


@dataclass(frozen=True)
class UnmatchedSuppression:
    """A suppression that matched nothing, or some of whose codes matched nothing."""

    path: str
    suppression: Suppression
    unused_codes: tuple[str, ...] | None  # None: the bare `ignore` matched nothing; empty: `ignore[]`


@dataclass(frozen=True)
class Outcome:
    kept: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    unused: tuple[UnmatchedSuppression, ...]


def _covers(suppression: Suppression, code: str) -> bool:
    return suppression.codes is None or any(selector_matches(c, code) for c in suppression.codes)


def apply_suppressions(
    findings: Iterable[Finding], suppressions: Mapping[str, tuple[Suppression, ...]]
) -> Outcome:
    """Drop the findings a comment on their line suppresses; say which comments (or codes) went unused."""
    by_line = {
        (path, s.line): s for path, file_suppressions in suppressions.items() for s in file_suppressions
    }
    used: dict[tuple[str, int], set[str]] = {}
    kept, suppressed = [], []
    for finding in findings:
        key = (finding.location.path, finding.location.line)
        suppression = by_line.get(key)
        if suppression is not None and _covers(suppression, finding.code):
            suppressed.append(finding)
            used.setdefault(key, set()).add(finding.code)
        else:
            kept.append(finding)
    unused = []
    for (path, line), suppression in sorted(by_line.items()):
        codes_used = used.get((path, line), set())
        if suppression.codes is None:
            if not codes_used:
                unused.append(UnmatchedSuppression(path, suppression, None))
            continue
        idle = tuple(c for c in suppression.codes if not any(selector_matches(c, u) for u in codes_used))
        if idle or not suppression.codes:
            unused.append(UnmatchedSuppression(path, suppression, idle))
    return Outcome(tuple(kept), tuple(suppressed), tuple(unused))
