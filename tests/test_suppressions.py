"""Suppression comments: `# fedcl-lint: ignore[CODE] reason` on the line of the call, and FCL100."""

from __future__ import annotations

import pytest

from conftest import findings_of, write_project
from fedcl_lint.analysis.cache import FactCache
from fedcl_lint.analysis.extract import extract
from fedcl_lint.analysis.facts import Suppression
from fedcl_lint.analysis.suppression_comments import parse_suppressions
from fedcl_lint.settings.rulepack import load_packs

HANDLER = "def setup(cm, h):\n    cm.register_message_handler('SHUTDOWN', h)\n"


def sender(comment: str) -> dict[str, str]:
    return {
        "client.py": HANDLER,
        "server.py": f"async def stop(cm, cid):\n    await cm.send_control_message(cid, 'SHUTDOWN', {{}}){comment}\n",
    }


@pytest.mark.parametrize(
    "comment",
    [
        "  # fedcl-lint: ignore[FCL001] acknowledged by the watchdog, see #42",
        "  # fedcl-lint: ignore[FCL001]",
        "  # fedcl-lint: ignore",
        "  # fedcl-lint: ignore -- clients poll for shutdown",
        "  # fedcl-lint: ignore[FCL0]: any FCL0xx",
        "  # noqa: E501  # fedcl-lint: ignore[fcl001, FCL003]",
        "  # fedcl-lint: ignore[ALL] as in select/ignore",
    ],
)
def test_suppression_on_the_line_of_the_call_hides_the_finding(run_cli, tmp_path, comment):
    write_project(tmp_path, sender(comment))
    result = run_cli(["check"], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == (
        "All checks passed (2 files analysed).\n"
        "Not shown: 1 finding suppressed by comments.\n"
        "2 of 2 call sites resolved.\n"
    )


def test_suppression_for_another_code_does_not_hide_the_finding(run_cli, tmp_path):
    write_project(tmp_path, sender("  # fedcl-lint: ignore[FCL002] wrong code"))
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert result.exit_code == 1
    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "server.py", 2)]


def test_an_empty_code_list_suppresses_nothing_and_says_so(run_cli, tmp_path):
    write_project(tmp_path, sender("  # fedcl-lint: ignore[]"))
    result = run_cli(["check", "--format", "json", "--warn-unused-ignores"], cwd=tmp_path)

    assert result.exit_code == 1
    assert [(f["code"], f["line"], f["message"]) for f in result.json["findings"]] == [
        ("FCL001", 2, result.json["findings"][0]["message"]),
        ("FCL100", 2, "unused suppression: `ignore[]` names no code, so it suppresses nothing"),
    ]
    assert result.json["findings"][0]["message"].startswith("`SHUTDOWN` is sent as an event")


def test_suppression_on_another_line_does_not_count(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": HANDLER,
        "server.py": (
            "async def stop(cm, cid):\n"
            "    # fedcl-lint: ignore[FCL001]\n"
            "    await cm.send_control_message(cid, 'SHUTDOWN', {})\n"
        ),
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "server.py", 3)]


def test_multi_line_call_is_suppressed_on_its_first_line(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": HANDLER,
        "server.py": (
            "async def stop(cm, cid):\n"
            "    await cm.send_control_message(  # fedcl-lint: ignore[FCL001]\n"
            "        cid, 'SHUTDOWN', {}\n"
            "    )\n"
        ),
    })
    result = run_cli(["check"], cwd=tmp_path)

    assert (result.exit_code, result.output) == (0, (
        "All checks passed (2 files analysed).\n"
        "Not shown: 1 finding suppressed by comments.\n"
        "2 of 2 call sites resolved.\n"
    ))


def test_a_hash_inside_a_string_is_not_a_comment(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": HANDLER,
        "server.py": (
            "async def stop(cm, cid):\n"
            "    await cm.send_control_message(cid, 'SHUTDOWN', {'note': '# fedcl-lint: ignore'})\n"
        ),
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL001", "SHUTDOWN", "server.py", 2)]


def test_parse_suppressions_reads_tokens_codes_and_reasons():
    source = (
        'x = 1  # fedcl-lint: ignore[FCL001, fcl003] acked elsewhere\n'
        's = "# fedcl-lint: ignore"\n'
        'doc = """\n# fedcl-lint: ignore\n"""\n'
        'y = 2  # fedcl-lint: ignored (not the directive)\n'
        'z = 3  #fedcl-lint:ignore\n'
    )
    assert parse_suppressions(source) == (
        Suppression(line=1, column=8, codes=("FCL001", "FCL003"), reason="acked elsewhere"),
        Suppression(line=7, column=8, codes=None, reason=None),
    )


def test_suppressions_are_facts_of_the_file():
    facts = extract(b"x = 1  # fedcl-lint: ignore[FCL002] -- sent by the scheduler\n", load_packs(["fedcl"]))

    assert facts.suppressions == (Suppression(line=1, column=8, codes=("FCL002",), reason="sent by the scheduler"),)


def test_unused_suppressions_are_reported_only_when_asked(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": HANDLER,
        "server.py": (
            "async def stop(cm, cid):\n"
            "    await cm.send_business_message(cid, 'SHUTDOWN', {})  # fedcl-lint: ignore\n"
            "    await cm.send_control_message(cid, 'SHUTDOWN', {})  # fedcl-lint: ignore[FCL001, FCL003] why\n"
            "    x = 1  # fedcl-lint: ignore[FCL002]\n"
        ),
    })
    quiet = run_cli(["check", "--format", "json"], cwd=tmp_path)
    assert quiet.json["findings"] == []
    assert quiet.exit_code == 0

    loud = run_cli(["check", "--warn-unused-ignores", "--format", "json"], cwd=tmp_path)
    assert loud.exit_code == 1
    assert [(f["code"], f["severity"], f["line"], f["column"], f["message"]) for f in loud.json["findings"]] == [
        ("FCL100", "warning", 2, 58, "unused suppression: there is no finding on this line to ignore"),
        ("FCL100", "warning", 3, 57, "unused suppression: `FCL003` matched no finding on this line"),
        ("FCL100", "warning", 4, 12, "unused suppression: `FCL002` matched no finding on this line"),
    ]


def test_warn_unused_ignores_from_the_config_and_fcl100_can_be_ignored(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": "[tool.fedcl-lint]\nwarn-unused-ignores = true\n",
        "a.py": "x = 1  # fedcl-lint: ignore\n",
    })
    assert [f["code"] for f in run_cli(["check", "--format", "json"], cwd=tmp_path).json["findings"]] == ["FCL100"]
    assert run_cli(["check", "--ignore", "FCL100"], cwd=tmp_path).exit_code == 0


def test_a_suppression_of_a_disabled_code_is_unused(run_cli, tmp_path):
    write_project(tmp_path, sender("  # fedcl-lint: ignore[FCL001]"))
    result = run_cli(["check", "--ignore", "FCL001", "--warn-unused-ignores", "--format", "json"], cwd=tmp_path)

    assert [(f["code"], f["line"]) for f in result.json["findings"]] == [("FCL100", 2)]


def test_suppressions_survive_the_fact_cache(run_cli, tmp_path):
    project = write_project(tmp_path / "project", sender("  # fedcl-lint: ignore[FCL001] cached"))
    cache_dir = tmp_path / "cache"
    for _ in range(2):  # the second run reads the facts back from the cache
        result = run_cli(["check", "--cache-dir", str(cache_dir), "--format", "json"], cwd=project)
        assert (result.exit_code, result.json["findings"]) == (0, [])

    cache = FactCache(cache_dir, load_packs(["fedcl"]))
    cached = cache.get(cache.key((project / "server.py").read_bytes()))
    assert cached is not None
    assert cached.suppressions == (Suppression(line=2, column=57, codes=("FCL001",), reason="cached"),)
