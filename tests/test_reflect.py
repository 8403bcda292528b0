"""Reflection: bound services, proxies, decorators, registration loops and templated types, end to end."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES, doc_block, findings_of, pack_error, write_project

REFLECT = FIXTURES / "reflect"


def _rows(document: dict) -> list[tuple]:
    return [(m["message_type"], s["role"], s["path"], s["line"], s["api"])
            for m in document["messages"] for s in m["sites"]]


def _check(run_cli, root) -> dict:
    result = run_cli(["check", "--format", "json"], cwd=root)
    assert result.exit_code in (0, 1), result.stderr
    return result.json


# --- the mini frameworks --------------------------------------------------------------------------


def test_a_bound_service_called_through_proxies(run_cli):
    document = _check(run_cli, REFLECT / "services")
    assert findings_of(document) == [
        ("FCL006", "sync_info", "fedapp/learner.py", 15),
        ("FCL002", "evalaute", "fedapp/server.py", 12),
    ]
    signature, typo = document["findings"]
    assert signature["message"] == (
        "handler `Learner.sync_info` of `sync_info` is bound over rpc by `bind`, which calls it with the arguments "
        "of each send, but the send at fedapp/server.py:16:15 (`Proxy.sync_info`) passes 1 positional argument "
        "and it accepts 0 positional arguments (none)")
    assert [(r["path"], r["line"], r["note"]) for r in signature["related"]] == [
        ("fedapp/server.py", 16, "sent over rpc here (`Proxy.sync_info`)"),
        ("fedapp/client.py", 7, "bound here (`bind`)"),
    ]
    assert typo["message"].endswith("did you mean `evaluate`?")
    assert document["summary"]["call_sites"] == document["summary"]["resolved_call_sites"] == 11

    table = run_cli(["table", "--format", "json"], cwd=REFLECT / "services").json
    assert _rows(table) == [
        ("_get_property", "send", "fedapp/server.py", 15, "await Proxy.status"),  # awaiting an attribute
        ("_get_property", "handle", "meshrpc/node.py", 11, "register"),
        ("evalaute", "send", "fedapp/server.py", 12, "Proxy.evalaute"),
        ("evaluate", "handle", "fedapp/learner.py", 12, "bind"),  # each method, located at the method
        ("evaluate", "send", "fedapp/server.py", 14, "broadcast"),  # a group's broadcast of a named method
        ("fit", "handle", "fedapp/learner.py", 9, "bind"),
        ("fit", "send", "fedapp/server.py", 11, "Proxy.fit"),
        ("get_weights", "handle", "fedapp/base.py", 2, "bind"),  # from a base class of the project
        ("get_weights", "send", "fedapp/server.py", 13, "call"),  # `getattr(proxy, method)` in a wrapper
        ("sync_info", "handle", "fedapp/learner.py", 15, "bind"),
        ("sync_info", "send", "fedapp/server.py", 16, "Proxy.sync_info"),
    ]  # no `__init__` (excluded by `_*`), no `status` (a property), no `close` (the proxy's own method)
    fit = next(s for m in table["messages"] if m["message_type"] == "fit" for s in m["sites"] if s["role"] == "handle")
    assert fit["resolution"] == [
        {"step": "method `Learner.fit` bound by `bind`", "path": "fedapp/client.py", "line": 7, "column": 5},
    ]
    assert [(w["function"], w["via"]) for w in table["wrappers"]] == [("Server.call", "Server.call -> getattr(Proxy, ...)")]


def test_a_proxy_attribute_read_whose_message_no_node_registers(run_cli):
    document = _check(run_cli, REFLECT / "properties")
    assert findings_of(document) == [("FCL002", "_get_property", "monitor/watcher.py", 8)]
    assert document["findings"][0]["message"] == (
        "`_get_property` is sent over rpc (`await Proxy.round`) but no handler is registered for it")


def test_decorator_registered_handlers(run_cli):
    document = _check(run_cli, REFLECT / "decorators")
    assert findings_of(document) == [
        ("FCL003", "evalute", "trainer/client.py", 9),
        ("FCL006", "stop", "trainer/client.py", 16),
        ("FCL002", "evaluate", "trainer/server.py", 6),
    ]
    assert document["findings"][1]["message"] == (
        "handler `on_stop` of `stop` is registered over rpc, which calls it as `handler(payload, ctx)`, but it "
        "accepts 1 positional argument (payload)")
    table = run_cli(["table", "--format", "json"], cwd=REFLECT / "decorators").json
    handlers = {m["message_type"]: s["handler"] for m in table["messages"] for s in m["sites"] if s["role"] == "handle"}
    assert handlers == {"evalute": "setup.on_evaluate", "stop": "on_stop", "train": "setup.on_train"}


def test_an_enum_loop_makes_a_site_per_member(run_cli):
    document = _check(run_cli, REFLECT / "loops")
    assert findings_of(document) == [("FCL001", "shutdown", "fedloop/server.py", 18)]
    [finding] = document["findings"]
    assert [(r["path"], r["line"], r["note"]) for r in finding["related"]] == [
        ("fedloop/client.py", 8,
         "handled over rpc here (`register_message_handler`), for each element of the loop at line 7"),
    ]
    table = run_cli(["table", "--format", "json"], cwd=REFLECT / "loops").json
    assert [row for row in _rows(table) if row[1] == "handle"] == [
        ("PING", "handle", "fedloop/client.py", 11, "register_event_listener"),
        ("PONG", "handle", "fedloop/client.py", 11, "register_event_listener"),
        ("evaluate", "handle", "fedloop/client.py", 8, "register_message_handler"),
        ("shutdown", "handle", "fedloop/client.py", 8, "register_message_handler"),  # once: STOP is an alias
        ("train", "handle", "fedloop/client.py", 8, "register_message_handler"),
    ]
    train = next(s for m in table["messages"] if m["message_type"] == "train" for s in m["sites"]
                 if s["role"] == "handle")
    assert [(step["step"], step.get("line")) for step in train["resolution"]] == [
        ("element `MessageType.TRAIN` of the for loop over `MessageType`", 7),
        ("`MessageType` imported from `fedloop.messages`", 1),
        ("enum member `MessageType.TRAIN`", 5),
    ]


def test_templates_resolved_from_callers_and_left_as_patterns(run_cli):
    document = _check(run_cli, REFLECT / "templates")
    assert findings_of(document) == [
        ("FCL003", "hooks_after_task", "hookapp/listeners.py", 3),
        ("FCL002", "hook_after_task", "hookapp/task.py", 14),
        ("FCL005", None, "hookapp/task.py", 15),
        ("FCL002", None, "hookapp/task.py", 16),
        ("FCL005", None, "hookapp/task.py", 16),
    ]  # no FCL003 for `hook_on_error`: the pattern `hook_*` may send it
    messages = [f["message"] for f in document["findings"]]
    assert messages[2] == ("the message type of `_run_hooks` (send event) is known only as the pattern `hook_*`: "
                           "`self.stage` is set by the methods of `Task` to something other than one constant")
    assert messages[3] == ("`metric_*` is sent as an event (`_metric`) but no handler is registered for a message "
                           "type it matches")
    # a finding about a pattern carries it, as a finding about a type carries the type
    assert [(f["message_type"], f["pattern"]) for f in document["findings"]] == [
        ("hooks_after_task", None), ("hook_after_task", None), (None, "hook_*"), (None, "metric_*"), (None, "metric_*"),
    ]
    sarif = run_cli(["check", "--format", "sarif"], cwd=REFLECT / "templates").json
    assert [r["properties"] for r in sarif["runs"][0]["results"] if r["ruleId"] == "FCL002"] == [
        {"messageType": "hook_after_task", "mechanism": "event"},
        {"messageTypePattern": "metric_*", "mechanism": "event"},
    ]
    assert (document["summary"]["call_sites"], document["summary"]["resolved_call_sites"]) == (9, 7)
    table = run_cli(["table", "--format", "json"], cwd=REFLECT / "templates").json
    assert [row for row in _rows(table) if row[1] == "send"] == [
        ("hook_after_task", "send", "hookapp/task.py", 14, "_run_hooks"),  # `phase="after_task"`, by keyword
        ("hook_before_task", "send", "hookapp/task.py", 13, "_run_hooks"),
        ("report.done", "send", "hookapp/task.py", 17, "report"),  # `"report.{}".format(kind)`
    ]
    assert [(u["line"], u["pattern"]) for u in table["unresolved"]] == [(15, "hook_*"), (16, "metric_*")]


# --- each construct in detail ---------------------------------------------------------------------


MESH = """
[pack]
name = "mesh"

[mechanisms.rpc]
title = "Remote calls"
description = "Calls."
handler_args = ["payload"]

[[calls]]
name = "register"
role = "handle"
mechanism = "rpc"
message_type = { position = 0 }
handler = { position = 1 }

[[calls]]
name = "call"
role = "send"
mechanism = "rpc"
coroutine = true
message_type = { position = 0 }
"""


def _project(tmp_path, code: dict[str, str], pack: str = ""):
    return write_project(tmp_path, {"pyproject.toml": '[tool.fedcl-lint]\nrules = ["mesh.toml"]\n',
                                    "mesh.toml": MESH + pack, **code})


def _sites(run_cli, root) -> tuple[list[tuple], list[tuple]]:
    document = run_cli(["table", "--format", "json"], cwd=root).json
    resolved = sorted((m["message_type"], s["role"], s["line"]) for m in document["messages"] for s in m["sites"])
    return resolved, [(u["line"], u["reason"]) for u in document["unresolved"]]


def test_loops_over_literals_dicts_constants_and_what_cannot_be_listed(run_cli, tmp_path):
    root = _project(tmp_path, {"app.py": """
        import enum

        HANDLERS = {"a": print, "b": print}
        KINDS = ["k1", "k2"]


        class Bits(enum.Flag):
            X = 1
            Y = 2


        class Node:
            NAMES = ("n1",)

            def setup(self, node, extra):
                for name in ["l1", "l2"]:
                    node.register(name, print)
                for key, fn in HANDLERS.items():
                    node.register(key, fn)
                for kind in KINDS:
                    node.register(kind, print)
                for n in self.NAMES:
                    node.register(n, print)
                for b in Bits:
                    node.register(b.value, print)
                for e in extra:
                    node.register(e, print)
                for pair in HANDLERS.items():
                    node.register(pair, print)
                node.register(kind, print)
    """})
    resolved, unresolved = _sites(run_cli, root)
    assert resolved == [("a", "handle", 20), ("b", "handle", 20), ("k1", "handle", 22), ("k2", "handle", 22),
                        ("l1", "handle", 18), ("l2", "handle", 18), ("n1", "handle", 24)]
    assert unresolved == [
        (26, "local variable `b` of `Node.setup` is bound by a for loop over `Bits`, a Flag, whose members Python "
             "versions iterate differently"),
        (28, "local variable `e` of `Node.setup` is bound by a for loop over `extra`, whose elements are not known "
             "(parameter `extra` of `Node.setup`)"),
        (30, "local variable `pair` of `Node.setup` is a pair of a dict's items"),  # one site, not one per item
        (31, "local variable `kind` of `Node.setup` is used after its for loop"),
    ]


def test_templates_by_format_percent_and_plus_with_defaults_and_star_args(run_cli, tmp_path):
    root = _project(tmp_path, {"app.py": """
        PREFIX = "x"


        async def send(kind, n=1, *rest):
            await call("%s_%d" % (kind, n))
            await call("{0}.{name}".format(PREFIX, name=kind))
            await call(PREFIX + "-" + kind)


        async def go(args):
            await send("a", 2)
            await send("b")
            await send(*args)
    """})
    resolved, unresolved = _sites(run_cli, root)
    assert resolved == [("a_2", "send", 12), ("x-a", "send", 12), ("x-b", "send", 13), ("x.a", "send", 12),
                        ("x.b", "send", 13)]
    assert unresolved == [
        (13, "parameter `n` of `send` is not passed (its default is not followed)"),
        (14, "the argument is passed through `*args` or `**kwargs`"),
        (14, "the argument is passed through `*args` or `**kwargs`"),
        (14, "the argument is passed through `*args` or `**kwargs`"),
    ]
    document = run_cli(["table", "--format", "json"], cwd=root).json
    assert [u["pattern"] for u in document["unresolved"]] == ["b_*", "x.*", "x-*", "*_*"]


def test_a_service_with_an_outside_base_or_an_unknown_class_says_so(run_cli, tmp_path):
    pack = """
        [[services]]
        name = "serve"
        mechanism = "rpc"
        service = { position = 0 }
        exclude = ["_*", "helper"]
    """
    root = _project(tmp_path, {"app.py": """
        from abc import ABC
        from vendor import Base


        class Service(ABC):
            def ping(self, payload): ...
            def helper(self): ...
            def _private(self): ...


        class Extended(Base):
            def pong(self, payload, extra): ...


        def main(node, anything):
            node.serve(Service())
            node.serve(Extended())
            node.serve(anything)
    """}, pack)
    resolved, unresolved = _sites(run_cli, root)
    assert resolved == [("ping", "handle", 7), ("pong", "handle", 13)]
    assert unresolved == [
        (18, "`Extended` has bases outside the analysed tree (`Base`): the methods `serve` binds cannot all be listed"),
        (19, "the class of `anything` is unknown: the methods `serve` binds cannot be listed"),
    ]
    document = run_cli(["check", "--format", "json"], cwd=root).json
    assert [(f["code"], f["line"]) for f in document["findings"] if f["code"] == "FCL006"] == [("FCL006", 13)]
    assert ("requires 2 positional arguments (payload, extra)" in
            next(f["message"] for f in document["findings"] if f["code"] == "FCL006"))


def test_a_proxy_keeps_its_own_members_and_what_the_pack_excludes(run_cli, tmp_path):
    pack = """
        [[proxies]]
        class = "Remote"
        mechanism = "rpc"
        coroutine = true
        exclude = ["shutdown"]
        attribute_message = "get_attr"
    """
    root = _project(tmp_path, {"remote.py": """
        class Remote:
            kind = "remote"

            def __init__(self, peer):
                self.peer = peer

            async def close(self): ...


        def connect(peer) -> Remote:
            return Remote(peer)
    """, "app.py": """
        from remote import connect

        NAME = "status"


        async def go(other):
            remote = connect("p")
            await remote.train(1)
            await remote.close()
            await remote.shutdown()
            await getattr(remote, NAME)()
            await remote.kind
            await remote.peer
            await remote.epoch
            remote.evaluate()
            await other.train(1)
    """}, pack)
    resolved, unresolved = _sites(run_cli, root)
    assert resolved == [("evaluate", "send", 16), ("get_attr", "send", 15), ("status", "send", 12),
                        ("train", "send", 9)]
    document = run_cli(["check", "--format", "json"], cwd=root).json
    assert ("FCL007", "evaluate", "app.py", 16) in findings_of(document)


def test_a_decorated_method_is_its_own_handler(run_cli, tmp_path):
    pack = """
        [[calls]]
        name = "route"
        role = "handle"
        mechanism = "rpc"
        message_type = { position = 0 }
        decorator = true
    """
    root = _project(tmp_path, {"app.py": """
        class Service:
            @route("ok")
            def ok(self, payload): ...

            @route("bad")
            def bad(self): ...


        async def go():
            await call("ok")
            await call("bad")
    """}, pack)
    document = run_cli(["check", "--format", "json"], cwd=root).json
    assert findings_of(document) == [("FCL006", "bad", "app.py", 6)]
    assert "handler `Service.bad` of `bad`" in document["findings"][0]["message"]


def test_a_bound_method_with_a_fixed_calling_convention_names_a_send(run_cli, tmp_path):
    pack = """
        [[services]]
        name = "serve"
        mechanism = "rpc"
        service = { position = 0 }
        handler_args = ["payload"]
    """
    root = _project(tmp_path, {"app.py": """
        class Service:
            def sync_info(self, **info): ...


        async def go(node):
            node.serve(Service())
            await call("sync_info")
    """}, pack)
    document = run_cli(["check", "--format", "json"], cwd=root).json
    assert findings_of(document) == [("FCL006", "sync_info", "app.py", 3)]
    finding = document["findings"][0]
    assert finding["message"] == (
        "handler `Service.sync_info` of `sync_info` is bound over rpc by `serve`, which calls it as "
        "`handler(payload)`, but it accepts 0 positional arguments (none), so the send at app.py:8:11 always fails")
    assert [(r["line"], r["note"]) for r in finding["related"]] == [
        (8, "sent over rpc here (`call`)"), (7, "bound here (`serve`)"),
    ]


@pytest.mark.parametrize(("entry", "message"), [
    ('[[services]]\nname = "bind"\nmechanism = "rpc"\n',
     "`services[0].service`: expected a table like { position = 1, keyword = \"message_type\" }, found nothing"),
    ('[[services]]\nname = "bind"\nmechanism = "rpc"\nservice = { position = 0 }\nhandler_args = "sent"\n',
     "`services[0].handler_args`: expected an array of parameter names, or \"spread\", found 'sent'"),
    ('[[services]]\nname = "bind"\nmechanism = "gossip"\nservice = { position = 0 }\n',
     "`services[0].mechanism`: expected 'rpc' or 'event', found 'gossip'"),
    ('[[services]]\nname = "bind"\nmechanism = "rpc"\nservice = { position = 0 }\nexclude = ["[a-z]"]\n',
     "`services[0].exclude`: expected an array of method-name globs, like [\"_*\", \"close\"] (letters, digits, "
     "`_`, and the wildcards `*` and `?`: no `[...]`), found ['[a-z]']"),
    ('[[services]]\nname = "node.bind"\nmechanism = "rpc"\nservice = { position = 0 }\n',
     "`services[0].name`: expected a function or method name, found 'node.bind'"),
    ('[[proxies]]\nmechanism = "rpc"\n', "`proxies[0].class`: expected a class name"),
    ('[[proxies]]\nclass = "P"\nmechanism = "rpc"\nattribute_message = 3\n',
     "`proxies[0].attribute_message`: expected a message type (a non-empty string), found 3"),
    ('[[proxies]]\nclass = "P"\nmechanism = "rpc"\nlocal = ["x"]\n', "unknown key `proxies[0].local`"),
    ('[[calls]]\nname = "x"\nrole = "send"\nmechanism = "rpc"\nmessage_type = { position = 0 }\ndecorator = true\n',
     "`calls[2].decorator`: expected `decorator = true` only on a `handle` call without a `handler` slot"),
    ('[[calls]]\nname = "x"\nrole = "handle"\nmechanism = "rpc"\nmessage_type = { position = 0 }\n'
     'decorator = true\narguments = { position = 1 }\n',
     "`calls[2].arguments`: expected `arguments` on a call with a handler slot or a send"),
    ('[[calls]]\nname = "x"\nrole = "send"\nmechanism = "rpc"\nmessage_type = { position = 0 }\n'
     'arguments = { position = 1, exclude = [3] }\n',
     "`calls[2].arguments.exclude`: expected an array of parameter names, found [3]"),
])
def test_a_bad_reflection_entry_is_a_located_error(run_cli, tmp_path, entry, message):
    assert f"Error: bad.toml: {message}" in pack_error(run_cli, tmp_path, MESH + entry)


# --- the example of docs/rule-packs.md ------------------------------------------------------------


def test_the_documented_reflection_pack_runs_on_the_services_fixture(run_cli, tmp_path):
    example = doc_block("rule-packs.md", "toml", "[[services]]", 'name = "broadcast"')
    root = tmp_path / "services"
    shutil.copytree(REFLECT / "services", root)
    (root / "mesh.toml").write_text(example)
    document = _check(run_cli, root)
    assert findings_of(document) == [
        ("FCL006", "sync_info", "fedapp/learner.py", 15),
        ("FCL002", "evalaute", "fedapp/server.py", 12),
    ]


def test_a_file_that_only_calls_a_proxy_factory_is_analysed(run_cli, tmp_path):
    """The prefilter parses files that mention a name of the packs; a function that returns a proxy
    makes the files that call it matter too (a fixpoint, as for wrappers)."""
    pack = """
        [[proxies]]
        class = "Remote"
        mechanism = "rpc"
    """
    root = _project(tmp_path, {"rpc.py": """
        class Remote:
            pass


        class Node:
            def connect(self, peer) -> Remote:
                return Remote()
    """, "app.py": """
        from rpc import Node


        def go(node: Node):
            node.connect("p").train()
    """}, pack)
    resolved, _ = _sites(run_cli, root)
    assert resolved == [("train", "send", 6)]


def test_reflection_facts_come_back_from_the_cache(run_cli, tmp_path, monkeypatch):
    root = tmp_path / "decorators"
    shutil.copytree(REFLECT / "decorators", root)
    monkeypatch.setenv("FEDCL_LINT_CACHE_DIR", str(tmp_path / "cache"))
    cold = run_cli(["check", "--format", "json"], cwd=root).json
    (root / "trainer" / "server.py").write_text((root / "trainer" / "server.py").read_text() + "\n")  # no replay
    warm = run_cli(["check", "--format", "json"], cwd=root).json
    assert findings_of(warm) == findings_of(cold) == [
        ("FCL003", "evalute", "trainer/client.py", 9),
        ("FCL006", "stop", "trainer/client.py", 16),
        ("FCL002", "evaluate", "trainer/server.py", 6),
    ]


def test_what_extraction_reads_of_reflection_is_in_the_cache_key(tmp_path):
    from fedcl_lint.settings.rulepack import load_packs

    def fingerprint(extra: str) -> str:
        path = tmp_path / f"p{abs(hash(extra))}.toml"
        path.write_text(MESH + extra)
        return load_packs([str(path)]).extraction_fingerprint

    plain = fingerprint("")
    decorated = fingerprint('[[calls]]\nname = "route"\nrole = "handle"\nmechanism = "rpc"\n'
                            'message_type = { position = 0 }\ndecorator = true\n')
    awaited = fingerprint('[[proxies]]\nclass = "P"\nmechanism = "rpc"\nattribute_message = "get"\n')
    proxied = fingerprint('[[proxies]]\nclass = "P"\nmechanism = "rpc"\n')
    assert len({plain, decorated, awaited}) == 3
    assert proxied == plain  # proxies are linked, not extracted: only an awaited attribute is read


@pytest.mark.parametrize(("fixture", "name", "old", "new"), [
    ("services", "fedapp/client.py", "node.bind(Learner(data=None))", "node.bind(Learner(data=1))"),
    ("services", "fedapp/learner.py", "async def fit(", "async def fit_model("),
    ("loops", "fedloop/client.py", "for t in MessageType:", "for t in (MessageType.TRAIN,):"),
    ("templates", "hookapp/task.py", 'self._run_hooks("before_task")', 'self._run_hooks("before_round")'),
])
def test_an_editor_session_agrees_with_a_full_analysis(tmp_path, fixture, name, old, new):
    """A bound method's site is in another module than its binding: an edit links everything again."""
    from fedcl_lint.settings.config import load_config
    from fedcl_lint.workflow.pipeline import analyze
    from fedcl_lint.workflow.session import Session

    def view(analysis) -> tuple:
        return (sorted((str(s.location), s.api, str(s.message_type)) for s in analysis.table.sites),
                sorted((f.code, str(f.location), f.message) for f in analysis.findings))

    root = tmp_path / fixture
    shutil.copytree(REFLECT / fixture, root)
    session = Session(root)
    session.analyze()
    path = root / name
    edited = path.read_text(encoding="utf-8").replace(old, new, 1)
    session.set_text(path, edited)
    during = view(session.analyze())
    path.write_text(edited, encoding="utf-8")
    assert during == view(analyze(["."], load_config(["."], root), cwd=root))


# --- generated gRPC code: a servicer binding itself, stubs made through a module, methods as attributes ----

_GRPC_PACK = """\
[pack]
version = 2
name = "grpc"

[channels.grpc]
title = "gRPC"
description = "stub.Method(request) calls the servicer's Method(request, context)."
handler_args = ["request", "context"]
replies = true

[[services]]
name = "add_AggServicer_to_server"
serves = ["grpc"]
service = { position = 0, keyword = "servicer" }
exclude = ["_*", "serve"]

[[proxies]]
class = "AggStub"
channel = "grpc"
remote_attributes = true
"""

_GRPC_FILES = {
    "pyproject.toml": '[tool.fedcl-lint]\nrules = ["grpc.toml"]\n',
    "pkg/__init__.py": "",
    "pkg/svc_pb2_grpc.py": (  # as protoc generates it: the stub's methods are attributes
        "class AggStub(object):\n"
        "    def __init__(self, channel):\n"
        "        self.Ping = channel.unary_unary('/Agg/Ping')\n"
        "        self.GetTasks = channel.unary_unary('/Agg/GetTasks')\n\n\n"
        "class AggServicer(object):\n"
        "    def Ping(self, request, context):\n"
        "        raise NotImplementedError()\n\n\n"
        "def add_AggServicer_to_server(servicer, server):\n"
        "    pass\n"
    ),
    "pkg/server.py": (
        "from pkg import svc_pb2_grpc\n\n\n"
        "class Server(svc_pb2_grpc.AggServicer):\n"
        "    def Ping(self, request, context):\n"
        "        return 1\n\n"
        "    def GetTasks(self, request, context):\n"
        "        return 2\n\n"
        "    def serve(self, server):\n"
        "        svc_pb2_grpc.add_AggServicer_to_server(self, server)\n"  # `self`: a Server
    ),
    "pkg/client.py": (
        "from pkg import svc_pb2_grpc\n"
        "import vendor_pb2_grpc as vendor\n\n\n"
        "class Client:\n"
        "    def __init__(self, channel):\n"
        "        self.stub = svc_pb2_grpc.AggStub(channel)\n"  # a class reached through its module
        "        self.other = vendor.AggStub(channel)\n"  # from outside the project, the same way
        "\n"
        "    def ping(self):\n"
        "        return self.stub.Ping(1)\n\n"
        "    def tasks(self):\n"
        "        return self.other.GetTask(1)\n"
    ),
}


def test_generated_grpc_stubs_and_a_servicer_that_binds_itself(run_cli, tmp_path):
    root = write_project(tmp_path / "project", {**_GRPC_FILES, "grpc.toml": _GRPC_PACK})
    document = run_cli(["check", "--format", "json"], cwd=root).json

    assert [(f["code"], f["message_type"], f["path"], f["line"]) for f in document["findings"]] == [
        ("FCL002", "GetTask", "pkg/client.py", 14),  # a typo: the stub has no such method
        ("FCL003", "GetTasks", "pkg/server.py", 8),  # nothing calls it
    ]
    assert (document["summary"]["call_sites"], document["summary"]["resolved_call_sites"]) == (4, 4)

    # without `remote_attributes` the stub's attributes are its own: `stub.Ping(1)` sends nothing
    write_project(root, {"grpc.toml": _GRPC_PACK.replace("remote_attributes = true\n", "")})
    document = run_cli(["check", "--format", "json"], cwd=root).json
    assert [(f["code"], f["message_type"]) for f in document["findings"]] == [
        ("FCL002", "GetTask"), ("FCL003", "Ping"), ("FCL003", "GetTasks"),
    ]


def test_a_stub_of_generated_code_the_settings_exclude_is_still_a_proxy(run_cli, tmp_path):
    root = write_project(tmp_path / "project", {
        **_GRPC_FILES, "grpc.toml": _GRPC_PACK,
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["grpc.toml"]\nexclude = ["*_pb2_grpc.py"]\n',
    })
    document = run_cli(["check", "--format", "json"], cwd=root).json

    # `from pkg import svc_pb2_grpc` names a module outside the analysed tree: `svc_pb2_grpc.AggStub`
    # is a class of it, and `AggStub` matches it by name (`self.stub.Ping(1)` is handled). The
    # servicer's base is outside too: the methods it binds cannot all be listed, so any call sent on
    # its channel may be handled, and `GetTask` is not reported unhandled
    assert [(f["code"], f["message_type"], f["path"], f["line"]) for f in document["findings"]] == [
        ("FCL003", "GetTasks", "pkg/server.py", 8),
        ("FCL005", None, "pkg/server.py", 12),
    ]
    assert document["findings"][1]["message"].endswith(
        "`Server` has bases outside the analysed tree (`svc_pb2_grpc.AggServicer`): the methods "
        "`add_AggServicer_to_server` binds cannot all be listed")
    table = run_cli(["table", "--format", "json"], cwd=root).json
    assert sorted((m["message_type"], s["role"]) for m in table["messages"] for s in m["sites"]) == [
        ("GetTask", "send"), ("GetTasks", "handle"), ("Ping", "handle"), ("Ping", "send"),
    ]


def test_a_service_whose_methods_cannot_be_listed_may_handle_any_send_on_its_channels(run_cli, tmp_path):
    root = write_project(tmp_path / "project", {
        **_GRPC_FILES, "grpc.toml": _GRPC_PACK,
        "pkg/server.py": (
            "from pkg import svc_pb2_grpc\n\n\n"
            "class GrpcServer:\n"
            "    def __init__(self, servicer, server):\n"  # bound through a wrapper: its class is unknown
            "        svc_pb2_grpc.add_AggServicer_to_server(servicer, server)\n"
        ),
    })
    document = run_cli(["check", "--format", "json"], cwd=root).json

    assert [(f["code"], f["path"], f["line"], f["message"]) for f in document["findings"]] == [
        ("FCL005", "pkg/server.py", 6, "cannot resolve the message type of `add_AggServicer_to_server` (handle grpc): "
                                       "the class of `servicer` is unknown: the methods `add_AggServicer_to_server` "
                                       "binds cannot be listed"),
    ]  # `Ping` and `GetTask` are sent on `grpc`, where the servicer may handle them: no FCL002
