"""`fedcl-lint diff`: protocol changes between two manifests, or against a git revision, marked breaking or not."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import FIXTURES, write_project

SEED = FIXTURES / "seed"


def manifest(run_cli, cwd, destination) -> str:
    result = run_cli(["table", "--format", "json", "--no-cache"], cwd=cwd)  # writes no cache into the fixtures
    assert result.exit_code == 0
    destination.write_text(result.output, encoding="utf-8")
    return str(destination)


def test_fixing_the_seed_bug_is_not_breaking(run_cli, tmp_path):
    old = manifest(run_cli, SEED / "bug", tmp_path / "old.json")
    new = manifest(run_cli, SEED / "rpc_fix", tmp_path / "new.json")
    result = run_cli(["diff", old, new], cwd=tmp_path)

    assert result.exit_code == 0
    assert result.output == (
        "ok        mechanism-changed  SHUTDOWN: sent on event, handled on rpc -> sent on rpc, handled on rpc\n"
        "1 protocol change, 0 breaking.\n"
    )


def test_moving_a_working_message_to_the_other_mechanism_is_breaking(run_cli, tmp_path):
    old = manifest(run_cli, SEED / "rpc_fix", tmp_path / "old.json")
    new = manifest(run_cli, SEED / "event_fix", tmp_path / "new.json")
    result = run_cli(["diff", old, new, "--format", "json"], cwd=tmp_path)

    assert result.exit_code == 1
    assert result.json == {
        "version": 1,
        "changes": [{
            "kind": "mechanism-changed",
            "message_type": "SHUTDOWN",
            "breaking": True,
            "description": "sent on rpc, handled on rpc -> sent on event, handled on event; "
                           "rpc and event no longer work with peers running the old code",
        }],
        "summary": {"changes": 1, "breaking": 1},
    }


def test_identical_protocols_with_moved_code_have_no_changes(run_cli, tmp_path):
    old = manifest(run_cli, SEED / "bug", tmp_path / "old.json")
    app = tmp_path / "app"
    shutil.copytree(SEED / "bug", app)
    server = app / "fedapp" / "server.py"
    server.write_text("# moved\n\n" + server.read_text(encoding="utf-8"), encoding="utf-8")
    new = manifest(run_cli, app, tmp_path / "new.json")

    result = run_cli(["diff", old, new], cwd=tmp_path)
    assert (result.exit_code, result.output) == (0, "No protocol changes.\n")


BEFORE = {
    "server.py": """
        async def go(cm, cid):
            await cm.send_business_message(cid, "TRAIN", {})
            await cm.send_business_message(cid, "STOP", {})
            await cm.send_control_message(cid, "OLD_EVENT", {})
            await cm.send_business_message(cid, "NEVER_HANDLED", {})
    """,
    "client.py": """
        def setup(cm, transport, h):
            cm.register_message_handler("TRAIN", h)
            cm.register_message_handler("STOP", h)
            transport.register_event_listener("c", "OLD_EVENT", h)
    """,
}
AFTER = {
    "server.py": """
        async def go(cm, cid):
            await cm.send_business_message(cid, "TRAIN", {})
            await cm.send_business_message(cid, "STOP", {})
            await cm.send_business_message(cid, "PING", {})
    """,
    "client.py": """
        def setup(cm, transport, h):
            cm.register_message_handler("TRAIN", h)
            cm.register_message_handler("PING", h)
    """,
}


def test_added_removed_and_handler_removed(run_cli, tmp_path):
    old = manifest(run_cli, write_project(tmp_path / "before", BEFORE), tmp_path / "old.json")
    new = manifest(run_cli, write_project(tmp_path / "after", AFTER), tmp_path / "new.json")
    result = run_cli(["diff", old, new], cwd=tmp_path)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "ok        removed          NEVER_HANDLED: no longer sent or handled (was rpc)",
        "BREAKING  removed          OLD_EVENT: no longer sent or handled (was event); "
        "peers running the old code may still send it",
        "ok        added            PING: new message type, rpc",
        "BREAKING  handler-removed  STOP: the rpc handler was removed but it is still sent on rpc at server.py:4:11",
        "4 protocol changes, 2 breaking.",
    ]


def test_a_sender_removed_while_its_handler_stays_is_not_breaking(run_cli, tmp_path):
    """Peers running the old code still send STOP over rpc, and the new code still handles it."""
    handler = "def setup(cm, h):\n    cm.register_message_handler('STOP', h)\n"
    sender = "async def stop(cm):\n    await cm.send_business_message('peer', 'STOP', {})\n"
    old = manifest(run_cli, write_project(tmp_path / "before", {"client.py": handler, "server.py": sender}),
                   tmp_path / "old.json")
    new = manifest(run_cli, write_project(tmp_path / "after", {"client.py": handler}), tmp_path / "new.json")
    result = run_cli(["diff", old, new], cwd=tmp_path)

    assert (result.exit_code, result.output.splitlines()) == (0, [
        "ok        mechanism-changed  STOP: sent on rpc, handled on rpc -> sent on nothing, handled on rpc",
        "1 protocol change, 0 breaking.",
    ])


SITE = {"role": "send", "mechanism": "rpc", "path": "a.py", "line": 1, "column": 1}


def one_site(**fields: object) -> str:
    """A manifest of one message type sent at SITE, with `fields` on top of SITE's."""
    return json.dumps({"version": 1, "messages": [{"message_type": "X", "sites": [{**SITE, **fields}]}]})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "bad.json: invalid JSON"),
        ('{"version": 1, "findings": []}', "bad.json: `messages`: expected an array"),
        ('{"version": 3, "messages": []}', "bad.json: not a fedcl-lint protocol manifest"),
        ('{"version": 1, "messages": [{"message_type": "X", "sites": [{"role": "shout"}]}]}',
         "bad.json: `messages[0].sites[0]`: expected role, mechanism, path, line and column"),
        ('{"version": 1, "messages": [{"message_type": "X", "sites": null}]}',
         "bad.json: `messages[0].sites`: expected an array"),
        # the parts `diff` does not compare are read too, into the same protocol model
        (one_site(line="1"), "bad.json: `messages[0].sites[0]`: expected role, mechanism, path, line and column"),
        (one_site(api=3), "bad.json: `messages[0].sites[0].api`: expected a string or null"),
        (one_site(resolution=[{"step": "s", "path": "a.py"}]),
         "bad.json: `messages[0].sites[0].resolution[0]`: expected a `step`, with all of path, line and column"),
        ('{"version": 1, "messages": [], "unresolved": {}}', "bad.json: `unresolved`: expected an array"),
        (json.dumps({"version": 1, "messages": [], "unresolved": [{**SITE, "reason": 7}]}),
         "bad.json: `unresolved[0].reason`: expected a string or null"),
        ('{"version": 1, "messages": [], "wrappers": [{"function": "f"}]}',
         "bad.json: `wrappers[0]`: expected function, role, mechanism, path, line and column"),
    ],
)
def test_a_file_that_is_not_a_manifest_is_a_usage_error(run_cli, tmp_path, content, message):
    good = manifest(run_cli, SEED / "bug", tmp_path / "good.json")
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    result = run_cli(["diff", good, "bad.json"], cwd=tmp_path)

    assert result.exit_code == 2
    assert message in result.stderr


def test_a_manifest_with_only_what_diff_compares_still_reads(run_cli, tmp_path):
    """Manifests written before `via` and `wrappers` existed, or by hand, hold less: what they lack is empty."""
    full = manifest(run_cli, SEED / "bug", tmp_path / "full.json")
    document = json.loads((tmp_path / "full.json").read_text(encoding="utf-8"))
    kept = ("role", "mechanism", "path", "line", "column")
    bare = {
        "version": 1,
        "messages": [
            {"message_type": m["message_type"], "sites": [{k: s[k] for k in kept} for s in m["sites"]]}
            for m in document["messages"]
        ],
    }
    (tmp_path / "bare.json").write_text(json.dumps(bare), encoding="utf-8")
    result = run_cli(["diff", "bare.json", full], cwd=tmp_path)

    assert (result.exit_code, result.output) == (0, "No protocol changes.\n")


def test_diff_needs_two_manifests_or_a_base(run_cli, tmp_path):
    result = run_cli(["diff", "only.json"], cwd=tmp_path)

    assert result.exit_code == 2
    assert "give two manifests, OLD.json NEW.json, or --base REV [PATHS]" in result.stderr


def git(cwd, *args):
    return subprocess.run(
        ["git", "-c", "user.name=fedcl-lint tests", "-c", "user.email=tests@fedcl-lint.invalid",
         "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    )


def test_base_revision_is_read_from_git_without_touching_the_repository(run_cli, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SEED / "rpc_fix", repo / "src")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rpc")
    shutil.rmtree(repo / "src")
    shutil.copytree(SEED / "event_fix", repo / "src")
    status_before = git(repo, "status", "--porcelain").stdout

    result = run_cli(["diff", "--base", "HEAD"], cwd=repo)
    assert result.exit_code == 1
    assert result.output.startswith("BREAKING  mechanism-changed  SHUTDOWN: sent on rpc, handled on rpc -> ")

    # With paths, run from a subfolder: the same relative paths at the base revision; an
    # absolute path of the working tree means the same place in the revision.
    assert run_cli(["diff", "--base", "HEAD", "fedapp"], cwd=repo / "src").exit_code == 1
    absolute = run_cli(["diff", "--base", "HEAD", str(repo / "src" / "fedapp")], cwd=tmp_path / "repo")
    assert (absolute.exit_code, absolute.output) == (1, result.output)
    outside = run_cli(["diff", "--base", "HEAD", str(tmp_path)], cwd=repo)
    assert (outside.exit_code, outside.stderr.splitlines()[-1]) == (
        2, f"Error: --base HEAD: {tmp_path} is outside the git repository"
    )
    relative = run_cli(["diff", "--base", "HEAD", ".."], cwd=repo)  # the same place, named relatively
    assert (relative.exit_code, relative.stderr.splitlines()[-1]) == (
        2, "Error: --base HEAD: .. is outside the git repository"
    )
    assert git(repo, "status", "--porcelain").stdout == status_before
    assert git(repo, "stash", "list").stdout == ""

    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "events")
    clean = run_cli(["diff", "--base", "HEAD", "--format", "json"], cwd=repo)
    assert (clean.exit_code, clean.json["changes"]) == (0, [])


def test_bad_base_revision_is_a_usage_error(run_cli, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SEED / "rpc_fix", repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "rpc")

    result = run_cli(["diff", "--base", "no-such-rev"], cwd=repo)
    assert result.exit_code == 2
    assert "--base no-such-rev:" in result.stderr

    outside = run_cli(["diff", "--base", "HEAD"], cwd=tmp_path)
    assert outside.exit_code == 2
    assert "not a git repository" in outside.stderr


def test_files_the_repository_excludes_are_excluded_at_the_base_too(run_cli, tmp_path):
    """`.git/info/exclude` is not versioned: the revision's copy must honour it as the working tree does."""
    repo = tmp_path / "repo"
    shutil.copytree(SEED / "rpc_fix", repo)
    (repo / "extra.py").write_text("def setup(cm, h):\n    cm.register_message_handler('EXTRA', h)\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "with extra.py")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("extra.py\n")

    result = run_cli(["diff", "--base", "HEAD", "--no-cache"], cwd=repo)

    assert (result.exit_code, result.output) == (0, "No protocol changes.\n")
