"""A check's documentation page, as `fedcl-lint rule CODE` prints it and the README shows it."""

from __future__ import annotations

from collections.abc import Iterable

from fedcl_lint.checks import Check


def render_rule_page(check: Check, level: int = 1) -> str:
    """The page, its title at heading `level` (the README nests them under "Checks")."""
    title, section = "#" * level, "#" * (level + 1)
    return "\n".join(
        [
            f"{title} {check.code} {check.name} ({check.severity.value})",
            "",
            f"{section} What it does",
            check.summary,
            "",
            f"{section} Why is this bad?",
            check.why,
            "",
            f"{section} Example",
            _project(check.example),
            f"{section} Use instead",
            check.fix_text,
            "",
            _project(check.fix),
        ]
    )


def render_all_pages(checks: Iterable[Check], level: int) -> str:
    return "\n".join(render_rule_page(check, level) for check in checks)


def _project(files: dict[str, str]) -> str:
    blocks = []
    for path, source in sorted(files.items()):
        language = "toml" if path.endswith(".toml") else "python"
        blocks.append(f"```{language}\n# {path}\n{source.rstrip()}\n```\n")
    return "\n".join(blocks)
