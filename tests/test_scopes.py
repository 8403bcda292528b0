"""Issue 14, part 3: one repository, several protocols (`[[tool.fedcl-lint.protocols]]`).

tests/fixtures/scopes is a framework with two algorithms, alpha and beta, each numbering its
messages 1..4 (ints, as the real framework does), over a shared core/ layer. Alpha's server sends
FINISH (3) that alpha's client never handles; beta's client handles its own 3. Analysed as one
protocol the bug disappears; with a scope per algorithm it is found.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, doc_block, findings_of, long_untouched, write_project
from fedcl_lint.analysis.protocol import Protocol
from fedcl_lint.output import json_report
from fedcl_lint.output.manifest import manifest_document, parse_manifest
from fedcl_lint.records import replace
from fedcl_lint.settings.config import load_config
from fedcl_lint.workflow.check_run import CheckRequest, run_check
from fedcl_lint.workflow.pipeline import analyze

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCOPES = FIXTURES / "scopes"
REPO = Path(__file__).parent.parent
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"

ALPHA_FINISH = ("FCL002", 3, "algorithms/alpha/server.py", 23)

INIT, SYNC = "MyMessage.MSG_TYPE_S2C_INIT_CONFIG", "MyMessage.MSG_TYPE_S2C_SYNC_MODEL"
FINISH, SEND = "MyMessage.MSG_TYPE_S2C_FINISH", "MyMessage.MSG_TYPE_C2S_SEND_MODEL"

# (protocol, message type, name, status, [(role, path, line)]) of every row of `table --format json`
ROWS = [
    ("alpha", 1, INIT, "ok", [("handle", "algorithms/alpha/client.py", 11),
                              ("send", "algorithms/alpha/server.py", 16)]),
    ("alpha", 2, SYNC, "ok", [("handle", "algorithms/alpha/client.py", 12),
                              ("send", "algorithms/alpha/server.py", 19)]),
    ("alpha", 3, FINISH, "unhandled", [("send", "algorithms/alpha/server.py", 23)]),
    ("alpha", 4, SEND, "ok", [("send", "algorithms/alpha/client.py", 15), ("send", "algorithms/alpha/client.py", 18),
                              ("handle", "algorithms/alpha/server.py", 12)]),
    ("alpha", "HEARTBEAT", None, "ok", [("handle", "core/manager.py", 10), ("send", "core/manager.py", 20)]),
    ("alpha", "STATUS", None, "unused", [("handle", "core/manager.py", 11)]),
    ("beta", 1, INIT, "ok", [("handle", "algorithms/beta/client.py", 12), ("send", "algorithms/beta/server.py", 16)]),
    ("beta", 2, SYNC, "ok", [("handle", "algorithms/beta/client.py", 13), ("send", "algorithms/beta/server.py", 20)]),
    ("beta", 3, FINISH, "ok", [("handle", "algorithms/beta/client.py", 14), ("send", "algorithms/beta/server.py", 24)]),
    ("beta", 4, SEND, "ok", [("send", "algorithms/beta/client.py", 18), ("send", "algorithms/beta/client.py", 21),
                             ("handle", "algorithms/beta/server.py", 12)]),
    ("beta", "HEARTBEAT", None, "ok", [("handle", "core/manager.py", 10), ("send", "core/manager.py", 20)]),
    ("beta", "MODEL_SYNC", None, "unhandled", [("send", "algorithms/beta/server.py", 19)]),
    ("beta", "STATUS", None, "ok", [("send", "algorithms/beta/client.py", 17), ("handle", "core/manager.py", 11)]),
]


def _rows(document: dict) -> list[tuple]:
    return [
        (m["protocol"], m["message_type"], m["name"], m["status"],
         [(s["role"], s["path"], s["line"]) for s in m["sites"]])
        for m in document["messages"]
    ]


def _shown(message_type: int | str, name: str | None) -> str:
    """A message type as the text outputs show it: an int by its name and value, a string as it is."""
    return f"{name} ({message_type})" if name is not None else str(message_type)


@pytest.fixture
def project(tmp_path):
    """A copy of the fixture, to change."""
    root = tmp_path / "scopes"
    shutil.copytree(SCOPES, root)
    return root


# --- the planted bug ------------------------------------------------------------------------------


def test_merged_into_one_protocol_the_bug_is_missed(run_cli):
    result = run_cli(["check", "--format", "json", "--config", "unscoped.toml"], cwd=SCOPES)

    assert (result.exit_code, result.json["findings"], result.stderr) == (0, [], "")
    assert "protocol" not in json.dumps(result.json)  # no scope, no field


def test_with_a_scope_per_algorithm_the_bug_is_found_at_alphas_send(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=SCOPES)

    assert result.exit_code == 1
    # exactly the bug: beta's 3 does not handle alpha's; the shared STATUS handler, which only beta
    # sends to, is not unused (FCL003); beta's own external MODEL_SYNC is not unhandled (FCL002)
    assert findings_of(result.json) == [ALPHA_FINISH]
    [finding] = result.json["findings"]
    assert (finding["protocol"], finding["message_type_name"]) == ("alpha", FINISH)
    assert finding["message"] == (
        "`MyMessage.MSG_TYPE_S2C_FINISH (3)` is sent over rpc (`send_message`) but no handler is registered for it"
    )
    assert result.json["summary"] == {"files": 12, "errors": 1, "warnings": 0, "infos": 0,
                                      "call_sites": 22, "resolved_call_sites": 22}
    assert result.stderr == ""


def test_text_report_is_unchanged_by_scopes(run_cli):
    result = run_cli(["check"], cwd=SCOPES)

    assert result.exit_code == 1
    assert result.output == (
        "algorithms/alpha/server.py:23:19: FCL002 `MyMessage.MSG_TYPE_S2C_FINISH (3)` is sent over rpc "
        "(`send_message`) but no handler is registered for it\n"
        "Found 1 error, 0 warnings, 0 infos in 12 files.\n"
        "22 of 22 call sites resolved.\n"
    )


def test_the_table_is_grouped_by_protocol_then_type(run_cli):
    document = run_cli(["table", "--format", "json"], cwd=SCOPES).json

    assert document["protocols"] == ["alpha", "beta"]
    assert _rows(document) == ROWS
    assert document["unresolved"] == []
    assert document["summary"] == {"call_sites": 22, "resolved_call_sites": 22}  # shared sites counted once
    assert list(document["messages"][0])[:3] == ["protocol", "message_type", "name"]


def test_without_scopes_the_table_has_no_protocol_fields(run_cli):
    document = run_cli(["table", "--format", "json", "--config", "unscoped.toml"], cwd=SCOPES).json

    assert "protocols" not in document
    assert all("protocol" not in m for m in document["messages"])
    assert [(m["message_type"], m["name"], m["status"]) for m in document["messages"]] == [
        (1, INIT, "ok"), (2, SYNC, "ok"), (3, FINISH, "ok"), (4, SEND, "ok"), ("HEARTBEAT", None, "ok"),
        ("MODEL_SYNC", None, "unhandled"), ("STATUS", None, "ok"),
    ]


def test_the_text_table_has_a_protocol_column(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # room for the table (at 80 columns it is a list: see test_ci_reports.py)
    output = run_cli(["table"], cwd=SCOPES).output
    header = next(line for line in output.splitlines() if line.startswith("┃"))
    rows: list[list[list[str]]] = []  # the lines of each row, split into cells (a long name wraps)
    for line in output.splitlines():
        if re.match(r"│ (alpha|beta) ", line):
            rows.append([])
        if line.startswith("│") and rows:
            rows[-1].append([cell.strip() for cell in line.split("│")[1:-1]])

    def joined(row: list[list[str]], column: int) -> str:
        return " ".join(cells[column] for cells in row if cells[column])

    assert [cell.strip() for cell in header.split("┃")[1:-1]] == [
        "Protocol", "Message type", "Mechanism(s)", "Senders", "Handlers", "Status"
    ]
    assert [(joined(r, 0), joined(r, 1), joined(r, 5)) for r in rows] == [
        (protocol, _shown(message_type, name), status) for protocol, message_type, name, status, _ in ROWS
    ]


def test_a_shared_finding_that_every_scope_makes_is_reported_once_without_a_protocol(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": """\
            [[tool.fedcl-lint.protocols]]
            name = "a"
            paths = ["a/"]

            [[tool.fedcl-lint.protocols]]
            name = "b"
            paths = ["b/"]
            """,
        "core.py": """\
            def setup(comm, handler):
                comm.register_message_handler("PAUSE", handler)
                comm.register_message_handler("STOP", handler)
            """,
        "a/server.py": "async def go(comm):\n    await comm.send_business_message('c', 'STOP', {})\n",
        "b/server.py": "async def go(comm):\n    await comm.send_business_message('c', 'STOP', {})\n",
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    # PAUSE is sent by neither protocol: FCL003 once, from the shared code; STOP is sent by both
    assert findings_of(result.json) == [("FCL003", "PAUSE", "core.py", 2)]
    assert result.json["findings"][0]["protocol"] is None
    sarif = run_cli(["check", "--format", "sarif"], cwd=tmp_path).json
    assert "protocol" not in sarif["runs"][0]["results"][0]["properties"]


def test_a_shared_finding_merges_the_other_side_of_every_scope(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = ["a/"]\n\n'
                          '[[tool.fedcl-lint.protocols]]\nname = "b"\npaths = ["b/"]\n',
        "core.py": "async def stop(comm):\n    await comm.send_control_message('c', 'STOP', {})\n",
        "a/client.py": "def setup(comm, h):\n    comm.register_message_handler('STOP', h)\n",
        "b/client.py": "def setup(comm, h):\n    comm.register_message_handler('STOP', h)\n",
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL001", "STOP", "core.py", 2)]
    [finding] = result.json["findings"]
    assert (finding["protocol"], [(r["path"], r["line"]) for r in finding["related"]]) == (
        None, [("a/client.py", 2), ("b/client.py", 2)]
    )
    assert [e["content"] for e in finding["fix"]["edits"]] == ["send_business_message"]


def test_a_file_belongs_to_the_first_scope_whose_paths_match_it(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[[tool.fedcl-lint.protocols]]\nname = "outer"\npaths = ["algos/", "*_outer.py"]\n\n'
                          '[[tool.fedcl-lint.protocols]]\nname = "inner"\npaths = ["algos/inner/"]\n',
        "algos/inner/server.py": "async def go(comm):\n    await comm.send_business_message('c', 'GO', {})\n",
        "tool_outer.py": "def setup(comm, h):\n    comm.register_message_handler('GO', h)\n",
    })
    result = run_cli(["table", "--format", "json"], cwd=tmp_path)

    assert [(m["protocol"], m["message_type"], m["status"]) for m in result.json["messages"]] == [
        ("outer", "GO", "ok")
    ]
    assert result.stderr == "warning: protocol `inner`: its paths match none of the analysed files\n"


# --- external -------------------------------------------------------------------------------------


def test_a_scopes_external_types_are_its_own(run_cli, project):
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    moved = text.replace('external = ["MODEL_SYNC"]', "").replace(
        'paths = ["algorithms/alpha/"]', 'paths = ["algorithms/alpha/"]\nexternal = ["MODEL_SYNC"]'
    )
    pyproject.write_text(moved, encoding="utf-8")
    result = run_cli(["check", "--format", "json"], cwd=project)

    assert findings_of(result.json) == [ALPHA_FINISH, ("FCL002", "MODEL_SYNC", "algorithms/beta/server.py", 19)]
    assert [f["protocol"] for f in result.json["findings"]] == ["alpha", "beta"]

    pyproject.write_text('[tool.fedcl-lint]\nexternal = ["MODEL_SYNC"]\n\n' + moved, encoding="utf-8")
    assert findings_of(run_cli(["check", "--format", "json"], cwd=project).json) == [ALPHA_FINISH]


# --- configuration --------------------------------------------------------------------------------


def test_the_settings_read_the_scopes(tmp_path):
    config = load_config(["."], SCOPES)

    assert [(s.name, s.paths, s.external) for s in config.protocols] == [
        ("alpha", ("algorithms/alpha/",), frozenset()),
        ("beta", ("algorithms/beta/",), frozenset({"MODEL_SYNC"})),
    ]
    assert config.protocol_of("algorithms/beta/client.py") == "beta"
    assert config.protocol_of("core/manager.py") is None
    assert config.protocol_of("../elsewhere/algorithms/alpha/x.py") is None
    assert config.external_of("beta") == frozenset({"MODEL_SYNC"}) and config.external_of(None) == frozenset()


P = "tool.fedcl-lint.protocols"


@pytest.mark.parametrize(("settings", "error"), [
    ('protocols = "alpha"', f"`{P}`: expected an array of tables (`[[tool.fedcl-lint.protocols]]`) with a `name` "
                            "and `paths`, found 'alpha'"),
    ("protocols = [1]", f"`{P}[0]`: expected a table with a `name` and `paths`, found 1"),
    ('[[tool.fedcl-lint.protocols]]\npaths = ["a/"]', f"`{P}[0]`: missing key `name`"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"', f"`{P}[0]`: missing key `paths`"),
    ('[[tool.fedcl-lint.protocols]]\nname = ""\npaths = ["a/"]',
     f"`{P}[0].name`: expected a non-empty protocol name, found ''"),
    ('[[tool.fedcl-lint.protocols]]\nname = 3\npaths = ["a/"]',
     f"`{P}[0].name`: expected a non-empty protocol name, found 3"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = ["a/"]\n[[tool.fedcl-lint.protocols]]\nname = "a"\n'
     'paths = ["b/"]', f"`{P}[1].name`: duplicate protocol name 'a'"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = []',
     f"`{P}[0].paths`: expected a non-empty array of glob patterns or folders, found []"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = "a/"',
     f"`{P}[0].paths`: expected a non-empty array of glob patterns or folders, found 'a/'"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = ["a/", 2]',
     f"`{P}[0].paths[1]`: expected a non-empty string, found 2"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = ["a/"]\nexternal = "X"',
     f"`{P}[0].external`: expected an array of message types, found 'X'"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npaths = ["a/"]\nexternal = [""]',
     f"`{P}[0].external[0]`: expected a non-empty string, found ''"),
    ('[[tool.fedcl-lint.protocols]]\nname = "a"\npath = ["a/"]',
     f"unknown key `{P}[0].path` (allowed: external, name, paths)"),
])
def test_bad_scopes_are_errors_naming_the_key(run_cli, tmp_path, settings, error):
    header = "" if settings.startswith("[[") else "[tool.fedcl-lint]\n"
    write_project(tmp_path, {"pyproject.toml": header + settings + "\n", "app.py": "x = 1\n"})

    for command in (["check"], ["table"], ["docs"]):
        result = run_cli(command, cwd=tmp_path)
        assert (result.exit_code, result.stderr) == (2, f"Error: pyproject.toml: {error}\n")


def test_a_scope_that_matches_no_file_is_a_warning(run_cli):
    result = run_cli(["check", "algorithms/alpha", "core", "--format", "json"], cwd=SCOPES)

    assert result.stderr == "warning: protocol `beta`: its paths match none of the analysed files\n"
    # beta's table is the shared code alone: nothing analysed sends STATUS any more
    assert (result.exit_code, findings_of(result.json)) == (
        1, [ALPHA_FINISH, ("FCL003", "STATUS", "core/manager.py", 11)]
    )


def test_a_run_with_a_warning_is_not_replayed_so_it_warns_every_time(tmp_path, monkeypatch):
    root = tmp_path / "scopes"
    shutil.copytree(SCOPES, root)
    long_untouched(root, monkeypatch)
    request = CheckRequest(("algorithms/alpha", "core"), load_config(["."], root), root,
                           cache_dir=tmp_path / "cache", output_format="json")
    first, second = run_check(request), run_check(request)

    assert (first.replayed, second.replayed) == (False, False)
    assert first.result.warnings == second.result.warnings == (
        "protocol `beta`: its paths match none of the analysed files",
    )
    assert first.report == second.report
    full = replace(request, paths=())
    assert (run_check(full).replayed, run_check(full).replayed) == (False, True)  # no warning: replayed


def test_the_documented_example_of_scopes_runs(run_cli, tmp_path):
    example = doc_block("configuration.md", "toml", "[[tool.fedcl-lint.protocols]]")
    settings = tomllib.loads(example)["tool"]["fedcl-lint"]
    assert [p["name"] for p in settings["protocols"]] == ["fedavg", "fedprox"]
    send = "async def go(comm):\n    await comm.send_business_message('c', {!r}, {{}})\n"
    handle = "def setup(comm, h):\n    comm.register_message_handler({!r}, h)\n"
    write_project(tmp_path, {
        "pyproject.toml": example,
        "algorithms/fedavg/server.py": send.format("3") + send.format("MODEL_SYNC").replace("go", "sync"),
        "algorithms/fedprox/client.py": handle.format("3"),
        "examples/fedprox_run.py": send.format("3") + send.format("MODEL_SYNC").replace("go", "sync"),
        "core/metrics.py": send.format("METRICS_REPORT"),
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    # fedavg's "3" is not fedprox's; MODEL_SYNC is external to fedavg only; METRICS_REPORT to both
    assert findings_of(result.json) == [
        ("FCL002", "3", "algorithms/fedavg/server.py", 2),
        ("FCL002", "MODEL_SYNC", "examples/fedprox_run.py", 4),
    ]
    assert [f["protocol"] for f in result.json["findings"]] == ["fedavg", "fedprox"]


# --- docs, SARIF, diff ----------------------------------------------------------------------------


def test_the_docs_page_has_a_section_per_protocol(run_cli):
    page = run_cli(["docs"], cwd=SCOPES).output
    lines = page.splitlines()

    assert [line for line in lines if line.startswith("### Protocol")] == ["### Protocol `alpha`", "### Protocol `beta`"]
    alpha, beta = page.index("### Protocol `alpha`"), page.index("### Protocol `beta`")
    assert "| `MyMessage.MSG_TYPE_S2C_FINISH (3)` | rpc |" in page[alpha:beta]
    assert "**unhandled**" in page[alpha:beta]
    assert "| `MODEL_SYNC` |" in page[beta:] and "| `MODEL_SYNC` |" not in page[alpha:beta]
    assert "13 message types in 2 protocols, 22 call sites (0 unresolved: see `fedcl-lint table`)." in lines
    assert (
        "- **error** FCL002 (protocol `alpha`) [algorithms/alpha/server.py:23](algorithms/alpha/server.py#L23): "
        "`MyMessage.MSG_TYPE_S2C_FINISH (3)` is sent over rpc (`send_message`) but no handler is registered for it"
    ) in lines
    assert '    n1 -->|"alpha: MyMessage.MSG_TYPE_S2C_FINISH (3)"| n5' in lines
    assert '    n4 -->|"alpha: HEARTBEAT<br>beta: HEARTBEAT"| n4' in lines
    assert '    n3 -->|"beta: MODEL_SYNC"| n7' in lines and '    n7(["outside the repository"])' in lines


def test_sarif_carries_the_protocol_and_stays_valid(run_cli):
    document = run_cli(["check", "--format", "sarif"], cwd=SCOPES).json
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)

    assert list(validator.iter_errors(document)) == []
    [result] = document["runs"][0]["results"]
    assert result["properties"] == {
        "messageType": 3, "messageTypeName": "MyMessage.MSG_TYPE_S2C_FINISH", "mechanism": "rpc", "protocol": "alpha"
    }


def test_a_scoped_manifest_reads_back_as_its_protocol():
    protocol = Protocol.from_table(analyze(["."], load_config(["."], SCOPES), cwd=SCOPES).table)
    read = parse_manifest(json.loads(json_report.dumps(manifest_document(protocol))), "manifest.json")

    assert read == protocol
    assert read.scopes == ("alpha", "beta") and {m.scope for m in read.messages} == {"alpha", "beta"}
    assert (read.site_count, read.resolved_count) == (22, 22)


def _manifest(run_cli, root: Path, name: str, *args: str) -> Path:
    path = root.parent / name
    path.write_text(run_cli(["table", "--format", "json", *args], cwd=root).output, encoding="utf-8")
    return path


def test_diff_compares_message_types_within_their_protocol(run_cli, project):
    old = _manifest(run_cli, project, "old.json")
    client = project / "algorithms" / "beta" / "client.py"
    client.write_text(client.read_text(encoding="utf-8").replace(
        "        self.register_message_receive_handler(MyMessage.MSG_TYPE_S2C_FINISH, self.handle_finish)\n", ""
    ), encoding="utf-8")
    new = _manifest(run_cli, project, "new.json")

    result = run_cli(["diff", str(old), str(new), "--format", "json"], cwd=project)
    assert result.exit_code == 1
    assert result.json["changes"] == [{
        "kind": "handler-removed", "message_type": 3, "name": FINISH, "protocol": "beta", "breaking": True,
        "description": "the rpc handler was removed but it is still sent on rpc at algorithms/beta/server.py:24:19",
    }]
    text = run_cli(["diff", str(old), str(new)], cwd=project).output
    assert text.splitlines()[0] == (
        "BREAKING  handler-removed  MyMessage.MSG_TYPE_S2C_FINISH (3) [beta]: the rpc handler was removed but it is "
        "still sent on rpc at algorithms/beta/server.py:24:19"
    )


def test_a_type_moving_to_another_protocol_is_a_change(run_cli, project, tmp_path):
    old = _manifest(run_cli, project, "old.json")
    document = json.loads(old.read_text(encoding="utf-8"))
    for message in document["messages"]:
        if (message["protocol"], message["message_type"]) == ("beta", "MODEL_SYNC"):
            message["protocol"] = "alpha"
    new = tmp_path / "moved.json"
    new.write_text(json.dumps(document), encoding="utf-8")

    result = run_cli(["diff", str(old), str(new), "--format", "json"], cwd=project)
    assert [(c["kind"], c["message_type"], c["protocol"], c["breaking"]) for c in result.json["changes"]] == [
        ("added", "MODEL_SYNC", "alpha", False), ("removed", "MODEL_SYNC", "beta", False),
    ]
    assert run_cli(["diff", str(old), str(old)], cwd=project).output == "No protocol changes.\n"


def test_diff_from_one_protocol_to_scopes_moves_every_type(run_cli, project):
    old = _manifest(run_cli, project, "old.json", "--config", "unscoped.toml")
    new = _manifest(run_cli, project, "new.json")

    changes = run_cli(["diff", str(old), str(new), "--format", "json"], cwd=project).json["changes"]
    assert [(c["kind"], c["protocol"], c["message_type"], c.get("name")) for c in changes][:3] == [
        ("removed", None, 1, INIT), ("removed", None, 2, SYNC), ("removed", None, 3, FINISH),
    ]
    assert [(c["protocol"], c["message_type"], c.get("name")) for c in changes if c["kind"] == "added"] == [
        (protocol, message_type, name) for protocol, message_type, name, _, _ in ROWS
    ]


def test_diff_against_a_git_revision_keeps_the_scopes(run_cli, project):
    from test_protocol_diff import git

    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "two algorithms")
    client = project / "algorithms" / "alpha" / "client.py"  # alpha's client learns to handle FINISH
    client.write_text(client.read_text(encoding="utf-8").replace(
        "        self.register_message_receive_handler(MyMessage.MSG_TYPE_S2C_SYNC_MODEL, self.handle_sync)\n",
        "        self.register_message_receive_handler(MyMessage.MSG_TYPE_S2C_SYNC_MODEL, self.handle_sync)\n"
        "        self.register_message_receive_handler(MyMessage.MSG_TYPE_S2C_FINISH, self.handle_sync)\n",
    ), encoding="utf-8")

    result = run_cli(["diff", "--base", "HEAD", "--format", "json"], cwd=project)
    assert (result.exit_code, [(c["kind"], c["protocol"], c["message_type"], c["name"])
                               for c in result.json["changes"]]) == (0, [("mechanism-changed", "alpha", 3, FINISH)])
    assert run_cli(["check"], cwd=project).exit_code == 0
