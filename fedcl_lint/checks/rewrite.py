"""The fix of an FCL001 send, decided once, where the finding is made: text edits, or why there are none.

A send is rewritten only where that is unambiguous: the handlers use exactly one
mechanism (and the protocol policy, if it names the message type, agrees), the
send is a direct call of a rule-pack API (not a wrapper or a payload), and the
rule pack declares how that call's arguments map onto the other one
(`[[rewrites]]`). The analysis located the send with Python's `ast`; the call is
found again in libcst's tree of the bytes that were analysed (libcst is loaded,
and a file parsed, only when an FCL001 finding needs it; each file once per run).
The edits touch the callee's name, the arguments that move and the keywords
that are renamed, nothing else, so comments and line breaks stay as they were.
Nothing is imported or run.
"""

from __future__ import annotations

import hashlib
import io
import tokenize
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fedcl_lint.analysis.link import LinkedSite
from fedcl_lint.analysis.table import MessageEntry
from fedcl_lint.settings.rulepack import CallSpec, RewriteSpec, RulePack
from fedcl_lint.types import Fix, Location, Mechanism, TextEdit

if TYPE_CHECKING:
    import libcst as cst
    from libcst.metadata import CodeRange


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
            wanted = _wanted_mechanism(entry, self.policy)
            _check_direct_call(send, self.pack)
            rewrite, source, target = _rewrite_of(send, wanted, self.pack)
            tree = self._tree(send.location.path)
            edits = tree.edits(send.location, rewrite, source, target)
        except Refused as exc:
            return Fix(reason=str(exc))
        except RecursionError:
            return Fix(reason="the file is nested too deeply for libcst")
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
        return "the file is nested too deeply for libcst"


# --- which sends can be fixed -------------------------------------------------------------------


def _check_unique(send: LinkedSite, entry: MessageEntry) -> None:
    """One site per call and API: two sends at one place would make two edits of one call."""
    count = sum(1 for s in entry.sends if s.location == send.location)
    if count != 1:
        raise Refused(f"{count} sends of `{entry.message_type}` in the protocol table at this location")


def _wanted_mechanism(entry: MessageEntry, policy: Mapping[str, Mechanism]) -> Mechanism:
    """The handlers' one mechanism, unless the policy says the handlers are what must change."""
    handled = sorted(entry.handle_mechanisms)
    if len(handled) != 1:
        raise Refused(f"`{entry.message_type}` is handled on {len(handled)} mechanisms")
    declared = policy.get(entry.message_type)
    if declared is not None and declared is not handled[0]:
        raise Refused(
            f"the protocol policy declares `{entry.message_type}` as {declared}, so the handlers are what "
            f"should change (to {declared}); --fix only rewrites sends"
        )
    return handled[0]


def _check_direct_call(send: LinkedSite, pack: RulePack) -> None:
    """A wrapper's call or a payload dict is not the rule-pack call that a rewrite describes."""
    if send.via:
        raise Refused(
            f"`{send.api}` is a wrapper ({' -> '.join(send.via)}): change the send inside it, "
            f"or its callers, by hand"
        )
    if pack.call(send.api) is None:
        raise Refused(f"the send is a {send.api}, not a call of the rule pack's API: change it by hand")


def _rewrite_of(send: LinkedSite, wanted: Mechanism, pack: RulePack) -> tuple[RewriteSpec, CallSpec, CallSpec]:
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
    if target.mechanism is not wanted:  # cannot happen with two mechanisms; never guess if it does
        raise Refused(f"the rule pack rewrites `{send.api}` to `{target.name}`, a {target.mechanism} send")
    return rewrite, source, target


# --- the edits of one call ----------------------------------------------------------------------


class _Tree:
    """One file as analysed: libcst's tree, every node's position, and every call by where it starts."""

    def __init__(self, path: str, data: bytes):
        from libcst import Call
        from libcst.metadata import MetadataWrapper, PositionProvider

        self.path = path
        self.digest = hashlib.sha256(data).hexdigest()
        self.module = parse_source(decode_source(data)[1])
        self.positions: Mapping[cst.CSTNode, CodeRange] = MetadataWrapper(
            self.module, unsafe_skip_copy=True
        ).resolve(PositionProvider)
        self.calls: dict[tuple[int, int], list[cst.Call]] = {}  # 1-based, columns in characters as findings'
        for node, where in self.positions.items():
            if isinstance(node, Call):
                self.calls.setdefault((where.start.line, where.start.column + 1), []).append(node)

    def edits(self, location: Location, rewrite: RewriteSpec, source: CallSpec,
              target: CallSpec) -> tuple[TextEdit, ...]:
        """Rename the call of `source` at `location` to `target` and carry its arguments over."""
        matches = [(c, name) for c in self.calls.get((location.line, location.column), [])
                   if (name := _callee(c)) is not None and name.value == source.name]
        if len(matches) != 1:
            raise Refused(f"libcst finds {len(matches)} calls of `{source.name}` at this position")
        call, callee = matches[0]
        renames = _keyword_renames(rewrite, source, target)
        _check_arguments(call, rewrite, renames, target)
        edits = [self._edit(callee, target.name)]
        positional = [arg for arg in call.args if arg.keyword is None]
        for index, arg in enumerate(positional):  # values move; each place keeps its commas and comments
            slot = rewrite.positions[index]
            if slot != index:
                edits.append(self._edit(positional[slot], self.module.code_for_node(arg.value)))
        for arg in call.args:
            if arg.keyword is not None and renames[arg.keyword.value] != arg.keyword.value:
                edits.append(self._edit(arg.keyword, renames[arg.keyword.value]))
        return tuple(sorted(edits))

    def _edit(self, node: cst.CSTNode, content: str) -> TextEdit:
        """Replace `node` (a positional argument: its value with any parentheses) by `content`."""
        where = self.positions[node]
        return TextEdit(self.path, where.start.line, where.start.column + 1, where.end.line, where.end.column + 1,
                        content)


def _callee(call: cst.Call) -> cst.Name | None:
    """The name a call calls: `f` of `f(...)` and of `obj.f(...)`."""
    from libcst import Attribute, Name

    if isinstance(call.func, Attribute):
        return call.func.attr
    return call.func if isinstance(call.func, Name) else None


def _keyword_renames(rewrite: RewriteSpec, source: CallSpec, target: CallSpec) -> dict[str, str]:
    """Old keyword -> new keyword: the pack's renames plus the message type's (from the two slots)."""
    renames = dict(rewrite.keywords)
    old, new = source.message_type.keyword, target.message_type.keyword
    if old is not None and new is not None:
        renames[old] = new
    return renames


def _check_arguments(call: cst.Call, rewrite: RewriteSpec, renames: Mapping[str, str], target: CallSpec) -> None:
    """Refuse calls whose arguments the declared mapping cannot carry over exactly."""
    if any(arg.star for arg in call.args):
        raise Refused("the call passes `*args` or `**kwargs`, which the rewrite cannot map")
    positional = sum(1 for arg in call.args if arg.keyword is None)
    mapping = rewrite.positions
    if positional > len(mapping):
        raise Refused(f"the call passes {positional} positional arguments; the rule pack maps {len(mapping)}")
    if sorted(mapping[:positional]) != list(range(positional)):
        raise Refused(f"the rule pack would put this call's positional arguments at positions "
                      f"{list(mapping[:positional])}, leaving a gap")
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value not in renames:
            raise Refused(f"the call passes `{arg.keyword.value}=`, which the rule pack does not map onto "
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


def parse_source(text: str) -> cst.Module:
    """libcst's tree of the file, which must print back exactly as it was read."""
    import libcst as cst

    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        raise Refused(f"libcst cannot parse the file: {first_line(exc)}") from None
    if module.code != text:
        raise Refused("libcst does not print the file back exactly: not rewritten")
    return module


def first_line(exc: Exception) -> str:
    """An exception's message in one line (libcst's span several)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
