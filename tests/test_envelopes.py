"""Message objects (`[[envelopes]]`): followed from the send back to where they were built and typed."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, doc_block, findings_of, pack_error, write_project

ENVELOPES = FIXTURES / "envelopes"
SERVER = "fedmini/algo/server_manager.py"
CLIENT = "fedmini/algo/client_manager.py"


def _rows(document: dict) -> list[tuple]:
    return [
        (m["message_type"], s["role"], s["path"], s["line"], s["via"],
         (s["built_at"]["path"], s["built_at"]["line"]) if "built_at" in s else None)
        for m in document["messages"] for s in m["sites"]
    ]


def test_the_mini_framework_finds_the_message_built_in_one_method_and_sent_in_another(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=ENVELOPES)

    assert findings_of(result.json) == [("FCL002", 3, SERVER, 40)]
    assert result.exit_code == 1
    [finding] = result.json["findings"]
    assert [(r["path"], r["line"], r["note"]) for r in finding["related"]] == [
        (SERVER, 37, "the message object is built here"),
    ]
    assert (result.json["summary"]["call_sites"], result.json["summary"]["resolved_call_sites"]) == (9, 9)


def test_every_send_is_located_at_the_send_with_its_construction_beside_it(run_cli):
    document = run_cli(["table", "--format", "json"], cwd=ENVELOPES).json
    assert _rows(document) == [
        (1, "handle", CLIENT, 12, None, None),
        (1, "send", SERVER, 21, None, (SERVER, 18)),  # `message.set_type(...)` after `Message()`
        (2, "handle", CLIENT, 13, None, None),
        (2, "send", SERVER, 29, None, (SERVER, 24)),  # built and returned by a helper
        (3, "send", SERVER, 40, None, (SERVER, 37)),  # through `self.finish_msg`
        (4, "send", CLIENT, 24, "ClientManager._send_impl -> send_message", (CLIENT, 22)),
        (4, "handle", SERVER, 13, None, None),
        ("heartbeat", "handle", SERVER, 14, None, None),
        ("heartbeat", "send", "fedmini/core/comm_manager.py", 20, None, ("fedmini/core/comm_manager.py", 20)),
    ]  # no S2C_AUDIT (5): built and never sent; no "metrics": a log line


def test_declaring_the_constructor_as_the_send_was_wrong_in_place_and_in_kind(run_cli, tmp_path):
    """What envelopes replace: the constructor as the send reports where messages are built, and
    messages built but never sent."""
    root = tmp_path / "envelopes"
    shutil.copytree(ENVELOPES, root)
    pack = (root / "objects.toml").read_text()
    constructor = ('[[calls]]\nname = "Message"\nrole = "send"\nmechanism = "rpc"\n'
                   'message_type = { position = 0, keyword = "msg_type" }\n')
    (root / "objects.toml").write_text(pack.split("[[envelopes]]")[0] + constructor + "\n[[calls]]"
                                       + pack.split("[[calls]]", 3)[3])
    result = run_cli(["check", "--format", "json"], cwd=root)
    assert findings_of(result.json) == [
        ("FCL003", 1, CLIENT, 12),  # set by `set_type`, after a constructor without the type...
        ("FCL003", "heartbeat", SERVER, 14),  # a dict envelope: no constructor at all
        ("FCL005", None, SERVER, 18),  # ...which has no type argument
        ("FCL002", 5, SERVER, 30),  # the audit message, which is never sent
        ("FCL002", 3, SERVER, 37),  # the construction, three lines from the send
    ]


def _project(tmp_path, code: str, calls: str = ""):
    pack = """
        [pack]
        name = "objs"

        [[envelopes]]
        class = "Message"
        message_type = { position = 0 }
        attribute = "kind"

        [[calls]]
        name = "send"
        receiver = "Comm"
        role = "send"
        mechanism = "rpc"
        message = { position = 0 }

        [[calls]]
        name = "register"
        role = "handle"
        mechanism = "rpc"
        message_type = { position = 0 }
        handler = { position = 1 }
    """ + calls
    header = """
        class Message:
            def __init__(self, kind=None): ...

        class Comm:
            def send(self, message): ...
    """
    return write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["objs.toml"]\n', "objs.toml": pack,
        "app.py": header + code,
    })


def _types(run_cli, root) -> tuple[list, list]:
    document = run_cli(["table", "--format", "json"], cwd=root).json
    sent = sorted((m["message_type"], s["line"]) for m in document["messages"] for s in m["sites"]
                  if s["role"] == "send")
    return sent, [(u["line"], u["reason"]) for u in document["unresolved"]]


def test_a_message_built_in_branches_has_each_type_and_an_attribute_can_set_it(run_cli, tmp_path):
    root = _project(tmp_path, """
        def go(comm: Comm, urgent):
            if urgent:
                message = Message("STOP")
            else:
                message = Message("PAUSE")
            comm.send(message)
            later = Message()
            later.kind = "RESUME"
            comm.send(later)
    """)
    assert _types(run_cli, root) == ([("PAUSE", 13), ("RESUME", 16), ("STOP", 13)], [])


def test_what_cannot_be_followed_is_an_info_only_where_the_call_is_surely_the_api(run_cli, tmp_path):
    root = _project(tmp_path, """
        def make(kind):
            return Message(kind)

        def go(comm: Comm, queue, anything):
            comm.send(queue.pop())          # a Comm's send: what it sends cannot be followed
            comm.send(make("STOP"))         # the type is the helper's parameter
            anything.send(queue.pop())      # `send` of anything: not known to be the API
            comm.send("not a message")      # text: no message object, no site
    """)
    sent, unresolved = _types(run_cli, root)
    assert sent == []
    assert unresolved == [
        (12, "cannot follow the message object: the result of calling `queue.pop`"),
        (13, "the message type is parameter `kind` of `make`, which builds it"),
    ]


@pytest.mark.parametrize(("entry", "message"), [
    ('class = "Message"', "`envelopes[0]`: expected where the type goes: `message_type` (a constructor argument), "
                          "`attribute` or `setter`"),
    ('key = "kind"\nclass = "Message"', "`envelopes[0]`: expected either `class` (a message class) or `key`"),
    ('key = "kind"\nattribute = "kind"', "`envelopes[0]`: expected only `requires` beside `key`"),
    ('class = "Message"\nsetter = "set_type"', "`envelopes[0].setter`: expected a table like"),
    ('class = "Message"\nattribute = 3', "`envelopes[0].attribute`: expected an attribute name, found 3"),
])
def test_a_bad_envelope_is_a_clear_error(run_cli, tmp_path, entry, message):
    pack = ("[pack]\nname = 'x'\n[[calls]]\nname = 'send'\nrole = 'send'\nmechanism = 'rpc'\n"
            f"message = {{ position = 0 }}\n[[envelopes]]\n{entry}\n")
    assert f"Error: bad.toml: {message}" in pack_error(run_cli, tmp_path, pack)


def test_a_send_of_a_message_needs_an_envelope(run_cli, tmp_path):
    pack = "[pack]\nname = 'x'\n[[calls]]\nname = 'send'\nrole = 'send'\nmechanism = 'rpc'\nmessage = { position = 0 }\n"
    assert pack_error(run_cli, tmp_path, pack) == (
        "Error: bad.toml: `send` sends a `message` object, but no rule pack declares [[envelopes]]\n")


def test_the_documented_envelope_example_runs(run_cli, tmp_path):
    example = doc_block("rule-packs.md", "toml", "[[envelopes]]", "setter")
    root = tmp_path / "envelopes"
    shutil.copytree(ENVELOPES, root)
    (root / "objects.toml").write_text('[pack]\nname = "readme"\n' + example)
    result = run_cli(["check", "--format", "json"], cwd=root)
    assert findings_of(result.json) == [("FCL002", 3, SERVER, 40)]


def test_a_file_naming_only_a_send_of_message_objects_is_not_parsed(tmp_path):
    """`send` is everywhere (sockets, generators): with the built-in pack, a file is parsed for it only
    when it also names the envelope's key, as a file that builds the payload dict does."""
    from fedcl_lint.analysis.discover import discover
    from fedcl_lint.analysis.load import EngineOptions, FactStore
    from fedcl_lint.settings.rulepack import load_packs

    write_project(tmp_path, {
        "sockets.py": "def ping(sock, a, b):\n    sock.send(a, b, b'ping')\n",
        "transport.py": "async def hello(t):\n    await t.send('me', 'server', {'message_type': 'HELLO'})\n",
    })
    files = list(discover(["."], tmp_path).files)
    store = FactStore(files, load_packs(["fedcl"]), EngineOptions(jobs=1))
    assert [module.file.display for module in store.initial()] == ["transport.py"]
