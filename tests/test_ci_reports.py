"""CI reports as Ruff makes them: rule links and end positions, paths from the repository root, GitLab and
JUnit formats (valid against their schemas), --output-format, --statistics, --quiet, --show-fixes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from conftest import write_project
from fedcl_lint import __version__
from fedcl_lint.checks import ALL_CHECKS
from fedcl_lint.output.rule_page import DEFAULT_REPOSITORY, repository_from, repository_url, rule_url

SCHEMAS = Path(__file__).parent / "schemas"

CLIENT = """\
def setup(comm, on_stop):
    comm.register_message_handler("STOP", on_stop)
    comm.register_message_handler("PAUSE", on_stop)
"""
SERVER = """\
def get_comm():
    return None


async def stop(cid):
    await get_comm().send_control_message(cid, "STOP", {})
    await get_comm().send_control_message(cid, "STOP", {"again": True})
"""
FCL001 = ("`STOP` is sent as an event (`send_control_message`) but only handled over rpc "
          "(`register_message_handler`), so it is never delivered; send it with `send_business_message`, "
          "or register it with `register_event_listener`")
FCL003 = "`PAUSE` has a handler over rpc (`register_message_handler`) but is never sent"
FINDINGS = [
    f"client.py:3:5: FCL003 {FCL003}",
    f"server.py:6:11: FCL001 {FCL001}",
    "    client.py:2:5: handled over rpc here (`register_message_handler`)",
    f"server.py:7:11: FCL001 {FCL001}",
    "    client.py:2:5: handled over rpc here (`register_message_handler`)",
]
FOOTER = [
    "Found 2 errors, 1 warning, 0 infos in 2 files.",
    "[*] 2 fixable with the `--fix` option.",
    "4 of 4 call sites resolved.",
]


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository (its root holds `.git`) whose federated app lives two folders down; returns the app."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    return write_project(tmp_path / "repo" / "services" / "fl", {"client.py": CLIENT, "server.py": SERVER})


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid(validator, document) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert errors == [], "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


# --- SARIF: rule links, end positions, paths from the repository root ---------------------------


def test_sarif_from_a_subfolder_has_help_links_end_positions_and_root_relative_paths(run_cli, repo):
    result = run_cli(["check", "--format", "sarif", "--no-cache"], cwd=repo)
    document = result.json
    [run] = document["runs"]

    assert_valid(sarif_validator(), document)  # with `fixes`, `helpUri` and end positions
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.parent.parent.as_uri() + "/"}}
    driver = run["tool"]["driver"]
    assert (driver["version"], driver["informationUri"]) == (__version__, repository_url())
    assert [rule["helpUri"] for rule in driver["rules"]] == [rule_url(check.code) for check in ALL_CHECKS]
    first, second, third = run["results"]
    assert first["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "services/fl/client.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 52},
    }}]
    assert second["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "services/fl/server.py", "uriBaseId": "%SRCROOT%"},
        # the whole call `get_comm().send_control_message(...)`, not the callee's name
        "region": {"startLine": 6, "startColumn": 11, "endLine": 6, "endColumn": 59},
    }
    assert second["relatedLocations"][0]["physicalLocation"]["region"] == {
        "startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 51,
    }
    assert third["locations"][0]["physicalLocation"]["region"]["endColumn"] == 72
    [change] = second["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "services/fl/server.py", "uriBaseId": "%SRCROOT%"}
    # a report made at the root says the same
    at_root = run_cli(["check", "services/fl", "--format", "sarif", "--no-cache"], cwd=repo.parent.parent).json
    assert at_root["runs"][0]["results"] == run["results"]


def test_rule_pages_are_docs_rules_in_the_repository():
    assert rule_url("FCL001", "https://github.com/acme/fedcl-lint") == (
        "https://github.com/acme/fedcl-lint/blob/HEAD/docs/rules/FCL001.md")
    assert rule_url("FCL002", "https://gitlab.com/acme/fedcl-lint/") == (
        "https://gitlab.com/acme/fedcl-lint/-/blob/HEAD/docs/rules/FCL002.md")
    assert rule_url("FCL003", "https://code.example.org/fedcl-lint") == (
        "https://code.example.org/fedcl-lint/docs/rules/FCL003.md")
    # the repository is the one fedcl-lint's `[project.urls]` names, else the documented default
    assert repository_from(["Homepage, https://example.org/fedcl", "Repository, https://github.com/acme/x"]) == (
        "https://github.com/acme/x")
    assert repository_from(["Source, https://example.org/src/"]) == "https://example.org/src"
    assert repository_from(["Documentation, https://example.org/docs"]) == DEFAULT_REPOSITORY
    assert repository_from([]) == DEFAULT_REPOSITORY == "https://github.com/fedcl-lint/fedcl-lint"


# --- GitHub annotations ------------------------------------------------------------------------


def test_github_annotations_from_a_subfolder_carry_root_paths_and_end_positions(run_cli, repo):
    result = run_cli(["check", "--format", "github", "--no-cache"], cwd=repo)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "::warning file=services/fl/client.py,line=3,col=5,endLine=3,endColumn=52,title=FCL003 unused-handler::"
        + FCL003,
        "::error file=services/fl/server.py,line=6,col=11,endLine=6,endColumn=59,title=FCL001 mechanism-mismatch::"
        f"{FCL001}%0Aservices/fl/client.py:2:5: handled over rpc here (`register_message_handler`)",
        "::error file=services/fl/server.py,line=7,col=11,endLine=7,endColumn=72,title=FCL001 mechanism-mismatch::"
        f"{FCL001}%0Aservices/fl/client.py:2:5: handled over rpc here (`register_message_handler`)",
        "Found 2 errors, 1 warning, 0 infos in 2 files.",
        "4 of 4 call sites resolved.",
    ]


def test_text_and_json_keep_paths_relative_to_the_working_directory(run_cli, repo):
    document = run_cli(["check", "--format", "json", "--no-cache"], cwd=repo).json

    assert [(f["path"], f["line"], f["column"], f["end_line"], f["end_column"]) for f in document["findings"]] == [
        ("client.py", 3, 5, 3, 52), ("server.py", 6, 11, 6, 59), ("server.py", 7, 11, 7, 72),
    ]


# --- GitLab Code Quality and JUnit XML ----------------------------------------------------------


def test_gitlab_code_quality_is_valid_with_unique_fingerprints_and_root_paths(run_cli, repo):
    result = run_cli(["check", "--output-format", "gitlab", "--no-cache"], cwd=repo)
    issues = json.loads(result.output)

    assert result.exit_code == 1
    schema = json.loads((SCHEMAS / "gitlab-code-quality.json").read_text(encoding="utf-8"))
    assert_valid(jsonschema.Draft7Validator(schema), issues)
    assert len({issue["fingerprint"] for issue in issues}) == 3  # two identical findings on two lines differ
    assert [{k: v for k, v in issue.items() if k != "fingerprint"} for issue in issues] == [
        {"description": f"FCL003: {FCL003}", "check_name": "FCL003", "severity": "minor",
         "location": {"path": "services/fl/client.py",
                      "positions": {"begin": {"line": 3, "column": 5}, "end": {"line": 3, "column": 52}}}},
        {"description": f"FCL001: {FCL001}", "check_name": "FCL001", "severity": "major",
         "location": {"path": "services/fl/server.py",
                      "positions": {"begin": {"line": 6, "column": 11}, "end": {"line": 6, "column": 59}}}},
        {"description": f"FCL001: {FCL001}", "check_name": "FCL001", "severity": "major",
         "location": {"path": "services/fl/server.py",
                      "positions": {"begin": {"line": 7, "column": 11}, "end": {"line": 7, "column": 72}}}},
    ]
    # the same fingerprints from the root, and after lines are inserted above
    (repo / "server.py").write_text("# moved down\n" + SERVER, encoding="utf-8")
    again = json.loads(run_cli(["check", "services/fl", "--format", "gitlab", "--no-cache"],
                               cwd=repo.parent.parent).output)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]


def test_an_empty_gitlab_report_is_an_empty_array(run_cli, tmp_path):
    write_project(tmp_path, {"app.py": "x = 1\n"})
    result = run_cli(["check", "--format", "gitlab", "--no-cache"], cwd=tmp_path)

    assert (result.exit_code, result.output) == (0, "[]\n")


def test_junit_xml_is_valid_against_the_schema_with_a_case_per_finding(run_cli, repo):
    schema = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))
    result = run_cli(["check", "--format", "junit", "--no-cache", "--fail-on", "error"], cwd=repo)

    assert result.exit_code == 1
    schema.validate(result.output)
    related = "\n    services/fl/client.py:2:5: handled over rpc here (`register_message_handler`)"
    assert result.output == f"""\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="fedcl-lint" tests="3" failures="2" errors="0">
  <testsuite name="services/fl/client.py" tests="1" failures="0" errors="0" file="services/fl/client.py">
    <testcase name="FCL003 unused-handler (3:5)" classname="services/fl/client.py">
      <system-out>services/fl/client.py:3:5: FCL003 {FCL003}</system-out>
    </testcase>
  </testsuite>
  <testsuite name="services/fl/server.py" tests="2" failures="2" errors="0" file="services/fl/server.py">
    <testcase name="FCL001 mechanism-mismatch (6:11)" classname="services/fl/server.py">
      <failure message="{FCL001}" type="FCL001">services/fl/server.py:6:11: FCL001 {FCL001}{related}</failure>
    </testcase>
    <testcase name="FCL001 mechanism-mismatch (7:11)" classname="services/fl/server.py">
      <failure message="{FCL001}" type="FCL001">services/fl/server.py:7:11: FCL001 {FCL001}{related}</failure>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_junit_of_a_clean_run_and_of_text_xml_cannot_hold_is_valid(run_cli, tmp_path):
    schema = xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))
    write_project(tmp_path / "clean", {"app.py": "x = 1\n"})
    clean = run_cli(["check", "--format", "junit", "--no-cache"], cwd=tmp_path / "clean")
    schema.validate(clean.output)
    assert (clean.exit_code, clean.output) == (0, """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="fedcl-lint" tests="1" failures="0" errors="0">
  <testsuite name="fedcl-lint" tests="1" failures="0" errors="0">
    <testcase name="no findings" classname="fedcl-lint" />
  </testsuite>
</testsuites>
""")
    write_project(tmp_path / "odd", {"a.py": "async def f(cm, t):\n    await cm.send_control_message(t, 'A\\x01<&>', {})\n"})
    odd = run_cli(["check", "--format", "junit", "--no-cache"], cwd=tmp_path / "odd")
    schema.validate(odd.output)
    assert 'message="`A\\x01&lt;&amp;&gt;` is sent as an event' in odd.output


# --- Ruff's options -----------------------------------------------------------------------------


def test_output_format_is_an_alias_of_format(run_cli, repo):
    for output_format in ("text", "json", "sarif", "github", "gitlab", "junit"):
        by_format = run_cli(["check", "--format", output_format, "--no-cache"], cwd=repo)
        by_alias = run_cli(["check", "--output-format", output_format, "--no-cache"], cwd=repo)
        assert (by_alias.exit_code, by_alias.output) == (by_format.exit_code, by_format.output)
    table = run_cli(["table", "--output-format", "json", "--no-cache"], cwd=repo)
    assert table.json["version"] == 2


def test_statistics_count_findings_per_code_as_ruff_does(run_cli, repo):
    text = run_cli(["check", "--statistics", "--no-cache"], cwd=repo)
    document = run_cli(["check", "--statistics", "--format", "json", "--no-cache"], cwd=repo)
    quiet = run_cli(["check", "--statistics", "-q", "--no-cache"], cwd=repo)

    assert (text.exit_code, text.output.splitlines()) == (1, [
        "2\tFCL001\t[*] mechanism-mismatch",
        "1\tFCL003\t[ ] unused-handler",
        *FOOTER,
    ])
    assert (document.exit_code, document.json) == (1, [
        {"code": "FCL001", "name": "mechanism-mismatch", "count": 2, "fixable": True, "fixable_count": 2},
        {"code": "FCL003", "name": "unused-handler", "count": 1, "fixable": False, "fixable_count": 0},
    ])
    assert quiet.output == "2\tFCL001\t[*] mechanism-mismatch\n1\tFCL003\t[ ] unused-handler\n"


def test_statistics_without_fixable_findings_have_no_marker_column(run_cli, tmp_path):
    write_project(tmp_path, {"client.py": CLIENT})
    result = run_cli(["check", "--statistics", "-q", "--no-cache"], cwd=tmp_path)

    assert result.output == "2\tFCL003\tunused-handler\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--statistics", "--format", "sarif"],
     "--statistics prints counts as text or json: it cannot be used with --format sarif"),
    (["--statistics", "--diff"], "--statistics counts the findings reported: it cannot be used with --diff"),
])
def test_statistics_with_another_report_is_a_usage_error(run_cli, repo, args, message):
    result = run_cli(["check", *args, "--no-cache"], cwd=repo)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"


def test_quiet_prints_the_findings_and_nothing_else(run_cli, repo):
    (repo / "extra.py").write_text("x = 1  # fedcl-lint: ignore[FCL9999]\n", encoding="utf-8")
    loud = run_cli(["check", "--no-cache"], cwd=repo)
    quiet = run_cli(["check", "-q", "--no-cache"], cwd=repo)
    github = run_cli(["check", "--quiet", "--format", "github", "--no-cache"], cwd=repo)

    assert loud.output.splitlines() == FINDINGS + [FOOTER[0].replace("2 files", "3 files"), *FOOTER[1:]]
    assert loud.stderr != ""
    assert (quiet.exit_code, quiet.output.splitlines(), quiet.stderr) == (1, FINDINGS, "")
    assert [line for line in github.output.splitlines() if not line.startswith("::")] == []
    write_project(repo.parent / "clean", {"app.py": "x = 1\n"})
    assert run_cli(["check", "-q", "--no-cache"], cwd=repo.parent / "clean").output == ""


def test_show_fixes_shows_each_fix_under_its_finding(run_cli, repo):
    result = run_cli(["check", "--show-fixes", "-q", "--no-cache"], cwd=repo)

    assert result.output.splitlines() == [
        *FINDINGS[:3],
        "    fix: Replace `send_control_message` with `send_business_message`",
        '    -     await get_comm().send_control_message(cid, "STOP", {})',
        '    +     await get_comm().send_business_message(cid, "STOP", {})',
        *FINDINGS[3:],
        "    fix: Replace `send_control_message` with `send_business_message`",
        '    -     await get_comm().send_control_message(cid, "STOP", {"again": True})',
        '    +     await get_comm().send_business_message(cid, "STOP", {"again": True})',
    ]


def test_show_fixes_with_fix_lists_the_fixes_made(run_cli, repo):
    dry = run_cli(["check", "--diff", "--show-fixes", "--no-cache"], cwd=repo)
    fixed = run_cli(["check", "--fix", "--show-fixes", "--no-cache"], cwd=repo)

    assert dry.stderr.splitlines() == [
        "Would fix 2 of 2 FCL001 findings (1 file).",
        "    server.py:6:11: would fix: Replace `send_control_message` with `send_business_message`",
        "    server.py:7:11: would fix: Replace `send_control_message` with `send_business_message`",
    ]
    assert fixed.stderr.splitlines() == [
        "Fixed 2 of 2 FCL001 findings (1 file).",
        "    server.py:6:11: fixed: Replace `send_control_message` with `send_business_message`",
        "    server.py:7:11: fixed: Replace `send_control_message` with `send_business_message`",
    ]
    assert fixed.output.splitlines()[0] == f"client.py:3:5: FCL003 {FCL003}"
