"""Receive loops (`[[receives]]`): comparisons of a received message's type are its handlers."""

from __future__ import annotations

from conftest import doc_block, pack_error, write_project

_NETWORK = """\
from enum import Enum


class MessageCode(Enum):
    SET_UP = 0
    PARAMETER_UPDATE = 1
    EXIT = 2
    EVALUATE = 3


class DistNetwork:
    def send(self, content=None, message_code=None, dst=0): ...
    def recv(self, src=None): ...
"""


def _documented_project(root):
    """The pack and code of docs/rule-packs.md, "Receive loops", with the network module it describes."""
    return write_project(root, {
        "p2p.toml": doc_block("rule-packs.md", "toml", 'name = "p2p"'),
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["p2p.toml"]\n',
        "p2p/__init__.py": "",
        "p2p/network.py": _NETWORK,
        "p2p/server.py": doc_block("rule-packs.md", "python", "# p2p/server.py").split("\n", 1)[1],
        "p2p/client.py": doc_block("rule-packs.md", "python", "# p2p/client.py").split("\n", 1)[1],
    })


def test_each_comparison_of_a_received_type_handles_it(run_cli, tmp_path):
    root = _documented_project(tmp_path / "project")
    result = run_cli(["check", "--format", "json"], cwd=root)

    assert [(f["code"], f["message_type_name"], f["path"], f["line"]) for f in result.json["findings"]] == [
        ("FCL002", "MessageCode.EVALUATE", "p2p/server.py", 18),
    ]
    assert result.json["summary"]["resolved_call_sites"] == result.json["summary"]["call_sites"] == 8
    text = run_cli(["check"], cwd=root).output
    shown = doc_block("rule-packs.md", "text", "p2p/server.py:18:9")
    assert [line for line in text.splitlines() if " FCL" in line] == shown.splitlines()
    table = run_cli(["table", "--format", "json"], cwd=root).json
    handles = sorted((m["name"], s["path"], s["line"], s["column"], s["api"]) for m in table["messages"]
                     for s in m["sites"] if s["role"] == "handle")
    assert handles == [
        ("MessageCode.EXIT", "p2p/client.py", 11, 30, "recv"),  # `package[1]`, `package = net.recv()`
        ("MessageCode.EXIT", "p2p/server.py", 13, 55, "recv"),  # in a tuple
        ("MessageCode.PARAMETER_UPDATE", "p2p/server.py", 11, 32, "recv"),  # unpacked
        ("MessageCode.SET_UP", "p2p/server.py", 13, 35, "recv"),
    ]


def test_a_type_taken_from_another_call_or_an_unchecked_receive_handles_nothing(run_cli, tmp_path):
    root = _documented_project(tmp_path / "project")
    (root / "p2p" / "relay.py").write_text(
        "from p2p.network import DistNetwork, MessageCode\n\n\n"
        "def relay(queue, net: DistNetwork):\n"
        "    _, _, content = net.recv()\n"  # the type is thrown away: nothing is handled here
        "    sender, code, payload = queue.get()\n"  # not a receive of the pack
        "    if code == MessageCode.EVALUATE:\n"
        "        net.send(message_code=code)\n",
        encoding="utf-8",
    )
    result = run_cli(["check", "--format", "json"], cwd=root)

    assert [(f["code"], f["path"], f["line"], f["message"]) for f in result.json["findings"]] == [
        ("FCL005", "p2p/relay.py", 8, "cannot resolve the message type of `send` (send p2p): local variable `code` "
                                      "of `relay` is unpacked from what `queue.get` returns"),
        ("FCL002", "p2p/server.py", 18, "`MessageCode.EVALUATE (3)` is sent on `p2p` (`send`) but no handler is "
                                        "registered for it"),
    ]


def test_a_receive_says_where_its_result_holds_the_type(run_cli, tmp_path):
    head = '[pack]\nversion = 2\nname = "p"\n[channels.c]\ntitle = "c"\n' \
           '[[calls]]\nname = "send"\nrole = "send"\nchannel = "c"\nmessage_type = { position = 0 }\n'
    error = pack_error(run_cli, tmp_path, head + '[[receives]]\nname = "recv"\nserves = ["c"]\n'
                                                 'message_type = { element = 1, attribute = "code" }\n')
    assert error == ("Error: bad.toml: `receives[0].message_type`: expected a table like { element = 1 } (the returned "
                     "tuple's element) or { attribute = \"code\" }, found {'element': 1, 'attribute': 'code'}\n")
    error = pack_error(run_cli, tmp_path, head + '[[receives]]\nname = "recv"\nserves = ["c"]\n'
                                                 'message_type = { element = -1 }\n')
    assert error == ("Error: bad.toml: `receives[0].message_type.element`: expected a non-negative integer (0 = the "
                     "first element), found -1\n")
    error = pack_error(run_cli, tmp_path, head.replace("version = 2", "version = 1").replace(
        '[channels.c]\ntitle = "c"\n', "").replace('channel = "c"', 'mechanism = "rpc"')
        + '[[receives]]\nname = "recv"\nmechanism = "rpc"\nmessage_type = { element = 1 }\n')
    assert error == ("Error: bad.toml: unknown key `receives` (allowed: calls, dispatchers, envelopes, mechanisms, pack, "
                     "payloads, proxies, rewrites, services)\n")  # a version 1 pack has no receive loops
