"""Gitignore-style globs: git's own answers, and no pattern can hang a run (fedcl_lint/settings/globs.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import findings_of, write_project
from fedcl_lint.settings.globs import glob_spec

# (pattern, path, ignored?); a path ending in "/" is a folder
CASES = [
    ("*.py", "a.py", True), ("*.py", "pkg/deep/a.py", True), ("*.py", "a.pyc", False),
    ("build/", "build/", True), ("build/", "build", False), ("build/", "src/build/x.py", True),
    ("/build", "build/x.py", True), ("/build", "src/build/x.py", False),
    ("a/*.py", "a/x.py", True), ("a/*.py", "b/a/x.py", False), ("a/*.py", "a/b/x.py", False),
    ("a/**/b.py", "a/b.py", True), ("a/**/b.py", "a/x/y/b.py", True), ("a/**/b.py", "x/a/b.py", False),
    ("**/gen", "x/y/gen/z.py", True), ("gen/**", "gen/z.py", True), ("gen/**", "x/gen/z.py", False),
    ("?.py", "a.py", True), ("?.py", "ab.py", False), ("[ab].py", "b.py", True), ("[!ab].py", "b.py", False),
    ("[a-c]x.py", "bx.py", True), ("[a-c]x.py", "dx.py", False), (r"\#x.py", "#x.py", True),
    (r"\!x.py", "!x.py", True), ("x.py  ", "x.py", True), ("*", "anything/at/all.py", True),
    ("***.py", "a.py", True), ("a*b*c.py", "a__b__c.py", True), ("a*b*c.py", "a__c__b.py", False),
]


@pytest.mark.parametrize(("pattern", "path", "ignored"), CASES)
def test_globs_match_as_gitignore_does(pattern, path, ignored):
    assert glob_spec([pattern]).match_file(path) is ignored


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_cases_are_what_git_itself_answers(tmp_path):
    """The table above is git's behaviour, not ours: `git check-ignore` agrees with every row."""
    for index, (pattern, path, ignored) in enumerate(CASES):
        repository = tmp_path / str(index)
        repository.mkdir()
        subprocess.run(["git", "init", "-q", str(repository)], check=True)
        (repository / ".gitignore").write_text(pattern + "\n", encoding="utf-8")
        answer = subprocess.run(["git", "-C", str(repository), "check-ignore", "-q", "--no-index", path])
        assert (answer.returncode == 0) is ignored, (pattern, path)


def test_the_last_matching_pattern_decides():
    spec = glob_spec(["*.py", "!keep.py", "# a comment", ""])

    assert spec.decide("drop.py") is True
    assert spec.decide("keep.py") is False
    assert spec.decide("notes.txt") is None


@pytest.mark.parametrize("line", ["!", "trailing\\"])
def test_lines_git_cannot_read_are_errors(line):
    with pytest.raises(ValueError, match="invalid pattern"):
        glob_spec([line])


def test_a_backtracking_pattern_does_not_hang_a_run(tmp_path):
    """`*a*a*...*b` against a long name of `a`s backtracks exponentially in a regular expression
    (a 30-character name took 3 s, 60 never finished). The run must finish: a hang here fails
    the test by its generous time-out, which is a guard, not a speed target."""
    hostile = "*a" * 12 + "*b"
    write_project(tmp_path, {
        "pyproject.toml": f'[tool.fedcl-lint]\nexclude = ["{hostile}"]\n',
        ".gitignore": hostile + "\n",
        "a" * 200 + ".py": 'async def go(comm):\n    await comm.send_business_message("s", "PING", {})\n',
    })
    result = subprocess.run(
        [sys.executable, "-m", "fedcl_lint", "check", "--no-cache", "--format", "json", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 1, result.stderr
    import json

    assert findings_of(json.loads(result.stdout)) == [("FCL002", "PING", "a" * 200 + ".py", 2)]
