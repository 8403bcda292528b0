"""The JSON Schemas shipped for editors agree with the validators: every example of the documentation
(the README and docs/) and every fixture is accepted by both, and each bad setting the schema can
express is refused by both; the editor setup docs/configuration.md shows points at them."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, doc_block, doc_blocks, doc_pages, doc_text
from fedcl_lint.settings.config import ConfigError, read_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = FIXTURES.parent.parent
SCHEMAS = REPO / "fedcl_lint" / "schemas"
BUILTIN = (REPO / "fedcl_lint" / "rules" / "fedcl.toml").read_text(encoding="utf-8")


def _schema(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _documented_tables() -> list[dict]:
    """Every `[tool.fedcl-lint]` table the documentation shows: the README, docs/ and the rule pages."""
    tables = []
    for page in doc_pages():
        for block in doc_blocks(page, "toml", "[tool.fedcl-lint"):
            tables.append(tomllib.loads(block)["tool"]["fedcl-lint"])
    assert doc_blocks("README.md", "toml", "[tool.fedcl-lint"), "the README shows no configuration"
    return tables


def _fixture_tables() -> list[dict]:
    found = []
    for path in sorted(FIXTURES.rglob("pyproject.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "fedcl-lint" in data.get("tool", {}):
            found.append(data["tool"]["fedcl-lint"])
    return found


def _validator_accepts(table: dict, tmp_path: Path) -> bool:
    """What `check` says of the table, in a folder where every rule pack it names exists."""
    for spec in table.get("rules", []):
        if spec.endswith(".toml"):
            (tmp_path / spec).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / spec).write_text(BUILTIN, encoding="utf-8")
    path = tmp_path / "fedcl-lint.toml"
    path.write_text(_toml(table), encoding="utf-8")
    try:
        read_config(path, tmp_path)
    except ConfigError:
        return False
    return True


def _toml(table: dict) -> str:
    """A flat TOML writer for configuration tables (strings, numbers, booleans, arrays, subtables)."""
    lines, tables = [], []
    for key, value in table.items():
        if isinstance(value, dict):
            tables.append(f"[{json.dumps(key)}]\n" + "".join(f"{json.dumps(k)} = {json.dumps(v)}\n"
                                                           for k, v in value.items()))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables += [f"[[{json.dumps(key)}]]\n" + "".join(f"{json.dumps(k)} = {json.dumps(v)}\n"
                                                             for k, v in item.items()) for item in value]
        else:
            lines.append(f"{json.dumps(key)} = {json.dumps(value)}\n")
    return "".join(lines) + "\n".join(tables)


def test_every_configuration_the_documentation_and_fixtures_show_is_valid_for_both(tmp_path):
    schema = _schema("config.schema.json")
    for index, table in enumerate(_documented_tables() + _fixture_tables()):
        folder = tmp_path / str(index)
        folder.mkdir()
        assert _validator_accepts(table, folder), table
        assert list(schema.iter_errors(table)) == [], table


# What both refuse (each also pinned, with its message, in test_config.py). The validators check
# more than a schema can say: a glob git cannot read, a rule pack that does not exist, a channel
# the packs do not declare, two protocols of one name.
BAD = [
    {"colour": 1},
    {"select": "FCL001"},
    {"select": ["E501"]},
    {"select": []},
    {"ignore": ["FCL001", 3]},
    {"fail-on": "loud"},
    {"respect-gitignore": 1},
    {"include": "*.py"},
    {"rules": []},
    {"external": "METRICS"},
    {"external": [True]},
    {"warn-unused-ignores": "yes"},
    {"baseline": ""},
    {"severity": {"FCL003": "fatal"}},
    {"severity": {"W605": "error"}},
    {"per-file-ignores": {"tests/**": "FCL003"}},
    {"per-file-ignores": 3},
    {"protocols": [{"name": "a"}]},
    {"protocols": [{"name": "a", "paths": []}]},
    {"protocols": [{"name": "a", "paths": ["a/"], "colour": 1}]},
]


@pytest.mark.parametrize("table", BAD, ids=[json.dumps(t) for t in BAD])
def test_a_bad_setting_is_refused_by_both(tmp_path, table):
    assert not _validator_accepts(table, tmp_path)
    assert list(_schema("config.schema.json").iter_errors(table)) != []


def _packs() -> list[Path]:
    """Every rule pack of the repository: the built-in one and the fixtures'."""
    found = [REPO / "fedcl_lint" / "rules" / "fedcl.toml"]
    for path in sorted(FIXTURES.rglob("*.toml")):
        if path.name != "pyproject.toml" and "[pack]" in path.read_text(encoding="utf-8"):
            found.append(path)
    return found


def _documented_packs() -> list[str]:
    """The complete packs the documentation shows (blocks with a [pack] table)."""
    return [block for page in doc_pages() for block in doc_blocks(page, "toml")
            if block.lstrip().startswith("[pack]") or "\n[pack]" in block]


def _pack_accepted(text: str, tmp_path: Path) -> bool:
    from fedcl_lint.settings.rulepack import RulePackError, load_packs

    path = tmp_path / "pack.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_packs([str(path)])
    except RulePackError:
        return False
    return True


def test_every_rule_pack_of_the_repository_and_its_documentation_is_valid_for_both(tmp_path):
    schema = _schema("rule-pack.schema.json")
    texts = [path.read_text(encoding="utf-8") for path in _packs()] + _documented_packs()
    assert len(texts) > 10
    for index, text in enumerate(texts):
        folder = tmp_path / str(index)
        folder.mkdir()
        assert _pack_accepted(text, folder), text[:200]
        assert list(schema.iter_errors(tomllib.loads(text))) == [], text[:200]


_CALL = "[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'rpc'\nmessage_type = { position = 0 }\n"
BAD_PACKS = {
    "no pack table": _CALL,
    "an unknown top-level table": "[pack]\nname = 'x'\n" + _CALL + "[colours]\nred = 1\n",
    "an unknown key of a call": "[pack]\nname = 'x'\n" + _CALL + "colour = 1\n",
    "a role": "[pack]\nname = 'x'\n" + _CALL.replace("'send'", "'shout'"),
    "a version": "[pack]\nname = 'x'\nversion = 3\n" + _CALL,
    "a negative position": "[pack]\nname = 'x'\n" + _CALL.replace("position = 0", "position = -1"),
    "a slot with neither": "[pack]\nname = 'x'\n" + _CALL.replace("{ position = 0 }", "{}"),
    "a receiver": "[pack]\nname = 'x'\n" + _CALL + "receiver = 3\n",
    "both message and message_type": "[pack]\nname = 'x'\n" + _CALL + "message = { position = 1 }\n",
    "channels in a version 1 pack": "[pack]\nname = 'x'\n" + _CALL + "[channels.rpc]\ntitle = 'r'\n",
    "mechanisms in a version 2 pack": "[pack]\nname = 'x'\nversion = 2\n[mechanisms.rpc]\ntitle = 't'\n"
                                      "description = 'd'\n[channels.rpc]\n" + _CALL.replace("mechanism", "channel"),
    "an envelope with both": "[pack]\nname = 'x'\n" + _CALL + "[[envelopes]]\nkey = 'k'\nclass = 'M'\n",
    "an external without a value": "[pack]\nname = 'x'\nversion = 2\n[channels.rpc]\n"
                                   + _CALL.replace("mechanism", "channel") + "[[external]]\nname = 'n'\n",
    "a rewrite with neither": "[pack]\nname = 'x'\n" + _CALL + "[[rewrites]]\nfrom = 'a'\n",
    "a proxy without a class": "[pack]\nname = 'x'\n" + _CALL + "[[proxies]]\nmechanism = 'rpc'\n",
}


@pytest.mark.parametrize("text", BAD_PACKS.values(), ids=BAD_PACKS)
def test_a_bad_rule_pack_is_refused_by_both(tmp_path, text):
    assert not _pack_accepted(text, tmp_path)
    assert list(_schema("rule-pack.schema.json").iter_errors(tomllib.loads(text))) != []


def test_the_editor_setup_the_docs_show_points_at_the_shipped_schemas():
    """docs/configuration.md, "JSON Schemas for editors": the command that finds the installed schemas,
    the `#:schema` comment (its pack is checked above), the `.taplo.toml` rules, and the schema of
    pyproject.toml, which must hold fedcl-lint's settings where pyproject.toml has them."""
    page = "configuration.md"
    shipped = {"config.schema.json", "rule-pack.schema.json"}
    assert {path.name for path in SCHEMAS.glob("*.json")} == shipped
    [command] = re.findall(r'`(python -c "import fedcl_lint.*?")`', doc_text(page))
    found = subprocess.run([sys.executable, *shlex.split(command)[1:]], capture_output=True, text=True, check=True)
    assert {path.name for path in Path(found.stdout.strip()).glob("*.json")} == shipped

    directive = doc_block(page, "toml", "#:schema").splitlines()[0]
    assert directive.startswith("#:schema ") and directive.endswith("/rule-pack.schema.json")
    rules = tomllib.loads(doc_block(page, "toml", "[[rule]]"))["rule"]
    assert {tuple(r["include"]): Path(r["schema"]["path"]).name for r in rules} == {
        ("tools/fedcl-lint/*.toml",): "rule-pack.schema.json", ("pyproject.toml",): "pyproject.schema.json"}

    wrapper = json.loads(doc_block(page, "json", '"$ref"'))
    tool = wrapper["properties"]["tool"]["properties"]
    reference = tool["fedcl-lint"]["$ref"]
    assert reference.startswith("https://") and reference.endswith("/fedcl_lint/schemas/config.schema.json")
    tool["fedcl-lint"] = json.loads((SCHEMAS / "config.schema.json").read_text(encoding="utf-8"))  # what $ref loads
    jsonschema.Draft7Validator.check_schema(wrapper)
    pyproject = jsonschema.Draft7Validator(wrapper)
    for table in _documented_tables():
        document = {"project": {"name": "app"}, "tool": {"fedcl-lint": table, "ruff": {"line-length": 100}}}
        assert list(pyproject.iter_errors(document)) == [], table
    assert list(pyproject.iter_errors({"tool": {"fedcl-lint": {"fail-on": "loud"}}}))
