"""Configuration: [tool.fedcl-lint] is found, validated and applied, end to end through the CLI."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, doc_block, findings_of, write_project
from fedcl_lint.settings.config import Config, load_config
from fedcl_lint.workflow import pipeline as api

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

REPO = FIXTURES.parent.parent
SEED = FIXTURES / "seed"

# One finding of each of FCL001, FCL002 (rpc, error), FCL002 (event, warning), FCL003 and FCL005.
MIXED = {
    "server.py": """
        async def go(cm, cid, kind):
            await cm.send_control_message(cid, "STOP", {})
            await cm.send_business_message(cid, "PING", {})
            await cm.send_control_message(cid, "TICK", {})
            await cm.send_business_message(cid, kind.upper(), {})
    """,
    "client.py": """
        def setup(cm, h):
            cm.register_message_handler("STOP", h)
            cm.register_message_handler("PAUSE", h)
    """,
}
MIXED_FINDINGS = [
    ("FCL003", "PAUSE", "client.py", 4),
    ("FCL001", "STOP", "server.py", 3),
    ("FCL002", "PING", "server.py", 4),
    ("FCL002", "TICK", "server.py", 5),
    ("FCL005", None, "server.py", 6),
]
WITHOUT_FCL005 = [f for f in MIXED_FINDINGS if f[0] != "FCL005"]


def codes(result) -> list[str]:
    return [f["code"] for f in result.json["findings"]]


def test_without_configuration_everything_is_reported(run_cli, tmp_path):
    write_project(tmp_path, MIXED)
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == MIXED_FINDINGS


def test_config_is_found_by_walking_up_from_the_paths(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\n\n[tool.fedcl-lint]\nignore = ["FCL005"]\n',
        **{f"src/{name}": source for name, source in MIXED.items()},
    })
    result = run_cli(["check", "src", "--format", "json"], cwd=tmp_path)
    assert findings_of(result.json) == [(c, m, f"src/{p}", n) for c, m, p, n in WITHOUT_FCL005]

    inner = run_cli(["check", "--format", "json"], cwd=tmp_path / "src")
    assert findings_of(inner.json) == WITHOUT_FCL005


def test_a_pyproject_without_the_table_is_passed_over(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nignore = ["FCL005"]\n',
        "app/pyproject.toml": '[project]\nname = "app"\n',
        **{f"app/{name}": source for name, source in MIXED.items()},
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path / "app")

    assert findings_of(result.json) == WITHOUT_FCL005


def test_explicit_config_file_pyproject_or_standalone(run_cli, tmp_path):
    write_project(tmp_path, {
        "conf/pyproject.toml": '[tool.fedcl-lint]\nselect = ["FCL001"]\n',
        "conf/fedcl-lint.toml": 'select = ["FCL002"]\n',
        **MIXED,
    })
    from_pyproject = run_cli(["check", "--config", "conf/pyproject.toml", "--format", "json"], cwd=tmp_path)
    standalone = run_cli(["check", "--config", "conf/fedcl-lint.toml", "--format", "json"], cwd=tmp_path)

    assert codes(from_pyproject) == ["FCL001"]
    assert codes(standalone) == ["FCL002", "FCL002"]


def test_missing_explicit_config_is_a_usage_error(run_cli, tmp_path):
    result = run_cli(["check", "--config", "nope.toml"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "nope.toml: configuration file not found" in result.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("colour = 1", "unknown key `tool.fedcl-lint.colour` (allowed: baseline, exclude, external, fail-on,"),
        ('select = "FCL001"', "`tool.fedcl-lint.select`: expected an array of check codes or prefixes"),
        ('select = ["E501"]', "`tool.fedcl-lint.select[0]`: expected a check code or prefix "
                              "(e.g. FCL001, FCL00, FCL or ALL), found 'E501'"),
        ('ignore = ["FCL001", 3]', "`tool.fedcl-lint.ignore[1]`: expected a check code or prefix"),
        ('fail-on = "loud"', "`tool.fedcl-lint.fail-on`: expected 'info' or 'warning' or 'error', found 'loud'"),
        ("respect-gitignore = 1", "`tool.fedcl-lint.respect-gitignore`: expected true or false, found 1"),
        ('exclude = ["!"]', "`tool.fedcl-lint.exclude[0]`: expected a valid glob pattern"),
        ('include = "*.py"', "`tool.fedcl-lint.include`: expected an array of glob patterns, found '*.py'"),
        ('rules = ["ours.toml"]', "`tool.fedcl-lint.rules[0]`: rule pack not found: ours.toml"),
        ("rules = []", "`tool.fedcl-lint.rules`: expected at least one rule pack, found []"),
        ('external = "METRICS"', "`tool.fedcl-lint.external`: expected an array of message types, found 'METRICS'"),
        ("warn-unused-ignores = \"yes\"", "`tool.fedcl-lint.warn-unused-ignores`: expected true or false"),
        ('baseline = ""', "`tool.fedcl-lint.baseline`: expected a path to a baseline file, found ''"),
        ("[tool.fedcl-lint.protocol]\nSHUTDOWN = \"carrier-pigeon\"",
         "`tool.fedcl-lint.protocol.SHUTDOWN`: expected 'rpc' or 'event', found 'carrier-pigeon'"),
        ("[tool.fedcl-lint.severity]\nFCL003 = \"fatal\"",
         "`tool.fedcl-lint.severity.FCL003`: expected 'info' or 'warning' or 'error', found 'fatal'"),
        ("[tool.fedcl-lint.severity]\nW605 = \"error\"", "`tool.fedcl-lint.severity.W605`: 'W605' is not a check code"),
        ('[tool.fedcl-lint.per-file-ignores]\n"tests/**" = "FCL003"',
         '`tool.fedcl-lint.per-file-ignores."tests/**"`: expected an array of check codes or prefixes'),
        ("per-file-ignores = 3", "`tool.fedcl-lint.per-file-ignores`: expected a table of glob = [codes]"),
    ],
)
def test_bad_configuration_is_an_error_naming_file_and_key(run_cli, tmp_path, table, message):
    header = "" if table.startswith("[tool.fedcl-lint.") else "[tool.fedcl-lint]\n"
    write_project(tmp_path, {"pyproject.toml": f"{header}{table}\n", "a.py": "X = 1\n"})
    result = run_cli(["check"], cwd=tmp_path)

    assert result.exit_code == 2
    assert result.output == ""
    assert f"Error: pyproject.toml: {message}" in result.stderr


def test_invalid_toml_is_an_error_naming_the_file(run_cli, tmp_path):
    write_project(tmp_path, {"pyproject.toml": "[tool.fedcl-lint\n", "a.py": "X = 1\n"})
    result = run_cli(["check"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "pyproject.toml: invalid TOML" in result.stderr


def test_select_and_ignore_most_specific_selector_wins(run_cli, tmp_path):
    write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nselect = ["FCL001"]\nignore = ["FCL"]\n', **MIXED})
    assert codes(run_cli(["check", "--format", "json"], cwd=tmp_path)) == ["FCL001"]

    write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nselect = ["FCL00"]\nignore = ["FCL002", "FCL005"]\n'})
    assert codes(run_cli(["check", "--format", "json"], cwd=tmp_path)) == ["FCL003", "FCL001"]


def test_command_line_select_replaces_and_ignore_adds(run_cli, tmp_path):
    write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nignore = ["FCL005"]\n', **MIXED})

    selected = run_cli(["check", "--select", "FCL002,FCL005", "--format", "json"], cwd=tmp_path)
    assert codes(selected) == ["FCL002", "FCL002"]  # FCL005 stays ignored by the file
    ignored = run_cli(["check", "--ignore", "fcl003, FCL001", "--format", "json"], cwd=tmp_path)
    assert codes(ignored) == ["FCL002", "FCL002"]


def test_bad_command_line_selector_is_a_usage_error(run_cli, tmp_path):
    write_project(tmp_path, MIXED)
    result = run_cli(["check", "--select", "FCL001,E501"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "--select: 'E501' is not a check code or prefix" in result.stderr


def test_per_file_ignores_match_paths_relative_to_the_config_file(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint.per-file-ignores]\n"proj/server.py" = ["FCL00"]\n"client.py" = ["FCL003"]\n',
        **{f"proj/{name}": source for name, source in MIXED.items()},
    })
    # Run from inside proj/: globs are still relative to the configuration file's folder.
    result = run_cli(["check", "--format", "json"], cwd=tmp_path / "proj")

    assert findings_of(result.json) == []


def test_severity_overrides_and_the_failing_threshold(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nselect = ["FCL003"]\n[tool.fedcl-lint.severity]\nFCL0 = "error"\nFCL003 = "info"\n',
        **MIXED,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)
    assert [(f["code"], f["severity"]) for f in result.json["findings"]] == [("FCL003", "info")]
    assert result.exit_code == 0  # an info does not reach the default threshold (warning)

    assert run_cli(["check", "--fail-on", "info"], cwd=tmp_path).exit_code == 1
    write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nselect = ["FCL003"]\nfail-on = "info"\n'})
    assert run_cli(["check"], cwd=tmp_path).exit_code == 1
    assert run_cli(["check", "--fail-on", "error"], cwd=tmp_path).exit_code == 0
    assert run_cli(["check", "--exit-zero"], cwd=tmp_path).exit_code == 0


def test_fail_on_error_lets_warnings_pass(run_cli, tmp_path):
    write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nfail-on = "error"\n', "client.py": MIXED["client.py"]})
    result = run_cli(["check"], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == (
        "client.py:3:5: FCL003 `STOP` has a handler over rpc (`register_message_handler`) but is never sent\n"
        "client.py:4:5: FCL003 `PAUSE` has a handler over rpc (`register_message_handler`) but is never sent\n"
        "Found 0 errors, 2 warnings, 0 infos in 1 file.\n"
        "2 of 2 call sites resolved.\n"
    )


def test_external_message_types_are_neither_unhandled_nor_unused(run_cli, tmp_path):
    write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nexternal = ["PING", "PAUSE"]\n', **MIXED})
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [
        ("FCL001", "STOP", "server.py", 3),
        ("FCL002", "TICK", "server.py", 5),
        ("FCL005", None, "server.py", 6),
    ]


def test_rule_packs_are_relative_to_the_config_file(run_cli, tmp_path):
    pack = (REPO / "fedcl_lint" / "rules" / "fedcl.toml").read_text(encoding="utf-8")
    node_pack = pack.replace('name = "fedcl"', 'name = "ours"').replace('"send_control_message"', '"notify"')
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["fedcl", "packs/ours.toml"]\n',
        "packs/ours.toml": node_pack,
        "src/app.py": """
            async def go(node, cid, h):
                node.register_message_handler("STOP", h)
                await node.notify(cid, "STOP", {})
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path / "src")

    assert findings_of(result.json) == [("FCL001", "STOP", "app.py", 4)]
    # --rules on the command line replaces the file's packs
    assert findings_of(run_cli(["check", "--rules", "fedcl", "--format", "json"], cwd=tmp_path / "src").json) == [
        ("FCL003", "STOP", "app.py", 3)
    ]


def test_protocol_policy_and_external_reach_the_checks(monkeypatch, tmp_path):
    seen = {}

    def capture(context):
        seen["policy"], seen["external"] = dict(context.policy), context.external
        return []

    monkeypatch.setattr(api, "run_checks", capture)
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nexternal = ["METRICS"]\n[tool.fedcl-lint.protocol]\nSHUTDOWN = "rpc"\nHEARTBEAT = "event"\n',
        "a.py": "X = 1\n",
    })
    config = load_config(["."], tmp_path)
    api.analyze(["."], config, cwd=tmp_path)

    assert {k: v.value for k, v in seen["policy"].items()} == {"HEARTBEAT": "event", "SHUTDOWN": "rpc"}
    assert seen["external"] == frozenset({"METRICS"})


def test_a_settings_file_saved_with_a_bom_is_read(run_cli, tmp_path):
    write_project(tmp_path, {"a.py": "def setup(cm, h):\n    cm.register_message_handler('STOP', h)\n"})
    (tmp_path / "pyproject.toml").write_bytes(b"\xef\xbb\xbf[tool.fedcl-lint]\nignore = [\"FCL003\"]\n")
    result = run_cli(["check", "--format", "json", "--no-cache"], cwd=tmp_path)

    assert (result.exit_code, result.json["findings"]) == (0, [])


def test_include_and_exclude_globs(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\ninclude = ["*.py", "*.pyw"]\nexclude = ["generated/", "/legacy_*.py"]\n',
        "app.pyw": "def f(cm, h):\n    cm.register_message_handler('A', h)\n",
        "generated/stub.py": "def f(cm, h):\n    cm.register_message_handler('B', h)\n",
        "legacy_old.py": "def f(cm, h):\n    cm.register_message_handler('C', h)\n",
        "pkg/legacy_kept.py": "def f(cm, h):\n    cm.register_message_handler('D', h)\n",
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL003", "A", "app.pyw", 2), ("FCL003", "D", "pkg/legacy_kept.py", 2)]


def test_gitignore_is_respected_unless_disabled(run_cli, tmp_path):
    write_project(tmp_path, {
        ".gitignore": "out/\n*_gen.py\n",
        "pkg/.gitignore": "!keep_gen.py\n",
        "out/a.py": "def f(cm, h):\n    cm.register_message_handler('A', h)\n",
        "pkg/x_gen.py": "def f(cm, h):\n    cm.register_message_handler('B', h)\n",
        "pkg/keep_gen.py": "def f(cm, h):\n    cm.register_message_handler('C', h)\n",
    })
    respected = run_cli(["check", "--format", "json"], cwd=tmp_path)
    assert findings_of(respected.json) == [("FCL003", "C", "pkg/keep_gen.py", 2)]

    # A .gitignore above the analysed folder applies too.
    assert findings_of(run_cli(["check", "pkg", "--format", "json"], cwd=tmp_path).json) == [
        ("FCL003", "C", "pkg/keep_gen.py", 2)
    ]

    write_project(tmp_path, {"pyproject.toml": "[tool.fedcl-lint]\nrespect-gitignore = false\n"})
    everything = run_cli(["check", "--format", "json"], cwd=tmp_path)
    assert [f[1] for f in findings_of(everything.json)] == ["A", "C", "B"]


def test_a_file_named_on_the_command_line_is_always_analysed(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nexclude = ["skip.py"]\n',
        "skip.py": "def f(cm, h):\n    cm.register_message_handler('A', h)\n",
    })
    assert run_cli(["check", "--format", "json"], cwd=tmp_path).json["summary"]["files"] == 0
    assert run_cli(["check", "skip.py", "--format", "json"], cwd=tmp_path).json["summary"]["files"] == 1


def test_the_complete_configuration_example_loads_and_means_what_it_says(run_cli, tmp_path):
    # docs/configuration.md, "A complete example": the block with the main table and per-file ignores
    example = doc_block("configuration.md", "toml", "[tool.fedcl-lint]\n", "[tool.fedcl-lint.per-file-ignores]")
    settings = tomllib.loads(example)["tool"]["fedcl-lint"]
    packs = {p: (REPO / "fedcl_lint" / "rules" / "fedcl.toml").read_text(encoding="utf-8")
             for p in settings["rules"] if p.endswith(".toml")}
    write_project(tmp_path, {"pyproject.toml": example, **packs, **{f"src/{n}": s for n, s in MIXED.items()}})
    if "baseline" in settings:
        assert run_cli(["check", "src", "--write-baseline", settings["baseline"]], cwd=tmp_path).exit_code == 0

    config = load_config(["src"], tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert set(config.policy) == set(settings["protocol"])
    recorded = json.loads((tmp_path / settings["baseline"]).read_text(encoding="utf-8"))
    # today's findings, as the settings select them: FCL005 ignored, the others kept
    assert sorted((e["code"], e["message_type"]) for e in recorded["findings"]) == [
        ("FCL001", "STOP"), ("FCL002", "PING"), ("FCL002", "TICK"), ("FCL003", "PAUSE"),
    ]
    result = run_cli(["check", "src", "--format", "json"], cwd=tmp_path)
    assert (result.exit_code, result.json["findings"]) == (0, [])  # the baseline knows them all


def test_defaults_are_the_documented_ones():
    config = Config()
    assert (config.select, config.ignore, config.fail_on.value, config.rules) == (("FCL",), (), "warning", ("fedcl",))
    assert config.include == ("*.py",) and config.respect_gitignore and not config.warn_unused_ignores


def test_a_folder_named_on_the_command_line_is_analysed_even_when_excluded(run_cli):
    # The repository's own pyproject.toml excludes tests/ (its fixtures hold bugs on purpose),
    # yet naming a fixture, or running inside one, analyses it: as Ruff does.
    assert tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["fedcl-lint"] == {
        "exclude": ["tests/"],
    }
    inside = run_cli(["check", "--format", "json"], cwd=SEED / "bug")
    named = run_cli(["check", "tests/fixtures/seed/bug", "--format", "json"], cwd=REPO)

    assert findings_of(inside.json) == [("FCL001", "SHUTDOWN", "fedapp/server.py", 38)]
    assert findings_of(named.json) == [("FCL001", "SHUTDOWN", "tests/fixtures/seed/bug/fedapp/server.py", 38)]


def test_excluded_folders_below_a_named_folder_stay_excluded(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nexclude = ["gen/", "old.py"]\n',
        "gen/sub/a.py": "def f(cm, h):\n    cm.register_message_handler('A', h)\n",
        "gen/sub/old.py": "def f(cm, h):\n    cm.register_message_handler('OLD', h)\n",
        "app.py": "def f(cm, h):\n    cm.register_message_handler('APP', h)\n",
    })
    everything = run_cli(["check", "--format", "json"], cwd=tmp_path)
    named = run_cli(["check", "gen/sub", "--format", "json"], cwd=tmp_path)

    assert [f["message_type"] for f in everything.json["findings"]] == ["APP"]
    assert [f["message_type"] for f in named.json["findings"]] == ["A"]


def test_config_paths_in_errors_are_relative_to_the_working_directory(run_cli, tmp_path):
    write_project(tmp_path, {"proj/pyproject.toml": "[tool.fedcl-lint]\nbogus = 1\n", "proj/a.py": "X = 1\n"})
    result = run_cli(["check", "proj"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "Error: proj/pyproject.toml: unknown key `tool.fedcl-lint.bogus`" in result.stderr
    assert str(Path(tmp_path)) not in result.stderr


def test_module_names_follow_an_init_file_added_between_runs(tmp_path):
    """A library caller (or a replay) that runs twice must see a package made in between."""
    from fedcl_lint.analysis.discover import discover

    write_project(tmp_path, {"pkg/a.py": "A = 1\n"})
    before = discover(["."], tmp_path).files
    (tmp_path / "pkg" / "__init__.py").write_text("")
    after = discover(["."], tmp_path).files

    assert [f.module_names for f in before] == [("a", "pkg.a")]
    assert [(f.display, f.module_names) for f in after] == [("pkg/__init__.py", ("pkg",)), ("pkg/a.py", ("pkg.a",))]


def test_discovery_names_each_file_by_every_root_and_records_what_it_consulted(tmp_path):
    """Module names from the packages, then below each given folder (outermost first); display paths
    relative to the working directory, outside it too; every folder listed, ignore file, git marker and
    `__init__.py` looked for, which a replayed run must find unchanged; git-ignored folders pruned."""
    from fedcl_lint.analysis.discover import discover

    write_project(tmp_path, {"proj/src/pkg/__init__.py": "", "proj/src/pkg/sub/m.py": "", "proj/.gitignore": "ignored/\n",
                             "proj/ignored/x.py": "", "other/o.py": ""})
    discovery = discover(["..", "pkg/sub", "../../other/o.py"], tmp_path / "proj" / "src")

    assert [(f.display, f.module_names) for f in discovery.files] == [
        ("../../other/o.py", ("o",)), ("pkg/__init__.py", ("pkg", "src.pkg")), ("pkg/sub/m.py", ("m", "src.pkg.sub.m"))]
    assert sorted(os.path.relpath(path, tmp_path) for path in discovery.consulted if path.startswith(str(tmp_path))) == [
        ".git/HEAD", "other/__init__.py", "proj", "proj/.git/HEAD", "proj/.gitignore", "proj/src", "proj/src/.git/HEAD",
        "proj/src/.gitignore", "proj/src/__init__.py", "proj/src/pkg", "proj/src/pkg/.git/HEAD",
        "proj/src/pkg/.gitignore", "proj/src/pkg/__init__.py", "proj/src/pkg/sub", "proj/src/pkg/sub/.git/HEAD",
        "proj/src/pkg/sub/.gitignore", "proj/src/pkg/sub/__init__.py"]


@pytest.mark.parametrize("paths", [["src", "src/pkg"], ["src/pkg", "src"], ["src/pkg/server.py", "src"]])
def test_the_order_of_the_paths_changes_nothing(run_cli, tmp_path, paths):
    """`src/pkg` has no `__init__.py` (a namespace package): given `src`, `pkg.msgs` is a module; given
    `src/pkg` too, so is `msgs`. Both names hold, in whatever order the paths come."""
    write_project(tmp_path, {
        "src/pkg/msgs.py": 'STOP = "STOP"\n',
        "src/pkg/server.py": """
            from pkg.msgs import STOP


            async def stop(cm):
                await cm.send_business_message("peer", STOP, {})
            """,
        "src/pkg/client.py": """
            from msgs import STOP


            def setup(cm, handler):
                cm.register_message_handler(STOP, handler)
            """,
    })
    table = run_cli(["table", *paths, "--format", "json", "--no-cache"], cwd=tmp_path).json

    assert table["unresolved"] == []
    assert [(m["message_type"], m["status"]) for m in table["messages"]] == [("STOP", "ok")]
