"""Receiver typing: API calls bound to classes (`receiver = ...` in packs), and wrappers told apart by type."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, doc_block, findings_of, pack_error, write_project

RECEIVERS = FIXTURES / "receivers"

PACK = """
[pack]
name = "typed"

[[calls]]
name = "call"
receiver = ["Node"]
role = "send"
mechanism = "rpc"
message_type = { position = 1 }

[[calls]]
name = "register"
receiver = "app.node.Node"
role = "handle"
mechanism = "rpc"
message_type = { position = 0 }
handler = { position = 1 }
"""

NODE = """
class Node:
    def register(self, method, fn): ...
    def call(self, target, method, payload): ...
"""


def _project(tmp_path, files, pack=PACK):
    return write_project(tmp_path, {
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["typed.toml"]\n',
        "typed.toml": pack,
        "app/__init__.py": "",
        "app/node.py": NODE,
        **files,
    })


def _sites(run_cli, root):
    document = run_cli(["table", "--format", "json"], cwd=root).json
    return sorted((m["message_type"], s["role"], s["path"], s["line"]) for m in document["messages"]
                  for s in m["sites"])


def test_the_mini_framework_finds_the_bug_that_same_named_methods_hid(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=RECEIVERS)

    assert findings_of(result.json) == [("FCL002", "evaluate", "meshapp/roles/server.py", 26)]
    assert result.exit_code == 1
    assert (result.json["summary"]["call_sites"], result.json["summary"]["resolved_call_sites"]) == (7, 7)
    assert _sites(run_cli, RECEIVERS) == [
        ("business_request", "handle", "meshapp/roles/client.py", 20),
        ("business_request", "send", "meshapp/roles/server.py", 20),  # Connections.route_message, by type
        ("evaluate", "send", "meshapp/roles/server.py", 26),  # `with make_node(...) as probe`
        ("fit", "handle", "meshapp/roles/client.py", 19),  # the inherited `self.register`
        ("fit", "send", "meshapp/roles/server.py", 19),  # a module-level instance
        ("heartbeat", "handle", "meshapp/roles/base.py", 8),
        ("heartbeat", "send", "meshapp/roles/server.py", 23),  # Communicator's, not Handler's
    ]


def test_without_receivers_the_same_pack_mistakes_a_plugin_registry_for_handlers(run_cli, tmp_path):
    """What the receivers in the fixture's pack are for: the same names, matched whatever the receiver."""
    root = tmp_path / "receivers"
    shutil.copytree(RECEIVERS, root)
    pack = root / "mesh.toml"
    pack.write_text("".join(line for line in pack.read_text().splitlines(keepends=True)
                            if not line.startswith("receiver =")))

    result = run_cli(["check", "--format", "json"], cwd=root)

    assert findings_of(result.json) == [
        ("FCL003", "trainer.default", "meshapp/plugins.py", 21),
        ("FCL005", None, "meshapp/plugins.py", 37),
        ("FCL005", None, "meshapp/roles/server.py", 24),
    ]  # and `evaluate` counts as handled by `registry.register("evaluate", EvalPlugin)`


@pytest.mark.parametrize("code", [
    # annotated parameters, in every spelling of an optional or a union
    "def go(node: Node):\n    node.register('m', h)\n",
    "def go(node: Optional[Node]):\n    node.register('m', h)\n",
    "def go(node: 'Node | None'):\n    node.register('m', h)\n",
    "def go(node: Union[Node, int]):\n    node.register('m', h)\n",
    # instances: module level, local, `with`, annotated variable
    "NODE = Node()\ndef go():\n    NODE.register('m', h)\n",
    "def go():\n    node = Node()\n    node.register('m', h)\n",
    "def go():\n    with Node() as node:\n        node.register('m', h)\n",
    "def go(make):\n    node: Node = make()\n    node.register('m', h)\n",
    # return types: annotated, or what is returned
    "def make() -> Node:\n    ...\ndef go():\n    make().register('m', h)\n",
    "def make():\n    return Node()\ndef go():\n    node = make()\n    node.register('m', h)\n",
    # attributes: assigned in any method, from an annotated parameter, annotated in the class body
    "class A:\n    def __init__(self):\n        self.node = Node()\n    def go(self):\n        self.node.register('m', h)\n",
    "class A:\n    def setup(self, node: Node):\n        self.node = node\n    def go(self):\n        self.node.register('m', h)\n",
    "class A:\n    node: Node\n    def go(self):\n        self.node.register('m', h)\n",
    "class A:\n    def go(self):\n        self.node.register('m', h)\nclass B(A):\n    def __init__(self):\n        self.node: Node = None\n",
    # self in a subclass, the method inherited
    "class Mine(Node):\n    def go(self):\n        self.register('m', h)\n",
    "class Base(Node):\n    pass\nclass Mine(Base):\n    def go(self):\n        self.register('m', h)\n",
])
def test_a_receiver_typed_by_the_code_matches_its_class(run_cli, tmp_path, code):
    header = "from typing import Optional, Union\nfrom app.node import Node\ndef h(payload): ...\n"
    root = _project(tmp_path, {"app/use.py": header + code})
    assert [site[:2] for site in _sites(run_cli, root)] == [("m", "handle")]


@pytest.mark.parametrize("code", [
    "class Registry:\n    def register(self, name, plugin): ...\nregistry = Registry()\nregistry.register('m', h)\n",
    "import atexit\natexit.register(h)\n",
    "from plugins import Registry\nRegistry().register('m', h)\n",  # a class from outside the project
    "class Other:\n    def register(self, name, fn): ...\n    def go(self):\n        self.register('m', h)\n",
    "def go(registry: 'Registry'):\n    registry.register('m', h)\nclass Registry: ...\n",
])
def test_a_receiver_of_another_class_makes_no_site(run_cli, tmp_path, code):
    root = _project(tmp_path, {"app/use.py": "def h(payload): ...\n" + code})
    assert _sites(run_cli, root) == []


def test_an_unknown_receiver_matches_by_default_and_is_an_info_when_the_pack_says_skip(run_cli, tmp_path):
    code = "def h(payload): ...\ndef go(node):\n    node.register('m', h)\n"
    root = _project(tmp_path, {"app/use.py": code})
    assert _sites(run_cli, root) == [("m", "handle", "app/use.py", 3)]

    skipping = PACK.replace('receiver = "app.node.Node"', 'receiver = "app.node.Node"\nunknown_receiver = "skip"')
    root = _project(tmp_path, {"app/use.py": code}, pack=skipping)
    result = run_cli(["check", "--format", "json", "--select", "FCL005"], cwd=root)
    [finding] = result.json["findings"]
    assert (finding["code"], finding["line"]) == ("FCL005", 3)
    assert "the class of `node` is unknown (the rule packs declare `register` on `app.node.Node`)" \
        in finding["message"]
    assert (result.json["summary"]["call_sites"], result.json["summary"]["resolved_call_sites"]) == (1, 0)


def test_a_class_from_outside_the_project_matches_by_the_name_it_is_imported_under(run_cli, tmp_path):
    pack = PACK.replace('receiver = "app.node.Node"', 'receiver = "meshlib.core.Node"')
    code = """
        from meshlib.core import Node as MeshNode
        from meshlib import Node

        def h(payload): ...

        class Peer(MeshNode):
            def go(self):
                self.register("subclassed", h)

        MeshNode().register("aliased", h)
        Node().register("other_module", h)   # meshlib.Node is not meshlib.core.Node
    """
    root = _project(tmp_path, {"app/use.py": code}, pack=pack)
    assert [site[:2] for site in _sites(run_cli, root)] == [("aliased", "handle"), ("subclassed", "handle")]


def test_one_name_on_two_classes_takes_each_class_arguments(run_cli, tmp_path):
    pack = """
        [pack]
        name = "two"

        [[calls]]
        name = "send_message"
        receiver = "Communicator"
        role = "send"
        mechanism = "rpc"
        message_type = { position = 1 }

        [[calls]]
        name = "send_message"
        receiver = "Bus"
        role = "send"
        mechanism = "event"
        message_type = { position = 0 }
    """
    code = """
        class Communicator:
            def send_message(self, target, kind, data): ...

        class Bus:
            def send_message(self, kind, data): ...

        def go(comm: Communicator, bus: Bus, anything):
            comm.send_message("peer", "TRAIN", {})
            bus.send_message("STOP", {})
            anything.send_message("peer", "WHICH", {})
    """
    root = _project(tmp_path, {"app/use.py": code}, pack=pack)
    document = run_cli(["table", "--format", "json"], cwd=root).json
    assert sorted((m["message_type"], s["mechanism"]) for m in document["messages"] for s in m["sites"]) == [
        ("STOP", "event"), ("TRAIN", "rpc"),
    ]
    [unresolved] = document["unresolved"]
    assert unresolved["line"] == 11
    assert unresolved["reason"] == ("the class of `anything` is unknown, and `send_message` is declared on "
                                    "`Communicator` and `Bus` with different arguments")


def test_a_wrapper_is_told_from_a_same_named_method_by_the_receiver_type(run_cli, tmp_path):
    """Two classes define `route`; only one forwards its message type to a send."""
    code = """
        from app.node import Node

        class Connections:
            def __init__(self, node: Node):
                self.node = node

            def route(self, target, message_type, data):
                return self.node.call(target, message_type, data)

        class Router:
            def route(self, target, message_type, data):
                return None

        def h(payload): ...

        class Server:
            def __init__(self, connections: Connections, router: Router, node: Node):
                self.connections = connections
                self.router = router
                node.register("business", h)

            def go(self):
                self.connections.route("peer", message_type="business", data={})
                self.router.route("peer", "bookkeeping", {})
    """
    root = _project(tmp_path, {"app/use.py": code})
    result = run_cli(["check", "--format", "json"], cwd=root)
    assert findings_of(result.json) == []
    assert [site[:2] for site in _sites(run_cli, root)] == [("business", "handle"), ("business", "send")]


@pytest.mark.parametrize(("entry", "message"), [
    ('receiver = 3', "`calls[0].receiver`: expected a class name (`Node` or `pkg.comm.Node`) or an array of them"),
    ('receiver = ["a..b"]', "`calls[0].receiver`: expected a class name"),
    ('unknown_receiver = "skip"', "`calls[0].unknown_receiver`: expected a `receiver` beside it"),
    ('receiver = "Node"\nunknown_receiver = "maybe"', "`calls[0].unknown_receiver`: expected 'match' or 'skip'"),
])
def test_a_bad_receiver_is_a_clear_error(run_cli, tmp_path, entry, message):
    pack = ("[pack]\nname = 'x'\n[[calls]]\nname = 'a'\nrole = 'send'\nmechanism = 'rpc'\n"
            f"message_type = {{ position = 0 }}\n{entry}\n")
    assert f"Error: bad.toml: {message}" in pack_error(run_cli, tmp_path, pack)


def test_the_documented_receiver_example_binds_register_to_the_node(run_cli, tmp_path):
    example = doc_block("rule-packs.md", "toml", 'unknown_receiver = "match"')
    root = tmp_path / "receivers"
    shutil.copytree(RECEIVERS, root)
    (root / "mesh.toml").write_text(
        '[pack]\nname = "readme"\n' + example
        + '[[calls]]\nname = "call"\nrole = "send"\nmechanism = "rpc"\nmessage_type = { position = 1 }\n'
    )
    result = run_cli(["check", "--format", "json"], cwd=root)
    assert findings_of(result.json) == [("FCL002", "evaluate", "meshapp/roles/server.py", 26)]


def test_a_handler_reached_through_a_typed_attribute_has_its_signature_checked(run_cli, tmp_path):
    code = """
        from app.node import Node

        class Trainer:
            def on_fit(self):          # takes no payload: the node calls it with one
                return None

        class Client:
            def __init__(self, node: Node):
                self.trainer = Trainer()
                node.register("fit", self.trainer.on_fit)
                node.call("peer", "fit", {})
    """
    root = _project(tmp_path, {"app/use.py": code}, pack=PACK.replace(
        '[[calls]]\nname = "register"', '[mechanisms.rpc]\ntitle = "Calls"\ndescription = "d"\n'
        'handler_args = ["payload"]\n\n[[calls]]\nname = "register"'))
    result = run_cli(["check", "--format", "json"], cwd=root)
    assert findings_of(result.json) == [("FCL006", "fit", "app/use.py", 11)]


def test_a_cycle_of_imports_leaves_the_receiver_unknown(run_cli, tmp_path):
    """`a` takes `node` from `b`, which takes it from `a`: the type is unknown (and matched by default),
    and the run ends."""
    root = _project(tmp_path, {
        "app/a.py": "from app.b import node\n\ndef h(payload): ...\n\nnode.register('m', h)\n",
        "app/b.py": "from app.a import node\n",
    })
    assert _sites(run_cli, root) == [("m", "handle", "app/a.py", 5)]


def test_values_made_from_each_other_leave_the_receiver_unknown(run_cli, tmp_path):
    """`first` is made by a method of `second`, which is made by a method of `first`: the type is
    unknown (and matched by default), and the run ends."""
    code = """
        def h(payload): ...

        first = second.make()
        second = first.make()
        first.register("m", h)
    """
    root = _project(tmp_path, {"app/loop.py": code})
    assert _sites(run_cli, root) == [("m", "handle", "app/loop.py", 6)]
