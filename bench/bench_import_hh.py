"""HH-RLHF import benchmark: peak RSS and time of importing a large chosen/rejected file into a
compare project (the split into transcript and responses A and B included).

    .venv/bin/python bench/bench_import_hh.py [--mb 200] [--code DIR] [--plain]

The file repeats the shapes of tests/hh_data.py (the 2,312-row synthetic harmless-base file:
plain pairs, extra turns, a missing blank line, empty replies) until it holds `--mb` MB. Each
import runs in a fresh Python process that does what `cli.py import` does, and its peak RSS is
the kernel's figure for that process (`wait4`). `--code DIR` imports with the SafeLabel code
in DIR instead of this checkout (an older version, to compare). Nothing is kept.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hh_data import ROWS, SHAPES, hh_row  # noqa: E402

DRIVER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from store.bootstrap import open_app_database
from store import projects
from store.imports import ImportProblem, import_file
db = open_app_database(sys.argv[2], demo=False)
pid = projects.create_project(db, None, "Bench", "compare", "", None, 1, [], True)
started = time.perf_counter()
try:
    result = import_file(db, None, pid, sys.argv[3])
    outcome = f"imported {result.items_added:,} items"
except ImportProblem as exc:
    outcome = "refused: " + str(exc).splitlines()[0][:100]
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome}))
"""


def write_hh_file(path: Path, megabytes: int, plain: bool = False) -> int:
    """HH-RLHF JSONL of about `megabytes` MB; returns the row count. `plain`: only pairs that
    differ in their last reply (which code before issue 10 could import)."""
    target = megabytes * 1024 * 1024
    written = rows = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            index = rows % ROWS
            row = hh_row(rows, "normal" if plain else SHAPES.get(index, "normal"))
            line = json.dumps({"chosen": row.chosen, "rejected": row.rejected}) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            rows += 1
    return rows


def measure(code: Path, data: Path, workdir: Path) -> dict:
    db_path = workdir / "bench.duckdb"
    env = dict(os.environ, SAFELABEL_DEMO="0")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", DRIVER, str(code), str(db_path), str(data)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()
    report = {"peak_mb": usage.ru_maxrss / 1024, "wall": wall, "seconds": float("nan"),
              "outcome": f"status {os.waitstatus_to_exitcode(status)}: "
                         f"{(err.strip().splitlines() or [''])[-1][:100]}"}
    if os.waitstatus_to_exitcode(status) == 0 and out.strip():
        report.update(json.loads(out.strip().splitlines()[-1]))
    for leftover in workdir.glob("bench.duckdb*"):
        if leftover.is_file():
            leftover.unlink()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="a SafeLabel checkout to import with (default: this one)")
    parser.add_argument("--plain", action="store_true",
                        help="only pairs that differ in their last reply (for older code)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-hh-") as tmp:
        work = Path(tmp)
        data = work / "hh.jsonl"
        t0 = time.perf_counter()
        rows = write_hh_file(data, args.mb, args.plain)
        print(f"wrote {data.stat().st_size / 1024 ** 2:.0f} MB, {rows:,} rows "
              f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        result = measure(args.code.resolve(), data, work)
    print(f"{'code':<40} {'file MB':>8} {'rows':>9} {'peak RSS MB':>12} {'import s':>9} "
          f"{'process s':>10}  outcome")
    print(f"{str(args.code)[-40:]:<40} {args.mb:>8} {rows:>9,} {result['peak_mb']:>12.0f} "
          f"{result['seconds']:>9.1f} {result['wall']:>10.1f}  {result['outcome']}")


if __name__ == "__main__":
    main()
