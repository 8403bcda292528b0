"""`check --fix` and `--diff`: rewrite each FCL001 send to the mechanism its handlers use.

A fix is made only where it is unambiguous: the handlers use exactly one
mechanism (and the protocol policy, if it names the message type, agrees),
the send is a direct call of a rule-pack API (not a wrapper or a payload), and
the rule pack declares how that call's arguments map onto the other one
(`[[rewrites]]`). Everything else is left alone with a note saying why.

The analysis located the send with Python's `ast`; the rewrite is done with
libcst, which keeps every comment and every odd line break of the file, on
that one file only. The new source is re-parsed (ast and libcst) before it is
written, in the file's own encoding, BOM, line endings and mode bits, through
a temporary file in the same folder and `os.replace` (a file is either the
old one or the new one, never half of each). Nothing is imported or run.
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Mapping, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from fedcl_lint.refine.result import Analysis
from fedcl_lint.analysis.discover import SourceFile
from fedcl_lint.files import replace_atomically
from fedcl_lint.analysis.link import LinkedSite
from fedcl_lint.settings.rulepack import CallSpec, RewriteSpec, RulePack
from fedcl_lint.analysis.table import MessageEntry
from fedcl_lint.types import Finding, Location, Mechanism, plural

CODE = "FCL001"


@dataclass(frozen=True)
class Edit:
    """One send to rewrite: where it is, and the rule pack's rewrite of its call."""

    location: Location
    rewrite: RewriteSpec
    source: CallSpec
    target: CallSpec


@dataclass(frozen=True)
class Unfixed:
    """An FCL001 finding left as it is, and why."""

    location: Location
    reason: str


@dataclass(frozen=True)
class FileFix:
    """A file's bytes before and after its edits (nothing is written yet)."""

    file: SourceFile
    before: bytes
    after: bytes
    encoding: str
    edits: tuple[Edit, ...]

    @property
    def display(self) -> str:
        return self.file.display


@dataclass(frozen=True)
class FixPlan:
    """What `--fix` would do: the rewritten files, and the findings it leaves."""

    total: int  # FCL001 findings seen
    files: tuple[FileFix, ...]
    unfixed: tuple[Unfixed, ...]

    @property
    def fixed(self) -> int:
        return sum(len(f.edits) for f in self.files)


@dataclass(frozen=True)
class WriteFailure:
    """A file that could not be written (it is left exactly as it was)."""

    display: str
    reason: str


class _Refused(Exception):
    """A file or call that cannot be rewritten safely; the message says why."""


def plan_fixes(analysis: Analysis) -> FixPlan:
    """Decide, for each FCL001 finding the run reports, whether and how its send is rewritten,
    by the analysis's rule pack and protocol policy. Findings that the settings hide
    (suppressed, baselined, not selected) are not fixed.
    """
    pack, policy = analysis.pack, analysis.config.policy
    if pack is None:
        raise ValueError("plan_fixes needs an Analysis from `analyze`, which knows its rule pack")
    findings = [f for f in analysis.findings if f.code == CODE]
    by_display = {file.display: file for file in analysis.files}
    unfixed: list[Unfixed] = []
    edits: dict[str, list[Edit]] = {}
    for finding in findings:
        decision = _decide(finding, analysis, pack, policy)
        if isinstance(decision, Unfixed):
            unfixed.append(decision)
        else:
            edits.setdefault(finding.location.path, []).append(decision)
    files = []
    for display in sorted(edits):
        fixed, left = _fix_file(by_display[display], edits[display])
        unfixed.extend(left)
        if fixed is not None:
            files.append(fixed)
    return FixPlan(len(findings), tuple(files), tuple(sorted(unfixed, key=lambda u: u.location)))


# --- which findings can be fixed --------------------------------------------------------------


def _decide(finding: Finding, analysis: Analysis, pack: RulePack,
            policy: Mapping[str, Mechanism]) -> Edit | Unfixed:
    """The edit for one finding, or why there is none (the conditions that the table and pack decide)."""
    try:
        entry, send = _send_of(finding, analysis)
        wanted = _wanted_mechanism(entry, policy)
        _check_direct_call(send, pack)
        rewrite, source, target = _rewrite_of(send, wanted, pack)
    except _Refused as exc:
        return Unfixed(finding.location, str(exc))
    return Edit(finding.location, rewrite, source, target)


def _send_of(finding: Finding, analysis: Analysis) -> tuple[MessageEntry, LinkedSite]:
    """The table's send behind a finding (one site per call and API)."""
    entry = analysis.table.entry(finding.message_type) if finding.message_type is not None else None
    sends = [s for s in entry.sends if s.location == finding.location] if entry is not None else []
    if len(sends) != 1:
        raise _Refused(f"{len(sends)} sends of `{finding.message_type}` in the protocol table at this location")
    return entry, sends[0]


def _wanted_mechanism(entry: MessageEntry, policy: Mapping[str, Mechanism]) -> Mechanism:
    """The handlers' one mechanism, unless the policy says the handlers are what must change."""
    handled = sorted(entry.handle_mechanisms)
    if len(handled) != 1:
        raise _Refused(f"`{entry.message_type}` is handled on {len(handled)} mechanisms")
    declared = policy.get(entry.message_type)
    if declared is not None and declared is not handled[0]:
        raise _Refused(
            f"the protocol policy declares `{entry.message_type}` as {declared}, so the handlers are what "
            f"should change (to {declared}); --fix only rewrites sends"
        )
    return handled[0]


def _check_direct_call(send: LinkedSite, pack: RulePack) -> None:
    """A wrapper's call or a payload dict is not the rule-pack call that a rewrite describes."""
    if send.via:
        raise _Refused(
            f"`{send.api}` is a wrapper ({' -> '.join(send.via)}): change the send inside it, "
            f"or its callers, by hand"
        )
    if pack.call(send.api) is None:
        raise _Refused(f"the send is a {send.api}, not a call of the rule pack's API: change it by hand")


def _rewrite_of(send: LinkedSite, wanted: Mechanism, pack: RulePack) -> tuple[RewriteSpec, CallSpec, CallSpec]:
    """The pack's rewrite of the send's call to `wanted` (validated on load), or its reason for none."""
    rewrite = pack.rewrite(send.api)
    if rewrite is None:
        raise _Refused(
            f"the rule pack declares no rewrite of `{send.api}` (a [[rewrites]] entry with from = \"{send.api}\")"
        )
    if rewrite.target is None:
        raise _Refused(rewrite.manual)
    source, target = pack.call(rewrite.source), pack.call(rewrite.target)
    if target.mechanism is not wanted:  # cannot happen with two mechanisms; never guess if it does
        raise _Refused(f"the rule pack rewrites `{send.api}` to `{target.name}`, a {target.mechanism} send")
    return rewrite, source, target


# --- rewriting one file ---------------------------------------------------------------------


def _fix_file(file: SourceFile, edits: list[Edit]) -> tuple[FileFix | None, list[Unfixed]]:
    """Rewrite the calls of `edits` in `file` (read once), keeping everything else byte for byte."""
    try:
        before = file.path.read_bytes()
        encoding, text = _decode(before)
        chosen, unfixed, after_text = _rewrite(text, edits)
    except OSError as exc:
        return None, [Unfixed(e.location, f"cannot read the file: {exc.strerror or exc}") for e in edits]
    except RecursionError:
        return None, [Unfixed(e.location, "the file is nested too deeply for libcst") for e in edits]
    except _Refused as exc:
        return None, [Unfixed(e.location, str(exc)) for e in edits]
    if not chosen:
        return None, unfixed
    try:
        after = _verified(after_text, encoding)
    except _Refused as exc:
        return None, unfixed + [Unfixed(e.location, str(exc)) for e in chosen]
    return FileFix(file, before, after, encoding, tuple(sorted(chosen, key=lambda e: e.location))), unfixed


def _rewrite(text: str, edits: list[Edit]) -> tuple[list[Edit], list[Unfixed], str]:
    """(the edits made, the ones refused, the new text): each call found by position in libcst's tree."""
    wrapper = MetadataWrapper(_parse(text), unsafe_skip_copy=True)
    calls = _calls_by_position(wrapper)
    chosen: dict[cst.Call, Edit] = {}
    unfixed: list[Unfixed] = []
    for edit in edits:
        try:
            chosen[_locate(calls, edit)] = edit
        except _Refused as exc:
            unfixed.append(Unfixed(edit.location, str(exc)))
    if not chosen:
        return [], unfixed, text
    return list(chosen.values()), unfixed, wrapper.module.visit(_Rewriter(chosen)).code


def _decode(data: bytes) -> tuple[str, str]:
    """(encoding, text) as Python reads the file (PEP 263: BOM or coding cookie), if it round-trips."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise _Refused(f"cannot decode the file: {exc}") from None
    if text.encode(encoding) != data:
        raise _Refused(f"the file does not survive decoding and re-encoding as {encoding}: not rewritten")
    return encoding, text


def _parse(text: str) -> cst.Module:
    """libcst's tree of the file, which must print back exactly as it was read."""
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        raise _Refused(f"libcst cannot parse the file: {_first_line(exc)}") from None
    if module.code != text:
        raise _Refused("libcst does not print the file back exactly: not rewritten")
    return module


def _calls_by_position(wrapper: MetadataWrapper) -> dict[tuple[int, int], list[cst.Call]]:
    """Every call by its 1-based (line, column), columns in characters like the findings'."""
    found: dict[tuple[int, int], list[cst.Call]] = {}
    for node, where in wrapper.resolve(PositionProvider).items():
        if isinstance(node, cst.Call):
            found.setdefault((where.start.line, where.start.column + 1), []).append(node)
    return found


def _locate(calls: dict[tuple[int, int], list[cst.Call]], edit: Edit) -> cst.Call:
    """The one call of `edit.source` at the finding's position, its arguments checked."""
    location = edit.location
    matches = [c for c in calls.get((location.line, location.column), []) if _callee(c) == edit.source.name]
    if len(matches) != 1:
        raise _Refused(f"found {len(matches)} calls of `{edit.source.name}` at this position "
                       f"(has the file changed since it was analysed?)")
    _check_arguments(matches[0], edit)
    return matches[0]


def _callee(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _keyword_renames(edit: Edit) -> dict[str, str]:
    """Old keyword -> new keyword: the pack's renames plus the message type's (from the two slots)."""
    renames = dict(edit.rewrite.keywords)
    old, new = edit.source.message_type.keyword, edit.target.message_type.keyword
    if old is not None and new is not None:
        renames[old] = new
    return renames


def _check_arguments(call: cst.Call, edit: Edit) -> None:
    """Refuse calls whose arguments the declared mapping cannot carry over exactly."""
    if any(arg.star for arg in call.args):
        raise _Refused("the call passes `*args` or `**kwargs`, which the rewrite cannot map")
    positional = sum(1 for arg in call.args if arg.keyword is None)
    mapping = edit.rewrite.positions
    if positional > len(mapping):
        raise _Refused(f"the call passes {positional} positional arguments; the rule pack maps {len(mapping)}")
    if sorted(mapping[:positional]) != list(range(positional)):
        raise _Refused(f"the rule pack would put this call's positional arguments at positions "
                       f"{list(mapping[:positional])}, leaving a gap")
    renames = _keyword_renames(edit)
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value not in renames:
            raise _Refused(f"the call passes `{arg.keyword.value}=`, which the rule pack does not map onto "
                           f"`{edit.target.name}`")


class _Rewriter(cst.CSTTransformer):
    """Renames the chosen calls and carries their arguments over; touches nothing else."""

    def __init__(self, chosen: dict[cst.Call, Edit]):
        super().__init__()
        self.chosen = chosen

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        edit = self.chosen.get(original_node)
        if edit is None:
            return updated_node
        # `updated_node`, not the original: a chosen call may sit inside another's arguments
        return updated_node.with_changes(func=_renamed(updated_node.func, edit.target.name),
                                         args=_mapped(updated_node.args, edit))


def _renamed(func: cst.BaseExpression, name: str) -> cst.BaseExpression:
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=func.attr.with_changes(value=name))
    return func.with_changes(value=name)


def _mapped(args: Sequence[cst.Arg], edit: Edit) -> list[cst.Arg]:
    """Arguments in their new places: values move, each place keeps its commas and comments."""
    positional = [arg for arg in args if arg.keyword is None]
    placed = list(positional)
    for index, arg in enumerate(positional):
        slot = edit.rewrite.positions[index]
        placed[slot] = positional[slot].with_changes(value=arg.value)
    renames = _keyword_renames(edit)
    keywords = [
        arg.with_changes(keyword=arg.keyword.with_changes(value=renames[arg.keyword.value]))
        for arg in args
        if arg.keyword is not None
    ]
    return placed + keywords


def _verified(text: str, encoding: str) -> bytes:
    """The new file's bytes, once both parsers accept them as Python reads them (cookie, BOM)."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise _Refused(f"the rewritten file cannot be encoded as {encoding}: {exc.reason}") from None
    try:
        ast.parse(data)
        cst.parse_module(data)
    except (SyntaxError, ValueError, cst.ParserSyntaxError) as exc:
        raise _Refused(f"the rewritten file does not parse ({_first_line(exc)}): not rewritten") from None
    return data


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


# --- writing --------------------------------------------------------------------------------


def apply(plan: FixPlan) -> tuple[WriteFailure, ...]:
    """Write every rewritten file atomically; a file that fails is left exactly as it was."""
    failures = []
    for fix in plan.files:
        try:
            _write(fix)
        except _Refused as exc:
            failures.append(WriteFailure(fix.display, str(exc)))
        except OSError as exc:
            failures.append(WriteFailure(fix.display, f"cannot write: {exc.strerror or exc}"))
    return tuple(failures)


def _write(fix: FileFix) -> None:
    """Replace the file's content (through a symlink: see replace_atomically), if it did not change meanwhile."""
    if fix.file.path.read_bytes() != fix.before:
        raise _Refused("the file changed since it was analysed: not rewritten")
    replace_atomically(fix.file.path, fix.after)


# --- reporting ------------------------------------------------------------------------------


def unified_diff(plan: FixPlan) -> str:
    """The plan as a unified diff (`patch -p0` applies it), one file after another."""
    parts = []
    for fix in plan.files:
        before = _lines(fix.before.decode(fix.encoding))
        after = _lines(fix.after.decode(fix.encoding))
        for line in difflib.unified_diff(before, after, fromfile=fix.display, tofile=fix.display):
            parts.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(parts)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> list[str]:
    """Lines with their own endings, split only where Python ends a line (not at \\f or \\x1c)."""
    return _LINE.findall(text)


def summary(plan: FixPlan, failures: tuple[WriteFailure, ...] = (), dry_run: bool = False) -> str:
    """'Fixed N of M FCL001 findings (K files).', then why each other one was not fixed."""
    failed = {f.display for f in failures}
    written = [f for f in plan.files if f.display not in failed]
    fixed = sum(len(f.edits) for f in written)
    verb = "Would fix" if dry_run else "Fixed"
    lines = [f"{verb} {fixed} of {plan.total} {CODE} findings ({plural(len(written), 'file')})."]
    lines += [f"    {u.location}: not fixed: {u.reason}" for u in plan.unfixed]
    for failure in failures:
        count = next(len(f.edits) for f in plan.files if f.display == failure.display)
        lines.append(f"error: {failure.display}: {failure.reason}; the file is unchanged "
                     f"({plural(count, 'fix')} not applied)")
    return "\n".join(lines) + "\n"

