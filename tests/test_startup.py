"""What a `check` loads. On a small project start-up is most of a run, so what only some runs need
is loaded by those runs alone: the replay of unchanged runs and the fact cache (hashing, pickling)
by a run with a cache, rich by a report drawn on a terminal, difflib by a finding that suggests a
name, hashlib by a fix or a fingerprint, json by a JSON report; and no dataclass is compiled."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import FIXTURES

_ON_DEMAND = ("dataclasses", "difflib", "hashlib", "json", "pickle", "rich", "fedcl_lint.workflow.replay",
              "fedcl_lint.analysis.cache")
_SCRIPT = ("import sys\nfrom fedcl_lint.cli import run\ncode = run()\n"
           f"print('loaded:', *sorted(set(sys.modules) & set({_ON_DEMAND!r})), code)\n")


@pytest.mark.parametrize(("output_format", "loaded"), [("text", "loaded: 0"), ("json", "loaded: json 0")])
def test_a_check_without_cache_loads_only_what_it_needs(output_format, loaded):
    """A project without findings, its report to a pipe."""
    result = subprocess.run([sys.executable, "-c", _SCRIPT, "check", "--no-cache", "--format", output_format, "."],
                            cwd=FIXTURES / "seed" / "rpc_fix", capture_output=True, text=True, timeout=120)

    assert result.stdout.rstrip().rsplit("\n", 1)[-1] == loaded, result.stderr
