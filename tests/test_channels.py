"""Issue 15, parts 2 to 4: any number of channels, calling conventions per registry, types the
framework sends itself; rule packs of version 2 beside version 1.

Three mini frameworks (tests/fixtures/channels), each checked end to end through the CLI with
its pack, whose text docs/rule-packs.md shows (and these tests hold equal).
"""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import FIXTURES, doc_block, doc_text, findings_of, pack_error, write_project
from fedcl_lint.output.manifest import manifest_document, parse_manifest
from fedcl_lint.settings.rulepack import load_packs

CHANNELS = FIXTURES / "channels"
MESH, ROUTES, BACKEND = CHANNELS / "meshrpc", CHANNELS / "conventions", CHANNELS / "backend"
REPO = FIXTURES.parent.parent


def _docs_block(marker: str) -> str:
    return doc_block("rule-packs.md", "toml", marker)


def _check(run_cli, root, pack):
    result = run_cli(["check", "--rules", pack, "--format", "json"], cwd=root)
    return result, [(f["code"], f["severity"], f["message_type"], f["path"], f["line"]) for f in
                    result.json["findings"]]


# --- 2. channels ---------------------------------------------------------------------------------


def test_call_and_notify_share_one_table_and_the_bus_is_checked_apart(run_cli):
    result, findings = _check(run_cli, MESH, "mesh.toml")

    assert result.exit_code == 1
    assert findings == [
        ("FCL002", "warning", "round_done", "meshapp/coordinator.py", 12),  # the bus does not reply
        ("FCL001", "error", "shutdown", "meshapp/coordinator.py", 16),
        ("FCL003", "warning", "metrics", "meshapp/worker.py", 9),
    ]  # no FCL001 for `notify(peer, PING)` to a `register`ed PING
    mismatch = result.json["findings"][1]
    assert mismatch["message"] == (
        "`shutdown` is sent on `bus` (`emit_event`) but only handled on `call` and `notify` (`register`), so it "
        "is never delivered; send it with `call` or `notify`, or register it with `subscribe_event`"
    )
    assert mismatch["mechanism"] == "bus"
    assert [(r["path"], r["line"], r["mechanism"], r["note"]) for r in mismatch["related"]] == [
        ("meshapp/worker.py", 8, "call", "handled on `call` and `notify` here (`register`)"),
    ]


def test_a_channel_that_replies_makes_an_unhandled_send_an_error(run_cli, tmp_path):
    root = tmp_path / "mesh"
    shutil.copytree(MESH, root)
    (root / "meshapp" / "extra.py").write_text(
        "async def probe(node, peer):\n    await node.call(peer, 'probe', {})\n    node.notify(peer, 'probe2', {})\n")
    _, findings = _check(run_cli, root, "mesh.toml")

    assert [f for f in findings if f[3] == "meshapp/extra.py"] == [
        ("FCL002", "error", "probe", "meshapp/extra.py", 2),
        ("FCL002", "warning", "probe2", "meshapp/extra.py", 3),
    ]


def test_the_table_manifest_and_docs_show_channels(run_cli, tmp_path, monkeypatch):
    table = run_cli(["table", "--rules", "mesh.toml", "--format", "json"], cwd=MESH).json

    assert table["channels"] == [
        {"name": "call", "local": False}, {"name": "notify", "local": False}, {"name": "bus", "local": True},
    ]
    ping = next(m for m in table["messages"] if m["message_type"] == "ping")
    assert ping["status"] == "ok"
    assert ping["mechanisms"] == ["call", "notify"]
    assert [(s["role"], s["mechanism"], s.get("serves")) for s in ping["sites"]] == [
        ("send", "notify", None), ("handle", "call", ["call", "notify"]),
    ]
    protocol = parse_manifest(table, "table.json")  # read back, as `diff` does
    assert manifest_document(protocol) == table
    assert protocol.is_local(next(c.name for c in protocol.channels if c.name == "bus"))

    monkeypatch.setenv("COLUMNS", "300")  # room for the table (at 80 columns it is a list)
    text = run_cli(["table", "--rules", "mesh.toml"], cwd=MESH).output
    assert re.search(r"│ ping\s+│ call, notify\s+│", text)

    page = tmp_path / "PROTOCOL.md"
    assert run_cli(["docs", "--rules", "mesh.toml", "-o", str(page)], cwd=MESH).exit_code == 0
    doc = page.read_text(encoding="utf-8")
    assert "### In-process events (`bus`)\n\nLocal: in-process only, it never crosses to another node." in doc
    assert "Sent with `call`; handled with `register`." in doc
    assert "Sent with `notify`; handled with `register`." in doc
    assert '==>|"shutdown"|' in doc and '-.->|"ping"|' in doc and '-->|"train"|' in doc
    assert "Solid arrows are `call`; dotted arrows are `notify`; thick arrows are `bus` (local: in-process only)" in doc


def test_the_policy_names_channels_and_an_unknown_one_is_an_error(run_cli, tmp_path):
    root = tmp_path / "mesh"
    shutil.copytree(MESH, root)
    (root / "pyproject.toml").write_text(
        '[tool.fedcl-lint]\nrules = ["mesh.toml"]\n[tool.fedcl-lint.protocol]\nPING = "notify"\ntrain = "notify"\n')
    result = run_cli(["check", "--format", "json"], cwd=root)
    policy = [(f["code"], f["message_type"], f["line"], f["message"]) for f in result.json["findings"]
              if f["code"] == "FCL008"]
    assert policy == [("FCL008", "train", 10, "the protocol policy declares `train` as notify, but this site sends "
                       "it on `call` (`call`)")]  # the handler serves notify too: fine

    (root / "pyproject.toml").write_text(
        '[tool.fedcl-lint]\nrules = ["mesh.toml"]\n[tool.fedcl-lint.protocol]\nPING = "rpc"\n')
    result = run_cli(["check"], cwd=root)
    assert result.exit_code == 2
    assert ("Error: pyproject.toml: `tool.fedcl-lint.protocol.PING`: expected 'call' or 'notify' or 'bus', "
            "found 'rpc'") in result.stderr


def test_diff_names_channels(run_cli, tmp_path):
    old = run_cli(["table", "--rules", "mesh.toml", "--format", "json"], cwd=MESH).output
    root = tmp_path / "mesh"
    shutil.copytree(MESH, root)
    worker = root / "meshapp" / "worker.py"
    worker.write_text(worker.read_text().replace("node.register(PING, self.ping)",
                                                 "context.subscribe_event(PING, self.ping)"))
    (tmp_path / "old.json").write_text(old)
    (tmp_path / "new.json").write_text(
        run_cli(["table", "--rules", "mesh.toml", "--format", "json"], cwd=root).output)
    result = run_cli(["diff", "old.json", "new.json"], cwd=tmp_path)

    assert result.exit_code == 1
    assert "mechanism-changed" in result.output
    assert "sent on notify, handled on call and notify -> sent on notify, handled on bus" in result.output


# --- 3. calling conventions ----------------------------------------------------------------------


def test_each_registration_is_checked_against_its_own_convention(run_cli):
    result, findings = _check(run_cli, ROUTES, "routes.toml")

    assert findings == [
        ("FCL006", "error", 7, "fedroute/client_manager.py", 6),
        ("FCL006", "error", "reset", "fedroute/server_manager.py", 12),
    ]  # `add(a, b, *, scale)` is exposed spread: not checked
    assert [f["message"] for f in result.json["findings"]] == [
        "handler `self.handle_finish` of `MyMessage.MSG_TYPE_S2C_FINISH (7)` is registered over rpc, which calls "
        "it as `handler(msg_params)`, but it accepts 0 positional arguments (none)",
        "handler `self.on_reset` of `reset` is registered with `add_route`, which calls it as "
        "`handler(payload, ctx)`, but it accepts 1 positional argument (payload)",
    ]


def test_a_registry_of_channels_that_call_differently_must_say_how(run_cli, tmp_path):
    pack = (MESH / "mesh.toml").read_text().replace('serves = ["bus"]', 'serves = ["bus", "call"]')
    write_project(tmp_path, {"mesh.toml": pack, "a.py": "X = 1\n"})
    result = run_cli(["check", "--rules", "mesh.toml"], cwd=tmp_path)

    assert result.exit_code == 2
    assert ("`calls[4].handler_args`: expected how this registry calls its handlers, since the channels it serves "
            "call them differently (`bus`: handler(data); `call`: handler(params)), found nothing") in result.stderr
    fixed = pack.replace('serves = ["bus", "call"]', 'serves = ["bus", "call"]\nhandler_args = ["data"]')
    (tmp_path / "mesh.toml").write_text(fixed)
    assert run_cli(["check", "--rules", "mesh.toml"], cwd=tmp_path).exit_code == 0


# --- 4. types the framework sends ----------------------------------------------------------------


def test_a_type_the_framework_sends_has_no_unused_handler_on_its_channel(run_cli, tmp_path):
    _, findings = _check(run_cli, BACKEND, "backend.toml")

    assert findings == [
        ("FCL003", "warning", 6, "fedback/client_manager.py", 8),  # a real unused handler
        ("FCL003", "warning", 0, "fedback/client_manager.py", 9),  # 0 on `local`: the framework sends it on rpc
    ]
    root = tmp_path / "backend"
    shutil.copytree(BACKEND, root)
    pack = (root / "backend.toml").read_text()
    (root / "backend.toml").write_text(pack[:pack.index("# The backend sends")])
    _, without = _check(run_cli, root, "backend.toml")
    assert [(f[2], f[3], f[4]) for f in without] == [
        (0, "fedback/client_manager.py", 6), (6, "fedback/client_manager.py", 8),
        (0, "fedback/client_manager.py", 9), (0, "fedback/server_manager.py", 6),
    ]


def test_the_docs_show_what_the_framework_sends(run_cli, tmp_path):
    page = tmp_path / "PROTOCOL.md"
    assert run_cli(["docs", "--rules", "backend.toml", "-o", str(page)], cwd=BACKEND).exit_code == 0
    doc = page.read_text(encoding="utf-8")
    assert "Sent by the framework itself: `CONNECTION_READY (0)`." in doc
    assert '(["the framework"])' in doc


# --- pack versions -------------------------------------------------------------------------------


V2 = """
[pack]
version = 2
name = "x"
[channels.rpc]
title = "RPC"
[[calls]]
name = "a"
role = "send"
channel = "rpc"
message_type = { position = 0 }
"""


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        (V2.replace("version = 2", "version = 3"),
         "`pack.version`: expected 1 or 2 (the rule pack formats this fedcl-lint reads; absent means 1), found 3"),
        (V2.replace("version = 2", 'version = "2"'), "`pack.version`: expected 1 or 2"),
        (V2.replace('channel = "rpc"', 'mechanism = "rpc"'), "unknown key `calls[0].mechanism`"),
        (V2.replace('channel = "rpc"', 'channel = "pigeon"'),
         "`calls[0].channel`: expected a channel declared in [channels] (declared: 'rpc'), found 'pigeon'"),
        (V2.replace("[channels.rpc]", "[mechanisms.rpc]"), "unknown key `mechanisms`"),
        (V2.replace('role = "send"', 'role = "handle"\nhandler = { position = 1 }'),
         "`calls[0].channel`: expected `serves` (the channels its registry serves) on a handle call, found 'rpc'"),
        (V2.replace('role = "send"\nchannel = "rpc"', 'role = "handle"\nserves = []\nhandler = { position = 1 }'),
         "`calls[0].serves`: expected a non-empty array of distinct channel names"),
        (V2.replace('channel = "rpc"', 'channel = "rpc"\nserves = ["rpc"]'),
         "`calls[0].serves`: expected `serves` only on a handle call"),
        (V2 + '[[external]]\nvalue = true\n', "`external[0].value`: expected a message type"),
        (V2 + '[[external]]\nvalue = 0\nchannel = "event"\n', "`external[0].channel`: expected a channel declared"),
        (V2.replace("version = 2\n", "") + '[[external]]\nvalue = 0\n', "unknown key `channels`"),
        (V2.replace("[channels.rpc]", '[channels."a b"]'), '`channels.a b`: expected a channel name'),
    ],
)
def test_bad_pack_of_version_2_is_a_clear_error(run_cli, tmp_path, pack, message):
    assert message in pack_error(run_cli, tmp_path, pack)


def test_packs_of_both_versions_merge(run_cli, tmp_path):
    """A version 1 pack's rpc is the built-in (version 2) pack's channel."""
    old = ('[pack]\nname = "old"\n[[calls]]\nname = "tell"\nrole = "send"\nmechanism = "rpc"\n'
           'message_type = { position = 0 }\n')
    write_project(tmp_path, {"old.toml": old, "app.py": """
        async def go(comm, cid, h):
            comm.register_message_handler("STOP", h)
            tell("STOP")
            tell("GO")
    """})
    result = run_cli(["check", "--rules", "fedcl", "--rules", "old.toml", "--format", "json"], cwd=tmp_path)
    assert findings_of(result.json) == [("FCL002", "GO", "app.py", 5)]
    pack = load_packs(["fedcl", str(tmp_path / "old.toml")])
    assert list(pack.channels) == ["rpc", "event"]
    assert pack.channel(pack.call("tell").mechanism).replies


def test_the_builtin_pack_is_version_2_with_rpc_and_event():
    pack = load_packs(["fedcl"])
    assert [(name.value, spec.replies, spec.one_handler, spec.local) for name, spec in pack.channels.items()] == [
        ("rpc", True, True, False), ("event", False, False, False),
    ]
    assert "version = 2" in (REPO / "fedcl_lint" / "rules" / "fedcl.toml").read_text(encoding="utf-8")


# --- the examples of docs/rule-packs.md ----------------------------------------------------------


@pytest.mark.parametrize(("marker", "fixture", "pack"), [
    ('name = "meshrpc"', MESH, "mesh.toml"),
    ('name = "fedroute"', ROUTES, "routes.toml"),
    ('name = "fedback"', BACKEND, "backend.toml"),
])
def test_the_docs_show_each_fixture_pack_and_its_findings(run_cli, tmp_path, marker, fixture, pack):
    example = _docs_block(marker)
    assert example == (fixture / pack).read_text(encoding="utf-8")
    root = tmp_path / "project"
    shutil.copytree(fixture, root)
    (root / pack).write_text(example, encoding="utf-8")
    text = run_cli(["check", "--rules", pack], cwd=root).output
    page = doc_text("rule-packs.md")
    findings = [line for line in text.splitlines() if re.match(r"\S+\.py:\d+:\d+: FCL", line)]
    assert findings
    for line in findings:
        assert line in page


def test_the_documented_complete_pack_is_the_builtin_pack_in_version_2(run_cli, tmp_path):
    example = _docs_block('name = "fedcl"')
    assert "version = 2" in example
    write_project(tmp_path, {"complete.toml": example.replace('manual = "`push_event` is called on the transport, '
                                                              'which has no `send_business_message`: ..."',
                                                              'manual = "by hand"'),
                             "a.py": "X = 1\n"})
    loaded = load_packs([str(tmp_path / "complete.toml")])
    builtin = load_packs(["fedcl"])
    assert list(loaded.channels) == list(builtin.channels)
    assert {(c.name, c.role, c.mechanism, c.registry.serves if c.registry else None) for c in loaded.calls} <= \
        {(c.name, c.role, c.mechanism, c.registry.serves if c.registry else None) for c in builtin.calls}


def test_one_handler_per_type_is_a_property_of_the_channels_a_registry_serves(run_cli, tmp_path):
    root = tmp_path / "mesh"
    shutil.copytree(MESH, root)
    worker = root / "meshapp" / "worker.py"
    worker.write_text(worker.read_text().replace(
        "        context.subscribe_event(METRICS, self.on_metrics)\n",
        "        context.subscribe_event(METRICS, self.on_metrics)\n"
        "        context.subscribe_event(METRICS, self.on_metrics)\n"   # a bus holds many callbacks: fine
        "        node.register(PING, self.train)\n"))                    # the node's table holds one: FCL004
    result, findings = _check(run_cli, root, "mesh.toml")

    assert [f for f in findings if f[0] == "FCL004"] == [("FCL004", "warning", "ping", "meshapp/worker.py", 11)]
    assert result.json["findings"][-1]["message"].startswith(
        "`ping` already has a call handler registered at meshapp/worker.py:7:9")


# --- a wrapper that sends on two channels ---------------------------------------------------------

_TWO_LEGS_PACK = """\
[pack]
version = 2
name = "cells"

[channels.request]
title = "Requests"
description = "A reply is awaited."
handler_args = ["request"]
replies = true

[channels.forget]
title = "Fire and forget"
description = "No reply."
handler_args = ["request"]

[channels.aux]
title = "Aux messages"
description = "The engine's own layer."
handler_args = ["topic", "request"]
replies = true

[[calls]]
name = "send_request"
role = "send"
channel = "request"
message_type = { position = 1, keyword = "topic" }

[[calls]]
name = "fire_and_forget"
role = "send"
channel = "forget"
message_type = { position = 1, keyword = "topic" }

[[calls]]
name = "register_request_cb"
role = "handle"
serves = ["request", "forget"]
message_type = { position = 1, keyword = "topic" }
handler = { position = 2, keyword = "cb" }

[[calls]]
name = "send_aux_request"
role = "send"
channel = "aux"
message_type = { position = 1, keyword = "topic" }

[[calls]]
name = "register_aux_handler"
role = "handle"
serves = ["aux"]
message_type = { position = 0, keyword = "topic" }
handler = { position = 1, keyword = "func" }
"""

_TWO_LEGS_RUNNER = """\
class AuxRunner:
    def __init__(self, cell):
        self.cell = cell

    def send_aux_request(self, targets, topic, request, timeout=0.0):
        if timeout > 0:
            return self.cell.send_request("aux", topic, targets, request)
        return self.cell.fire_and_forget("aux", topic, targets, request)

    def register_aux_handler(self, topic, func): ...


def on_abort(topic, request): ...
"""


def test_a_call_of_a_wrapper_that_sends_on_two_channels_is_one_finding(run_cli, tmp_path):
    root = write_project(tmp_path / "cells", {
        "cells.toml": _TWO_LEGS_PACK,
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["cells.toml"]\n',
        "runner.py": _TWO_LEGS_RUNNER,
        "app.py": (
            "from runner import AuxRunner, on_abort\n\n\n"
            "def setup(runner: AuxRunner):\n"
            "    runner.register_aux_handler(\"abort\", on_abort)\n"
            "    runner.send_aux_request([\"site-1\"], \"abort\", {})\n"
            "    runner.send_aux_request([\"site-1\"], \"nobody\", {})\n"
        ),
    })
    result = run_cli(["check", "--format", "json"], cwd=root)

    assert result.exit_code == 1
    assert [(f["code"], f["severity"], f["message_type"], f["mechanism"], f["line"], f["message"])
            for f in result.json["findings"]] == [
        # the project's definition of `send_aux_request` is what runs: it sends on `request` and
        # `forget`, not on `aux` as the pack declares; one finding for the call, not one per channel,
        # and no advice to send it with the call it already uses
        ("FCL001", "error", "abort", "request", 6,
         "`abort` is sent on `request` and `forget` (`send_aux_request`) but only handled on `aux` "
         "(`register_aux_handler`), so it is never delivered; register it with `register_request_cb` "
         "(`send_aux_request` is defined in the project, and its definition sends on `request` and `forget`, "
         "whatever a rule pack declares)"),
        # an error: one of its channels awaits a reply
        ("FCL002", "error", "nobody", "request", 7,
         "`nobody` is sent on `request` and `forget` (`send_aux_request`) but no handler is registered for it"),
    ]


def test_a_call_matching_entries_that_differ_only_by_channel_says_so(run_cli, tmp_path):
    root = write_project(tmp_path / "cells", {
        "cells.toml": _TWO_LEGS_PACK.replace(
            'name = "fire_and_forget"\nrole = "send"\nchannel = "forget"',
            'name = "send_request"\nreceiver = "Reliable"\nrole = "send"\nchannel = "forget"',
        ).replace('name = "send_request"\nrole = "send"\nchannel = "request"',
                  'name = "send_request"\nreceiver = "Cell"\nrole = "send"\nchannel = "request"'),
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["cells.toml"]\n',
        "app.py": "def run(cell):\n    cell.send_request(\"ch\", \"task\", \"server\", None)\n",
    })
    result = run_cli(["check", "--format", "json"], cwd=root)

    assert [(f["code"], f["message"]) for f in result.json["findings"]] == [
        ("FCL005", "cannot resolve the message type of `send_request` (send request): the class of `cell` is "
                   "unknown, and `send_request` is declared on `Cell` and `Reliable` on different channels"),
    ]


def test_a_call_of_a_wrapper_on_two_channels_whose_type_is_unknown_is_one_info(run_cli, tmp_path):
    root = write_project(tmp_path / "cells", {
        "cells.toml": _TWO_LEGS_PACK,
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["cells.toml"]\n',
        "runner.py": _TWO_LEGS_RUNNER,
        "app.py": (
            "from runner import AuxRunner\n\n\n"
            "class Job:\n"
            "    def go(self, runner: AuxRunner):\n"
            "        runner.send_aux_request([\"site-1\"], self.topic, {})\n"
        ),
    })
    result = run_cli(["check", "--format", "json"], cwd=root)

    assert [(f["code"], f["mechanism"], f["line"], f["message"]) for f in result.json["findings"]] == [
        ("FCL005", "request", 6, "cannot resolve the message type of `send_aux_request` (send request and forget): "
                                 "`Job` has no class attribute `topic` in the analysed tree"),
    ]


def test_a_catch_all_handler_takes_every_message_of_its_registry_channels(run_cli, tmp_path):
    """docs/rule-packs.md, "Catch-all handlers": the pack, the code and the findings shown there."""
    app = doc_block("rule-packs.md", "python", "# cells/app.py")
    root = write_project(tmp_path / "project", {
        "cells.toml": _docs_block('name = "cells"'),
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["cells.toml"]\n',
        "cells/app.py": app.split("\n", 1)[1],
    })
    result = run_cli(["check", "--format", "json"], cwd=root)

    # `stop` and `pause` reach the "*" handler; the catch-all is not unused; `weights` is on `blob`,
    # whose registry has no catch-all, and nothing sends `status` or `model`
    assert [(f["code"], f["message_type"], f["line"]) for f in result.json["findings"]] == [
        ("FCL003", "status", 3), ("FCL003", "model", 4), ("FCL002", "weights", 14),
    ]
    text = run_cli(["check"], cwd=root).output
    shown = doc_block("rule-packs.md", "text", "cells/app.py:14:5")
    assert [line for line in text.splitlines() if " FCL" in line] == shown.splitlines()


def test_a_wildcard_is_only_for_a_handle_call(run_cli, tmp_path):
    error = pack_error(run_cli, tmp_path, (
        '[pack]\nversion = 2\nname = "p"\n[channels.c]\ntitle = "c"\n'
        '[[calls]]\nname = "send"\nrole = "send"\nchannel = "c"\nmessage_type = { position = 0 }\nwildcard = "*"\n'
    ))
    assert error == "Error: bad.toml: `calls[0].wildcard`: expected `wildcard` only on a handle call (a send is on one " \
                    "`channel`), found '*'\n"


def test_a_registration_can_pass_its_own_arguments_to_the_handler(run_cli, tmp_path):
    pack = _TWO_LEGS_PACK.replace('handler = { position = 2, keyword = "cb" }\n',
                                  'handler = { position = 2, keyword = "cb" }\n'
                                  'arguments = { position = 3, exclude = ["channel"] }\n')
    root = write_project(tmp_path / "cells", {
        "cells.toml": pack,
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["cells.toml"]\n',
        "app.py": (
            "def setup(cell, extra):\n"
            "    cell.register_request_cb(channel=\"ch\", topic=\"task\", cb=on_task, event_type=\"x\")\n"  # cb(request,
            # event_type="x"): `channel` is the registration's own, `topic` and `cb` its slots
            "    cell.register_request_cb(\"ch\", \"other\", on_other, 5)\n"
            "    cell.register_request_cb(\"ch\", \"third\", cb=on_task, kind=\"y\")\n"
            "    cell.register_request_cb(\"ch\", \"fourth\", on_other, **extra)\n"  # not known: not checked
            "\n\n"
            "def on_task(request, event_type): ...\n"
            "def on_other(request): ...\n"
            "\n\n"
            "def run(cell):\n"
            "    for topic in (\"task\", \"other\", \"third\", \"fourth\"):\n"
            "        cell.send_request(\"ch\", topic, \"s\", None)\n"
        ),
    })
    result = run_cli(["check", "--format", "json"], cwd=root)

    assert [(f["code"], f["line"], f["message"]) for f in result.json["findings"]] == [
        ("FCL006", 3, "handler `on_other` of `other` is registered on `request` and `forget`, which calls it as "
                      "`handler(request, <1 more>)`, but it accepts 1 positional argument (request)"),
        ("FCL006", 4, "handler `on_task` of `third` is registered on `request` and `forget`, which calls it as "
                      "`handler(request, kind=...)`, but it has no parameter `kind`"),
    ]
