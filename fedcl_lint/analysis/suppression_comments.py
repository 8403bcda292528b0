"""Suppression comments, as written: `# fedcl-lint: ignore[FCL001] reason`.

Read from the tokens of a file (so a `#` inside a string never counts) during
extraction and kept in the file's facts; `refine.suppressions` matches them
against the findings once those are known.
"""

from __future__ import annotations

import io
import re
import tokenize

from fedcl_lint.analysis.facts import Suppression

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
