"""fedcl-lint reads code, it never imports or runs it: a project that leaves a file behind when
imported or run is checked, tabled and fixed, and no such file appears."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES, findings_of

TRAP = FIXTURES / "never_executes"


def markers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("EXECUTED_*"))


def test_check_table_and_fix_never_execute_the_analysed_code(run_cli, tmp_path):
    assert markers(TRAP) == []  # the fixture itself was never imported either
    root = tmp_path / "project"
    shutil.copytree(TRAP, root)

    check = run_cli(["check", "--format", "json", "--no-cache"], cwd=root)
    table = run_cli(["table", "--format", "json", "--no-cache"], cwd=root)
    fixed = run_cli(["check", "--fix", "--format", "json", "--no-cache"], cwd=root)

    assert markers(root) == []
    # ... and the analysis did see the code it did not run:
    assert findings_of(check.json) == [("FCL001", "SHUTDOWN", "trap/server.py", 20)]
    sites = {
        (m["message_type"], s["role"], s["mechanism"], s["path"], s["line"])
        for m in table.json["messages"]
        for s in m["sites"]
    }
    assert sites == {
        ("SHUTDOWN", "handle", "rpc", "trap/client.py", 12),
        ("SHUTDOWN", "send", "event", "trap/server.py", 20),
        ("train", "handle", "rpc", "trap/client.py", 13),
        ("train", "send", "rpc", "trap/server.py", 17),
    }
    assert fixed.exit_code == 0
    assert fixed.stderr == "Fixed 1 of 1 FCL001 findings (1 file).\n"
    assert "send_business_message(client_id, SHUTDOWN, {})" in (root / "trap" / "server.py").read_text()
