"""Speed never changes what is found: the same output with or without the cache, with 1 or
N worker processes, and whether or not the byte prefilter skipped files."""

from __future__ import annotations

import json
import pickle
import shutil
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, long_untouched, write_project
from fedcl_lint.analysis.cache import _MAX_ADDITIONS, EntryFile, FactCache, _entry_file
from fedcl_lint.analysis.cache_folder import CacheFolder
from fedcl_lint.analysis.load import EngineOptions
from fedcl_lint.analysis.protocol import Protocol
from fedcl_lint.output import json_report
from fedcl_lint.output.manifest import manifest_document
from fedcl_lint.settings.config import CACHE_DIR_ENV
from fedcl_lint.settings.rulepack import load_packs
from fedcl_lint.workflow.pipeline import analyze

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from trees import build_parse_bound  # noqa: E402

PROJECTS = ["seed/bug", "checks", "framework", "resolution", "broken"]


def _outputs(path: Path, options: EngineOptions) -> tuple[str, str]:
    analysis = analyze(["."], cwd=path, options=options)
    return (
        json_report.dumps(json_report.findings_document(analysis.result)),
        json_report.dumps(manifest_document(Protocol.from_table(analysis.table))),
    )


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory) -> Path:
    """300 modules: enough for the worker pool to take chunks (small trees are parsed in-process)."""
    return build_parse_bound(tmp_path_factory.mktemp("engine") / "app", modules=300)


@pytest.mark.parametrize("project", PROJECTS)
def test_prefilter_changes_nothing_found(project):
    path = FIXTURES / project
    assert _outputs(path, EngineOptions(prefilter=True)) == _outputs(path, EngineOptions(prefilter=False))


def test_prefilter_skips_files_that_cannot_matter(tmp_path):
    (tmp_path / "unrelated.py").write_text("def f(:\n")  # broken, but mentions nothing of the API
    (tmp_path / "app.py").write_text("async def go(comm):\n    await comm.send_business_message('s', 'X', {})\n")
    filtered = analyze(["."], cwd=tmp_path, options=EngineOptions(prefilter=True))
    everything = analyze(["."], cwd=tmp_path, options=EngineOptions(prefilter=False))

    assert [f.code for f in filtered.findings] == ["FCL002"]
    assert [f.code for f in everything.findings] == ["FCL002", "FCL900"]  # parsing it finds the syntax error


def test_a_module_parsed_for_an_import_is_searched_for_wrappers_found_later(tmp_path):
    """`x.py` mentions no API: it is parsed only because `server.py` imports through its star
    import, before `relay` is known to be a wrapper. Its call of `relay` is still a send."""
    write_project(tmp_path, {
        "app/__init__.py": "",
        "app/helpers.py": "async def notify(comm, cid, kind):\n    await comm.send_business_message(cid, kind, {})\n",
        "app/relay.py": (
            "from app.helpers import notify\n\n\n"
            "async def relay(comm, cid, kind):\n    await notify(comm, cid, kind)\n"
        ),
        "app/x.py": (
            "from app.helpers import *\nfrom app.relay import relay\n\n\n"
            "async def ping(comm):\n    await relay(comm, 1, \"PING\")\n"
        ),
        "app/server.py": (
            "from app.x import notify\n\n\n"
            "async def setup(comm, handler):\n    comm.register_message_handler(\"PING\", handler)\n"
            "    await notify(comm, 1, \"STOP\")\n"
        ),
    })
    filtered = analyze(["."], cwd=tmp_path, options=EngineOptions(prefilter=True))

    assert [(f.code, str(f.location)) for f in filtered.findings] == [("FCL002", "app/server.py:6:11")]
    assert _outputs(tmp_path, EngineOptions(prefilter=True)) == _outputs(tmp_path, EngineOptions(prefilter=False))


def test_jobs_and_cache_change_nothing_found(big_tree, tmp_path, monkeypatch):
    import concurrent.futures

    pools = []

    class CountedPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountedPool)
    one_job = _outputs(big_tree, EngineOptions(jobs=1))
    assert pools == []
    two_jobs = _outputs(big_tree, EngineOptions(jobs=2))
    assert pools == [2]  # the worker pool really parsed this run
    cold = _outputs(big_tree, EngineOptions(jobs=2, cache_dir=tmp_path / "cache"))
    warm = _outputs(big_tree, EngineOptions(jobs=2, cache_dir=tmp_path / "cache"))

    assert one_job == two_jobs == cold == warm
    findings = json.loads(one_job[0])
    assert findings["summary"]["call_sites"] == 960  # the whole tree was analysed, not an empty run


def test_cache_is_written_once_with_its_own_gitignore(tmp_path):
    cache = tmp_path / "cache"
    analyze(["."], cwd=FIXTURES / "seed" / "bug", options=EngineOptions(cache_dir=cache))

    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    [entries] = list(cache.glob("facts-*.pickle"))
    assert len(EntryFile.read(CacheFolder(cache), entries)) == 4  # the four modules of the seed app


def test_corrupted_or_truncated_cache_is_a_miss_not_an_error(tmp_path):
    cache = tmp_path / "cache"
    project = FIXTURES / "seed" / "bug"
    expected = _outputs(project, EngineOptions())
    _outputs(project, EngineOptions(cache_dir=cache))
    [entries] = list(cache.glob("facts-*.pickle"))
    data = entries.read_bytes()

    entries.write_bytes(data[: len(data) // 2])
    assert _outputs(project, EngineOptions(cache_dir=cache)) == expected
    entries.write_bytes(b"not a pickle at all")
    assert _outputs(project, EngineOptions(cache_dir=cache)) == expected


def test_a_cache_entry_cannot_run_code(tmp_path):
    """A cache folder shipped in an untrusted repository must not execute anything when read."""
    marker = tmp_path / "pwned"
    cache_dir = tmp_path / "cache"
    cache = FactCache(cache_dir, load_packs(["fedcl"]))
    cache_dir.mkdir()

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    # a well-formed file, authenticated as ours, with a hostile entry: the allow-list still refuses it
    assert cache.folder.write(cache.path.name, _entry_file({"key": pickle.dumps(Exploit())}))
    assert FactCache(cache_dir, load_packs(["fedcl"])).get("key") is None
    assert not marker.exists()


def test_a_rule_pack_that_extracts_differently_does_not_reuse_entries(tmp_path):
    fedcl = FactCache(tmp_path, load_packs(["fedcl"]))
    other = FactCache(tmp_path, load_packs([str(FIXTURES / "node_api" / "node.toml")]))

    assert fedcl.path != other.path


def test_editing_what_extraction_does_not_read_keeps_the_entries(tmp_path):
    """Facts depend on the pack's payload keys and dispatcher keys only: a reworded description
    or another call spec keeps the cache."""
    shipped = (Path(__file__).parent.parent / "fedcl_lint" / "rules" / "fedcl.toml").read_text(encoding="utf-8")
    edited = tmp_path / "edited.toml"
    edited.write_text(shipped.replace("business messages over RPC", "business messages, over RPC") +
                      '\n[[calls]]\nname = "relay"\nrole = "send"\nchannel = "rpc"\nmessage_type = { position = 0 }\n')
    payload = tmp_path / "payload.toml"
    payload.write_text(shipped.replace('key = "message_type"', 'key = "kind"', 1))

    fedcl = FactCache(tmp_path, load_packs(["fedcl"]))
    assert FactCache(tmp_path, load_packs([str(edited)])).path == fedcl.path
    assert FactCache(tmp_path, load_packs([str(payload)])).path != fedcl.path


def _edit(path: Path, number: int) -> None:
    path.write_text(f"EDIT_{number} = {number}\n" + path.read_text())


def test_a_run_that_parsed_few_files_writes_only_those(tmp_path):
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed" / "bug", project)
    cache = tmp_path / "cache"
    _outputs(project, EngineOptions(cache_dir=cache))
    [base] = cache.glob("facts-*.pickle")
    before = base.read_bytes()

    _edit(project / "fedapp" / "server.py", 1)
    changed = _outputs(project, EngineOptions(cache_dir=cache))

    assert base.read_bytes() == before
    [added] = cache.glob("facts-*.added")
    assert len(EntryFile.read(CacheFolder(cache), added)) == 1  # the edited file only
    assert changed == _outputs(project, EngineOptions()) == _outputs(project, EngineOptions(cache_dir=cache))


def test_additions_are_folded_into_the_base_when_they_pile_up(tmp_path):
    project = tmp_path / "app"
    for number in range(40):  # a base big enough that a few additions stay small beside it
        (project / f"node{number}.py").parent.mkdir(exist_ok=True)
        (project / f"node{number}.py").write_text(
            f"async def go(comm):\n    await comm.send_business_message('s', 'M{number}', {{}})\n"
        )
    cache = tmp_path / "cache"
    _outputs(project, EngineOptions(cache_dir=cache))
    for number in range(_MAX_ADDITIONS):
        _edit(project / "node0.py", number)
        _outputs(project, EngineOptions(cache_dir=cache))
        assert len(list(cache.glob("facts-*.added"))) == number + 1
    _edit(project / "node0.py", 99)
    last = _outputs(project, EngineOptions(cache_dir=cache))

    assert list(cache.glob("facts-*.added")) == []
    [base] = cache.glob("facts-*.pickle")
    assert len(EntryFile.read(CacheFolder(cache), base)) == 40 + _MAX_ADDITIONS + 1  # every version of node0.py seen
    assert last == _outputs(project, EngineOptions())


def test_a_damaged_addition_is_a_miss(tmp_path):
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "seed" / "bug", project)
    cache = tmp_path / "cache"
    _outputs(project, EngineOptions(cache_dir=cache))
    _edit(project / "fedapp" / "server.py", 1)
    _outputs(project, EngineOptions(cache_dir=cache))
    [added] = cache.glob("facts-*.added")
    added.write_bytes(added.read_bytes()[:20])

    assert _outputs(project, EngineOptions(cache_dir=cache)) == _outputs(project, EngineOptions())


def test_a_file_system_that_reads_in_parts_loses_nothing(monkeypatch):
    """Network and FUSE file systems may return less than asked before the end of a file."""
    import os

    expected = _outputs(FIXTURES / "seed" / "bug", EngineOptions())
    real = os.read
    monkeypatch.setattr(os, "read", lambda descriptor, size: real(descriptor, min(size, 7)))

    assert _outputs(FIXTURES / "seed" / "bug", EngineOptions()) == expected


def test_the_default_cache_is_at_the_root_of_the_project_that_holds_every_path(run_cli, tmp_path, monkeypatch):
    """Settings and cache are found from the same folder: the one holding every path named."""
    monkeypatch.delenv(CACHE_DIR_ENV)  # the suite names a cache folder for every test (conftest)
    write_project(tmp_path, {
        "pyproject.toml": "[project]\nname = 'two-services'\n",
        "a/pyproject.toml": "[project]\nname = 'a'\n",
        "a/app.py": "async def go(cm):\n    await cm.send_business_message('s', 'A', {})\n",
        "b/app.py": "async def go(cm):\n    await cm.send_business_message('s', 'B', {})\n",
    })
    run_cli(["check", "a", "b"], cwd=tmp_path)
    run_cli(["check", "a"], cwd=tmp_path)

    folders = sorted(p.parent.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("facts-*.pickle"))
    assert folders == [".fedcl-lint-cache", "a/.fedcl-lint-cache"]  # `a b` at the top, `a` in a


def test_the_cache_dir_variable_replaces_the_default_but_not_the_option(run_cli, tmp_path, monkeypatch):
    """$FEDCL_LINT_CACHE_DIR keeps the cache out of the project (CI, read-only checkouts), as
    RUFF_CACHE_DIR does; relative to the working directory, and `--cache-dir` still wins."""
    project = long_untouched(write_project(tmp_path / "project", {
        "pyproject.toml": "[project]\nname = 'app'\n",
        "app.py": "async def go(cm):\n    await cm.send_business_message('s', 'A', {})\n",
    }), monkeypatch)
    monkeypatch.setenv(CACHE_DIR_ENV, "../elsewhere")
    first = run_cli(["check", "--format", "json"], cwd=project)
    second = run_cli(["check", "--format", "json"], cwd=project)

    assert (first.exit_code, first.output) == (second.exit_code, second.output)
    assert list((tmp_path / "elsewhere").glob("facts-*.pickle"))
    assert len(list((tmp_path / "elsewhere" / "runs").glob("*.pickle"))) == 1  # recorded there, replayed
    assert not (project / ".fedcl-lint-cache").exists()

    run_cli(["check", "--cache-dir", str(tmp_path / "option")], cwd=project)
    assert list((tmp_path / "option").glob("facts-*.pickle"))
    assert len(list((tmp_path / "elsewhere" / "runs").glob("*.pickle"))) == 1
