"""The protocol model: built from the table, written as the manifest, and read back as the same model."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, write_project
from fedcl_lint.analysis.protocol import Protocol
from fedcl_lint.output import json_report
from fedcl_lint.output.manifest import manifest_document, parse_manifest
from fedcl_lint.workflow.pipeline import analyze

PROJECTS = ["seed/bug", "checks", "framework", "resolution", "broken", "star import"]
STAR_IMPORT = {  # a resolution step with no location: a name found through `import *`
    "messages.py": "STOP = 'STOP'\n",
    "node.py": "from messages import *\n\nasync def stop(cm):\n    await cm.send_business_message('peer', STOP, {})\n",
}


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    star = write_project(tmp_path_factory.mktemp("model") / "star", STAR_IMPORT)
    folders = {project: FIXTURES / project for project in PROJECTS[:-1]} | {"star import": star}
    return {project: analyze(["."], cwd=folder) for project, folder in folders.items()}  # no cache: writes nothing


@pytest.mark.parametrize("project", PROJECTS)
def test_a_manifest_reads_back_as_the_protocol_it_was_written_from(analyses, project):
    protocol = Protocol.from_table(analyses[project].table)
    written = json_report.dumps(manifest_document(protocol))

    assert parse_manifest(json.loads(written), "manifest.json") == protocol


def test_the_projects_read_back_have_every_part_of_a_manifest(analyses):
    """The round trip above is only as good as what the projects hold."""
    protocols = [Protocol.from_table(a.table) for a in analyses.values()]
    sites = [s for p in protocols for m in p.messages for s in m.sites]

    assert any(p.unresolved for p in protocols) and any(p.wrappers for p in protocols)
    assert any(s.via for s in sites) and any(s.handler for s in sites) and any(s.function for s in sites)
    assert any(step.location for s in sites for step in s.resolution)
    assert any(step.location is None for s in sites for step in s.resolution)


@pytest.mark.parametrize("project", PROJECTS)
def test_the_model_says_what_the_table_says(analyses, project):
    table = analyses[project].table
    protocol = Protocol.from_table(table)

    assert [(m.message_type, m.status, m.mechanisms, len(m.sends), len(m.handles)) for m in protocol.messages] == [
        (e.message_type, e.status, e.mechanisms, len(e.sends), len(e.handles)) for e in table.entries
    ]
    assert (protocol.site_count, protocol.resolved_count) == (table.site_count, table.resolved_count)
