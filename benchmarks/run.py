"""Measure fedcl-lint against Ruff, ast.parse, libcst.parse_module and the floor, side by side in one run.

    python benchmarks/run.py            # all measurements, 3 runs each, medians
    python benchmarks/run.py --quick    # 1 run each, smaller scale test

Absolute times on a shared 2-core machine are noisy; the ratios between tools
measured in the same run are what the targets are about. Every command runs as
a fresh process (interpreter start-up included), as a user would run it.
Nothing here asserts: it prints a table, with each target marked met or not.

The floor is what no Python linter of the whole tree can go below: start the
interpreter, read every file, and `ast.parse` the ones that mention a name of
the rule pack (the files fedcl-lint's prefilter lets through before linking).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trees import build_envelopes, build_parse_bound, build_stdlib  # noqa: E402

PYTHON = sys.executable

_FLOOR = """
import ast, os, sys
names = sys.argv[2].encode().split(b",")
for folder, _, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as file:
                data = file.read()
            if any(needle in data for needle in names):
                try:
                    ast.parse(data)
                except Exception:
                    pass
"""

_PARSE_ALL = """
import sys, pathlib
import {module}
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    try:
        {call}(path.read_bytes())
    except Exception:
        pass
"""


def timed(command: list[str], runs: int, before=None) -> tuple[float, float]:
    """Median wall time of `command` over `runs` runs, and its largest peak RSS (MiB)."""
    times, peak = [], 0.0
    for _ in range(runs):
        if before is not None:
            before()
        with tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, 1):
                errors.seek(0)
                raise SystemExit(f"{' '.join(command)} failed ({code}):\n{errors.read().decode()[-2000:]}")
        times.append(elapsed)
        peak = max(peak, usage.ru_maxrss / 1024)  # KiB on Linux
    return statistics.median(times), peak


def fedcl(tree: Path, *options: str) -> list[str]:
    return [PYTHON, "-m", "fedcl_lint", "check", str(tree), "--format", "json", *options]


def parse_all(module: str, call: str, tree: Path) -> list[str]:
    return [PYTHON, "-c", _PARSE_ALL.format(module=module, call=call), str(tree)]


def floor(tree: Path, pack_spec: str = "fedcl") -> list[str]:
    """Start, read every file, parse those that mention the names the prefilter searches for."""
    from fedcl_lint.settings.rulepack import load_packs

    pack = load_packs([pack_spec])
    names = sorted(pack.prefilter_names)
    return [PYTHON, "-c", _FLOOR, str(tree), ",".join(names)]


def ruff(tree: Path) -> list[str] | None:
    executable = shutil.which("ruff")
    return [executable, "check", "--select", "F401", "--no-cache", "--quiet", str(tree)] if executable else None


def fixit(tree: Path) -> list[str] | None:
    executable = shutil.which("fixit")
    return [executable, "--rules", "fixit.rules:NoRedundantFString", "lint", str(tree)] if executable else None


def touch_one(tree: Path, name: str = "server0.py"):
    """Edit one file each time the way people do: a new line near the top moves everything below it."""
    target = sorted(tree.rglob(name))[0]
    counter = [0]

    def change() -> None:
        counter[0] += 1
        source = target.read_text()
        target.write_text(f"EDIT_{counter[0]} = {counter[0]}\n" + source)

    return change


def editor_recheck(tree: Path, edits: int = 9) -> tuple[float, float]:
    """What `fedcl-lint server` does after one edit: the session analyses the project again with one
    file's text changed (in this process: the language server keeps its session in memory). The
    first analysis, and the median of `edits` re-checks after one edit each."""
    from fedcl_lint.workflow.session import Session

    session = Session(tree)
    start = time.perf_counter()
    session.analyze()
    first = time.perf_counter() - start
    target = sorted(tree.rglob("server0.py"))[0]
    source = target.read_text()
    times = []
    for edit in range(edits):
        session.set_text(target, f"EDIT_{edit} = {edit}\n" + source)  # unsaved, as typed
        start = time.perf_counter()
        session.analyze()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def report(title: str, rows: list[tuple[str, float | None]], targets: list[tuple[str, float, float]]) -> None:
    print(f"\n## {title}\n")
    print(f"| {'measurement':<52} | {'median (s)':>10} |")
    print(f"|{'-' * 54}|{'-' * 12}|")
    for label, seconds in rows:
        shown = f"{seconds:10.3f}" if seconds is not None else f"{'n/a':>10}"
        print(f"| {label:<52} | {shown} |")
    if targets:
        print(f"\n| {'target':<60} | {'ratio':>7} | {'limit':>6} | {'met':>4} |")
        print(f"|{'-' * 62}|{'-' * 9}|{'-' * 8}|{'-' * 6}|")
        for label, ratio, limit in targets:
            print(f"| {label:<60} | {ratio:7.2f} | {limit:6.2f} | {'yes' if ratio <= limit else 'NO':>4} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 run each and 5 copies for the scale test")
    parser.add_argument("--modules", type=int, default=2000, help="modules in the parse-bound tree")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    copies = 5 if args.quick else 20

    # Measure fedcl-lint as installed: pip compiles the bytecode at install time, while an
    # editable checkout under PYTHONDONTWRITEBYTECODE would recompile edited modules on every run.
    import compileall

    import fedcl_lint

    compileall.compile_dir(Path(fedcl_lint.__file__).parent, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="fedcl-bench-"))
    try:
        stdlib = build_stdlib(work / "realistic")
        parse_bound = build_parse_bound(work / "parse-bound", args.modules)
        cache = work / "cache"
        print(f"fedcl-lint benchmarks, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {runs} run(s) each")
        print(f"realistic tree: {sum(1 for _ in stdlib.rglob('*.py'))} files; "
              f"parse-bound tree: {sum(1 for _ in parse_bound.rglob('*.py'))} files")

        # realistic tree
        ours_cold, _ = timed(fedcl(stdlib, "--no-cache"), runs)
        ast_all, _ = timed(parse_all("ast", "ast.parse", stdlib), runs)
        ruff_command = ruff(stdlib)
        ruff_time = timed(ruff_command, runs)[0] if ruff_command else None
        rows = [("fedcl-lint check, cold (no cache)", ours_cold), ("ruff check --select F401 --no-cache", ruff_time),
                ("ast.parse over every file", ast_all)]
        targets = [("fedcl-lint cold / ast.parse", ours_cold / ast_all, 0.25)]
        if ruff_time:
            targets.insert(0, ("fedcl-lint cold / ruff F401", ours_cold / ruff_time, 1.0))
        report("Realistic tree: the standard library plus the seed app", rows, targets)

        # parse-bound tree
        libcst_all, _ = timed(parse_all("libcst", "libcst.parse_module", parse_bound), runs)
        ast_pb, _ = timed(parse_all("ast", "ast.parse", parse_bound), runs)
        floor_pb, _ = timed(floor(parse_bound), runs)
        one_job, _ = timed(fedcl(parse_bound, "--no-cache", "--jobs", "1"), runs)
        two_jobs, _ = timed(fedcl(parse_bound, "--no-cache", "--jobs", "2"), runs)

        def clear_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        cold, _ = timed(fedcl(parse_bound, "--cache-dir", str(cache)), runs, before=clear_cache)  # leaves it full
        warm, _ = timed(fedcl(parse_bound, "--cache-dir", str(cache)), runs)
        one_changed, _ = timed(fedcl(parse_bound, "--cache-dir", str(cache)), runs, before=touch_one(parse_bound))
        first_editor, recheck = editor_recheck(parse_bound)
        fixit_command = fixit(parse_bound)
        fixit_time = timed(fixit_command, 1)[0] if fixit_command else None
        rows = [
            ("libcst.parse_module over every file", libcst_all),
            ("ast.parse over every file", ast_pb),
            ("floor: start, read all, parse those naming the pack", floor_pb),
            ("fedcl-lint, 1 job, no cache", one_job),
            ("fedcl-lint, 2 jobs, no cache", two_jobs),
            ("fedcl-lint, cold (empty cache, default jobs)", cold),
            ("fedcl-lint, warm (nothing changed)", warm),
            ("fedcl-lint, warm (one file changed)", one_changed),
            ("fixit lint, one trivial rule", fixit_time),
            ("editor session: first analysis (in process)", first_editor),
            ("editor session: re-check after one edit (median)", recheck),
        ]
        targets = [
            ("1 job / floor", one_job / floor_pb, 2.0),
            ("1 job / libcst.parse_module", one_job / libcst_all, 1.3),
            ("2 jobs / libcst.parse_module", two_jobs / libcst_all, 0.75),
            ("warm, nothing changed / cold", warm / cold, 0.10),
            ("warm, one file changed / cold", one_changed / cold, 0.6),
            ("editor re-check after one edit, seconds", recheck, 0.1),
        ]
        report(f"Parse-bound tree: {args.modules} modules of a federated app", rows, targets)

        # message objects built in one function and sent in another
        envelopes = build_envelopes(work / "envelopes", args.modules)
        floor_env, _ = timed(floor(envelopes, str(envelopes / "objects.toml")), runs)
        ast_env, _ = timed(parse_all("ast", "ast.parse", envelopes), runs)
        one_job_env, _ = timed(fedcl(envelopes, "--no-cache", "--jobs", "1"), runs)
        report(
            f"Envelope tree: {args.modules} modules sending message objects built elsewhere",
            [("ast.parse over every file", ast_env), ("floor: start, read all, parse those naming the pack", floor_env),
             ("fedcl-lint, 1 job, no cache", one_job_env)],
            [("1 job / floor", one_job_env / floor_env, 2.0)],
        )

        # scale
        scaled = work / "scaled"
        for copy in range(copies):
            shutil.copytree(parse_bound, scaled / f"copy{copy}")
        one_copy, _ = timed(fedcl(parse_bound, "--no-cache"), 1)
        many, peak = timed(fedcl(scaled, "--no-cache"), 1)
        report(
            f"Scale: {copies} copies of the parse-bound tree",
            [("one copy, no cache", one_copy), (f"{copies} copies, no cache (peak RSS {peak:.0f} MiB)", many)],
            [(f"{copies} copies / one copy (limit {copies * 1.25:g}x)", many / one_copy, copies * 1.25),
             ("peak memory of the main process (GiB, limit 1)", peak / 1024, 1.0)],
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
