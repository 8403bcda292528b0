"""`fedcl-lint server` end to end with a real LSP client (pytest-lsp): open, change, diagnostics across
files, a code action applied, hover."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import FIXTURES

SEED = FIXTURES / "seed" / "bug"


@pytest.fixture
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lsp") / "seed"
    shutil.copytree(SEED, root)
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "fedcl_lint", "server"]))
async def client(lsp_client: LanguageClient, project: Path):
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="seed")],
    )
    await lsp_client.initialize_session(params)
    lsp_client.project = project  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def _uri(client: LanguageClient, name: str) -> str:
    return (client.project / name).as_uri()  # type: ignore[attr-defined]


async def _open(client: LanguageClient, name: str) -> str:
    path = client.project / name  # type: ignore[attr-defined]
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="python", version=1,
                                             text=path.read_text(encoding="utf-8"))))
    return path.read_text(encoding="utf-8")


async def _notified(client: LanguageClient) -> None:
    """The next diagnostics the server publishes (a test never hangs on a server that stays silent)."""
    await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=60)


async def _diagnostics(client: LanguageClient, name: str) -> list[types.Diagnostic]:
    while _uri(client, name) not in client.diagnostics:
        await _notified(client)
    return client.diagnostics[_uri(client, name)]


async def _cleared(client: LanguageClient, name: str) -> None:
    while client.diagnostics.get(_uri(client, name)):
        await _notified(client)


def _seed_files(client: LanguageClient) -> list[str]:
    return sorted(p.name for p in client.project.glob("*.py"))  # type: ignore[attr-defined]


@pytest.mark.asyncio(loop_scope="function")
async def test_the_seed_bug_is_published_with_its_code_and_the_handler_it_misses(client: LanguageClient):
    await _open(client, "fedapp/server.py")
    [diagnostic] = await _diagnostics(client, "fedapp/server.py")

    assert (diagnostic.code, diagnostic.source, diagnostic.severity) == (
        "FCL001", "fedcl-lint", types.DiagnosticSeverity.Error)
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href.endswith("/docs/rules/FCL001.md")
    assert diagnostic.message.startswith("`SHUTDOWN` is sent as an event (`send_control_message`)")
    [related] = diagnostic.related_information or []
    assert related.location.uri.endswith("/client.py")
    assert "handled over rpc here" in related.message


@pytest.mark.asyncio(loop_scope="function")
async def test_editing_the_client_updates_the_servers_diagnostics(client: LanguageClient):
    """The handler that makes the send wrong lives in another file: change it, unsaved."""
    await _open(client, "fedapp/server.py")
    text = await _open(client, "fedapp/client.py")
    assert len(await _diagnostics(client, "fedapp/server.py")) == 1

    fixed = text.replace("comm_manager.register_message_handler(SHUTDOWN, self._handle_shutdown_message)",
                         "transport.register_event_listener(client_id, SHUTDOWN, self._on_registered)")
    assert fixed != text
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=_uri(client, "fedapp/client.py"), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
    ))
    await _cleared(client, "fedapp/server.py")  # the send is right now, though server.py did not change
    assert client.diagnostics.get(_uri(client, "fedapp/client.py"), []) == []


@pytest.mark.asyncio(loop_scope="function")
async def test_the_quick_fix_is_the_fix_of_the_finding(client: LanguageClient):
    text = await _open(client, "fedapp/server.py")
    [diagnostic] = await _diagnostics(client, "fedapp/server.py")

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=_uri(client, "fedapp/server.py")),
        range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic]),
    ))
    kinds = [(action.kind, action.title) for action in actions or [] if isinstance(action, types.CodeAction)]
    assert [kind for kind, _ in kinds] == [types.CodeActionKind.QuickFix, "source.fixAll.fedcl-lint"]
    quick = actions[0]
    assert isinstance(quick, types.CodeAction) and quick.edit is not None and quick.edit.changes
    [(uri, edits)] = quick.edit.changes.items()
    assert uri == _uri(client, "fedapp/server.py")
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = edit.range.start, edit.range.end
        prefix, suffix = lines[start.line][: start.character], lines[end.line][end.character:]
        lines[start.line: end.line + 1] = [prefix + edit.new_text + suffix]
    patched = "".join(lines)
    assert "send_business_message" in patched.splitlines()[diagnostic.range.start.line]
    assert patched.count("send_control_message") == text.count("send_control_message") - 1

    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=_uri(client, "fedapp/server.py"), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=patched)],
    ))
    await _cleared(client, "fedapp/server.py")


@pytest.mark.asyncio(loop_scope="function")
async def test_hover_on_a_site_shows_its_message_types_row(client: LanguageClient):
    await _open(client, "fedapp/server.py")
    [diagnostic] = await _diagnostics(client, "fedapp/server.py")

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=_uri(client, "fedapp/server.py")),
        position=diagnostic.range.start,
    ))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("**`SHUTDOWN`**")
    assert "Senders:" in hover.contents.value and "fedapp/client.py" in hover.contents.value


def _check_stdin(project: Path, name: str, text: str) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "fedcl_lint", "check", "--no-cache", "--stdin-filename", name],
                          cwd=project, input=text.encode(), capture_output=True, timeout=120)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def test_check_reads_one_files_unsaved_text_from_stdin_and_analyses_the_project(project: Path):
    """For editor plugins that do not speak LSP: the fix typed but not saved clears the finding."""
    server = project / "fedapp" / "server.py"
    on_disk = server.read_text(encoding="utf-8")
    code, output, _ = _check_stdin(project, "fedapp/server.py", on_disk)
    assert code == 1 and "fedapp/server.py:38:19: FCL001 `SHUTDOWN`" in output

    unsaved = on_disk.replace('send_control_message(\n                client_id, "SHUTDOWN"',
                              'send_business_message(\n                client_id, "SHUTDOWN"')
    assert unsaved != on_disk
    code, output, _ = _check_stdin(project, "fedapp/server.py", unsaved)
    assert (code, output.splitlines()[0]) == (0, "All checks passed (4 files analysed).")
    assert server.read_text(encoding="utf-8") == on_disk  # nothing written

    code, _, error = _check_stdin(project, "fedapp/missing.py", "")
    assert (code, error) == (2, "Error: fedapp/missing.py is not one of the analysed files\n")
