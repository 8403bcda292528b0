"""The documentation in sync with the code and with itself: a page per check in docs/rules/ (the
SARIF rules' `helpUri`), exactly the page `fedcl-lint rule CODE` prints; the README's tables of
checks and commands; a README short enough to read in five minutes; relative links that lead to
a file and a heading that exist."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from conftest import REPO, doc_pages, doc_path, doc_text
from fedcl_lint.checks import ALL_CHECKS
from fedcl_lint.cli import cli
from fedcl_lint.output.rule_page import RULE_DOCS, render_rule_page, rule_url

REGENERATE = "for code in $(fedcl-lint rule | cut -d' ' -f1); do fedcl-lint rule \"$code\" > \"docs/rules/$code.md\"; done"
README_MAX_LINES = 320


def test_docs_rules_hold_every_rule_page_verbatim():
    for check in ALL_CHECKS:
        page = REPO / RULE_DOCS.format(code=check.code)
        assert page.is_file(), f"{page} is missing; regenerate the pages with: {REGENERATE}"
        assert page.read_text(encoding="utf-8") == render_rule_page(check), f"{page} is stale; regenerate: {REGENERATE}"
    assert sorted(path.name for path in (REPO / "docs" / "rules").iterdir()) == sorted(
        f"{check.code}.md" for check in ALL_CHECKS), "a page of docs/rules/ names no check"


def test_the_help_uri_of_each_rule_is_its_page_in_the_repository():
    for check in ALL_CHECKS:
        path = RULE_DOCS.format(code=check.code)
        assert (REPO / path).is_file()
        assert rule_url(check.code, "https://github.com/acme/fedcl-lint") == (
            f"https://github.com/acme/fedcl-lint/blob/HEAD/{path}")


def test_readme_check_table_lists_every_check():
    text = doc_text("README.md")
    for check in ALL_CHECKS:
        assert f"| [{check.code}]({RULE_DOCS.format(code=check.code)}) | {check.name} |" in text


def test_readme_command_table_lists_every_command():
    listed = re.findall(r"^\| `fedcl-lint ([a-z]+)", doc_text("README.md"), flags=re.M)
    assert sorted(listed) == sorted(cli.commands)


def test_the_readme_is_short():
    lines = doc_text("README.md").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move the detail to docs/"


def test_the_readme_links_every_page_of_the_docs():
    linked = {target.partition("#")[0] for target in _links(doc_text("README.md"))}
    assert [page for page in doc_pages()[1:] if f"docs/{page}" not in linked] == []


def test_every_relative_link_leads_to_a_file_and_a_heading_that_exist():
    broken = []
    for page in doc_pages():
        source = doc_path(page)
        for target in _links(doc_text(page)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            resolved = (source.parent / unquote(path)).resolve() if path else source
            if not resolved.exists():
                broken.append(f"{page}: {target}: no such file")
            elif anchor and not _has_anchor(resolved, anchor):
                broken.append(f"{page}: {target}: no such heading")
    assert broken == []


def test_the_link_checker_reads_headings_as_github_does():
    assert [_slug(h) for h in ("Options of `check`", "Reflection: bound services, proxies and decorators",
                               "FCL001 mechanism-mismatch (error)", "Suppressions and the baseline")] == [
        "options-of-check", "reflection-bound-services-proxies-and-decorators", "fcl001-mechanism-mismatch-error",
        "suppressions-and-the-baseline"]
    text = "# Title\n\n```python\n# not a heading\n```\n\n## A\n\n## A\n\n[x](#b) `[y](#c)` [`z`](other.md#a-1)\n"
    assert _anchors(text) == {"title", "a", "a-1"}
    assert _links(text) == ["#b", "other.md#a-1"]


def _outside_code(text: str) -> str:
    """The text without fenced blocks and code spans (which hold no links or headings)."""
    kept, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return "\n".join(kept)


def _links(text: str) -> list[str]:
    prose = re.sub(r"(`+)(?:(?!\1).)+?\1", "", _outside_code(text), flags=re.S)
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", prose)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return "".join(c for c in text if c.isalnum() or c in " -_").replace(" ", "-")


def _anchors(text: str) -> set[str]:
    anchors: set[str] = set()
    for line in _outside_code(text).split("\n"):
        match = re.match(r"#{1,6} (.*?)#*\s*$", line)
        if match:
            slug = base = _slug(match.group(1))
            count = 0
            while slug in anchors:  # GitHub numbers a repeated heading: a, a-1, a-2
                count += 1
                slug = f"{base}-{count}"
            anchors.add(slug)
    return anchors


def _has_anchor(path: Path, anchor: str) -> bool:
    if path.suffix == ".md":
        return anchor in _anchors(path.read_text(encoding="utf-8"))
    lines = re.fullmatch(r"L(\d+)(?:-L(\d+))?", anchor)  # a line of a source file, as GitHub links it
    return lines is not None and int(lines.group(2) or lines.group(1)) <= len(path.read_text(encoding="utf-8").splitlines())
