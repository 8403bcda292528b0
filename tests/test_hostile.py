"""Hostile inputs: each yields at most one clear, located diagnostic and the run goes on.

Every project below also holds `good.py`, whose unhandled send must still be
reported: a broken file never hides the findings of the others.
"""

from __future__ import annotations

import os

import pytest

from conftest import findings_of, write_project

SEND = 'task = comm.send_business_message("server", "PING", {})\n'
GOOD = {"good.py": "async def go(comm):\n    await comm.send_business_message('s', 'GOOD', {})\n"}


def _check(run_cli, tmp_path, files):
    write_project(tmp_path, {**GOOD, **files})
    result = run_cli(["check", "--format", "json", "--no-cache"], cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    findings = findings_of(result.json)
    assert ("FCL002", "GOOD", "good.py", 2) in findings
    return [f for f in result.json["findings"] if f["path"] != "good.py"]


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        (b"def f(:\n    " + SEND.encode(), 1, 7, "syntax error: invalid syntax"),
        (b'print "hello"\n' + SEND.encode(), 1, 1,
         "syntax error: Missing parentheses in call to 'print'. Did you mean print(...)?"),
        (b"x = '\xff'\n" + SEND.encode(), 1, 6, "cannot decode as utf-8: invalid start byte"),
        (b"# -*- coding: klingon -*-\n" + SEND.encode(), 1, 1, "cannot decode: unknown encoding 'klingon'"),
        (b"x = 1\ny = 2\x00\n" + SEND.encode(), 2, 6, "source code string cannot contain null bytes"),
        (b"\xef\xbb\xbfx = 1\ny = '\xc3\xa9\xff'\n" + SEND.encode(), 2, 7,
         "cannot decode as utf-8-sig: invalid start byte"),  # columns count characters, after the BOM
        (b"x = " + b"(" * 300 + b")" * 300 + b"\n" + SEND.encode(), 1, None, "syntax error: too many nested parentheses"),
    ],
    ids=["syntax", "python2", "invalid-utf8", "unknown-cookie", "nul-byte", "invalid-utf8-after-bom",
         "deep-nesting"],
)
def test_unparsable_files_give_one_located_parse_error(run_cli, tmp_path, source, line, column, message):
    [finding] = _check(run_cli, tmp_path, {"bad.py": source})

    assert (finding["code"], finding["line"]) == ("FCL900", line)
    assert finding["message"].endswith(message)  # Python 3.11.4+ says "syntax error:", earlier "cannot parse:"
    if column is not None:
        assert finding["column"] == column


def test_parseable_but_very_deep_expressions_are_analysed(run_cli, tmp_path):
    deep = "[" * 90 + "1" + "]" * 90
    [finding] = _check(run_cli, tmp_path, {"deep.py": f"DATA = {deep}\n{SEND}"})

    assert (finding["code"], finding["message_type"], finding["line"]) == ("FCL002", "PING", 2)


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        (b"\xef\xbb\xbf" + b"x = 1\n" + SEND.encode(), 2, 8),
        (b"x = 1\r\ny = 2\r\n" + SEND.encode().replace(b"\n", b"\r\n"), 3, 8),
        (b"x = 1\ny = 2\r\nz = 3\r" + SEND.encode(), 4, 8),
        (b"if True:\n\t" + SEND.encode(), 2, 9),
        ("s = 'é中文'; ".encode() + SEND.encode(), 1, 19),
        (b"# coding: latin-1\ns = '\xe9'; " + SEND.encode(), 2, 17),
    ],
    ids=["bom", "crlf", "mixed-line-endings", "tabs", "non-ascii-columns", "latin-1-cookie"],
)
def test_odd_but_valid_files_are_analysed_at_the_right_place(run_cli, tmp_path, source, line, column):
    [finding] = _check(run_cli, tmp_path, {"odd.py": source})

    assert (finding["code"], finding["message_type"], finding["line"], finding["column"]) == (
        "FCL002", "PING", line, column,
    )


def test_a_50_mb_generated_file_is_reported_not_parsed(run_cli, tmp_path):
    row = 'ROW_{} = {{"key": {}, "values": [1, 2, 3]}}\n'
    with (tmp_path / "generated.py").open("w") as stream:
        stream.write(SEND)
        written, index = 0, 0
        while written < 50_000_000:
            text = row.format(index, index)
            stream.write(text)
            written += len(text)
            index += 1
    [finding] = _check(run_cli, tmp_path, {})

    assert (finding["code"], finding["severity"], finding["path"]) == ("FCL902", "warning", "generated.py")
    assert finding["message"].startswith("not analysed: 50.") and "5 MB limit" in finding["message"]


def test_unreadable_file_is_a_read_error(run_cli, tmp_path, monkeypatch):
    write_project(tmp_path, {"secret.py": SEND})
    if os.geteuid() == 0:  # root reads anything: make the file system refuse the way it would
        real = os.open

        def refuse(path, *args, **kwargs):
            if os.path.basename(path) == "secret.py":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse)
    else:
        (tmp_path / "secret.py").chmod(0)
    [finding] = _check(run_cli, tmp_path, {})

    assert (finding["code"], finding["path"], finding["message"]) == (
        "FCL901", "secret.py", "cannot read: Permission denied",
    )


def test_links_that_lead_nowhere_are_read_errors(run_cli, tmp_path):
    (tmp_path / "broken.py").symlink_to("nowhere.py")
    (tmp_path / "loop_a.py").symlink_to("loop_b.py")
    (tmp_path / "loop_b.py").symlink_to("loop_a.py")
    findings = _check(run_cli, tmp_path, {})

    assert [(f["code"], f["path"], f["message"]) for f in findings] == [
        ("FCL901", "broken.py", "cannot read: broken symbolic link to nowhere.py"),
        ("FCL901", "loop_a.py", "cannot read: symbolic link loop"),
        ("FCL901", "loop_b.py", "cannot read: symbolic link loop"),
    ]


def test_a_folder_named_like_a_python_file_is_walked(run_cli, tmp_path):
    [finding] = _check(run_cli, tmp_path, {"pkg.py/inner.py": SEND})

    assert (finding["code"], finding["path"]) == ("FCL002", "pkg.py/inner.py")


def test_non_python_files_are_not_analysed(run_cli, tmp_path):
    assert _check(run_cli, tmp_path, {"notes.txt": SEND, "README.md": SEND, "script": SEND}) == []


def test_paths_with_spaces_and_non_ascii_names(run_cli, tmp_path):
    [finding] = _check(run_cli, tmp_path, {"my folder/données é.py": SEND})

    assert (finding["code"], finding["path"]) == ("FCL002", "my folder/données é.py")
