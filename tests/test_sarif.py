"""SARIF 2.1.0: valid against the official schema, with rules, related locations and stable fingerprints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, write_project
from fedcl_lint import __version__
from fedcl_lint.checks import ALL_CHECKS

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"  # the OASIS schema, see schemas/README.md


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    # The schema ships with the tests; without it this test must fail, not skip.
    assert SCHEMA.is_file(), f"the SARIF schema is missing: {SCHEMA}"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("fixture", ["seed/bug", "seed/rpc_fix", "checks", "broken"])
def test_sarif_validates_against_the_schema(run_cli, validator, fixture):
    result = run_cli(["check", "--format", "sarif"], cwd=FIXTURES / fixture)

    errors = sorted(validator.iter_errors(result.json), key=lambda e: list(e.path))
    assert errors == [], "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    assert result.exit_code == (0 if fixture == "seed/rpc_fix" else 1)


def test_the_validator_does_catch_an_invalid_document(validator, run_cli):
    document = run_cli(["check", "--format", "sarif"], cwd=FIXTURES / "seed" / "bug").json
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] = 0

    assert not validator.is_valid(document)


def test_seed_result_links_the_handler_as_a_related_location(run_cli, tmp_path):
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")  # outside any git repository: paths from here
    document = run_cli(["check", "--format", "sarif"], cwd=tmp_path / "bug").json
    [run] = document["runs"]
    [result] = run["results"]

    assert document["version"] == "2.1.0"
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": (tmp_path / "bug").as_uri() + "/"}}
    assert result["ruleId"] == "FCL001"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "FCL001"
    assert result["level"] == "error"
    assert result["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "fedapp/server.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 38, "startColumn": 19, "endLine": 40, "endColumn": 14},  # the call, to its `)`
    }}]
    assert result["relatedLocations"] == [{
        "id": 1,
        "physicalLocation": {
            "artifactLocation": {"uri": "fedapp/client.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 13, "startColumn": 9, "endLine": 13, "endColumn": 87},
        },
        "message": {"text": "handled over rpc here (`register_message_handler`)"},
    }]
    assert result["message"]["text"].endswith(
        "or register it with `register_event_listener`. See [handled over rpc here (`register_message_handler`)](1)."
    )
    assert result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")


def test_every_check_is_a_rule_with_its_documentation(run_cli):
    driver = run_cli(["check", "--format", "sarif"], cwd=FIXTURES / "seed" / "rpc_fix").json["runs"][0]["tool"]["driver"]

    assert (driver["name"], driver["version"]) == ("fedcl-lint", __version__)
    assert [r["id"] for r in driver["rules"]] == [c.code for c in ALL_CHECKS]
    for rule, check in zip(driver["rules"], ALL_CHECKS, strict=True):
        assert rule["name"] == check.name
        assert rule["shortDescription"]["text"] == check.summary
        assert rule["fullDescription"]["text"] == check.why
        assert check.fix_text in rule["help"]["text"]
        assert rule["help"]["markdown"].startswith(f"# {check.code} {check.name}")
        assert rule["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            check.severity.value
        ]


def test_relative_uris_from_a_parent_directory_and_special_characters(run_cli, tmp_path):
    write_project(tmp_path, {
        "my app/server.py": "async def f(cm, t):\n    await cm.send_business_message(t, 'X', {})\n",
    })
    (tmp_path / "other").mkdir()
    here = run_cli(["check", "--format", "sarif", "--no-cache"], cwd=tmp_path)
    above = run_cli(["check", "../my app", "--format", "sarif", "--no-cache"], cwd=tmp_path / "other")
    [finding] = here.json["runs"][0]["results"]
    [finding_above] = above.json["runs"][0]["results"]

    assert finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "my%20app/server.py"
    location = finding_above["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "../my%20app/server.py"  # relative to the folder it ran in, as the paths shown
    assert above.json["runs"][0]["originalUriBaseIds"][location["uriBaseId"]]["uri"] == (
        (tmp_path / "other").as_uri() + "/")


def test_fingerprints_survive_lines_inserted_above(run_cli, tmp_path):
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    server = tmp_path / "bug" / "fedapp" / "server.py"
    before = run_cli(["check", "--format", "sarif"], cwd=tmp_path / "bug").json["runs"][0]["results"][0]
    server.write_text("# a comment\n\n" + server.read_text(encoding="utf-8"), encoding="utf-8")
    after = run_cli(["check", "--format", "sarif"], cwd=tmp_path / "bug").json["runs"][0]["results"][0]

    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 40
    assert after["partialFingerprints"] == before["partialFingerprints"]


def test_brackets_in_messages_are_escaped_so_only_links_are_links(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": "def f(cm, h):\n    cm.register_message_handler('[x]', h)\n",
    })
    [result] = run_cli(["check", "--format", "sarif"], cwd=tmp_path).json["runs"][0]["results"]

    assert result["message"]["text"].startswith("`\\[x\\]` has a handler")


def test_output_option_writes_the_report_to_a_file(run_cli, validator, tmp_path):
    shutil.copytree(FIXTURES / "seed" / "bug", tmp_path / "bug")
    result = run_cli(["check", "--format", "sarif", "--output", "reports/fedcl-lint.sarif"], cwd=tmp_path / "bug")

    assert result.exit_code == 1
    assert result.output == ""
    document = json.loads(Path(tmp_path / "bug" / "reports" / "fedcl-lint.sarif").read_text(encoding="utf-8"))
    assert validator.is_valid(document)


def test_a_fixable_finding_carries_its_fix_as_sarif_replacements(run_cli, validator, tmp_path):
    write_project(tmp_path, {
        "client.py": "def setup(comm, on_stop):\n    comm.register_message_handler(\"STOP\", on_stop)\n",
        "my app/server.py": "async def stop(comm, cid):\n    await comm.send_control_message(cid, \"STOP\", {})\n",
    })
    document = run_cli(["check", "--format", "sarif", "--no-cache"], cwd=tmp_path).json
    [result] = document["runs"][0]["results"]

    assert result["fixes"] == [{
        "description": {"text": "Replace `send_control_message` with `send_business_message`"},
        "artifactChanges": [{
            "artifactLocation": {"uri": "my%20app/server.py", "uriBaseId": "%SRCROOT%"},
            "replacements": [{
                "deletedRegion": {"startLine": 2, "startColumn": 16, "endLine": 2, "endColumn": 36},
                "insertedContent": {"text": "send_business_message"},
            }],
        }],
    }]
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert errors == [], "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_a_finding_without_edits_has_no_sarif_fixes(run_cli, validator, tmp_path):
    write_project(tmp_path, {
        "client.py": "def setup(comm, on_stop):\n    comm.register_message_handler(\"STOP\", on_stop)\n",
        "server.py": "async def stop(t, cid):\n    await t.push_event(\"server\", cid, \"STOP\", {})\n",
    })
    document = run_cli(["check", "--format", "sarif", "--no-cache"], cwd=tmp_path).json
    [result] = document["runs"][0]["results"]

    assert result["ruleId"] == "FCL001" and "fixes" not in result
    assert validator.is_valid(document)
