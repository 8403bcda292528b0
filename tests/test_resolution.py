"""Every resolution form resolves, with its steps; every unresolved case says why."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, findings_of, write_project

ROOT = FIXTURES / "resolution"

RESOLVED = {
    # message type: (path, line, steps)
    "literal": ("app.py", 22, []),
    "module_constant": ("app.py", 23, ["constant `LOCAL_CONSTANT` in `app`"]),
    "class_attribute": ("app.py", 24, ["class attribute `Topics.CLASS_ATTR`"]),
    "class_attribute_derived": (
        "app.py", 25, ["class attribute `Topics.DERIVED`", "class attribute `Topics.CLASS_ATTR`"],
    ),
    "self_attribute": ("app.py", 26, ["class attribute `Worker.KIND`"]),
    "enum_member": ("app.py", 27, ["`MsgType` imported from `pkg.messages`", "enum member `MsgType.TRAIN`"]),
    "enum_value": ("app.py", 28, ["`MsgType` imported from `pkg.messages`", "enum member `MsgType.EVAL`"]),
    "str_enum_member": ("app.py", 29, ["`Topic` imported from `pkg.messages`", "enum member `Topic.STATUS`"]),
    "auto_member": ("app.py", 30, ["`Auto` imported from `pkg.messages`", "enum member `Auto.AUTO_MEMBER`"]),
    "from_import": (
        "app.py", 31, ["`IMPORTED` imported from `pkg.messages`", "constant `IMPORTED` in `pkg.messages`"],
    ),
    "module_attribute": (
        "app.py", 32, ["`messages` imported from `pkg`", "constant `MODULE_ATTR` in `pkg.messages`"],
    ),
    "import_alias": ("app.py", 33, ["`m` is the module `pkg.messages`", "constant `ALIASED` in `pkg.messages`"]),
    "plain_import": ("app.py", 34, ["`pkg` is the module `pkg`", "constant `PLAIN` in `pkg.messages`"]),
    "reexported": (
        "app.py", 35,
        ["`REEXPORTED` imported from `pkg`", "`REEXPORTED` imported from `pkg.messages`",
         "constant `REEXPORTED` in `pkg.messages`"],
    ),
    "prefix_concat": ("app.py", 36, ["`PREFIX` imported from `pkg.messages`", "constant `PREFIX` in `pkg.messages`"]),
    "prefix_fstring": ("app.py", 37, ["`PREFIX` imported from `pkg.messages`", "constant `PREFIX` in `pkg.messages`"]),
    "implicit_concat": ("app.py", 38, []),
    "local_variable": ("app.py", 40, ["local variable `kind` of `Worker.send_all`"]),
    "keyword": ("app.py", 41, []),
    "TRAIN": ("app.py", 42, ["`MsgType` imported from `pkg.messages`", "enum member `MsgType.TRAIN`"]),
    # a loop over a literal tuple: one site per element
    "a": ("app.py", 56, ["element `'a'` of the for loop over a tuple"]),
    "b": ("app.py", 56, ["element `'b'` of the for loop over a tuple"]),
    "relative_import": (
        "pkg/sub/relative_user.py", 6,
        ["`RELATIVE` imported from `pkg.messages`", "constant `RELATIVE` in `pkg.messages`"],
    ),
    "prefix_relative_module": (
        "pkg/sub/relative_user.py", 7, ["`messages` imported from `pkg`", "constant `PREFIX` in `pkg.messages`"],
    ),
}

UNRESOLVED = [  # line 45 (`message_type + "_suffix"`) is a template over a parameter: see the wrappers
    (46, "the result of calling `message_type.upper`"),
    (47, "`THING` comes from `vendor.protocol`, which is not in the analysed tree"),
    (48, "`NOT_DEFINED` is not defined in `app`"),
    (49, "`TYPES[0]` is not a constant"),
    (50, "`PlainAuto.NUMBERED` = auto() is not a string (use StrEnum or a literal)"),
    (51, 'an f-string field with formatting: `f"{PREFIX:>10}"`'),
    (52, "the message type is passed through `*args`"),
    (53, "the call has no message type argument"),
    (54, "`Worker` has no class attribute `MISSING` in the analysed tree"),
    (59, "local variable `twice` of `Worker.unresolved` is bound 2 times"),
]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    import json
    import os

    from click.testing import CliRunner

    from fedcl_lint.cli import cli

    old = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli, ["table", "--format", "json"], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 0
    return json.loads(result.stdout)


@pytest.mark.parametrize("message_type", sorted(RESOLVED))
def test_resolution_form(table, message_type):
    path, line, steps = RESOLVED[message_type]
    entry = next(m for m in table["messages"] if m["message_type"] == message_type)
    [site] = entry["sites"]
    assert (site["path"], site["line"]) == (path, line)
    assert [step["step"] for step in site["resolution"]] == steps


def test_every_resolved_site_is_expected(table):
    assert sorted(m["message_type"] for m in table["messages"]) == sorted(RESOLVED)


def test_steps_point_at_definitions(table):
    entry = next(m for m in table["messages"] if m["message_type"] == "reexported")
    steps = entry["sites"][0]["resolution"]
    assert [(s["path"], s["line"]) for s in steps] == [
        ("app.py", 5), ("pkg/__init__.py", 3), ("pkg/messages.py", 10),
    ]


def test_unresolved_sites_say_why(table):
    assert [(u["path"], u["line"], u["reason"]) for u in table["unresolved"]] == [
        ("app.py", line, reason) for line, reason in UNRESOLVED
    ]
    assert table["summary"] == {"call_sites": len(RESOLVED) + len(UNRESOLVED), "resolved_call_sites": len(RESOLVED)}


def test_a_parameter_passed_on_unchanged_makes_a_wrapper_not_an_unresolved_site(table):
    assert [(w["function"], w["path"], w["line"], w["role"], w["mechanism"]) for w in table["wrappers"]] == [
        ("Worker.unresolved", "app.py", 44, "send", "rpc"),  # `message_type + "_suffix"`: a template
        ("send_to_client", "app.py", 62, "send", "rpc"),
    ]


def test_check_reports_coverage_and_unresolved_as_info(run_cli):
    result = run_cli(["check"], cwd=ROOT)
    lines = result.output.splitlines()
    assert lines[-1] == f"{len(RESOLVED)} of {len(RESOLVED) + len(UNRESOLVED)} call sites resolved."
    assert "app.py:46:15: FCL005 cannot resolve the message type of `send_business_message` (send rpc): " \
        "the result of calling `message_type.upper`" in lines


def test_same_named_modules_of_two_folders_keep_their_own_classes(run_cli, tmp_path):
    """`a/app.py` and `b/app.py` are both module `app`: each `Kind.STOP` is its own file's."""
    for folder, value in (("a", "A_STOP"), ("b", "B_STOP")):
        write_project(tmp_path / folder, {"app.py": f"""
            class Kind:
                STOP = "{value}"


            async def go(cm):
                await cm.send_business_message("peer", Kind.STOP, {{}})
            """})
    result = run_cli(["check", "a", "b", "--format", "json", "--no-cache"], cwd=tmp_path)

    assert findings_of(result.json) == [
        ("FCL002", "A_STOP", "a/app.py", 7), ("FCL002", "B_STOP", "b/app.py", 7),
    ]


def test_a_subclass_attribute_overrides_a_base_method_of_the_same_name(run_cli, tmp_path):
    write_project(tmp_path, {"app.py": """
        class Base:
            def kind(self):
                return "BASE"


        class Sub(Base):
            kind = "PING"

            async def go(self, cm):
                await cm.send_business_message("peer", self.kind, {})
        """})
    table = run_cli(["table", ".", "--format", "json", "--no-cache"], cwd=tmp_path).json

    assert [(m["message_type"], [(s["line"], s["role"]) for s in m["sites"]]) for m in table["messages"]] == [
        ("PING", [(11, "send")]),
    ]
    assert table["unresolved"] == []


def test_from_a_package_import_a_name_its_star_import_provides(run_cli, tmp_path):
    """`from pkg import STOP`, where `pkg/__init__.py` does `from .names import *`: Python finds
    `STOP` in the package's namespace, and so does the resolution."""
    write_project(tmp_path, {
        "pkg/__init__.py": "from .names import *\n",
        "pkg/names.py": 'STOP = "STOP"\n',
        "app.py": """
            from pkg import STOP


            async def go(cm):
                await cm.send_business_message("peer", STOP, {})
            """,
    })
    table = run_cli(["table", ".", "--format", "json", "--no-cache"], cwd=tmp_path).json

    assert table["unresolved"] == []
    [message] = table["messages"]
    assert (message["message_type"], message["sites"][0]["line"]) == ("STOP", 6)


def test_a_name_bound_again_elsewhere_has_no_one_value(run_cli, tmp_path):
    """Python rebinds a name through `global`, `nonlocal`, a match capture, or an assignment after
    its import: the message type is then whichever ran last, so it is not resolved to the first."""
    write_project(tmp_path, {
        "consts.py": 'KIND = "FROM_CONSTS"\n',
        "app.py": """
            from consts import KIND as IMPORTED
            IMPORTED = "OVERRIDE"
            KIND = "GLOBAL_A"


            def retarget():
                global KIND
                KIND = "GLOBAL_B"


            async def send(cm, msg):
                await cm.send_business_message("n", KIND, {})
                await cm.send_business_message("n", IMPORTED, {})
                kind = "NL_A"

                def switch():
                    nonlocal kind
                    kind = "NL_B"
                await cm.send_business_message("n", kind, {})
                captured = "MATCH_A"
                match msg:
                    case {"t": captured}:
                        pass
                await cm.send_business_message("n", captured, {})
            """,
    })
    table = run_cli(["table", ".", "--format", "json", "--no-cache"], cwd=tmp_path).json

    assert table["messages"] == []
    assert [(site["line"], site["reason"]) for site in table["unresolved"]] == [
        (13, "`KIND` is bound 2 times at module level"),
        (14, "`IMPORTED` is bound 2 times at module level"),
        (20, "local variable `kind` of `send` is bound 2 times"),
        (25, "local variable `captured` of `send` is bound 2 times"),
    ]


def test_an_instance_attribute_set_to_one_constant_by_the_methods(run_cli, tmp_path):
    write_project(tmp_path, {"app.py": """
        class Base:
            def __init__(self):
                self.inherited = "evaluate"


        class Client(Base):
            def __init__(self, comm, kind):
                super().__init__()
                self.comm = comm
                self.topic = "train"
                self.kind = kind
                self.twice = "a"

            def reset(self):
                self.twice = "b"

            async def go(self):
                await self.comm.send_business_message("s", self.topic, {})
                await self.comm.send_business_message("s", self.inherited, {})
                await self.comm.send_business_message("s", self.kind, {})
                await self.comm.send_business_message("s", self.twice, {})


        def setup(comm, handler):
            comm.register_message_handler("train", handler)
            comm.register_message_handler("evaluate", handler)
    """})
    document = run_cli(["table", "--format", "json"], cwd=tmp_path).json

    assert sorted((m["message_type"], s["role"], s["line"]) for m in document["messages"] for s in m["sites"]) == [
        ("evaluate", "handle", 27), ("evaluate", "send", 20), ("train", "handle", 26), ("train", "send", 19),
    ]
    train = next(s for m in document["messages"] if m["message_type"] == "train" for s in m["sites"]
                 if s["role"] == "send")
    assert [step["step"] for step in train["resolution"]] == [
        "instance attribute `Client.topic`, set once to a constant by its methods",
    ]
    assert [(u["line"], u["reason"]) for u in document["unresolved"]] == [
        (21, "`self.kind` is set by the methods of `Client` to something other than one constant"),
        (22, "`self.twice` is set by the methods of `Client` to something other than one constant"),
    ]
