"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF viewer).

One rule per check with its documentation and `helpUri` (its page, see
`rule_page.rule_url`); one result per finding, whose `relatedLocations` are the
other side of the mismatch, linked from the message as `[text](id)`. URIs are
relative to `%SRCROOT%`, the repository root (see `root`), declared in
`originalUriBaseIds`; lines and columns are 1-based and columns count Unicode
code points; a region ends (`endLine`, `endColumn`: exclusive) where the call ends.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fedcl_lint import __version__
from fedcl_lint.checks import ALL_CHECKS, Check
from fedcl_lint.files import json_text
from fedcl_lint.output.root import ReportPaths
from fedcl_lint.output.rule_page import render_rule_page, repository_url, rule_url
from fedcl_lint.refine.baseline import SourceLines, fingerprint, line_hash
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Finding, Fix, Location, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_BRACKET = re.compile(r"([\[\]])")


def sarif_document(result: CheckResult) -> dict[str, Any]:
    cwd = result.cwd or Path.cwd()
    paths = ReportPaths.of(cwd)
    rules = [_rule(check, result) for check in ALL_CHECKS]
    index = {check.code: position for position, check in enumerate(ALL_CHECKS)}
    sources = SourceLines(cwd)
    occurrences: Counter[tuple[str, str]] = Counter()
    results = []
    for finding in result.findings:
        text = sources.line(finding.location.path, finding.location.line)
        path = paths.path(finding.location.path)
        hashed = line_hash(text)
        occurrences[(path, hashed)] += 1
        results.append(
            _result(finding, paths, index.get(finding.code), f"{hashed}:{occurrences[(path, hashed)]}",
                    fingerprint(finding, path, text))
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fedcl-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": repository_url(),
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": paths.root.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "invocations": [{"executionSuccessful": True}],
                "results": results,
            }
        ],
    }


def dumps(document: dict[str, Any]) -> str:
    return json_text(document)


def _rule(check: Check, result: CheckResult) -> dict[str, Any]:
    severity = result.config.severity_of(check.code, check.severity)
    return {
        "id": check.code,
        "name": check.name,
        "shortDescription": {"text": check.summary},
        "fullDescription": {"text": check.why},
        "helpUri": rule_url(check.code),
        "help": {
            "text": f"{check.summary}\n\n{check.why}\n\nFix: {check.fix_text}",
            "markdown": render_rule_page(check),
        },
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {"tags": ["fedcl-lint", "messaging"]},
    }


def _result(finding: Finding, paths: ReportPaths, rule_index: int | None, line_hash_value: str,
            own_fingerprint: str) -> dict[str, Any]:
    text = escape_message(finding.message)
    if finding.related:
        links = ", ".join(f"[{escape_message(r.note)}]({n})" for n, r in enumerate(finding.related, start=1))
        text = f"{text}{' ' if text.endswith(('.', '?', '!')) else '. '}See {links}."
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _LEVEL[finding.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": _physical(paths.location(finding.location))}],
        "partialFingerprints": {
            "primaryLocationLineHash": line_hash_value,
            "fedclLintFingerprint/v1": own_fingerprint,
        },
    }
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    if finding.related:
        result["relatedLocations"] = [
            {"id": n, "physicalLocation": _physical(paths.location(r.location)), "message": {"text": r.note}}
            for n, r in enumerate(finding.related, start=1)
        ]
    if finding.fix is not None and finding.fix.edits:
        result["fixes"] = [_fix(finding.fix, paths)]
    if finding.message_type is not None:
        result["properties"] = {
            "messageType": finding.message_type.value,
            **({"messageTypeName": finding.message_type.name} if finding.message_type.name else {}),
            **({"mechanism": finding.mechanism.value} if finding.mechanism else {}),
        }
    elif finding.pattern is not None:  # a type known only as a pattern (`hook_*`)
        result["properties"] = {
            "messageTypePattern": finding.pattern,
            **({"mechanism": finding.mechanism.value} if finding.mechanism else {}),
        }
    if finding.protocol is not None:  # the protocol scope whose table made the finding
        result.setdefault("properties", {})["protocol"] = finding.protocol
    return result


def _physical(location: Location) -> dict[str, Any]:
    region = {"startLine": location.line, "startColumn": location.column}
    if location.end is not None:
        region["endLine"], region["endColumn"] = location.end
    return {
        "artifactLocation": {"uri": quote(location.path, safe="/", errors="surrogateescape"), "uriBaseId": SRCROOT},
        "region": region,
    }


def _fix(fix: Fix, report_paths: ReportPaths) -> dict[str, object]:
    """The fix's edits as SARIF replacements, one artifact change per file; end columns are exclusive."""
    paths = sorted({edit.path for edit in fix.edits})
    return {
        "description": {"text": fix.message},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": quote(report_paths.path(path), safe="/", errors="surrogateescape"),
                                     "uriBaseId": SRCROOT},
                "replacements": [
                    {
                        "deletedRegion": {"startLine": e.line, "startColumn": e.column,
                                          "endLine": e.end_line, "endColumn": e.end_column},
                        "insertedContent": {"text": e.content},
                    }
                    for e in fix.edits
                    if e.path == path
                ],
            }
            for path in paths
        ],
    }


def escape_message(text: str) -> str:
    """SARIF message text: literal brackets are escaped so that only our links are links."""
    return _BRACKET.sub(r"\\\1", text)
