"""Rule packs: the built-in pack ships in the wheel; other packs describe other APIs; bad packs fail clearly."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import FIXTURES, findings_of, write_project

REPO = FIXTURES.parent.parent

NODE_PACK = """
[pack]
name = "node"

[[calls]]
name = "call"
role = "send"
mechanism = "rpc"
message_type = { position = 1, keyword = "method" }

[[calls]]
name = "notify"
role = "send"
mechanism = "event"
message_type = { position = 1, keyword = "method" }

[[calls]]
name = "register"
role = "handle"
mechanism = "rpc"
message_type = { position = 0, keyword = "method" }
handler = { position = 1 }
"""


def test_a_pack_can_describe_a_different_api(run_cli, tmp_path):
    write_project(tmp_path, {
        "node.toml": NODE_PACK,
        "app.py": """
            def serve(node, handler):
                node.register("stop", handler)

            async def stop(node, peer):
                await node.notify(peer, "stop", {})
                await node.call(peer, method="stop", payload={})
        """,
    })
    result = run_cli(["check", "--rules", "node.toml", "--format", "json"], cwd=tmp_path)

    assert result.exit_code == 1
    assert findings_of(result.json) == [("FCL001", "stop", "app.py", 6)]
    assert "send it with `call`" in result.json["findings"][0]["message"]


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
         "`calls[0].handler`: expected a handler slot for a `handle` call, found nothing"),
        ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'rpc'\n",
         "`calls[0].message_type`: expected a table like { position = 1, keyword = \"message_type\" }, found nothing"),
        ("[pack]\nname = 'x'\n", "`calls`: expected at least one [[calls]] entry, found nothing"),
        ("[pack\n", "invalid TOML"),
    ],
)
def test_bad_pack_is_a_clear_error(run_cli, tmp_path, pack, message):
    write_project(tmp_path, {"bad.toml": pack, "a.py": "X = 1\n"})
    result = run_cli(["check", "--rules", "bad.toml"], cwd=tmp_path)

    assert result.exit_code == 2
    assert f"Error: bad.toml: {message}" in result.stderr


def test_builtin_pack_ships_inside_the_wheel(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
        check=True, timeout=600,
    )
    [wheel] = tmp_path.glob("fedcl_lint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("fedcl_lint/rules/fedcl.toml") == (REPO / "rules" / "fedcl.toml").read_bytes()
