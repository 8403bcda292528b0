"""`check --fix` / `--diff`: FCL001 sends rewritten to their handlers' mechanism, end to end through the CLI."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, doc_block, findings_of, write_project

SEED = FIXTURES / "seed"
BEFORE_LINE = "            await self.comm_components.communication_manager.send_control_message(\n"
AFTER_LINE = "            await self.comm_components.communication_manager.send_business_message(\n"

CLIENT = "def setup(comm, on_shutdown):\n    comm.register_message_handler(\"SHUTDOWN\", on_shutdown)\n"
EVENT_CLIENT = (
    "def setup(transport, on_shutdown):\n"
    "    transport.register_event_listener(\"me\", \"SHUTDOWN\", on_shutdown)\n"
)


def seed_copy(tmp_path: Path) -> Path:
    """The seed bug in a scratch folder (the fixture itself is never written)."""
    shutil.copytree(SEED / "bug", tmp_path / "bug")
    return tmp_path / "bug"


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int, int]]:
    """Content, modification time, inode and mode of every file: what "untouched" means."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".fedcl-lint-cache" not in path.parts:
            status = path.stat()
            found[str(path.relative_to(root))] = (path.read_bytes(), status.st_mtime_ns, status.st_ino, status.st_mode)
    return found


def fix(run_cli, root: Path, *extra: str):
    return run_cli(["check", "--fix", "--no-cache", *extra], cwd=root)


# --- the seed ---------------------------------------------------------------------------------


def test_seed_bug_is_fixed_end_to_end(run_cli, tmp_path):
    root = seed_copy(tmp_path)
    server = root / "fedapp" / "server.py"
    before = server.read_text(encoding="utf-8")
    others = {k: v for k, v in snapshot(root).items() if k != "fedapp/server.py"}

    result = fix(run_cli, root)

    assert result.exit_code == 0
    assert result.stderr == "Fixed 1 of 1 FCL001 findings (1 file).\n"
    assert result.output == "All checks passed (4 files analysed).\n10 of 10 call sites resolved.\n"
    after = server.read_text(encoding="utf-8")
    # exactly line 38 changed, and it is the recommended fix: rpc_fix minus the comment it adds
    assert before.splitlines(keepends=True)[37] == BEFORE_LINE
    assert after == before.replace(BEFORE_LINE, AFTER_LINE)
    rpc_fix = (SEED / "rpc_fix" / "fedapp" / "server.py").read_text(encoding="utf-8")
    assert after == rpc_fix.replace("            # RPC: the client's reply proves that SHUTDOWN was delivered.\n", "")
    assert {k: v for k, v in snapshot(root).items() if k != "fedapp/server.py"} == others  # untouched
    clean = run_cli(["check", "--format", "json", "--no-cache"], cwd=root)
    assert clean.exit_code == 0
    assert clean.json["findings"] == []


def test_diff_prints_the_fix_and_writes_nothing(run_cli, tmp_path):
    root = seed_copy(tmp_path)
    files = snapshot(root)

    result = run_cli(["check", "--diff", "--no-cache"], cwd=root)

    assert result.exit_code == 1  # the finding is still there: nothing was written
    assert result.output == (
        "--- fedapp/server.py\n"
        "+++ fedapp/server.py\n"
        "@@ -35,7 +35,7 @@\n"
        "     async def shutdown(self):\n"
        "         shutdown_message = {\"reason\": \"training finished\"}\n"
        "         for client_id in self.clients:\n"
        "-" + BEFORE_LINE + "+" + AFTER_LINE +
        "                 client_id, \"SHUTDOWN\", shutdown_message\n"
        "             )\n"
        " \n"
    )
    assert result.stderr == "Would fix 1 of 1 FCL001 findings (1 file).\n"
    assert snapshot(root) == files


def test_the_diff_applies_with_patch(run_cli, tmp_path):
    patch = shutil.which("patch")
    if patch is None:
        pytest.skip("no `patch` program")
    root = seed_copy(tmp_path)
    diff = run_cli(["check", "--diff", "--no-cache"], cwd=root).output
    fixed = seed_copy(tmp_path / "fixed")
    fix(run_cli, fixed)

    import subprocess

    subprocess.run([patch, "-p0", "--quiet"], input=diff.encode(), cwd=root, check=True)
    assert (root / "fedapp/server.py").read_bytes() == (fixed / "fedapp/server.py").read_bytes()


def test_fixing_is_idempotent(run_cli, tmp_path):
    root = seed_copy(tmp_path)
    fix(run_cli, root)
    files = snapshot(root)

    again = fix(run_cli, root)

    assert again.exit_code == 0
    assert again.stderr == "Fixed 0 of 0 FCL001 findings (0 files).\n"
    assert snapshot(root) == files
    assert run_cli(["check", "--diff", "--no-cache"], cwd=root).output == ""


def test_fix_with_json_keeps_stdout_a_json_report(run_cli, tmp_path):
    root = seed_copy(tmp_path)

    result = fix(run_cli, root, "--format", "json")

    assert result.exit_code == 0
    assert result.json["findings"] == []
    assert result.stderr == "Fixed 1 of 1 FCL001 findings (1 file).\n"


def test_diff_cannot_be_json(run_cli, tmp_path):
    root = seed_copy(tmp_path)
    result = run_cli(["check", "--diff", "--format", "json"], cwd=root)

    assert result.exit_code == 2
    assert "--diff prints a unified diff: it cannot be used with --format json" in result.stderr


# --- the file keeps what it was -------------------------------------------------------------


SERVER = (
    "async def stop(comm, cid):\n"
    "    await comm.send_control_message(cid, \"SHUTDOWN\", {})\n"
)


def fixed_bytes(data: bytes) -> bytes:
    return data.replace(b"send_control_message", b"send_business_message")


def test_crlf_line_endings_stay_crlf(run_cli, tmp_path):
    original = b"# server\r\n\r\n" + SERVER.replace("\n", "\r\n").encode()
    write_project(tmp_path, {"client.py": CLIENT, "server.py": original})

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    after = (tmp_path / "server.py").read_bytes()
    assert after == fixed_bytes(original)
    assert after.count(b"\r\n") == after.count(b"\n") == 4


def test_latin1_file_with_a_coding_cookie_stays_latin1(run_cli, tmp_path):
    original = ("# -*- coding: latin-1 -*-\n# arrêt du café\n" + SERVER).encode("latin-1")
    write_project(tmp_path, {"client.py": CLIENT, "server.py": original})

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    after = (tmp_path / "server.py").read_bytes()
    assert after == fixed_bytes(original)
    assert "arrêt du café".encode("latin-1") in after


def test_a_byte_order_mark_stays(run_cli, tmp_path):
    original = b"\xef\xbb\xbf# caf\xc3\xa9\n" + SERVER.encode()
    write_project(tmp_path, {"client.py": CLIENT, "server.py": original})

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert (tmp_path / "server.py").read_bytes() == fixed_bytes(original)


def test_permissions_are_preserved(run_cli, tmp_path):
    write_project(tmp_path, {"client.py": CLIENT, "server.py": SERVER})
    os.chmod(tmp_path / "server.py", 0o754)

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert stat.S_IMODE((tmp_path / "server.py").stat().st_mode) == 0o754
    assert (tmp_path / "server.py").read_text() == SERVER.replace("send_control_message", "send_business_message")


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path):
    from fedcl_lint.files import replace_atomically

    previous = os.umask(0o027)
    try:
        replace_atomically(tmp_path / "report.txt", b"report\n")
    finally:
        os.umask(previous)

    assert stat.S_IMODE((tmp_path / "report.txt").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]  # no temporary file left


def test_a_symlinked_file_is_fixed_through_the_link(run_cli, tmp_path):
    real = tmp_path / "elsewhere" / "server_impl.py"
    real.parent.mkdir()
    real.write_text(SERVER)
    project = write_project(tmp_path / "project", {"client.py": CLIENT})
    (project / "server.py").symlink_to(real)

    result = fix(run_cli, project)

    assert result.exit_code == 0
    assert (project / "server.py").is_symlink()
    assert real.read_text() == SERVER.replace("send_control_message", "send_business_message")


def test_comments_and_odd_formatting_inside_the_call_are_preserved(run_cli, tmp_path):
    server = (
        "async def stop(comm, cid):\n"
        "    await comm .  send_control_message  (  # why: training is over\n"
        "        cid,   # the client\n"
        "        # the type, on its own line:\n"
        "        \"SHUTDOWN\" ,\n"
        "\n"
        "        {}  ,  # no data\n"
        "    )  # done\n"
        "\n"
        "\n"
        "async def stop_all(comm, cids):\n"
        "    for cid in cids: await comm.\\\n"
        "            send_control_message(cid, 'SHUTDOWN', {\"why\": \"send_control_message\"})\n"
    )
    write_project(tmp_path, {"client.py": CLIENT, "server.py": server})

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert result.stderr == "Fixed 2 of 2 FCL001 findings (1 file).\n"
    assert (tmp_path / "server.py").read_text() == (
        "async def stop(comm, cid):\n"
        "    await comm .  send_business_message  (  # why: training is over\n"
        "        cid,   # the client\n"
        "        # the type, on its own line:\n"
        "        \"SHUTDOWN\" ,\n"
        "\n"
        "        {}  ,  # no data\n"
        "    )  # done\n"
        "\n"
        "\n"
        "async def stop_all(comm, cids):\n"
        "    for cid in cids: await comm.\\\n"
        "            send_business_message(cid, 'SHUTDOWN', {\"why\": \"send_control_message\"})\n"
    )


def test_keyword_arguments_are_carried_over(run_cli, tmp_path):
    server = (
        "async def stop(comm, cid):\n"
        "    await comm.send_control_message(data={}, message_type=\"SHUTDOWN\", target=cid, timeout=3)\n"
        "    await comm.send_control_message(cid, message_type=\"SHUTDOWN\", data={})\n"
    )
    write_project(tmp_path, {"client.py": CLIENT, "server.py": server})

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert (tmp_path / "server.py").read_text() == server.replace("send_control_message", "send_business_message")


def test_several_files_and_a_send_nested_in_another(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": CLIENT + "    comm.register_message_handler(\"PAUSE\", on_shutdown)\n",
        "a.py": (
            "async def stop(comm, cid):\n"
            "    await comm.send_control_message(cid, \"SHUTDOWN\",\n"
            "                                    await comm.send_control_message(cid, \"PAUSE\", {}))\n"
        ),
        "b.py": "async def pause(comm, cid):\n    await comm.send_control_message(cid, \"PAUSE\", {})\n",
    })

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert result.stderr == "Fixed 3 of 3 FCL001 findings (2 files).\n"
    assert (tmp_path / "a.py").read_text() == (
        "async def stop(comm, cid):\n"
        "    await comm.send_business_message(cid, \"SHUTDOWN\",\n"
        "                                    await comm.send_business_message(cid, \"PAUSE\", {}))\n"
    )
    assert (tmp_path / "b.py").read_text() == (
        "async def pause(comm, cid):\n    await comm.send_business_message(cid, \"PAUSE\", {})\n"
    )


def test_an_rpc_send_handled_by_events_becomes_an_event(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": EVENT_CLIENT,
        "server.py": "async def stop(comm, cid):\n    await comm.send_business_message(cid, \"SHUTDOWN\", {})\n",
    })

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert (tmp_path / "server.py").read_text() == SERVER


# --- what is left alone, and why --------------------------------------------------------------


def test_policy_asking_for_the_handlers_to_change_is_left_with_a_note(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": "[tool.fedcl-lint.protocol]\nSHUTDOWN = \"event\"\n",
        "client.py": CLIENT,
        "server.py": SERVER,
    })
    files = snapshot(tmp_path)

    result = fix(run_cli, tmp_path, "--format", "json")

    assert result.exit_code == 1
    assert result.stderr == (
        "Fixed 0 of 1 FCL001 findings (0 files).\n"
        "    server.py:2:11: not fixed: the protocol policy declares `SHUTDOWN` as event, so the handlers are "
        "what should change (to event); --fix only rewrites sends\n"
    )
    assert findings_of(result.json) == [("FCL008", "SHUTDOWN", "client.py", 2), ("FCL001", "SHUTDOWN", "server.py", 2)]
    assert snapshot(tmp_path) == files


def test_policy_agreeing_with_the_handlers_is_fixed(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": "[tool.fedcl-lint.protocol]\nSHUTDOWN = \"rpc\"\n",
        "client.py": CLIENT,
        "server.py": SERVER,
    })

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert result.stderr == "Fixed 1 of 1 FCL001 findings (1 file).\n"
    assert (tmp_path / "server.py").read_text() == SERVER.replace(
        "send_control_message", "send_business_message"
    )


def test_policy_given_to_the_api_directly(tmp_path):
    from fedcl_lint.actions.fix import plan_fixes
    from fedcl_lint.types import Mechanism
    from fedcl_lint.workflow.pipeline import analyze

    write_project(tmp_path, {"client.py": CLIENT, "server.py": SERVER})
    analysis = analyze(["."], cwd=tmp_path, policy={"SHUTDOWN": Mechanism.EVENT})

    plan = plan_fixes(analysis)

    assert (plan.total, plan.fixed, plan.files) == (1, 0, ())
    [unfixed] = plan.unfixed
    assert (str(unfixed.location), unfixed.reason) == (
        "server.py:2:11", "the protocol policy declares `SHUTDOWN` as event, so the handlers are what should "
        "change (to event); --fix only rewrites sends"
    )


LEFT_WITH_NOTES = {
    "push-event": (
        {
            "client.py": CLIENT,
            "server.py": (
                "async def stop(transport, cid):\n    await transport.push_event(\"server\", cid, \"SHUTDOWN\", {})\n"
            ),
        },
        "Fixed 0 of 1 FCL001 findings (0 files).\n"
        "    server.py:2:11: not fixed: `push_event(source, target, event_type, data)` is called on the "
        "transport, which has no `send_business_message`: send the message with the communication manager's "
        "`send_business_message(target, message_type, data)` instead.\n",
    ),
    "wrappers-payloads-unmappable-arguments": (
        {
            "client.py": CLIENT + "    comm.register_message_handler(\"PAUSE\", on_shutdown)\n",
            "events.py": (
                "def listen(transport, on_event):\n"
                "    transport.register_event_listener(\"me\", \"RESUME\", on_event)\n"
            ),
            "server.py": (
                "class Server:\n"
                "    async def notify(self, cid, kind):\n"
                "        await self.comm.send_control_message(cid, kind, {})\n"
                "\n"
                "    async def stop(self, cid, extra):\n"
                "        await self.notify(cid, \"SHUTDOWN\")\n"
                "        await self.comm.send_control_message(cid, \"SHUTDOWN\", **extra)\n"
                "        await self.comm.send_control_message(cid, \"PAUSE\", {}, priority=1)\n"
                "        return await self.transport.send(\"me\", cid, {\"message_type\": \"RESUME\", \"data\": {}})\n"
            ),
        },
        "Fixed 0 of 4 FCL001 findings (0 files).\n"
        "    server.py:6:15: not fixed: `notify` is a wrapper (Server.notify -> send_control_message): change the "
        "send inside it, or its callers, by hand\n"
        "    server.py:7:15: not fixed: the call passes `*args` or `**kwargs`, which the rewrite cannot map\n"
        "    server.py:8:15: not fixed: the call passes `priority=`, which the rule pack does not map onto "
        "`send_business_message`\n"
        "    server.py:9:22: not fixed: `send` sends a message object, which no rewrite of its arguments moves to "
        "another mechanism: change it by hand\n",
    ),
}


@pytest.mark.parametrize(("files", "notes"), LEFT_WITH_NOTES.values(), ids=LEFT_WITH_NOTES)
def test_sends_the_rewrite_cannot_map_are_left_with_notes(run_cli, tmp_path, files, notes):
    write_project(tmp_path, files)
    before = snapshot(tmp_path)

    result = fix(run_cli, tmp_path)

    assert (result.exit_code, result.stderr) == (1, notes)
    assert snapshot(tmp_path) == before


def test_a_suppressed_finding_is_not_fixed(run_cli, tmp_path):
    server = SERVER.replace("{})\n", "{})  # fedcl-lint: ignore[FCL001] on purpose\n")
    write_project(tmp_path, {"client.py": CLIENT, "server.py": server})

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 0
    assert result.stderr == "Fixed 0 of 0 FCL001 findings (0 files).\n"
    assert (tmp_path / "server.py").read_text() == server


# --- a pack of another API: positions move, keywords are renamed -----------------------------


NODE_PACK = """
[pack]
name = "mesh"

[[calls]]
name = "ask"
role = "send"
mechanism = "rpc"
message_type = { position = 1, keyword = "method" }
coroutine = true

[[calls]]
name = "tell"
role = "send"
mechanism = "event"
message_type = { position = 0, keyword = "topic" }
coroutine = true

[[calls]]
name = "answer"
role = "handle"
mechanism = "rpc"
message_type = { position = 0, keyword = "method" }
handler = { position = 1, keyword = "fn" }

[[rewrites]]
from = "tell"
to = "ask"
positions = [1, 0, 2]
keywords = { peer = "target", body = "payload" }
"""


def test_a_pack_can_move_positions_and_rename_keywords(run_cli, tmp_path):
    write_project(tmp_path, {
        "mesh.toml": NODE_PACK,
        "peer.py": "def setup(node, fn):\n    node.answer(\"stop\", fn)\n",
        "boss.py": (
            "async def stop(node, peer):\n"
            "    await node.tell(\"stop\",  peer, {})  # all three\n"
            "    await node.tell(\"stop\", peer)\n"
            "    await node.tell(topic=\"stop\", peer=peer, body={})\n"
            "    await node.tell(\"stop\")\n"
        ),
    })

    result = fix(run_cli, tmp_path, "--rules", "mesh.toml")

    assert result.stderr == (
        "Fixed 3 of 4 FCL001 findings (1 file).\n"
        "    boss.py:5:11: not fixed: the rule pack would put this call's positional arguments at positions [1], "
        "leaving a gap\n"
    )
    assert (tmp_path / "boss.py").read_text() == (
        "async def stop(node, peer):\n"
        "    await node.ask(peer,  \"stop\", {})  # all three\n"
        "    await node.ask(peer, \"stop\")\n"
        "    await node.ask(method=\"stop\", target=peer, payload={})\n"
        "    await node.tell(\"stop\")\n"
    )


@pytest.mark.parametrize(
    ("rewrite", "message"),
    [
        ('from = "tell"\nto = "ask"\npositions = [0, 1, 2]\n',
         "`rewrites[0].positions`: expected argument 0 (the message type of `tell`) to go to position 1, "
         "the message type of `ask`, found [0, 1, 2]"),
        ('from = "tell"\nto = "ask"\npositions = [1, 2]\n',
         "`rewrites[0].positions`: expected a permutation of 0..n-1 (entry i: where argument i goes), "
         "like [0, 1, 2], found [1, 2]"),
        ('from = "tell"\nto = "ask"\n',
         "`rewrites[0].positions`: expected a permutation of 0..n-1 (entry i: where argument i goes), "
         "like [0, 1, 2], found nothing"),
        ('from = "tell"\nto = "answer"\npositions = [1, 0]\n',
         "`rewrites[0].to`: expected the name of a send call of the rule packs (ask, tell), found 'answer'"),
        ('from = "shout"\nto = "ask"\npositions = [1, 0]\n',
         "`rewrites[0].from`: expected the name of a send call of the rule packs (ask, tell), found 'shout'"),
        ('from = "tell"\nto = "tell"\npositions = [0]\n',
         "`rewrites[0].to`: expected a send on the other mechanism than `tell` (event), found 'tell'"),
        ('from = "tell"\nto = "ask"\npositions = [1, 0]\nkeywords = { topic = "method" }\n',
         "`rewrites[0].keywords.topic`: expected no entry: the message type's keyword is renamed from the two "
         "calls' `message_type`, found 'method'"),
        ('from = "tell"\nto = "ask"\npositions = [1, 0]\nkeywords = { peer = "method" }\n',
         "`rewrites[0].keywords.peer`: expected a keyword other than `method`, the message type of `ask`, "
         "found 'method'"),
        ('from = "tell"\nto = "ask"\npositions = [1, 0]\nkeywords = { peer = "x", body = "x" }\n',
         "`rewrites[0].keywords`: expected distinct new names, found {'peer': 'x', 'body': 'x'}"),
        ('from = "tell"\nto = "ask"\npositions = [1, 0]\nkeywords = { peer = 1 }\n',
         "`rewrites[0].keywords.peer`: expected a parameter name, found 1"),
        ('from = "tell"\nto = "ask"\nmanual = "by hand"\n',
         "`rewrites[0]`: expected either `to` (with `positions`) or `manual` (why it is fixed by hand), "
         "found ['from', 'manual', 'to']"),
        ('from = "tell"\nmanual = "by hand"\npositions = [0]\n',
         "`rewrites[0]`: expected no `positions` or `keywords` with `manual`, found ['from', 'manual', 'positions']"),
        ('from = "tell"\nto = "ask"\npositions = [1, 0]\ncolour = 1\n',
         "unknown key `rewrites[0].colour` (allowed: from, keywords, manual, positions, to)"),
        ('to = "ask"\npositions = [1, 0]\n', "`rewrites[0].from`: expected a non-empty string, found nothing"),
    ],
)
def test_bad_rewrites_are_clear_errors(run_cli, tmp_path, rewrite, message):
    pack = NODE_PACK.split("[[rewrites]]")[0] + "[[rewrites]]\n" + rewrite
    write_project(tmp_path, {"mesh.toml": pack, "a.py": "X = 1\n"})

    result = run_cli(["check", "--rules", "mesh.toml", "--no-cache"], cwd=tmp_path)

    assert result.exit_code == 2
    assert f"mesh.toml: {message}" in result.stderr


def test_a_rewrite_must_keep_awaiting_as_it_was(run_cli, tmp_path):
    pack = NODE_PACK.replace('position = 0, keyword = "topic" }\ncoroutine = true', 'position = 0, keyword = "topic" }')
    write_project(tmp_path, {"mesh.toml": pack, "a.py": "X = 1\n"})

    result = run_cli(["check", "--rules", "mesh.toml", "--no-cache"], cwd=tmp_path)

    assert result.exit_code == 2
    assert ("`rewrites[0].to`: expected a send that is a coroutine exactly when `tell` is (awaiting would change), "
            "found 'ask'") in result.stderr


def test_a_later_pack_may_declare_rewrites_between_earlier_calls(run_cli, tmp_path):
    write_project(tmp_path, {
        "rewrites.toml": (
            "[pack]\nname = \"more\"\n"
            "[[calls]]\nname = \"unrelated\"\nrole = \"send\"\nmechanism = \"rpc\"\nmessage_type = { position = 0 }\n"
            "[[rewrites]]\nfrom = \"push_event\"\nto = \"send_business_message\"\npositions = [3, 0, 1, 2]\n"
        ),
        "a.py": "X = 1\n",
    })

    result = run_cli(["check", "--rules", "fedcl", "--rules", "rewrites.toml", "--no-cache"], cwd=tmp_path)

    # push_event's third argument (its message type) would land at position 1: accepted, the pack is consistent
    assert (result.exit_code, result.stderr, result.output) == (
        0, "", "All checks passed (1 file analysed).\n0 of 0 call sites resolved.\n")


# --- writes that fail leave the file as it was ----------------------------------------------


def test_a_read_only_folder_leaves_the_original_and_exits_2(run_cli, tmp_path, monkeypatch):
    project = write_project(tmp_path / "project", {"client.py": CLIENT, "server.py": SERVER})
    os.chmod(project, 0o555)
    try:
        if os.access(project, os.W_OK):  # root writes anyway: make the folder refuse as it would for a user
            from fedcl_lint import files

            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(files, "create_temporary", refuse)
        files = snapshot(project)

        result = fix(run_cli, project)
    finally:
        os.chmod(project, 0o755)

    assert result.exit_code == 2
    assert result.stderr == (
        "Fixed 0 of 1 FCL001 findings (0 files).\n"
        "error: server.py: cannot write: Permission denied; the file is unchanged (1 fix not applied)\n"
    )
    assert findings_of(run_cli(["check", "--format", "json", "--no-cache"], cwd=project).json) == [
        ("FCL001", "SHUTDOWN", "server.py", 2)
    ]
    assert snapshot(project) == files


def test_a_read_only_file_is_left_alone_even_for_root(run_cli, tmp_path):
    """The atomic rename would go past a file's read-only mode: it wrote a 0444 file and exited 0."""
    project = write_project(tmp_path / "project", {"client.py": CLIENT, "server.py": SERVER})
    os.chmod(project / "server.py", 0o444)

    result = fix(run_cli, project)

    assert result.exit_code == 2
    assert result.stderr == (
        "Fixed 0 of 1 FCL001 findings (0 files).\n"
        "error: server.py: the file is read-only: not rewritten; the file is unchanged (1 fix not applied)\n"
    )
    assert (project / "server.py").read_text() == SERVER
    assert stat.S_IMODE((project / "server.py").stat().st_mode) == 0o444


def test_a_hard_linked_file_is_not_split_from_its_other_link(run_cli, tmp_path):
    project = write_project(tmp_path / "project", {"client.py": CLIENT, "server.py": SERVER})
    os.link(project / "server.py", tmp_path / "other-link.py")

    result = fix(run_cli, project)

    assert result.exit_code == 2
    assert "error: server.py: the file has 2 hard links, which a rewrite would split: not rewritten" in result.stderr
    assert (project / "server.py").read_text() == (tmp_path / "other-link.py").read_text() == SERVER
    assert (project / "server.py").stat().st_ino == (tmp_path / "other-link.py").stat().st_ino


def test_a_link_and_its_target_both_analysed_are_one_file_fixed_once(run_cli, tmp_path):
    """It wrote through one, then refused the other (changed since the analysis) and exited 2."""
    project = write_project(tmp_path / "project", {"client.py": CLIENT, "server.py": SERVER})
    (project / "alias.py").symlink_to(project / "server.py")

    result = fix(run_cli, project)

    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "Fixed 1 of 2 FCL001 findings (1 file).\n"
        "    server.py:2:11: not fixed: the same file as alias.py, fixed there\n"
    )
    assert (project / "server.py").read_text() == fixed_bytes(SERVER.encode()).decode()
    assert (project / "alias.py").is_symlink()


def test_a_failed_rename_removes_the_temporary_file(run_cli, tmp_path, monkeypatch):
    project = write_project(tmp_path, {"client.py": CLIENT, "server.py": SERVER})

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = fix(run_cli, project)
    monkeypatch.undo()

    assert result.exit_code == 2
    assert "error: server.py: cannot write: No space left on device; the file is unchanged" in result.stderr
    assert sorted(p.name for p in project.iterdir()) == ["client.py", "server.py"]
    assert (project / "server.py").read_text() == SERVER


def test_a_file_changed_since_the_analysis_is_not_overwritten(tmp_path):
    from fedcl_lint.actions.fix import apply, plan_fixes
    from fedcl_lint.workflow.pipeline import analyze

    write_project(tmp_path, {"client.py": CLIENT, "server.py": SERVER})
    plan = plan_fixes(analyze(["."], cwd=tmp_path))
    (tmp_path / "server.py").write_text(SERVER + "# edited meanwhile\n")

    [failure] = apply(plan)

    assert (failure.display, failure.reason) == ("server.py", "the file changed since it was analysed: not rewritten")
    assert (tmp_path / "server.py").read_text() == SERVER + "# edited meanwhile\n"


def test_a_file_libcst_cannot_parse_is_analysed_but_not_fixed(run_cli, tmp_path):
    """Python accepts `(name): int`; libcst does not. The send is still found, and left alone."""
    server = "(no_such_global): int\n\nasync def stop(comm):\n    await comm.send_control_message('c', 'SHUTDOWN', {})\n"
    write_project(tmp_path, {"client.py": CLIENT, "server.py": server})
    before = snapshot(tmp_path)

    result = fix(run_cli, tmp_path)

    assert result.exit_code == 1
    assert "server.py:4:11: FCL001 `SHUTDOWN` is sent as an event" in result.output
    assert result.stderr.startswith("Fixed 0 of 1 FCL001 findings (0 files).\n    server.py:4:11: not fixed: libcst cannot parse the file")
    assert snapshot(tmp_path) == before


# --- the fix each finding carries, in the reports ---------------------------------------------


def test_json_carries_the_fix_of_a_fixable_finding(run_cli, tmp_path):
    root = seed_copy(tmp_path)

    [finding] = run_cli(["check", "--format", "json", "--no-cache"], cwd=root).json["findings"]

    assert finding["fix"] == {
        "applicability": "safe",
        "message": "Replace `send_control_message` with `send_business_message`",
        "edits": [{"path": "fedapp/server.py", "line": 38, "column": 62, "end_line": 38, "end_column": 82,
                   "content": "send_business_message"}],
    }


def test_json_says_why_a_finding_has_no_fix_and_null_for_checks_that_never_fix(run_cli, tmp_path):
    write_project(tmp_path, {
        "pyproject.toml": "[tool.fedcl-lint.protocol]\nSHUTDOWN = \"event\"\n",
        "client.py": CLIENT,
        "server.py": SERVER,
    })

    findings = run_cli(["check", "--format", "json", "--no-cache"], cwd=tmp_path).json["findings"]

    assert [(f["code"], f["fix"]) for f in findings] == [
        ("FCL008", None),
        ("FCL001", {"reason": "the protocol policy declares `SHUTDOWN` as event, so the handlers are what should "
                              "change (to event); --fix only rewrites sends"}),
    ]


def test_edits_touch_only_the_name_the_moved_arguments_and_the_renamed_keywords(run_cli, tmp_path):
    write_project(tmp_path, {
        "mesh.toml": NODE_PACK,
        "peer.py": "def setup(node, fn):\n    node.answer(\"stop\", fn)\n",
        "boss.py": (
            "async def stop(node, peer):\n"
            "    await node.tell(\"stop\",  (peer), {})\n"
            "    await node.tell(topic=\"stop\", peer=peer, body={})\n"
        ),
    })

    findings = run_cli(["check", "--rules", "mesh.toml", "--format", "json", "--no-cache"], cwd=tmp_path).json

    assert [[(e["line"], e["column"], e["end_column"], e["content"]) for e in f["fix"]["edits"]]
            for f in findings["findings"]] == [
        [(2, 16, 20, "ask"), (2, 21, 27, "(peer)"), (2, 30, 36, '"stop"')],
        [(3, 16, 20, "ask"), (3, 21, 26, "method"), (3, 35, 39, "target"), (3, 46, 50, "payload")],
    ]


def apply_edits(source: str, edits: list[dict]) -> str:
    """The JSON report's edits applied by hand, from the last to the first (single-line edits)."""
    lines = source.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: (e["line"], e["column"]), reverse=True):
        assert edit["line"] == edit["end_line"]
        line = lines[edit["line"] - 1]
        lines[edit["line"] - 1] = line[: edit["column"] - 1] + edit["content"] + line[edit["end_column"] - 1 :]
    return "".join(lines)


def test_fix_applies_exactly_the_edits_the_findings_carry(run_cli, tmp_path):
    boss = (
        "async def stop(node, peer):\n"
        "    await node.tell(\"stop\",  peer, {})  # all three\n"
        "    await node.tell(\"stop\", peer)\n"
        "    await node.tell(topic=\"stop\", peer=peer, body={})\n"
    )
    write_project(tmp_path, {"mesh.toml": NODE_PACK, "peer.py": "def setup(node, fn):\n    node.answer(\"stop\", fn)\n",
                             "boss.py": boss})
    report = run_cli(["check", "--rules", "mesh.toml", "--format", "json", "--no-cache"], cwd=tmp_path).json
    edits = [edit for finding in report["findings"] for edit in finding["fix"]["edits"]]

    result = fix(run_cli, tmp_path, "--rules", "mesh.toml")

    assert result.stderr == "Fixed 3 of 3 FCL001 findings (1 file).\n"
    assert (tmp_path / "boss.py").read_text() == apply_edits(boss, edits)


def test_text_says_how_many_findings_fix_can_fix(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": CLIENT + "    comm.register_message_handler(\"PAUSE\", on_shutdown)\n",
        "server.py": (
            "async def stop(comm, t, cid):\n"
            "    await comm.send_control_message(cid, \"SHUTDOWN\", {})\n"
            "    await comm.send_control_message(cid, \"PAUSE\", {})\n"
            "    await t.push_event(\"server\", cid, \"PAUSE\", {})\n"
        ),
    })

    result = run_cli(["check", "--no-cache"], cwd=tmp_path)

    assert result.output.splitlines()[-3:] == [
        "Found 3 errors, 0 warnings, 0 infos in 2 files.",
        "[*] 2 fixable with the `--fix` option.",
        "5 of 5 call sites resolved.",
    ]


def test_no_fixable_line_when_nothing_can_be_fixed(run_cli, tmp_path):
    write_project(tmp_path, {
        "client.py": CLIENT,
        "server.py": "async def stop(t, cid):\n    await t.push_event(\"server\", cid, \"SHUTDOWN\", {})\n",
    })

    result = run_cli(["check", "--no-cache"], cwd=tmp_path)

    assert result.output.splitlines()[-2:] == [
        "Found 1 error, 0 warnings, 0 infos in 2 files.", "2 of 2 call sites resolved.",
    ]


def test_a_send_nested_in_a_moved_argument_is_fixed_by_the_next_run(run_cli, tmp_path):
    """The outer call's edits move the argument holding the inner call: the inner fix waits a run."""
    write_project(tmp_path, {
        "mesh.toml": NODE_PACK,
        "peer.py": "def setup(node, fn):\n    node.answer(\"stop\", fn)\n",
        "boss.py": "async def stop(node, peer):\n    await node.tell(\"stop\", await node.tell(\"stop\", peer))\n",
    })

    first = fix(run_cli, tmp_path, "--rules", "mesh.toml")
    middle = (tmp_path / "boss.py").read_text()
    second = fix(run_cli, tmp_path, "--rules", "mesh.toml")

    assert (first.exit_code, first.stderr) == (1, (
        "Fixed 1 of 2 FCL001 findings (1 file).\n"
        "    boss.py:2:35: not fixed: its edits overlap those of the fix at boss.py:2:11; run --fix again\n"
    ))
    assert middle.endswith("    await node.ask(await node.tell(\"stop\", peer), \"stop\")\n")
    assert (second.exit_code, second.stderr) == (0, "Fixed 1 of 1 FCL001 findings (1 file).\n")
    assert (tmp_path / "boss.py").read_text().endswith("    await node.ask(await node.ask(peer, \"stop\"), \"stop\")\n")


def test_a_file_changed_between_the_analysis_and_the_plan_is_not_fixed(tmp_path):
    from fedcl_lint.actions.fix import plan_fixes
    from fedcl_lint.workflow.pipeline import analyze

    write_project(tmp_path, {"client.py": CLIENT, "server.py": SERVER})
    analysis = analyze(["."], cwd=tmp_path)
    (tmp_path / "server.py").write_text("\n" + SERVER)  # the edits' lines and columns no longer fit

    plan = plan_fixes(analysis)

    assert (plan.total, plan.files) == (1, ())
    assert [(str(u.location), u.reason) for u in plan.unfixed] == [
        ("server.py:2:11", "the file changed since it was analysed: not rewritten")
    ]


def test_a_check_decides_fixes_without_loading_libcst(tmp_path):
    """A plain `check` reports what `--fix` can fix from Python's own tree; libcst, a tenth of a second
    to load, is left to `--fix` (which checks the rewritten file with it)."""
    import subprocess
    import sys

    root = seed_copy(tmp_path)
    script = ("import sys\nfrom fedcl_lint.cli import run\ncode = run()\n"
              "print('libcst loaded' if 'libcst' in sys.modules else 'libcst not loaded', code)\n")
    result = subprocess.run([sys.executable, "-c", script, "check", "--no-cache", "--format", "json", "."],
                            cwd=root, capture_output=True, text=True, timeout=120)

    assert result.stdout.rstrip().endswith("libcst not loaded 1"), result.stderr
    assert '"applicability": "safe"' in result.stdout


def test_the_documented_diff_of_the_seed_is_what_check_diff_prints(run_cli):
    """docs/output.md, "Fixing": the command, run from the repository root, prints the diff on standard
    output and the summary on standard error, as a terminal shows them."""
    command, _, shown = doc_block("output.md", "console", "check --diff").partition("\n")
    args = shlex.split(command.removeprefix("$ "))
    assert args[0] == "fedcl-lint"

    result = run_cli(args[1:], cwd=REPO)

    assert (result.exit_code, result.output + result.stderr) == (1, shown)
