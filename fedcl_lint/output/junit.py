"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure): valid against the
JUnit schema that Jenkins and pytest use (tests/schemas/junit-10.xsd).

One `testsuite` per file with findings (named by its path relative to the repository root,
see `root`) and one `testcase` per finding, named `CODE name (line:column)` with the file
as its `classname`. A finding that reaches the failing threshold (`fail-on`) is a `failure`
(its `message` the finding's message, its text the finding as the text report
prints it); one below it passes, with that text as its `system-out`. A run without
findings is one suite with one passing case.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fedcl_lint.checks import check_by_code
from fedcl_lint.output.root import ReportPaths
from fedcl_lint.refine.result import CheckResult
from fedcl_lint.types import Finding

# what XML 1.0 cannot hold at all (control characters, lone surrogates from undecodable file names)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(result: CheckResult) -> str:
    paths = ReportPaths.of(result.cwd)
    threshold = result.config.fail_on

    def fails(finding: Finding) -> bool:
        return finding.severity.rank >= threshold.rank

    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_file.setdefault(paths.path(finding.location.path), []).append(finding)
    failures = sum(map(fails, result.findings))
    root = ET.Element("testsuites", _attributes(name="fedcl-lint", tests=max(1, len(result.findings)),
                                                failures=failures, errors=0))
    if not by_file:
        suite = ET.SubElement(root, "testsuite", _attributes(name="fedcl-lint", tests=1, failures=0, errors=0))
        ET.SubElement(suite, "testcase", _attributes(name="no findings", classname="fedcl-lint"))
    for path, findings in by_file.items():
        suite = ET.SubElement(root, "testsuite", _attributes(
            name=path, tests=len(findings), failures=sum(map(fails, findings)), errors=0,
            file=path,
        ))
        for finding in findings:
            check = check_by_code(finding.code)
            name = f"{finding.code} {check.name}" if check is not None else finding.code
            where = f"{finding.location.line}:{finding.location.column}"
            case = ET.SubElement(suite, "testcase", _attributes(name=f"{name} ({where})", classname=path))
            text = _text(finding, paths)
            if fails(finding):
                failure = ET.SubElement(case, "failure", _attributes(message=finding.message, type=finding.code))
                failure.text = _clean(text)
            else:
                ET.SubElement(case, "system-out").text = _clean(text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _text(finding: Finding, paths: ReportPaths) -> str:
    lines = [f"{paths.location(finding.location)}: {finding.code} {finding.message}"]
    lines += [f"    {paths.location(r.location)}: {r.note}" for r in finding.related]
    return "\n".join(lines)


def _attributes(**values: str | int) -> dict[str, str]:
    return {key: _clean(str(value)) for key, value in values.items()}


def _clean(text: str) -> str:
    """`text` with what XML cannot hold written as Python escapes (`\\x00`, `\\udcff`)."""
    return _NOT_XML.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
