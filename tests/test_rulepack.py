"""Rule packs: the built-in pack ships in the wheel; other packs describe other APIs; bad packs fail clearly."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import FIXTURES, findings_of, pack_error

REPO = FIXTURES.parent.parent

NODE_API = FIXTURES / "node_api"


def test_a_pack_can_describe_a_different_api(run_cli):
    result = run_cli(["check", "--rules", "node.toml", "--format", "json"], cwd=NODE_API)

    assert result.exit_code == 1
    assert findings_of(result.json) == [
        ("FCL001", "stop", "mesh/coordinator.py", 6),
        ("FCL006", "gossip", "mesh/peer.py", 9),
    ]
    assert "send it with `call`, or register it with `on`" in result.json["findings"][0]["message"]
    assert "calls it as `handler(sender, payload)`" in result.json["findings"][1]["message"]


def test_wrappers_are_inferred_for_any_pack(run_cli):
    table = run_cli(["table", "--rules", "node.toml", "--format", "json"], cwd=NODE_API).json

    sync = next(m for m in table["messages"] if m["message_type"] == "sync")
    assert [(s["role"], s["mechanism"], s["path"], s["line"], s["via"]) for s in sync["sites"]] == [
        ("send", "rpc", "mesh/coordinator.py", 5, "Peer.ask -> call"),
        ("handle", "rpc", "mesh/peer.py", 8, None),
    ]


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'rpc'\nmessage_type = { position = 0 }\ncolour = 1\n",
         "unknown key `calls[0].colour`"),
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'shout'\nmechanism = 'rpc'\nmessage_type = { position = 0 }\n",
         "`calls[0].role`: expected 'send' or 'handle', found 'shout'"),
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'pigeon'\nmessage_type = { position = 0 }\n",
         "`calls[0].mechanism`: expected 'rpc' or 'event', found 'pigeon'"),
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'rpc'\nmessage_type = { position = -1 }\n",
         "`calls[0].message_type.position`: expected a non-negative integer (0 = first argument), found -1"),
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'handle'\nmechanism = 'rpc'\nmessage_type = { position = 0 }\n",
         "`calls[0].handler`: expected a handler slot for a `handle` call (or `decorator = true`), found nothing"),
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'rpc'\n",
         "`calls[0].message_type`: expected a table like { position = 1, keyword = \"message_type\" }, found nothing"),
        ("[pack]\nname = 'x'\n", "`calls`: expected at least one [[calls]] entry (or [[services]], or [[proxies]]), found nothing"),
        ("[pack\n", "invalid TOML"),
    ],
)
def test_bad_pack_is_a_clear_error(run_cli, tmp_path, pack, message):
    assert f"Error: bad.toml: {message}" in pack_error(run_cli, tmp_path, pack)


def test_builtin_pack_ships_inside_the_wheel(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
        check=True, timeout=600,
    )
    [wheel] = tmp_path.glob("fedcl_lint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("fedcl_lint/rules/fedcl.toml") == (REPO / "fedcl_lint" / "rules" / "fedcl.toml").read_bytes()
