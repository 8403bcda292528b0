"""Issue 3 end to end: a realistic mini framework (wrappers, payloads, dispatchers, handler
signatures, unawaited sends, a protocol policy) and a mutation test of every site."""

from __future__ import annotations

import shutil

import libcst as cst
import pytest

from conftest import FIXTURES, findings_of
from fedcl_lint.workflow.pipeline import analyze

FRAMEWORK = FIXTURES / "framework"

SEND_CONTROL = "CommunicationManagerBase.send_control_message -> push_event"
SEND_BUSINESS = "CommunicationManagerBase.send_business_message -> send"  # a payload dict sent by the transport
ROUTE = f"ConnectionManager.route_message -> {SEND_BUSINESS}"
DISPATCHER = "CommunicationManagerBase.handle_rpc_request"

TABLE = [
    # (message type, role, mechanism, path below fedframe/, line, api, via)
    ("CLIENT_REGISTERED", "handle", "event", "federation/client.py", 19, "register_event_listener", None),
    ("CLIENT_REGISTERED", "send", "event", "federation/server.py", 16, "broadcast_message",
     f"ConnectionManager.broadcast_message -> {SEND_CONTROL}"),
    ("ROUND_STARTED", "handle", "rpc", "federation/client.py", 18, "register_message_handler", None),
    ("ROUND_STARTED", "send", "event", "federation/server.py", 19, "broadcast_message",
     f"ConnectionManager.broadcast_message -> {SEND_CONTROL}"),
    ("SHUTDOWN", "handle", "rpc", "federation/client.py", 14, "register_message_handler", None),
    ("SHUTDOWN", "send", "rpc", "federation/server.py", 28, "broadcast_to_clients",
     f"ConnectionManager.broadcast_to_clients -> ConnectionManager.send_to_client -> {ROUTE}"),
    ("STATUS", "send", "rpc", "federation/client.py", 24, "send_business_message", SEND_BUSINESS),
    ("STATUS", "handle", "rpc", "federation/server.py", 12, "register_message_handler", None),
    ("business_request", "handle", "rpc", "federation/client.py", 17, "register_message_handler", None),
    ("business_request", "send", "rpc", "federation/server.py", 23, "route_message", ROUTE),
    ("evaluate", "handle", "rpc", "federation/client.py", 16, "register_message_handler", None),
    ("evaluate", "send", "rpc", "federation/server.py", 22, "send_to_client", f"ConnectionManager.send_to_client -> {ROUTE}"),
    ("heartbeat", "handle", "rpc", "comm/base.py", 36, DISPATCHER, f"{DISPATCHER} (dispatcher) -> register_request_handler"),
    ("heartbeat", "send", "rpc", "comm/client_comm.py", 13, "send", None),  # the dict built on line 12
    ("registration", "handle", "rpc", "comm/base.py", 33, DISPATCHER, f"{DISPATCHER} (dispatcher) -> register_request_handler"),
    ("registration", "send", "rpc", "comm/client_comm.py", 9, "send", None),
    ("train", "handle", "rpc", "federation/client.py", 15, "register_message_handler", None),
    ("train", "send", "rpc", "federation/server.py", 21, "send_to_client", f"ConnectionManager.send_to_client -> {ROUTE}"),
]


def test_table_lists_every_message_type_with_its_true_mechanism_and_every_site(run_cli):
    document = run_cli(["table", "--format", "json"], cwd=FRAMEWORK).json

    rows = [
        (m["message_type"], s["role"], s["mechanism"], s["path"].removeprefix("fedframe/"), s["line"], s["api"], s["via"])
        for m in document["messages"]
        for s in m["sites"]
    ]
    assert rows == TABLE
    assert document["unresolved"] == []
    assert [(w["function"], w["role"], w["mechanism"]) for w in document["wrappers"]] == [
        ("CommunicationManagerBase.send_business_message", "send", "rpc"),
        ("CommunicationManagerBase.send_control_message", "send", "event"),
        ("ConnectionManager.broadcast_message", "send", "event"),
        ("ConnectionManager.broadcast_to_clients", "send", "rpc"),
        ("ConnectionManager.route_message", "send", "rpc"),
        ("ConnectionManager.send_to_client", "send", "rpc"),
    ]


def test_check_reports_exactly_the_planted_bugs(run_cli):
    result = run_cli(["check", "--format", "json"], cwd=FRAMEWORK)

    assert result.exit_code == 1
    assert findings_of(result.json) == [
        ("FCL006", "CLIENT_REGISTERED", "fedframe/federation/client.py", 19),
        ("FCL008", "STATUS", "fedframe/federation/client.py", 24),
        ("FCL008", "STATUS", "fedframe/federation/server.py", 12),
        ("FCL001", "ROUND_STARTED", "fedframe/federation/server.py", 19),
        ("FCL007", "evaluate", "fedframe/federation/server.py", 22),
    ]
    messages = {(f["code"], f["line"]): f["message"] for f in result.json["findings"]}
    assert messages[("FCL006", 19)] == (
        "handler `self._on_registered` of `CLIENT_REGISTERED` is registered as an event, which calls it as "
        "`handler(data)`, but it requires 2 positional arguments (source, data)"
    )
    assert messages[("FCL007", 22)].startswith("`send_to_client(...)` is not awaited")
    assert messages[("FCL008", 12)] == (
        "the protocol policy declares `STATUS` as event, but this site handles it over rpc (`register_message_handler`)"
    )


# --- mutation test: flip the mechanism of every send and handle call -----------------------

FLIPS = {
    "send_business_message": "send_control_message",
    "send_control_message": "send_business_message",
    "register_message_handler": "register_event_listener",
    "register_event_listener": "register_message_handler",
    "push_event": "send_business_message",
}


class _Flip(cst.CSTTransformer):
    """Flip the mechanism of the `index`-th rule-pack call, with the arguments each side needs."""

    def __init__(self, index: int):
        self.index = index
        self.seen = 0
        self.flipped: str | None = None

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        func = updated.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if name not in FLIPS:
            return updated
        self.seen += 1
        if self.seen - 1 != self.index:
            return updated
        self.flipped = name
        new_func = func.with_changes(attr=cst.Name(FLIPS[name])) if isinstance(func, cst.Attribute) \
            else cst.Name(FLIPS[name])
        args = list(updated.args)
        if name == "register_message_handler":  # (message_type, handler) -> (node_id, event_type, handler)
            args = [cst.Arg(cst.SimpleString('"node"'))] + [a.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT) for a in args]
        elif name in ("register_event_listener", "push_event"):  # drop the node id / the source
            args = [a.with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT) for a in args[1:]]
        return updated.with_changes(func=new_func, args=args)


def _mutation_sites() -> list[tuple[str, int]]:
    sites = []
    for path in sorted((FRAMEWORK / "fedframe").rglob("*.py")):
        counter = _Flip(index=-1)
        cst.parse_module(path.read_text()).visit(counter)
        sites += [(str(path.relative_to(FRAMEWORK)), i) for i in range(counter.seen)]
    return sites


MUTATION_SITES = _mutation_sites()


def test_the_mutation_test_covers_every_send_and_handle_call():
    # the client's 6 registrations and 1 send, the server's registration, and the
    # 3 calls inside wrappers (broadcast_message, route_message, send_control_message)
    assert len(MUTATION_SITES) == 11


@pytest.mark.parametrize(("relative", "index"), MUTATION_SITES)
def test_every_flipped_mechanism_is_reported_as_a_mismatch(tmp_path, relative, index):
    project = tmp_path / "framework"
    shutil.copytree(FRAMEWORK, project)
    target = project / relative
    flip = _Flip(index)
    target.write_text(cst.parse_module(target.read_text()).visit(flip).code)
    assert flip.flipped is not None

    before = {f.message_type for f in analyze(["."], cwd=FRAMEWORK).findings if f.code == "FCL001"}
    after = {f.message_type for f in analyze(["."], cwd=project).findings if f.code == "FCL001"}

    # A flip breaks the messages that call carries (new FCL001s), or, on the planted
    # ROUND_STARTED bug, repairs it: exactly these mismatches appear and disappear.
    assert (sorted(after - before), sorted(before - after)) == FLIPPED[(relative, index)], (
        f"flipping {flip.flipped} in {relative} (call #{index})"
    )


FLIPPED = {  # (file, call index) -> (FCL001 types added, removed)
    ("fedframe/comm/base.py", 0): (["CLIENT_REGISTERED"], ["ROUND_STARTED"]),
    ("fedframe/federation/client.py", 0): (["SHUTDOWN"], []),
    ("fedframe/federation/client.py", 1): (["train"], []),
    ("fedframe/federation/client.py", 2): (["evaluate"], []),
    ("fedframe/federation/client.py", 3): (["business_request"], []),
    ("fedframe/federation/client.py", 4): ([], ["ROUND_STARTED"]),
    ("fedframe/federation/client.py", 5): (["CLIENT_REGISTERED"], []),
    ("fedframe/federation/client.py", 6): (["STATUS"], []),
    ("fedframe/federation/connection.py", 0): (["SHUTDOWN", "business_request", "evaluate", "train"], []),
    ("fedframe/federation/connection.py", 1): (["CLIENT_REGISTERED"], ["ROUND_STARTED"]),
    ("fedframe/federation/server.py", 0): (["STATUS"], []),
}
