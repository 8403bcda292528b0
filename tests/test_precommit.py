"""pre-commit: the shipped hook, run for real with `pre-commit try-repo` against a copy of this repository.

pre-commit builds the hook's virtual environment with pip (from PyPI), which
takes a few seconds to a minute; the hook then analyses the whole repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, doc_block

REPO = FIXTURES.parent.parent
SEED = FIXTURES / "seed"
# What `pip install .` needs to build the hook's environment.
SHIPPED = ("fedcl_lint", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=fedcl-lint tests", "-c", "user.email=tests@fedcl-lint.invalid",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, check=True, capture_output=True,
    )


def commit_tree(folder: Path) -> Path:
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "snapshot")
    return folder


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1", "NO_COLOR": "1"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """A committed copy of this repository's shipped files: what `rev:` would point at."""
    copy = tmp_path_factory.mktemp("fedcl-lint-repo")
    for name in SHIPPED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, copy / name)
    return commit_tree(copy)


def project(tmp_path: Path, fixture: str) -> Path:
    target = tmp_path / "project"
    shutil.copytree(SEED / fixture, target)
    return commit_tree(target)


def test_manifest_declares_a_whole_repository_hook():
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))

    assert hook["id"] == "fedcl-lint"
    assert hook["entry"] == "fedcl-lint check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False  # the protocol is cross-file: never just the changed files
    assert hook["always_run"] is True


def test_manifest_is_valid_for_pre_commit(tmp_path):
    result = pre_commit("validate-manifest", str(REPO / ".pre-commit-hooks.yaml"), cwd=tmp_path, home=tmp_path / "h")

    assert result.returncode == 0, result.stdout + result.stderr


def test_try_repo_passes_on_a_clean_project(hook_repo, tmp_path):
    result = pre_commit("try-repo", str(hook_repo), "fedcl-lint", "--all-files", "--color", "never",
                        cwd=project(tmp_path, "rpc_fix"), home=tmp_path / "home")

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^fedcl-lint\.+Passed$", result.stdout, flags=re.M), result.stdout


def test_try_repo_fails_on_the_seed_bug_and_shows_the_finding(hook_repo, tmp_path):
    target = project(tmp_path, "bug")
    # Only an unrelated file changes: the hook still analyses the whole repository.
    (target / "NOTES.txt").write_text("release notes\n", encoding="utf-8")
    git(target, "add", "NOTES.txt")
    result = pre_commit("try-repo", str(hook_repo), "fedcl-lint", "--color", "never", cwd=target, home=tmp_path / "home")

    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^fedcl-lint\.+Failed$", result.stdout, flags=re.M), result.stdout
    assert "fedapp/server.py:38:19: FCL001 `SHUTDOWN` is sent as an event" in result.stdout


def test_readme_pre_commit_snippet_runs_the_hook(hook_repo, tmp_path):
    snippet = doc_block("README.md", "yaml", "repos:")
    [repo] = yaml.safe_load(snippet)["repos"]
    [hook] = repo["hooks"]
    assert hook["id"] in {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}

    # The snippet as a user writes it, pointed at the local copy instead of the published repository.
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True, check=True)
    local = snippet.replace(repo["repo"], str(hook_repo)).replace(str(repo["rev"]), head.stdout.strip())
    target = project(tmp_path, "bug")
    (target / ".pre-commit-config.yaml").write_text(local, encoding="utf-8")
    assert pre_commit("validate-config", ".pre-commit-config.yaml", cwd=target, home=tmp_path / "home").returncode == 0
    result = pre_commit("run", "--all-files", "--color", "never", cwd=target, home=tmp_path / "home")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "fedapp/server.py:38:19: FCL001 `SHUTDOWN` is sent as an event" in result.stdout
