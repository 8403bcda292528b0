"""Wrappers, payloads, dispatchers, handler signatures and unawaited sends, one behaviour per test."""

from __future__ import annotations

from conftest import findings_of, pack_error, write_project


def _table(run_cli, tmp_path, files, *args):
    write_project(tmp_path, files)
    return run_cli(["table", "--format", "json", *args], cwd=tmp_path).json


def _sites(document):
    return sorted(
        (m["message_type"], s["role"], s["mechanism"], s["path"], s["line"])
        for m in document["messages"]
        for s in m["sites"]
    )


def test_wrapper_of_a_wrapper_by_keyword_and_through_a_local_variable(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "wrappers.py": """
            async def send_to(cm, target, message_type, data):
                kind = message_type
                return await cm.send_control_message(target, kind, data)

            async def notify_all(cm, targets, *, message_type):
                for target in targets:
                    await send_to(cm, target, message_type=message_type, data={})
        """,
        "app.py": """
            from wrappers import notify_all

            async def go(cm):
                await notify_all(cm, ["a"], message_type="READY")
        """,
    })
    assert _sites(document) == [("READY", "send", "event", "app.py", 5)]
    [site] = document["messages"][0]["sites"]
    assert site["via"] == "notify_all -> send_to -> send_control_message"
    assert document["unresolved"] == []


def test_methods_resolve_through_self_and_by_a_unique_name(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "conn.py": """
            class Connection:
                async def route(self, target, message_type, data):
                    return await self.cm.send_business_message(target, message_type, data)

                async def hello(self):
                    await self.route("server", "HELLO", {})
        """,
        "app.py": """
            async def go(connection):
                await connection.route("server", "BYE", {})
        """,
    })
    assert _sites(document) == [("BYE", "send", "rpc", "app.py", 3), ("HELLO", "send", "rpc", "conn.py", 7)]


def test_a_method_name_shared_with_a_non_wrapper_is_ambiguous_and_skipped(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "conn.py": """
            class Connection:
                async def route(self, target, message_type, data):
                    return await self.cm.send_business_message(target, message_type, data)

            class Router:
                def route(self, target, path, data):
                    return path

                def local(self):
                    return self.route("x", "NOT_A_MESSAGE", {})
        """,
        "app.py": """
            async def go(connection):
                await connection.route("server", "MAYBE", {})
        """,
    })
    # `Connection.route` is a wrapper, but `connection.route(...)` could be `Router.route`: not a site
    assert [(w["function"], w["role"], w["mechanism"]) for w in document["wrappers"]] == [
        ("Connection.route", "send", "rpc"),
    ]
    assert _sites(document) == []


def test_class_method_called_through_the_class_shifts_the_arguments(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "app.py": """
            class Conn:
                async def route(self, target, message_type, data):
                    await self.cm.send_business_message(target, message_type, data)

            async def go(conn):
                await Conn.route(conn, "server", "VIA_CLASS", {})
        """,
    })
    assert _sites(document) == [("VIA_CLASS", "send", "rpc", "app.py", 7)]


def test_payload_dicts_are_rpc_sends_when_they_reach_the_transport(run_cli, tmp_path):
    """The built-in pack's dict envelope: a send where it reaches `transport.send`, built there,
    in a helper or in a wrapper whose parameter is the type; a dict never sent is no send."""
    document = _table(run_cli, tmp_path, {
        "app.py": """
            async def register(transport, me):
                return await transport.send(me, "server", {"message_type": "registration", "data": {}})

            def build_heartbeat():
                return {"message_type": "heartbeat"}

            async def heartbeat(transport, me):
                await transport.send(me, "server", build_heartbeat())

            async def system(handler):
                wrapped_data = {"message_type": "SYSTEM", "data": None}
                return await handler("system", wrapped_data)

            async def wrap(transport, message_type, data):
                payload = {"message_type": message_type, "data": data}
                return await transport.send("me", "server", payload)

            async def use(transport):
                return await wrap(transport, "WRAPPED", 1)

            def log(logger):
                logger.info({"message_type": "metrics", "value": 1})
        """,
    })
    assert _sites(document) == [
        ("WRAPPED", "send", "rpc", "app.py", 20),
        ("heartbeat", "send", "rpc", "app.py", 9),
        ("registration", "send", "rpc", "app.py", 3),
    ]
    heartbeat = next(m for m in document["messages"] if m["message_type"] == "heartbeat")
    assert heartbeat["sites"][0]["built_at"] == {"path": "app.py", "line": 6, "column": 12}
    assert [w["function"] for w in document["wrappers"]] == ["wrap"]


def test_a_pack_can_narrow_payloads_to_dicts_with_more_keys(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "narrow.toml": """
            [pack]
            name = "narrow"
            [[calls]]
            name = "send_business_message"
            role = "send"
            mechanism = "rpc"
            message_type = { position = 1 }
            [[payloads]]
            key = "message_type"
            mechanism = "rpc"
            requires = ["data"]
        """,
        "app.py": """
            ENVELOPE = {"message_type": "SENT", "data": 1}
            RESPONSE = {"message_type": "ack"}
        """,
    }, "--rules", "narrow.toml")
    assert _sites(document) == [("SENT", "send", "rpc", "app.py", 2)]


def test_dispatcher_comparisons_are_rpc_handlers(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "node.py": """
            class Node:
                def __init__(self, transport):
                    transport.register_request_handler("me", self.handle)

                async def handle(self, source, data):
                    kind = data.get("message_type")
                    if kind == "a":
                        return 1
                    if "b" == kind:
                        return 2
                    if kind in ("c", "d"):
                        return 3
                    if data["message_type"] == "e":
                        return 4
                    match kind:
                        case "f" | "g":
                            return 5
                    if kind in self.message_handlers:
                        return 6
                    if source == "h":
                        return 7

                async def not_registered(self, source, data):
                    return data.get("message_type") == "z"
        """,
    })
    assert [(m, role, mech, line) for m, role, mech, _, line in _sites(document)] == [
        ("a", "handle", "rpc", 8), ("b", "handle", "rpc", 10), ("c", "handle", "rpc", 12),
        ("d", "handle", "rpc", 12), ("e", "handle", "rpc", 14), ("f", "handle", "rpc", 17),
        ("g", "handle", "rpc", 17),
    ]


def test_handler_signatures_of_every_form(run_cli, tmp_path):
    write_project(tmp_path, {
        "handlers.py": """
            from functools import partial

            def on_event(data):
                pass

            def on_rpc(source, data):
                pass

            class Client:
                def setup(self, cm, transport):
                    cm.register_message_handler("R1", on_event)
                    cm.register_message_handler("R2", on_rpc)
                    cm.register_message_handler("R3", self.on_rpc)
                    cm.register_message_handler("R4", lambda data: None)
                    cm.register_message_handler("R5", partial(on_rpc, "fixed"))
                    cm.register_message_handler("R6", Client.helper)
                    transport.register_event_listener("me", "E1", self.on_event)
                    transport.register_event_listener("me", "E2", self.on_rpc)
                    transport.register_event_listener("me", "E3", self.needs_flag)
                    transport.register_event_listener("me", "E4", self.flexible)

                async def on_rpc(self, source, data):
                    pass

                async def on_event(self, data):
                    pass

                async def needs_flag(self, data, *, flag):
                    pass

                async def flexible(self, *args):
                    pass

                @staticmethod
                def helper(source, data):
                    pass
        """,
        "senders.py": """
            async def go(cm):
                await cm.send_business_message("c", "R1", {})
                await cm.send_business_message("c", "R2", {})
                await cm.send_business_message("c", "R3", {})
                await cm.send_business_message("c", "R4", {})
                await cm.send_business_message("c", "R5", {})
                await cm.send_business_message("c", "R6", {})
                await cm.send_control_message("c", "E1", {})
                await cm.send_control_message("c", "E2", {})
                await cm.send_control_message("c", "E3", {})
                await cm.send_control_message("c", "E4", {})
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert findings_of(result.json) == [
        ("FCL006", "R1", "handlers.py", 12),
        ("FCL006", "R4", "handlers.py", 15),
        ("FCL006", "R5", "handlers.py", 16),
        ("FCL006", "E2", "handlers.py", 19),
        ("FCL006", "E3", "handlers.py", 20),
    ]
    assert [f["message"] for f in result.json["findings"]] == [
        "handler `on_event` of `R1` is registered over rpc, which calls it as `handler(source, data)`, "
        "but it accepts 1 positional argument (data)",
        "handler `lambda data` of `R4` is registered over rpc, which calls it as `handler(source, data)`, "
        "but it accepts 1 positional argument (data)",
        "handler `partial(on_rpc, ...)` of `R5` is registered over rpc, which calls it as `handler(source, data)`, "
        "but it accepts 1 positional argument (data)",
        "handler `self.on_rpc` of `E2` is registered as an event, which calls it as `handler(data)`, "
        "but it requires 2 positional arguments (source, data)",
        "handler `self.needs_flag` of `E3` is registered as an event, which calls it as `handler(data)`, "
        "but it requires the keyword argument(s) `flag`",
    ]
    assert result.json["findings"][0]["related"][0]["line"] == 4


def test_only_a_bare_coroutine_send_is_unawaited(run_cli, tmp_path):
    write_project(tmp_path, {
        "app.py": """
            import asyncio

            async def notify(cm, message_type):
                await cm.send_control_message("c", message_type, {})

            async def go(cm, tasks):
                cm.send_business_message("c", "BARE", {})
                await cm.send_business_message("c", "AWAITED", {})
                asyncio.create_task(cm.send_business_message("c", "TASK", {}))
                await asyncio.gather(cm.send_business_message("c", "GATHERED", {}))
                tasks.append(cm.send_business_message("c", "LISTED", {}))
                notify(cm, "BARE_WRAPPER")
                cm.register_message_handler("X", go)
                return cm.send_business_message("c", "RETURNED", {})

            def forward(cm, message_type):
                cm.send_business_message("c", message_type, {})
        """,
    })
    result = run_cli(["check", "--format", "json", "--rules", "fedcl"], cwd=tmp_path)

    unawaited = [(f["message_type"], f["line"]) for f in result.json["findings"] if f["code"] == "FCL007"]
    assert unawaited == [("BARE", 8), ("BARE_WRAPPER", 13), (None, 18)]


def test_a_dispatcher_registered_twice_counts_its_cases_once(run_cli, tmp_path):
    write_project(tmp_path, {
        "node.py": """
            class Node:
                def __init__(self, transport):
                    transport.register_request_handler("a", self.handle)
                    transport.register_request_handler("b", self.handle)

                async def handle(self, source, data):
                    if data.get("message_type") == "ping":
                        return "pong"

            async def ping(transport):
                await transport.send("me", "a", {"message_type": "ping"})
        """,
    })
    result = run_cli(["check", "--format", "json"], cwd=tmp_path)

    assert result.json["findings"] == []


def test_same_named_wrappers_of_two_folders_keep_their_own_mechanism(run_cli, tmp_path):
    """`a/app.py` and `b/app.py` are both module `app`; each `send` wraps its own API."""
    for folder, api, message in (("a", "send_business_message", "X_A"), ("b", "send_control_message", "X_B")):
        write_project(tmp_path / folder, {"app.py": f"""
            async def send(cm, kind):
                await cm.{api}("peer", kind, {{}})


            async def go(cm):
                await send(cm, "{message}")
            """})
    result = run_cli(["check", "a", "b", "--format", "json", "--no-cache"], cwd=tmp_path)

    assert [(f["code"], f["message_type"], f["mechanism"], f["path"]) for f in result.json["findings"]] == [
        ("FCL002", "X_A", "rpc", "a/app.py"), ("FCL002", "X_B", "event", "b/app.py"),
    ]


def test_a_decorator_runs_in_the_enclosing_scope(run_cli, tmp_path):
    """`kind` in the decorator is `subscribe`'s parameter, not the decorated function's: so
    `subscribe` is the wrapper, and the call that passes "PING" to it is a handler site."""
    write_project(tmp_path, {
        "bus.py": """
            def subscribe(transport, node_id, kind):
                @transport.register_event_listener(node_id, kind)
                def on_event(kind, data):
                    return data

                return on_event
            """,
        "app.py": """
            from bus import subscribe


            def setup(transport):
                subscribe(transport, "n1", "PING")


            async def ping(comm):
                await comm.send_control_message("n1", "PING", {})
            """,
    })
    result = run_cli(["check", ".", "--format", "json", "--no-cache"], cwd=tmp_path)
    table = run_cli(["table", ".", "--format", "json", "--no-cache"], cwd=tmp_path).json

    assert (result.exit_code, findings_of(result.json)) == (0, [])
    assert [(w["function"], w["role"], w["mechanism"]) for w in table["wrappers"]] == [("subscribe", "handle", "event")]


def test_an_unbound_method_handler_takes_the_instance_first(run_cli, tmp_path):
    """`Client.on_ok` is called as `handler(source, data)`: `self` gets the source, so two
    parameters fit rpc; `Client.on_bad` needs three positional arguments and gets two."""
    write_project(tmp_path, {"app.py": """
        class Client:
            def on_ok(self, data):
                return data

            def on_bad(self, source, data):
                return data


        def setup(comm):
            comm.register_message_handler("OK", Client.on_ok)
            comm.register_message_handler("BAD", Client.on_bad)


        async def go(comm):
            await comm.send_business_message("peer", "OK", {})
            await comm.send_business_message("peer", "BAD", {})
        """})
    result = run_cli(["check", ".", "--format", "json", "--no-cache"], cwd=tmp_path)

    assert findings_of(result.json) == [("FCL006", "BAD", "app.py", 12)]
    assert result.json["findings"][0]["message"].endswith(
        "but it requires 3 positional arguments (self, source, data)"
    )


def test_a_wrapper_named_like_a_builtin_is_still_a_wrapper_where_the_file_binds_that_name(run_cli, tmp_path):
    """Calls of Python's own functions (`len`, `format`...) are dropped before linking, but only
    where the name is the builtin: imported, defined or star-imported, it is the project's."""
    document = _table(run_cli, tmp_path, {
        "comm.py": """
            async def format(cm, message_type):
                return await cm.send_business_message("server", message_type, {})
        """,
        "imported.py": """
            from comm import format

            async def go(cm):
                await format(cm, "VIA_IMPORT")
        """,
        "starred.py": """
            from comm import *

            async def go(cm):
                await format(cm, "VIA_STAR")
        """,
        "builtin.py": """
            async def go(cm):
                return format(cm, "NOT_A_SEND")
        """,
    })
    assert _sites(document) == [
        ("VIA_IMPORT", "send", "rpc", "imported.py", 5),
        ("VIA_STAR", "send", "rpc", "starred.py", 5),
    ]


def test_calls_of_builtins_are_not_kept_as_facts():
    from fedcl_lint.analysis.extract import extract
    from fedcl_lint.settings.rulepack import load_packs

    source = b"def f(items, len=len):\n    print(len(items), sorted(items))\n    return max(items)\n"
    facts = extract(source, load_packs(["fedcl"]))
    assert [call.name for call in facts.calls] == ["len"]  # a parameter here: the caller's, kept


def test_a_wrapper_that_passes_its_kwargs_on_takes_the_type_by_keyword(run_cli, tmp_path):
    document = _table(run_cli, tmp_path, {
        "client.py": """
            class Client:
                def __init__(self, comm):
                    self.comm = comm

                async def send_before_shutdown(self, **kwargs):
                    return await self.comm.send_business_message(**kwargs)

                def listen(self, **kwargs):
                    self.comm.register_message_handler(**kwargs)

                async def send_options(self, options):
                    return await self.comm.send_business_message(**options)  # a dict: its keys are unknown

                async def send_any(self, *args, **kwargs):
                    return await self.comm.send_business_message(*args, **kwargs)  # or through `*args`

                async def report(self):
                    await self.send_before_shutdown(target="server", message_type="job_failed", data={})

                def setup(self):
                    self.listen(message_type="job_failed", handler=self.on_failed)

                async def on_failed(self, source, data): ...
        """,
    })
    # `send_business_message(target, message_type, data)` and `register_message_handler(message_type,
    # handler)`, passed on through `**kwargs`: each caller's keyword is the type (and the handler)
    assert _sites(document) == [
        ("job_failed", "handle", "rpc", "client.py", 22),
        ("job_failed", "send", "rpc", "client.py", 19),
    ]
    handle = next(s for s in document["messages"][0]["sites"] if s["role"] == "handle")
    assert handle["handler"] == "self.on_failed"
    assert [(u["line"], u["reason"]) for u in document["unresolved"]] == [
        (13, "the message type is passed through `**kwargs`"),
        (16, "the message type is passed through `*args`"),
    ]


def test_a_dispatcher_on_an_attribute_of_the_payload(run_cli, tmp_path):
    write_project(tmp_path, {
        "tasks.toml": """
            [pack]
            version = 2
            name = "tasks"

            [channels.task]
            title = "Tasks"
            handler_args = ["request"]

            [[envelopes]]
            class = "TaskRequest"
            attribute = "type"

            [[calls]]
            name = "put_request"
            role = "send"
            channel = "task"
            message = { position = 0, keyword = "request" }

            [[dispatchers]]
            registration = "listen_to_task_stream"
            handler = { position = 0, keyword = "callback" }
            payload_argument = 0
            attribute = "type"
            serves = ["task"]
        """,
        "pyproject.toml": '[tool.fedcl-lint]\nrules = ["tasks.toml"]\n',
        "app.py": """
            from enum import Enum


            class TaskType(Enum):
                TRAIN = 1
                VALIDATE = 2
                INFER = 3


            class TaskRequest:
                type = None


            def send(queue, kind):
                request = TaskRequest()
                request.type = kind
                queue.put_request(request)


            def run(queue):
                send(queue, TaskType.TRAIN)
                send(queue, TaskType.INFER)


            class Client:
                def start(self, stream):
                    stream.listen_to_task_stream(callback=self._on_task)

                def _on_task(self, request):
                    kind = request.type
                    if kind == TaskType.TRAIN:
                        pass
                    elif request.type in (TaskType.VALIDATE,):
                        pass
        """,
    })
    document = run_cli(["check", "--format", "json"], cwd=tmp_path).json

    assert [(f["code"], f["message_type_name"], f["line"]) for f in document["findings"]] == [
        ("FCL002", "TaskType.INFER", 23),  # sent through `send`, compared nowhere
        ("FCL003", "TaskType.VALIDATE", 34),  # compared, never sent
    ]


def test_a_dispatcher_takes_a_key_or_an_attribute(run_cli, tmp_path):
    head = '[pack]\nversion = 2\nname = "p"\n[channels.c]\ntitle = "c"\n' \
           '[[calls]]\nname = "send"\nrole = "send"\nchannel = "c"\nmessage_type = { position = 0 }\n' \
           '[[dispatchers]]\nregistration = "listen"\nhandler = { position = 0 }\npayload_argument = 0\nserves = ["c"]\n'
    for extra, found in (('', "nothing"), ('key = "type"\nattribute = "type"\n', "'type'")):
        assert pack_error(run_cli, tmp_path, head + extra) == (
            "Error: bad.toml: `dispatchers[0].key`: expected `key` (what `payload[key]` reads) or `attribute` "
            f"(`payload.name`): one of them, found {found}\n")
