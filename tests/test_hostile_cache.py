"""A repository that commits a hostile cache folder, checked out and checked as CI does (a fresh clone,
`fedcl-lint check` in a child process): nothing outside the project is written, and nothing in the
cache that this user did not write is believed (fedcl_lint/analysis/cache_folder.py)."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from fedcl_lint.analysis.cache import FactCache
from fedcl_lint.analysis.cache_folder import CacheFolder
from fedcl_lint.analysis.facts import ModuleFacts
from fedcl_lint.settings.config import CACHE_DIR_NAME
from fedcl_lint.settings.rulepack import load_packs
from fedcl_lint.workflow import replay

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
SEED_FINDING = "fedapp/server.py:38:19: FCL001"
HIDDEN = '{"findings": []}\n'


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def _fedcl(cwd: Path, key_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`fedcl-lint check` as CI runs it: its own process, its own user cache (the key's home)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(key_home)}
    env.pop("FEDCL_LINT_CACHE_DIR", None)  # the default cache folder: the one the repository commits
    return subprocess.run([sys.executable, "-m", "fedcl_lint", "check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _commit_and_check_out_again(repository: Path) -> None:
    """Commit everything (the cache folder's own `.gitignore` notwithstanding), then replace the work
    tree by a fresh clone at the same path, as a CI runner does."""
    _git("init", "-q", cwd=repository)
    _git("add", "-A", "-f", ".", cwd=repository)
    _git("commit", "-q", "-m", "hostile", cwd=repository)
    origin = repository.with_name("origin")
    shutil.move(str(repository), str(origin))
    _git("clone", "-q", str(origin), str(repository), cwd=origin.parent)


@pytest.fixture
def repository(tmp_path):
    """The seed's buggy app (its SHUTDOWN bug is an FCL001) in a folder CI will check out."""
    repository = tmp_path / "work" / "repo"
    shutil.copytree(FIXTURES / "seed" / "bug", repository)
    return repository


def test_committed_links_in_the_cache_folder_are_never_written_through(repository, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("precious\n")
    cache = repository / CACHE_DIR_NAME
    cache.mkdir()
    facts_name = FactCache(cache, load_packs(["fedcl"])).path.name  # predictable: version, Python, pack
    (cache / facts_name).symlink_to(victim)
    (cache / ".gitignore").symlink_to(outside / "created-by-a-dangling-link")
    (cache / "runs").symlink_to(outside, target_is_directory=True)
    _commit_and_check_out_again(repository)

    result = _fedcl(repository, tmp_path / "ci-user", "--format", "json")

    assert result.returncode == 1, result.stderr
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]


def test_a_cache_folder_that_is_a_link_is_refused_and_said_once(repository, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (repository / CACHE_DIR_NAME).symlink_to(elsewhere, target_is_directory=True)
    _commit_and_check_out_again(repository)

    result = _fedcl(repository, tmp_path / "ci-user", "--format", "json")

    assert result.returncode == 1
    assert list(elsewhere.iterdir()) == []
    assert result.stderr.count("warning: not using the cache folder") == 1
    assert result.stderr.strip().endswith(f"{CACHE_DIR_NAME}: it is a symbolic link")


def test_a_cache_written_by_someone_else_is_never_believed(repository, tmp_path, monkeypatch, run_cli):
    """The attacker runs fedcl-lint on the same path with their own key, then tampers with what it
    wrote: empty facts for every module, and a run record that replays "no findings" whatever the
    files. On their own machine that hides the bug; on CI's, every such file is a miss."""
    with monkeypatch.context() as attackers_machine:
        attackers_machine.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker"))
        attackers_machine.delenv("FEDCL_LINT_CACHE_DIR", raising=False)
        attackers_machine.setattr(replay, "RACY_SECONDS", 0.0)  # record at once, however new the files
        assert run_cli(["check", "--format", "json"], cwd=repository).exit_code == 1
        _tamper(repository / CACHE_DIR_NAME)
        replayed = run_cli(["check", "--format", "json"], cwd=repository)
        from_facts = run_cli(["check", "--format", "sarif"], cwd=repository)  # no record: the facts
        assert (replayed.exit_code, replayed.output) == (0, HIDDEN)  # the tampering works, for them
        assert from_facts.exit_code == 0 and from_facts.json["runs"][0]["results"] == []
    _commit_and_check_out_again(repository)

    replay_attempt = _fedcl(repository, tmp_path / "ci-user", "--format", "json")
    facts_attempt = _fedcl(repository, tmp_path / "ci-user")

    assert replay_attempt.returncode == facts_attempt.returncode == 1
    assert '"code": "FCL001"' in replay_attempt.stdout
    assert SEED_FINDING in facts_attempt.stdout


def _tamper(cache: Path) -> None:
    """Empty facts for every module, and every run record made to replay an empty report."""
    facts = FactCache(cache, load_packs(["fedcl"]))
    for path in (cache.parent / "fedapp").glob("*.py"):
        facts.put(FactCache.key(path.read_bytes()), ModuleFacts())
    facts.save()
    runs = CacheFolder(cache / "runs", top=cache)
    for record in (cache / "runs").glob("*.pickle"):
        key, _statuses, skipped, names, _outcome = pickle.loads(runs.read(record.name, 1 << 24))
        assert runs.write(record.name, pickle.dumps((key, [], skipped, names, (HIDDEN, 0, None))))
