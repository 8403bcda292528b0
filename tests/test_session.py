"""An editor's session: after each edit, the same findings and table as a full analysis of the edited files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES
from fedcl_lint.settings.config import load_config
from fedcl_lint.workflow.pipeline import analyze
from fedcl_lint.workflow.session import Session

FRAMEWORK = FIXTURES / "framework"

# (file, old text, new text): edits an editor makes, one at a time, to the framework fixture
EDITS = [
    # a body changes: only this module's sites are linked again
    ("fedframe/federation/server.py", "SHUTDOWN", "PAUSE"),
    # a constant other modules import changes: they are linked again too
    ("fedframe/messages.py", '"heartbeat"', '"heartbeat_v2"'),
    # a function starts passing its parameter on to a send: the wrappers change, all is linked again
    ("fedframe/federation/client.py", "    def __init__", "    async def relay(self, kind):\n"
     "        await self.comm.send_business_message('server', kind, {})\n\n    def __init__"),
    # a line added at the top moves every site of the file
    ("fedframe/comm/client_comm.py", '"""', '# edited\n"""'),
    # a dispatcher's registration is edited: linked again from scratch
    ("fedframe/comm/base.py", '"registration"', '"register"'),
    # a syntax error, then its repair
    ("fedframe/federation/connection.py", "def ", "def (", ),
]


def _full(root: Path):
    """What `check` finds in the files on disk."""
    return analyze(["."], load_config(["."], root), cwd=root)


def _view(analysis) -> tuple:
    sites = sorted((str(s.location), s.api, str(s.message_type), s.role, s.mechanism, s.via)
                   for s in analysis.table.sites)
    return sites, [(f.code, str(f.location), f.message) for f in analysis.findings]


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "framework"
    shutil.copytree(FRAMEWORK, root)
    return root


def test_after_every_edit_the_session_agrees_with_a_full_analysis(project):
    session = Session(project)
    assert _view(session.analyze()) == _view(_full(project))
    for name, old, new in EDITS:
        path = project / name
        text = path.read_text(encoding="utf-8")
        assert old in text, name
        edited = text.replace(old, new, 1)
        session.set_text(path, edited)  # unsaved: the file on disk is still the old one
        seen = _view(session.analyze())
        path.write_text(edited, encoding="utf-8")
        assert seen == _view(_full(project)), name


def test_closing_a_document_brings_back_the_file_on_disk(project):
    session = Session(project)
    before = _view(session.analyze())
    path = project / "fedframe" / "federation" / "server.py"
    session.set_text(path, path.read_text(encoding="utf-8").replace("SHUTDOWN", "PAUSE"))
    assert _view(session.analyze()) != before
    session.set_text(path, None)
    assert _view(session.analyze()) == before


def test_a_new_file_is_found(project):
    session = Session(project)
    session.analyze()
    path = project / "fedframe" / "extra.py"
    path.write_text("async def go(cm):\n    await cm.send_business_message('s', 'NEW_ONE', {})\n")
    session.set_text(path, path.read_text())
    assert any(str(f.message_type) == "NEW_ONE" for f in session.analyze().findings)
