"""A check's documentation page, as `fedcl-lint rule CODE` prints it and the README shows it."""

from __future__ import annotations

from fedcl_lint.checks import Check


def render_rule_page(check: Check) -> str:
    return "\n".join(
        [
            f"# {check.code} {check.name} ({check.severity.value})",
            "",
            "## What it does",
            check.summary,
            "",
            "## Why is this bad?",
            check.why,
            "",
            "## Example",
            _project(check.example),
            "## Use instead",
            check.fix_text,
            "",
            _project(check.fix),
        ]
    )


def _project(files: dict[str, str]) -> str:
    blocks = []
    for path, source in sorted(files.items()):
        blocks.append(f"```python\n# {path}\n{source.rstrip()}\n```\n")
    return "\n".join(blocks)
