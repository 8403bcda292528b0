"""Issue 14, part 2: message types that are ints (and Enum members by value), end to end.

A FedML-style framework (tests/fixtures/int_types) numbers its messages; mini projects
cover each way an int reaches a call, what stays unresolved, and the formats that show
an int type by its name and value.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, doc_text, findings_of, write_project
from fedcl_lint.output.manifest import parse_manifest
from fedcl_lint.types import MessageType

FEDINT = FIXTURES / "int_types"
SERVER, CLIENT = "fedint/server/server_manager.py", "fedint/client/client_manager.py"
REGISTER = "register_message_receive_handler"

TABLE = [
    # (message type, name, role, path, line, api): every site, in the manifest's order
    (0, "MyMessage.MSG_TYPE_CONNECTION_IS_READY", "handle", CLIENT, 9, REGISTER),
    (0, "MyMessage.MSG_TYPE_CONNECTION_IS_READY", "handle", SERVER, 14, REGISTER),
    (1, "MyMessage.MSG_TYPE_S2C_INIT_CONFIG", "handle", CLIENT, 15, REGISTER),
    (1, "MyMessage.MSG_TYPE_S2C_INIT_CONFIG", "send", SERVER, 46, "Message"),
    (2, "MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT", "handle", CLIENT, 16, REGISTER),
    (2, "MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT", "send", SERVER, 51, "Message"),
    (3, "MyMessage.MSG_TYPE_C2S_SEND_MODEL_TO_SERVER", "send", CLIENT, 41, "Message"),
    (3, "MyMessage.MSG_TYPE_C2S_SEND_MODEL_TO_SERVER", "handle", SERVER, 20, REGISTER),
    (5, "MyMessage.MSG_TYPE_C2S_CLIENT_STATUS", "send", CLIENT, 36, "Message"),
    (5, "MyMessage.MSG_TYPE_C2S_CLIENT_STATUS", "handle", SERVER, 17, REGISTER),
    (6, "MyMessage.MSG_TYPE_S2C_CHECK_CLIENT_STATUS", "handle", CLIENT, 12, REGISTER),
    (6, "MyMessage.MSG_TYPE_S2C_CHECK_CLIENT_STATUS", "send", SERVER, 42, "Message"),
    (7, "MyMessage.MSG_TYPE_S2C_FINISH", "send", SERVER, 56, "Message"),
]
FINISH_UNHANDLED = (
    "`MyMessage.MSG_TYPE_S2C_FINISH (7)` is sent as an event (`Message`) but no handler is registered for it"
)


# --- the framework ------------------------------------------------------------------------------


def test_every_numbered_site_resolves_into_the_table(run_cli):
    document = run_cli(["table", "--format", "json", "--no-cache"], cwd=FEDINT).json

    rows = [
        (m["message_type"], m["name"], s["role"], s["path"], s["line"], s["api"])
        for m in document["messages"]
        for s in m["sites"]
    ]
    assert rows == TABLE
    assert all(s["mechanism"] == "event" for m in document["messages"] for s in m["sites"])
    assert [(m["message_type"], m["status"]) for m in document["messages"]] == [
        (0, "unused"), (1, "ok"), (2, "ok"), (3, "ok"), (5, "ok"), (6, "ok"), (7, "unhandled"),
    ]
    assert (document["version"], document["unresolved"]) == (2, [])
    assert document["summary"] == {"call_sites": 13, "resolved_call_sites": 13}
    # the steps: an import, then the class attribute that names the int
    finish = document["messages"][-1]["sites"][0]["resolution"]
    assert [step["step"] for step in finish] == [
        "`MyMessage` imported from `fedint.message_define`", "class attribute `MyMessage.MSG_TYPE_S2C_FINISH`",
    ]


def test_check_reports_exactly_the_planted_bug_by_name_and_value(run_cli):
    result = run_cli(["check", "--format", "json", "--no-cache"], cwd=FEDINT)

    assert result.exit_code == 1
    assert findings_of(result.json) == [("FCL002", 7, SERVER, 56)]
    [finding] = result.json["findings"]
    assert (finding["message"], finding["message_type_name"], finding["severity"]) == (
        FINISH_UNHANDLED, "MyMessage.MSG_TYPE_S2C_FINISH", "warning",
    )

    text = run_cli(["check", "--no-cache"], cwd=FEDINT)
    assert (text.exit_code, text.output.splitlines()) == (1, [
        f"{SERVER}:56:19: FCL002 {FINISH_UNHANDLED}",
        "Found 0 errors, 1 warning, 0 infos in 9 files.",
        "13 of 13 call sites resolved.",
    ])


def test_an_int_declared_external_is_neither_unhandled_nor_unused(run_cli, tmp_path):
    """`external = [0]` in the fixture hides the backend's CONNECTION_IS_READY; without it, both
    of its handlers are unused (and the string "0" would not hide it)."""
    project = tmp_path / "fedint"
    shutil.copytree(FEDINT, project)
    settings = project / "pyproject.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("external = [0]", 'external = ["0"]'),
                        encoding="utf-8")

    result = run_cli(["check", "--format", "json", "--no-cache"], cwd=project)

    assert findings_of(result.json) == [
        ("FCL003", 0, CLIENT, 9),
        ("FCL003", 0, SERVER, 14),
        ("FCL002", 7, SERVER, 56),
    ]
    assert result.json["findings"][0]["message"] == (
        "`MyMessage.MSG_TYPE_CONNECTION_IS_READY (0)` has a handler as an event "
        "(`register_message_receive_handler`) but is never sent"
    )


def test_the_protocol_page_sarif_and_rich_table_show_ints_by_name_and_value(run_cli, tmp_path):
    page = tmp_path / "PROTOCOL.md"
    assert run_cli(["docs", ".", "-o", str(page), "--no-cache"], cwd=FEDINT).exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert "| `MyMessage.MSG_TYPE_S2C_FINISH (7)` | event | [fedint/server/server_manager.py:56]" in text
    assert "Message types: `MyMessage.MSG_TYPE_CONNECTION_IS_READY (0)`, `MyMessage.MSG_TYPE_S2C_INIT_CONFIG (1)`," in text
    assert text.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines() == [
        "flowchart LR",
        '    n0["fedint.client.client_manager"]',
        '    n1["fedint.server.server_manager"]',
        '    n2(["no handler"])',
        '    n3(["outside the repository"])',
        '    n0 -.->|"MyMessage.MSG_TYPE_C2S_SEND_MODEL_TO_SERVER (3)<br>MyMessage.MSG_TYPE_C2S_CLIENT_STATUS (5)"| n1',
        '    n1 -.->|"MyMessage.MSG_TYPE_S2C_INIT_CONFIG (1)<br>MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT (2)<br>'
        'MyMessage.MSG_TYPE_S2C_CHECK_CLIENT_STATUS (6)"| n0',
        '    n1 -.->|"MyMessage.MSG_TYPE_S2C_FINISH (7)"| n2',
        '    n3 -.->|"MyMessage.MSG_TYPE_CONNECTION_IS_READY (0)"| n0',
        '    n3 -.->|"MyMessage.MSG_TYPE_CONNECTION_IS_READY (0)"| n1',
        "    linkStyle 2 stroke:#d32f2f,stroke-width:2px,color:#d32f2f",
    ]

    sarif = run_cli(["check", "--format", "sarif", "--no-cache"], cwd=FEDINT).json
    [alert] = sarif["runs"][0]["results"]
    assert alert["properties"] == {
        "messageType": 7, "messageTypeName": "MyMessage.MSG_TYPE_S2C_FINISH", "mechanism": "event",
    }
    assert alert["message"]["text"] == FINISH_UNHANDLED

    table = run_cli(["table", "--no-cache"], cwd=FEDINT).output
    assert "MyMessage.MSG_TYPE_S2C_FINISH (7)" in table and "unhandled" in table


# --- how an int reaches a call -----------------------------------------------------------------


def _check(run_cli, root: Path, files: dict[str, str], *args: str):
    write_project(root, files)
    return run_cli(["check", "--format", "json", "--no-cache", *args], cwd=root)


def _table(run_cli, root: Path) -> dict:
    return run_cli(["table", "--format", "json", "--no-cache"], cwd=root).json


def _types(document: dict) -> list[tuple]:
    """(message type, name, status, lines of its sites) of every message type."""
    return [(m["message_type"], m["name"], m["status"], [s["line"] for s in m["sites"]]) for m in document["messages"]]


def _unresolved(document: dict) -> list[tuple[int, str]]:
    return [(u["line"], u["reason"]) for u in document["unresolved"]]


ENUMS = {
    "msgs.py": """\
        from enum import Enum, Flag, IntEnum, IntFlag, auto


        class Kind(IntEnum):
            TRAIN = 10
            EVALUATE = auto()
            STOP = auto()


        class Bits(Flag):
            A = auto()
            B = auto()
            C = auto()


        class Perm(IntFlag):
            READ = 4
            WRITE = auto()


        class Mixed(int, Enum):
            X = 30
            Y = auto()


        class Plain(Enum):
            P = 40
            Q = auto()


        class Numbered(Enum):
            ONLY = auto()


        class Unordered(Enum):
            HIGH = 50
            LOW = 1
            NEXT = auto()


        class Words(str, Enum):
            ONE = 1


        class Custom(IntEnum):
            def _generate_next_value_(name, start, count, last_values):
                return 100 + count

            FIRST = auto()
        """,
    "app.py": """\
        from msgs import Bits, Custom, Kind, Mixed, Numbered, Perm, Plain, Unordered, Words


        async def send(comm, t):
            await comm.send_business_message(t, Kind.TRAIN, {})
            await comm.send_business_message(t, Kind.EVALUATE, {})
            await comm.send_business_message(t, Kind.STOP.value, {})
            await comm.send_business_message(t, Bits.C, {})
            await comm.send_business_message(t, Perm.WRITE, {})
            await comm.send_business_message(t, Mixed.Y, {})
            await comm.send_business_message(t, Plain.Q, {})
            await comm.send_business_message(t, Numbered.ONLY, {})
            await comm.send_business_message(t, Unordered.NEXT, {})
            await comm.send_business_message(t, Words.ONE, {})
            await comm.send_business_message(t, Kind.TRAIN.name, {})
            await comm.send_business_message(t, Custom.FIRST, {})


        def handle(comm, h):
            comm.register_message_handler(10, h)
            comm.register_message_handler(11, h)
            comm.register_message_handler(12, h)
        """,
}


def test_int_enum_members_resolve_by_value_with_auto_as_python_numbers_them(run_cli, tmp_path):
    write_project(tmp_path, ENUMS)
    document = _table(run_cli, tmp_path)

    assert _types(document) == [
        (4, "Bits.C", "unhandled", [8]),
        (8, "Perm.WRITE", "unhandled", [9]),
        (10, "Kind.TRAIN", "ok", [5, 20]),  # a bare 10 at the handler: the same type, shown by its name
        (11, "Kind.EVALUATE", "ok", [6, 21]),
        (12, "Kind.STOP", "ok", [7, 22]),
        (31, "Mixed.Y", "unhandled", [10]),
        (41, "Plain.Q", "unhandled", [11]),
        ("TRAIN", None, "unhandled", [15]),  # `.name` is the member's name: a string
    ]
    assert _unresolved(document) == [
        (12, "`Numbered.ONLY` = auto() is not a string (use StrEnum or a literal)"),
        (13, "`Unordered.NEXT` = auto() follows `Unordered.LOW` = 1, which is not the largest value before it: "
             "Python versions give different values"),
        (14, "`Words.ONE` is an int in an Enum of strs, which Python converts (or refuses): write the value as str"),
        (16, "`Custom.FIRST` = auto() takes its value from `Custom._generate_next_value_`"),
    ]


def test_int_constants_reach_calls_through_imports_and_inherited_class_attributes(run_cli, tmp_path):
    files = {
        "pkg/__init__.py": "from .messages import *\n",
        "pkg/messages.py": """\
            class MyMessage:
                MSG_TYPE_C2S_INIT = 1
                MSG_TYPE_S2C_FINISH = 12


            class ServerMessage(MyMessage):
                MSG_TYPE_S2C_SYNC = 2


            FINISH = MyMessage.MSG_TYPE_S2C_FINISH
            BASE = 100
            """,
        "pkg/server.py": """\
            from pkg import messages
            from pkg.messages import FINISH, ServerMessage
            from . import messages as m


            class Server:
                async def run(self, comm, t):
                    await comm.send_business_message(t, FINISH, {})
                    await comm.send_business_message(t, ServerMessage.MSG_TYPE_C2S_INIT, {})
                    await comm.send_business_message(t, messages.ServerMessage.MSG_TYPE_S2C_SYNC, {})
                    await comm.send_business_message(t, m.BASE, {})
            """,
        "client.py": """\
            import pkg.messages
            from pkg import BASE, MyMessage


            class Client(MyMessage):
                def setup(self, comm, h):
                    comm.register_message_handler(self.MSG_TYPE_S2C_FINISH, h)
                    comm.register_message_handler(self.MSG_TYPE_C2S_INIT, h)
                    comm.register_message_handler(pkg.messages.ServerMessage.MSG_TYPE_S2C_SYNC, h)
                    comm.register_message_handler(BASE, h)
            """,
    }
    write_project(tmp_path, files)
    document = _table(run_cli, tmp_path)

    assert _types(document) == [
        (1, "MyMessage.MSG_TYPE_C2S_INIT", "ok", [8, 9]),  # client.py:8, server.py:9
        (2, "ServerMessage.MSG_TYPE_S2C_SYNC", "ok", [9, 10]),
        (12, "MyMessage.MSG_TYPE_S2C_FINISH", "ok", [7, 8]),  # through FINISH: the class attribute names it
        (100, "BASE", "ok", [10, 11]),
    ]
    assert document["unresolved"] == []


def test_a_literal_and_a_name_of_the_same_value_are_one_type_shown_by_the_name_most_sites_use(run_cli, tmp_path):
    files = {
        "msgs.py": """\
            class A:
                STOP = 3


            class B:
                HALT = 3


            LEGACY_STOP = 3
            """,
        "app.py": """\
            from msgs import LEGACY_STOP, A, B


            async def send(comm, t):
                await comm.send_business_message(t, 3, {})
                await comm.send_business_message(t, B.HALT, {})
                await comm.send_business_message(t, A.STOP, {})
                await comm.send_business_message(t, A.STOP, {})
                await comm.send_business_message(t, LEGACY_STOP, {})
                await comm.send_business_message(t, 4, {})
                await comm.send_business_message(t, B.HALT, {})
                await comm.send_business_message(t, A.STOP, {})
                await comm.send_business_message(t, "3", {})


            def handle(comm, h):
                comm.register_message_handler(3, h)
            """,
    }
    result = _check(run_cli, tmp_path, files)

    assert findings_of(result.json) == [
        ("FCL002", 4, "app.py", 10),  # a bare 4: no name
        ("FCL002", "3", "app.py", 13),  # the string "3" is another message type
    ]
    assert [f["message"].split(" is sent")[0] for f in result.json["findings"]] == ["`4`", "`3`"]
    assert _types(_table(run_cli, tmp_path))[0] == (3, "A.STOP", "ok", [5, 6, 7, 8, 9, 11, 12, 17])


def test_a_tie_between_names_goes_to_the_first_in_location_order(run_cli, tmp_path):
    files = {
        "app.py": """\
            class A:
                STOP = 3


            class B:
                HALT = 3


            async def send(comm, t):
                await comm.send_business_message(t, B.HALT, {})
                await comm.send_business_message(t, A.STOP, {})


            def handle(comm, h):
                comm.register_message_handler(A.STOP, h)
                comm.register_message_handler(B.HALT, h)
            """,
    }
    write_project(tmp_path, files)

    assert _types(_table(run_cli, tmp_path)) == [(3, "B.HALT", "ok", [10, 11, 15, 16])]


def test_bools_floats_and_other_constants_stay_unresolved_with_a_reason(run_cli, tmp_path):
    files = {
        "app.py": """\
            READY = True


            async def send(comm, t):
                await comm.send_business_message(t, True, {})
                await comm.send_business_message(t, READY, {})
                await comm.send_business_message(t, 1.5, {})
                await comm.send_business_message(t, b"x", {})
                await comm.send_business_message(t, None, {})
                await comm.send_business_message(t, -2, {})
            """,
    }
    result = _check(run_cli, tmp_path, files)

    assert findings_of(result.json) == [
        ("FCL005", None, "app.py", 5), ("FCL005", None, "app.py", 6), ("FCL005", None, "app.py", 7),
        ("FCL005", None, "app.py", 8), ("FCL005", None, "app.py", 9), ("FCL002", -2, "app.py", 10),
    ]
    assert [f["message"].split(": ", 1)[1] for f in result.json["findings"][:5]] == [
        "`True` is a bool, not a message type (a string or an int)",
        "`True` is a bool, not a message type (a string or an int)",
        "`1.5` is a float, not a message type (a string or an int)",
        "a bytes literal is not a message type",
        "`None` is not a message type (a string or an int)",
    ]


def test_f_strings_write_ints_as_python_does(run_cli, tmp_path):
    files = {
        "app.py": """\
            from enum import Enum, IntEnum


            class Round(IntEnum):
                FIRST = 1


            class Phase(int, Enum):
                TRAIN = 2


            class MyMessage:
                INIT = 7


            async def send(comm, t):
                await comm.send_business_message(t, f"round-{MyMessage.INIT}", {})
                await comm.send_business_message(t, f"round-{Round.FIRST}", {})
                await comm.send_business_message(t, f"round-{-3}", {})
                await comm.send_business_message(t, f"phase-{Phase.TRAIN}", {})
                await comm.send_business_message(t, f"phase-{Phase.TRAIN.value}", {})
                await comm.send_business_message(t, f"round-{Round.FIRST!s}", {})
            """,
    }
    write_project(tmp_path, files)
    document = _table(run_cli, tmp_path)

    assert _types(document) == [
        ("phase-2", None, "unhandled", [21]),
        ("round--3", None, "unhandled", [19]),
        ("round-1", None, "unhandled", [18]),  # an IntEnum member is written as its value
        ("round-7", None, "unhandled", [17]),
    ]
    reason = ("an f-string writes the Enum member `{0}` as `{0}` or as its value, by the Python version and the "
              "Enum's kind (use `{0}.value`)")
    assert _unresolved(document) == [(20, reason.format("Phase.TRAIN")), (22, reason.format("Round.FIRST"))]


def test_plus_adds_two_ints_or_joins_two_strings_and_refuses_a_mix(run_cli, tmp_path):
    files = {
        "app.py": """\
            BASE = 100
            NEXT = BASE + 1
            PREFIX = "round-"


            async def send(comm, t, n):
                await comm.send_business_message(t, NEXT, {})
                await comm.send_business_message(t, BASE + 2, {})
                await comm.send_business_message(t, PREFIX + "1", {})
                await comm.send_business_message(t, PREFIX + 1, {})
                await comm.send_business_message(t, BASE + n, {})


            async def go(comm):
                await send(comm, "peer", 3)  # `BASE + n` is filled with 3 here: `send` is a wrapper
            """,
    }
    write_project(tmp_path, files)
    document = _table(run_cli, tmp_path)

    assert _types(document) == [
        (101, "NEXT", "unhandled", [7]),  # the sum is named by the constant that holds it
        (102, None, "unhandled", [8]),
        (103, None, "unhandled", [15]),
        ("round-1", None, "unhandled", [9]),
    ]
    assert _unresolved(document) == [
        (10, "`PREFIX + 1` adds a string and an int (a TypeError in Python)"),
    ]


def test_a_dispatcher_compares_ints_too(run_cli, tmp_path):
    files = {
        "app.py": """\
            class MyMessage:
                PING = 4


            class Node:
                def setup(self, transport):
                    transport.register_request_handler("me", self.handle_rpc_request)

                async def handle_rpc_request(self, source, data):
                    kind = data.get("message_type")
                    if kind == MyMessage.PING:
                        return "pong"
                    if kind == 5:
                        return None

                async def ping(self, transport):
                    await transport.send("me", "peer", {"message_type": 4, "data": {}})
            """,
    }
    result = _check(run_cli, tmp_path, files)

    assert findings_of(result.json) == [("FCL003", 5, "app.py", 13)]
    assert _types(_table(run_cli, tmp_path))[0] == (4, "MyMessage.PING", "ok", [11, 17])


# --- settings: policy keys, external, suppressions, baseline ------------------------------------


MIXED_TYPES = {
    "app.py": """\
        class MyMessage:
            STOP = 12
            PAUSE = 13


        async def send(comm, t):
            await comm.send_control_message(t, MyMessage.STOP, {})
            await comm.send_control_message(t, MyMessage.PAUSE, {})
            await comm.send_control_message(t, "12", {})


        def handle(comm, h):
            comm.register_message_handler(MyMessage.STOP, h)
        """,
}


def test_a_policy_key_declares_an_int_type_by_its_name_or_its_decimal_text(run_cli, tmp_path):
    policy = '[tool.fedcl-lint.protocol]\n"MyMessage.STOP" = "event"\n"13" = "rpc"\n"12" = "rpc"\n'
    result = _check(run_cli, tmp_path, {**MIXED_TYPES, "pyproject.toml": policy})

    assert findings_of(result.json) == [
        ("FCL001", 12, "app.py", 7),
        ("FCL002", 13, "app.py", 8),
        ("FCL008", 13, "app.py", 8),
        ("FCL002", "12", "app.py", 9),
        ("FCL008", "12", "app.py", 9),  # "12" declares the string too
        ("FCL008", 12, "app.py", 13),  # the name wins over "12" for the int
    ]
    messages = {(f["code"], f["line"]): f["message"] for f in result.json["findings"]}
    assert messages[("FCL001", 7)].endswith(
        "register it with `register_event_listener` (the protocol policy declares `MyMessage.STOP (12)` as event)"
    )
    assert messages[("FCL008", 13)] == (
        "the protocol policy declares `MyMessage.STOP (12)` as event, but this site handles it over rpc "
        "(`register_message_handler`)"
    )


def test_external_takes_integers_and_refuses_booleans(run_cli, tmp_path):
    result = _check(run_cli, tmp_path, {**MIXED_TYPES, "pyproject.toml": "[tool.fedcl-lint]\nexternal = [13, \"12\"]\n"})
    assert findings_of(result.json) == [("FCL001", 12, "app.py", 7)]

    (tmp_path / "pyproject.toml").write_text("[tool.fedcl-lint]\nexternal = [13, true]\n", encoding="utf-8")
    refused = run_cli(["check", "--no-cache"], cwd=tmp_path)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "Error: pyproject.toml: `tool.fedcl-lint.external[1]`: expected a non-empty string or an integer, found True"
    )


def test_suppressions_and_the_baseline_know_int_types(run_cli, tmp_path):
    write_project(tmp_path, MIXED_TYPES)
    assert run_cli(["check", "--no-cache", "--write-baseline", "baseline.json"], cwd=tmp_path).exit_code == 0
    recorded = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    assert [(e["code"], e["message_type"]) for e in recorded["findings"]] == [
        ("FCL001", 12), ("FCL002", 13), ("FCL002", "12"),
    ]
    assert len({e["fingerprint"] for e in recorded["findings"]}) == 3
    known = run_cli(["check", "--format", "json", "--no-cache", "--baseline", "baseline.json"], cwd=tmp_path)
    assert (known.exit_code, known.json["findings"]) == (0, [])

    app = tmp_path / "app.py"
    app.write_text(app.read_text(encoding="utf-8").replace(
        "MyMessage.PAUSE, {})", "MyMessage.PAUSE, {})  # fedcl-lint: ignore[FCL002] sent to the dashboard"
    ), encoding="utf-8")
    quiet = run_cli(["check", "--format", "json", "--no-cache"], cwd=tmp_path)
    assert findings_of(quiet.json) == [("FCL001", 12, "app.py", 7), ("FCL002", "12", "app.py", 9)]


def test_protocol_scopes_keep_equal_numbers_apart_and_take_int_externals(run_cli, tmp_path):
    settings = (
        '[[tool.fedcl-lint.protocols]]\nname = "alpha"\npaths = ["alpha/"]\nexternal = [9]\n'
        '[[tool.fedcl-lint.protocols]]\nname = "beta"\npaths = ["beta/"]\n'
    )
    alpha = """\
        class MyMessage:
            FINISH = 3
            PUSH = 9


        async def send(comm, t):
            await comm.send_business_message(t, MyMessage.FINISH, {})
            await comm.send_business_message(t, MyMessage.PUSH, {})
        """
    beta = """\
        class BetaMessage:
            FINISH = 3


        def handle(comm, h):
            comm.register_message_handler(BetaMessage.FINISH, h)
        """
    result = _check(run_cli, tmp_path, {"pyproject.toml": settings, "alpha/app.py": alpha, "beta/app.py": beta})

    assert findings_of(result.json) == [("FCL002", 3, "alpha/app.py", 7), ("FCL003", 3, "beta/app.py", 6)]
    assert [(f["protocol"], f["message_type_name"]) for f in result.json["findings"]] == [
        ("alpha", "MyMessage.FINISH"), ("beta", "BetaMessage.FINISH"),
    ]
    document = _table(run_cli, tmp_path)
    assert [(m["protocol"], m["message_type"], m["name"], m["status"]) for m in document["messages"]] == [
        ("alpha", 3, "MyMessage.FINISH", "unhandled"), ("alpha", 9, "MyMessage.PUSH", "unhandled"),
        ("beta", 3, "BetaMessage.FINISH", "unused"),
    ]


# --- the manifest: version 2, and version 1 still read -----------------------------------------


def test_the_manifest_round_trips_int_types_with_their_names(run_cli, tmp_path):
    written = run_cli(["table", "--format", "json", "--no-cache"], cwd=FEDINT)
    (tmp_path / "old.json").write_text(written.output, encoding="utf-8")
    document = json.loads(written.output)

    protocol = parse_manifest(document, "old.json")
    finish = protocol.messages[-1].message_type
    assert (finish, finish.name, str(finish)) == (MessageType(7), "MyMessage.MSG_TYPE_S2C_FINISH",
                                                  "MyMessage.MSG_TYPE_S2C_FINISH (7)")
    same = run_cli(["diff", "old.json", str(tmp_path / "old.json")], cwd=tmp_path)
    assert (same.exit_code, same.output) == (0, "No protocol changes.\n")

    # the client learns FINISH; the server stops sending SYNC_MODEL, which clients handle
    project = tmp_path / "fedint"
    shutil.copytree(FEDINT, project)
    client = project / CLIENT
    client.write_text(client.read_text(encoding="utf-8").replace(
        "self.handle_message_init)",
        "self.handle_message_init)\n        self.register_message_receive_handler(MyMessage.MSG_TYPE_S2C_FINISH, print)",
    ), encoding="utf-8")
    server = project / SERVER
    server.write_text(server.read_text(encoding="utf-8").replace(
        "message = Message(MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT", "message = Message(MyMessage.MSG_TYPE_S2C_INIT_CONFIG"
    ), encoding="utf-8")
    (tmp_path / "new.json").write_text(run_cli(["table", "--format", "json", "--no-cache"], cwd=project).output,
                                       encoding="utf-8")

    result = run_cli(["diff", "old.json", "new.json"], cwd=tmp_path)
    assert (result.exit_code, result.output.splitlines()) == (0, [
        "ok        mechanism-changed  MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT (2): sent on event, handled on event "
        "-> sent on nothing, handled on event",
        "ok        mechanism-changed  MyMessage.MSG_TYPE_S2C_FINISH (7): sent on event, handled on nothing "
        "-> sent on event, handled on event",
        "2 protocol changes, 0 breaking.",
    ])
    changes = run_cli(["diff", "old.json", "new.json", "--format", "json"], cwd=tmp_path).json["changes"]
    assert [(c["message_type"], c["name"], c["kind"]) for c in changes] == [
        (2, "MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT", "mechanism-changed"),
        (7, "MyMessage.MSG_TYPE_S2C_FINISH", "mechanism-changed"),
    ]


def test_a_version_1_manifest_of_strings_compares_with_todays_ints(run_cli, tmp_path):
    """Before the framework numbered its messages, a v1 manifest recorded them as strings: the
    strings that remain compare as before; a string that became an int is another type."""
    site = {"role": "send", "mechanism": "event", "path": SERVER, "line": 56, "column": 19}
    handler = {**site, "role": "handle", "path": CLIENT, "line": 9, "column": 9}
    old = {
        "version": 1,
        "messages": [
            {"message_type": "7", "status": "ok", "sites": [site, {**handler, "line": 20}]},
            {"message_type": "heartbeat", "status": "ok", "sites": [site, handler]},
        ],
    }
    (tmp_path / "v1.json").write_text(json.dumps(old), encoding="utf-8")
    (tmp_path / "now.json").write_text(run_cli(["table", "--format", "json", "--no-cache"], cwd=FEDINT).output,
                                       encoding="utf-8")

    result = run_cli(["diff", "v1.json", "now.json"], cwd=tmp_path)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "ok        added    MyMessage.MSG_TYPE_CONNECTION_IS_READY (0): new message type, event",
        "ok        added    MyMessage.MSG_TYPE_S2C_INIT_CONFIG (1): new message type, event",
        "ok        added    MyMessage.MSG_TYPE_S2C_SYNC_MODEL_TO_CLIENT (2): new message type, event",
        "ok        added    MyMessage.MSG_TYPE_C2S_SEND_MODEL_TO_SERVER (3): new message type, event",
        "ok        added    MyMessage.MSG_TYPE_C2S_CLIENT_STATUS (5): new message type, event",
        "ok        added    MyMessage.MSG_TYPE_S2C_CHECK_CLIENT_STATUS (6): new message type, event",
        "ok        added    MyMessage.MSG_TYPE_S2C_FINISH (7): new message type, event",
        "BREAKING  removed  7: no longer sent or handled (was event); peers running the old code may still send it",
        "BREAKING  removed  heartbeat: no longer sent or handled (was event); peers running the old code may still "
        "send it",
        "9 protocol changes, 2 breaking.",
    ]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"message_type": 7}, "`messages[0]`: expected an object with a `message_type` (a string)"),
        ({"message_type": True}, "`messages[0]`: expected an object with a `message_type` (a string)"),
    ],
    ids=["int", "bool"],
)
def test_a_version_1_manifest_holds_strings_only(run_cli, tmp_path, message, error):
    (tmp_path / "v1.json").write_text(json.dumps({"version": 1, "messages": [message]}), encoding="utf-8")
    result = run_cli(["diff", "v1.json", "v1.json"], cwd=tmp_path)

    assert result.exit_code == 2
    assert f"v1.json: {error}" in result.stderr


def test_a_version_2_manifest_refuses_a_bool_or_a_name_that_is_no_string(run_cli, tmp_path):
    for message, error in [
        ({"message_type": True}, "`messages[0]`: expected an object with a `message_type` (a string or an integer)"),
        ({"message_type": 7, "name": 7}, "`messages[0].name`: expected a string or null"),
    ]:
        (tmp_path / "v2.json").write_text(json.dumps({"version": 2, "messages": [message]}), encoding="utf-8")
        result = run_cli(["diff", "v2.json", "v2.json"], cwd=tmp_path)
        assert (result.exit_code, error in result.stderr) == (2, True), result.stderr


# --- the example of docs/rule-packs.md ----------------------------------------------------------


def test_the_documented_example_of_int_types_reports_what_the_docs_say(run_cli, tmp_path):
    page = doc_text("rule-packs.md")
    section = page.split("### Message types that are numbers", 1)[1].split("\n## ", 1)[0]
    [source] = re.findall(r"```python\n# app\.py\n(.*?)```", section, flags=re.S)
    [expected] = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    (tmp_path / "app.py").write_text(source, encoding="utf-8")

    result = run_cli(["check", "app.py", "--no-cache"], cwd=tmp_path)

    assert (result.exit_code, result.output) == (1, expected)


def test_message_types_compare_by_value_and_sort_ints_first():
    named, bare, text = MessageType(12, "MyMessage.FINISH"), MessageType(12), MessageType("12")
    assert named == bare and hash(named) == hash(bare) and named != text and named == 12 and text == "12"
    assert MessageType(1) != True  # noqa: E712 - a bool is no message type
    assert sorted([MessageType("a"), MessageType(3), MessageType("B"), MessageType(-1)]) == [-1, 3, "B", "a"]
    assert (str(named), str(bare), str(text)) == ("MyMessage.FINISH (12)", "12", "12")
    assert (named.policy_keys, bare.policy_keys, text.policy_keys) == (("MyMessage.FINISH", "12"), ("12",), ("12",))
