"""The fix of an FCL001 send, decided once, where the finding is made: text edits, or why there are none.

A send is rewritten only where that is unambiguous: the send is a direct call of
a rule-pack API (not a wrapper or a payload), the rule pack declares how that
call's arguments map onto another send (`[[rewrites]]`), and that send is on a
channel the handlers' registries serve (the one the protocol policy declares, if
it names the message type). The analysis located the send with Python's `ast`; the call is
found again in `ast`'s tree of the bytes that were analysed (a file is parsed
again only when an FCL001 finding needs it, once per run; libcst is left to
`--fix`, which checks the rewritten file with it). The edits touch the callee's
name, the arguments that move (with their own parentheses) and the keywords
that are renamed, nothing else, so comments and line breaks stay as they were.
Nothing is imported or run.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
import warnings
from collections.abc import Mapping

from fedcl_lint.analysis.link import LinkedSite
from fedcl_lint.analysis.table import MessageEntry
from fedcl_lint.files import sha256_hex
from fedcl_lint.settings.rulepack import CallSpec, RewriteSpec, RulePack
from fedcl_lint.types import Fix, Location, Mechanism, TextEdit


class Refused(Exception):
    """A send or file that cannot be rewritten safely; the message says why."""


class SendRewriter:
    """The fixes of one run's FCL001 sends, by its rule pack, protocol policy and sources."""

    def __init__(self, pack: RulePack, policy: Mapping[str, Mechanism], sources: Mapping[str, bytes]):
        self.pack = pack
        self.policy = policy
        self.sources = sources
        self._trees: dict[str, _Tree | str] = {}  # a parsed file, or why it cannot be rewritten

    def fix(self, send: LinkedSite, entry: MessageEntry) -> Fix:
        """The edits that make `send` use the mechanism of `entry`'s handlers, or why there are none."""
        try:
            _check_unique(send, entry)
            wanted = _wanted_channels(entry, self.policy)
            _check_direct_call(send, self.pack)
            rewrite, source, target = _rewrite_of(send, wanted, self.pack)
            tree = self._tree(send.location.path)
            edits = tree.edits(send.location, rewrite, source, target)
        except Refused as exc:
            return Fix(reason=str(exc))
        except RecursionError:
            return Fix(reason="the file is nested too deeply to rewrite")
        return Fix(f"Replace `{source.name}` with `{target.name}`", edits, tree.digest)

    def _tree(self, path: str) -> _Tree:
        """The file's tree, parsed on the first fix that needs it (and why not, on every later one)."""
        if path not in self._trees:
            self._trees[path] = _parsed(path, self.sources.get(path))
        tree = self._trees[path]
        if isinstance(tree, str):
            raise Refused(tree)
        return tree


def _parsed(path: str, data: bytes | None) -> _Tree | str:
    """The file's tree, or why it has none (kept, so that each file is parsed once)."""
    if data is None:
        return "the file's source was not given to the checks"
    try:
        return _Tree(path, data)
    except Refused as exc:
        return str(exc)
    except RecursionError:
        return "the file is nested too deeply to rewrite"


# --- which sends can be fixed -------------------------------------------------------------------


def _check_unique(send: LinkedSite, entry: MessageEntry) -> None:
    """One site per call and API: two sends at one place would make two edits of one call."""
    count = sum(1 for s in entry.sends if s.location == send.location)
    if count != 1:
        raise Refused(f"{count} sends of `{entry.message_type}` in the protocol table at this location")


def _wanted_channels(entry: MessageEntry, policy: Mapping[str, Mechanism]) -> frozenset[Mechanism]:
    """The channels the handlers' registries serve (the one the policy declares, if it is one of them),
    unless the policy says the handlers are what must change."""
    handled = entry.handle_mechanisms
    declared = entry.message_type.declared(policy)
    if declared is not None and declared not in handled:
        raise Refused(
            f"the protocol policy declares `{entry.message_type}` as {declared}, so the handlers are what "
            f"should change (to {declared}); --fix only rewrites sends"
        )
    return frozenset((declared,)) if declared is not None else handled


def _check_direct_call(send: LinkedSite, pack: RulePack) -> None:
    """A wrapper's call or a payload dict is not the rule-pack call that a rewrite describes."""
    if send.via:
        raise Refused(
            f"`{send.api}` is a wrapper ({' -> '.join(send.via)}): change the send inside it, "
            f"or its callers, by hand"
        )
    call = pack.call(send.api)
    if call is None and (send.arguments is not None or send.api.startswith("await ")):  # a proxy's
        raise Refused(f"`{send.api}` is a proxy's remote call, whose method or attribute is the message type: "
                      "change it by hand")
    if call is None:
        raise Refused(f"the send is a {send.api}, not a call of the rule pack's API: change it by hand")
    if call.envelope:
        raise Refused(f"`{send.api}` sends a message object, which no rewrite of its arguments moves to another "
                      "mechanism: change it by hand")


def _rewrite_of(send: LinkedSite, wanted: frozenset[Mechanism],
                pack: RulePack) -> tuple[RewriteSpec, CallSpec, CallSpec]:
    """The pack's rewrite of the send's call to `wanted` (validated on load), or its reason for none."""
    rewrite = pack.rewrite(send.api)
    if rewrite is None:
        raise Refused(
            f"the rule pack declares no rewrite of `{send.api}` (a [[rewrites]] entry with from = \"{send.api}\")"
        )
    if rewrite.target is None:
        raise Refused(rewrite.manual)
    source, target = pack.call(rewrite.source), pack.call(rewrite.target)
    assert source is not None and target is not None  # the pack validated both names on load
    if target.mechanism not in wanted:  # with more than two channels, a rewrite may go to a third
        raise Refused(f"the rule pack rewrites `{send.api}` to `{target.name}`, a {target.mechanism} send")
    return rewrite, source, target


# --- the edits of one call ----------------------------------------------------------------------


class _Tree:
    """One file as analysed: its text, Python's tree of it, and every call by where it starts."""

    def __init__(self, path: str, data: bytes):
        self.path = path
        self.digest = sha256_hex(data)
        self.text = decode_source(data)[1]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the analysed code's own SyntaxWarnings are not ours
                tree = ast.parse(self.text)
        except (SyntaxError, ValueError, MemoryError) as exc:
            raise Refused(f"Python cannot parse the file: {first_line(exc)}") from None
        self.line_starts = [0] + [m.end() for m in _LINE_END.finditer(self.text)]  # the ends Python counts
        self.calls: dict[tuple[int, int], list[ast.Call]] = {}  # 1-based, columns in characters as findings'
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.calls.setdefault(self._start(node), []).append(node)

    def edits(self, location: Location, rewrite: RewriteSpec, source: CallSpec,
              target: CallSpec) -> tuple[TextEdit, ...]:
        """Rename the call of `source` at `location` to `target` and carry its arguments over."""
        matches = [c for c in self.calls.get((location.line, location.column), []) if _callee(c) == source.name]
        if len(matches) != 1:
            raise Refused(f"{len(matches)} calls of `{source.name}` start at this position")
        call = matches[0]
        renames = _keyword_renames(rewrite, source, target)
        _check_arguments(call, rewrite, renames, target)
        edits = [self._name_edit(self._callee_span(call), source.name, target.name)]
        spans = [self._argument_span(call, arg) for arg in call.args]
        for index, span in enumerate(spans):  # values move; each place keeps its commas and comments
            slot = rewrite.positions[index]
            if slot != index:
                edits.append(self._edit(spans[slot], self.text[span[0]: span[1]]))
        for keyword in call.keywords:
            assert keyword.arg is not None  # `**kwargs` was refused
            if renames[keyword.arg] != keyword.arg:
                start = self._offset(keyword.lineno, keyword.col_offset)
                edits.append(self._name_edit((start, start + len(keyword.arg)), keyword.arg, renames[keyword.arg]))
        return tuple(sorted(edits))

    def _callee_span(self, call: ast.Call) -> tuple[int, int]:
        """Where the called name is: `f` of `f(...)`, the `f` after the dot of `obj.f(...)`."""
        func = call.func
        end = self._offset(func.end_lineno or func.lineno, func.end_col_offset or 0)
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return end - len(name), end

    def _argument_span(self, call: ast.Call, arg: ast.expr) -> tuple[int, int]:
        """A positional argument's value with the parentheses around it (not the call's own)."""
        start = self._offset(arg.lineno, arg.col_offset)
        end = self._offset(arg.end_lineno or arg.lineno, arg.end_col_offset or 0)
        opening = self.text.index("(", self._offset(call.func.end_lineno or 0, call.func.end_col_offset or 0))
        closing = self._offset(call.end_lineno or 0, call.end_col_offset or 0) - 1
        while True:
            before = len(self.text[:start].rstrip())
            after = len(self.text) - len(self.text[end:].lstrip())
            if before - 1 > opening and after < closing and self.text[before - 1] == "(" and self.text[after] == ")":
                start, end = before - 1, after + 1
            else:
                return start, end

    def _name_edit(self, span: tuple[int, int], name: str, new: str) -> TextEdit:
        if self.text[span[0]: span[1]] != name:  # spelled in characters Python normalises (NFKC)
            raise Refused(f"`{name}` is spelled here in other characters that Python reads as it: change it by hand")
        return self._edit(span, new)

    def _edit(self, span: tuple[int, int], content: str) -> TextEdit:
        (line, column), (end_line, end_column) = self._position(span[0]), self._position(span[1])
        return TextEdit(self.path, line, column, end_line, end_column, content)

    def _start(self, node: ast.Call) -> tuple[int, int]:
        return self._position(self._offset(node.lineno, node.col_offset))

    def _offset(self, line: int, utf8_column: int) -> int:
        """Where a position of Python's tree (a 1-based line, a column in UTF-8 bytes) is in the text."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return start + len(self.text[start:end].encode("utf-8")[:utf8_column].decode("utf-8", "replace"))

    def _position(self, offset: int) -> tuple[int, int]:
        """A text offset as a 1-based line and a 1-based column in characters."""
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1


_LINE_END = re.compile(r"\r\n|\r|\n")


def _callee(call: ast.Call) -> str | None:
    """The name a call calls: `f` of `f(...)` and of `obj.f(...)`."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else None


def _keyword_renames(rewrite: RewriteSpec, source: CallSpec, target: CallSpec) -> dict[str, str]:
    """Old keyword -> new keyword: the pack's renames plus the message type's (from the two slots)."""
    renames = dict(rewrite.keywords)
    old, new = source.message_type.keyword, target.message_type.keyword
    if old is not None and new is not None:
        renames[old] = new
    return renames


def _check_arguments(call: ast.Call, rewrite: RewriteSpec, renames: Mapping[str, str], target: CallSpec) -> None:
    """Refuse calls whose arguments the declared mapping cannot carry over exactly."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(k.arg is None for k in call.keywords):
        raise Refused("the call passes `*args` or `**kwargs`, which the rewrite cannot map")
    positional = len(call.args)
    mapping = rewrite.positions
    if positional > len(mapping):
        raise Refused(f"the call passes {positional} positional arguments; the rule pack maps {len(mapping)}")
    if sorted(mapping[:positional]) != list(range(positional)):
        raise Refused(f"the rule pack would put this call's positional arguments at positions "
                      f"{list(mapping[:positional])}, leaving a gap")
    for keyword in call.keywords:
        if keyword.arg is not None and keyword.arg not in renames:
            raise Refused(f"the call passes `{keyword.arg}=`, which the rule pack does not map onto "
                          f"`{target.name}`")


# --- reading a file as Python does --------------------------------------------------------------


def decode_source(data: bytes) -> tuple[str, str]:
    """(encoding, text) as Python reads the file (PEP 263: BOM or coding cookie), if it round-trips."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise Refused(f"cannot decode the file: {exc}") from None
    if text.encode(encoding) != data:
        raise Refused(f"the file does not survive decoding and re-encoding as {encoding}: not rewritten")
    return encoding, text


def first_line(exc: Exception) -> str:
    """An exception's message in one line (libcst's span several)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
