"""A check's documentation page, as `fedcl-lint rule CODE` prints it, and where it is published:
`docs/rules/CODE.md` of fedcl-lint's repository (the SARIF rules' `helpUri`), which holds exactly
this page (tests/test_docs_sync.py keeps it so).

The repository is the URL that fedcl-lint's own metadata (`[project.urls]` of its pyproject.toml)
labels `Repository` (or `Source`, `Source Code`, `Homepage`), else `DEFAULT_REPOSITORY`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from urllib.parse import urlsplit

from fedcl_lint.checks import Check

DEFAULT_REPOSITORY = "https://github.com/fedcl-lint/fedcl-lint"
RULE_DOCS = "docs/rules/{code}.md"  # in the repository
_REPOSITORY_LABELS = ("repository", "source", "source code", "homepage")


@cache
def repository_url() -> str:
    """fedcl-lint's repository, as its installed metadata names it."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        entries = metadata("fedcl-lint").get_all("Project-URL") or []
    except PackageNotFoundError:  # run from a source tree that was never installed
        entries = []
    return repository_from(entries)


def repository_from(project_urls: Iterable[str]) -> str:
    """The repository among `Project-URL` entries (`Label, URL`), else `DEFAULT_REPOSITORY`."""
    by_label: dict[str, str] = {}
    for entry in project_urls:
        label, _, url = entry.partition(",")
        by_label.setdefault(label.strip().casefold(), url.strip())
    for label in _REPOSITORY_LABELS:
        url = by_label.get(label, "")
        if url.startswith(("https://", "http://")):
            return url.rstrip("/")
    return DEFAULT_REPOSITORY


def rule_url(code: str, repository: str | None = None) -> str:
    """The rule's page: `docs/rules/CODE.md` in the repository (the file view on GitHub and GitLab)."""
    base = (repository or repository_url()).rstrip("/")
    path = RULE_DOCS.format(code=code)
    host = urlsplit(base).netloc.casefold()
    if host == "github.com":
        return f"{base}/blob/HEAD/{path}"
    if host == "gitlab.com":
        return f"{base}/-/blob/HEAD/{path}"
    return f"{base}/{path}"


def render_rule_page(check: Check, level: int = 1) -> str:
    """The page, its title at heading `level` (1 for a page of its own)."""
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
            *(part for title, text, files in check.examples
              for part in (f"{section} Example: {title}", text, "", _project(files))),
        ]
    )


def _project(files: dict[str, str]) -> str:
    blocks = []
    for path, source in sorted(files.items()):
        language = "toml" if path.endswith(".toml") else "python"
        blocks.append(f"```{language}\n# {path}\n{source.rstrip()}\n```\n")
    return "\n".join(blocks)
