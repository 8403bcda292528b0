"""The JSON Schemas shipped for editors agree with the validators: every README example and fixture is
accepted by both, and each bad setting the schema can express is refused by both."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES
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


def _readme_tables() -> list[dict]:
    """Every `[tool.fedcl-lint]` table the README shows."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tables = []
    for block in re.findall(r"```toml\n(.*?)```", readme, flags=re.S):
        if "[tool.fedcl-lint" in block:
            tables.append(tomllib.loads(block)["tool"]["fedcl-lint"])
    assert tables, "the README shows no configuration"
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


def test_every_configuration_the_readme_and_fixtures_show_is_valid_for_both(tmp_path):
    schema = _schema("config.schema.json")
    for index, table in enumerate(_readme_tables() + _fixture_tables()):
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
