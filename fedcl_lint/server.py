"""`fedcl-lint server`: a Language Server Protocol server, for editors (on pygls).

The protocol spans files: the handler that makes a send wrong lives in another file. So the
server analyses the whole workspace (a `Session` keeps its files and facts in memory) with
the open documents' unsaved text in place of the files', and publishes every file's
diagnostics after each change: editing `server.py` updates `client.py`. Diagnostics carry
their code, their related locations and, for FCL001, the same edits as `--fix` as a quick
fix ("fix all" is a source action); hovering a message type shows its row of the table.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from fedcl_lint import __version__
from fedcl_lint.analysis.protocol import Message, Protocol
from fedcl_lint.output.rule_page import rule_url
from fedcl_lint.refine.result import Analysis
from fedcl_lint.types import Finding, Location, Severity, TextEdit
from fedcl_lint.workflow.session import Session

SOURCE = "fedcl-lint"
FIX_ALL = "source.fixAll.fedcl-lint"
_DEBOUNCE_SECONDS = 0.05  # edits closer than this are analysed once
_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


class FedclLanguageServer(LanguageServer):
    """The server and what it knows between requests: the session, the last analysis, and which
    files it last published diagnostics for (to clear them when they are gone)."""

    def __init__(self) -> None:
        super().__init__("fedcl-lint", __version__)
        self.session: Session | None = None
        self.analysis: Analysis | None = None
        self.published: set[str] = set()
        self._pending: asyncio.Task[None] | None = None

    # analysis

    def schedule(self) -> None:
        """Analyse soon: a burst of edits is analysed once, after the last."""
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        self._pending = asyncio.ensure_future(self._analyze_later())

    async def _analyze_later(self) -> None:
        await asyncio.sleep(_DEBOUNCE_SECONDS)
        self.refresh()

    def refresh(self) -> None:
        """Analyse the workspace now and publish every file's diagnostics."""
        if self.session is None:
            return
        try:
            self.analysis = self.session.analyze()
        except Exception as exc:  # a bad configuration or rule pack: say so, keep serving
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"fedcl-lint: {exc}"))
            return
        by_file: dict[str, list[types.Diagnostic]] = {}
        for index, finding in enumerate(self.analysis.findings):
            by_file.setdefault(finding.location.path, []).append(self.diagnostic(finding, index))
        for display in self.published - set(by_file):
            self._publish(display, [])
        for display, diagnostics in by_file.items():
            self._publish(display, diagnostics)
        self.published = set(by_file)

    def _publish(self, display: str, diagnostics: list[types.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=self.uri(display), diagnostics=diagnostics)
        )

    # conversions

    def uri(self, display: str) -> str:
        assert self.session is not None
        return from_fs_path(str(self.session.root / display)) or ""

    def display(self, uri: str) -> str | None:
        if self.session is None:
            return None
        return self.session.display(_path(uri))

    def diagnostic(self, finding: Finding, index: int) -> types.Diagnostic:
        related = [
            types.DiagnosticRelatedInformation(
                location=types.Location(uri=self.uri(r.location.path), range=self.range(r.location)),
                message=r.note,
            )
            for r in finding.related
        ]
        return types.Diagnostic(
            range=self.range(finding.location),
            message=finding.message,
            severity=_SEVERITIES[finding.severity],
            code=finding.code,
            code_description=types.CodeDescription(href=rule_url(finding.code)),
            source=SOURCE,
            related_information=related or None,
            data={"index": index, "fixable": finding.fixable},
        )

    def range(self, location: Location) -> types.Range:
        """The span a finding underlines (a call, from its start to its closing parenthesis), else the
        word at its start. LSP counts UTF-16 code units; the analysis, characters."""
        line = self.line_text(location.path, location.line)
        start = location.column - 1
        if location.end is not None:
            end_line, end_column = location.end
            return types.Range(
                start=types.Position(location.line - 1, _utf16(line, start)),
                end=types.Position(end_line - 1, _utf16(self.line_text(location.path, end_line), end_column - 1)),
            )
        end = start
        while end < len(line) and (line[end].isalnum() or line[end] == "_"):
            end += 1
        return types.Range(
            start=types.Position(location.line - 1, _utf16(line, start)),
            end=types.Position(location.line - 1, _utf16(line, max(end, start + 1))),
        )

    def line_text(self, display: str, number: int) -> str:
        document = self.workspace.get_text_document(self.uri(display))
        try:
            lines = document.lines
        except OSError:
            return ""
        return lines[number - 1].rstrip("\r\n") if 0 < number <= len(lines) else ""

    def edits(self, edits: Iterable[TextEdit]) -> types.WorkspaceEdit:
        changes: dict[str, list[types.TextEdit]] = {}
        for edit in edits:
            start_line = self.line_text(edit.path, edit.line)
            end_line = self.line_text(edit.path, edit.end_line)
            changes.setdefault(self.uri(edit.path), []).append(types.TextEdit(
                range=types.Range(
                    start=types.Position(edit.line - 1, _utf16(start_line, edit.column - 1)),
                    end=types.Position(edit.end_line - 1, _utf16(end_line, edit.end_column - 1)),
                ),
                new_text=edit.content,
            ))
        return types.WorkspaceEdit(changes=changes)


def _utf16(line: str, characters: int) -> int:
    """A column in characters as LSP counts it: UTF-16 code units."""
    prefix = line[:characters]
    return len(prefix) + sum(1 for char in prefix if ord(char) > 0xFFFF)


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


server = FedclLanguageServer()


@server.feature(types.INITIALIZE)
def _initialize(ls: FedclLanguageServer, params: types.InitializeParams) -> None:
    folders = params.workspace_folders or []
    root = _path(folders[0].uri) if folders else (_path(params.root_uri) if params.root_uri else Path.cwd())
    ls.session = Session(root)


@server.feature(types.INITIALIZED)
def _initialized(ls: FedclLanguageServer, params: types.InitializedParams) -> None:
    ls.refresh()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: FedclLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    if ls.session is not None:
        ls.session.set_text(_path(params.text_document.uri), params.text_document.text)
        ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: FedclLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    if ls.session is not None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        ls.session.set_text(_path(params.text_document.uri), document.source)
        ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: FedclLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: FedclLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    if ls.session is not None:
        ls.session.set_text(_path(params.text_document.uri), None)
        ls.schedule()


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def _code_action(ls: FedclLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """FCL001's fix for each diagnostic in range, and "fix all" of the document's."""
    if ls.analysis is None:
        return []
    display = ls.display(params.text_document.uri)
    findings = ls.analysis.findings
    actions = []
    for diagnostic in params.context.diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        index = data.get("index")
        if diagnostic.source != SOURCE or not isinstance(index, int) or not 0 <= index < len(findings):
            continue
        finding = findings[index]
        if finding.fix is None or not finding.fix.edits or finding.location.path != display:
            continue
        actions.append(types.CodeAction(
            title=f"{finding.code}: {finding.fix.message or 'apply the fix'}",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=ls.edits(finding.fix.edits),
            is_preferred=True,
        ))
    fixable = [f for f in findings if f.location.path == display and f.fix is not None and f.fix.edits]
    wanted = params.context.only
    if fixable and (wanted is None or FIX_ALL in wanted or types.CodeActionKind.Source in wanted):
        edits = [edit for finding in fixable for edit in finding.fix.edits]  # type: ignore[union-attr]
        actions.append(types.CodeAction(title="fedcl-lint: fix all", kind=FIX_ALL, edit=ls.edits(edits)))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: FedclLanguageServer, params: types.HoverParams) -> types.Hover | None:
    """On a send or handle site: its message type's row of the table."""
    if ls.analysis is None:
        return None
    display = ls.display(params.text_document.uri)
    line = params.position.line + 1
    protocol = Protocol.from_table(ls.analysis.table)
    for message in protocol.messages:
        for site in message.sites:
            if site.location.path == display and site.location.line == line:
                return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=_row(message)))
    return None


def _row(message: Message) -> str:
    """A message type's row of the table, in Markdown."""
    senders = "\n".join(f"- `{s.location}` {s.api} ({s.mechanism})" for s in message.sends) or "- none"
    handlers = "\n".join(f"- `{s.location}` {s.api} ({s.mechanism})" for s in message.handles) or "- none"
    mechanisms = ", ".join(str(m) for m in message.mechanisms)
    return (f"**`{message.message_type}`**: {mechanisms}, {message.status}\n\n"
            f"Senders:\n{senders}\n\nHandlers:\n{handlers}\n")


def serve() -> None:
    """Serve on standard input and output, as editors start language servers."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    server.start_io()
