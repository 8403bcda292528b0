"""The README documents every check with the page `fedcl-lint rule CODE` prints."""

from __future__ import annotations

from pathlib import Path

from fedcl_lint.checks import ALL_CHECKS
from fedcl_lint.output.rule_page import render_all_pages

README = Path(__file__).parent.parent / "README.md"


def test_readme_embeds_every_rule_page_verbatim():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- rule pages:")
    start = text.index("\n", start) + 1
    end = text.index("<!-- end of rule pages -->")
    assert text[start:end] == render_all_pages(ALL_CHECKS, level=3)


def test_readme_check_table_lists_every_check():
    text = README.read_text(encoding="utf-8")
    for check in ALL_CHECKS:
        assert f"| {check.code} | {check.name} |" in text
