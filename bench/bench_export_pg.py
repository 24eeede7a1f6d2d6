"""Export benchmark on both stores: 1,000,000 annotations from DuckDB and from PostgreSQL.

    .venv/bin/python bench/bench_export_pg.py [--annotations 1000000] [--kinds annotations,...]

Fills a DuckDB file as bench/bench_export.py does (a label project with N annotations on N
items, a compare project with N judgments), moves it into a throwaway PostgreSQL cluster
(deploy/local_postgres.py, in a temporary folder) with `cli.py migrate-to` (timed: that is a
figure too), then runs each export once per store, each in a fresh process, and prints its
seconds and the process's peak RSS (and the RSS before the export started, to show what the
export itself added). On PostgreSQL the rows come as Arrow batches (ADBC) and an in-process
DuckDB writes the file; no row passes through Python. Both run under the store's DuckDB memory
budget (SAFELABEL_MEMORY_LIMIT, default 384MB); an export that does not fit in it is reported
as failed (label_studio at 1,000,000 needs about 1GB, on either store).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

EXPORTS = [("label", "annotations", "parquet"), ("label", "annotations", "jsonl"),
           ("label", "annotations", "csv"), ("label", "items", "parquet"),
           ("label", "feedback", "jsonl"), ("label", "trl_unpaired", "jsonl"),
           ("label", "sft_rewrites_conversational", "jsonl"),
           ("compare", "trl_preference", "jsonl"),
           ("compare", "trl_preference_conversational", "parquet"),
           ("compare", "label_studio", "json")]

# One export in a process of its own, so its peak RSS is its own.
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
def high_water_mb():
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec, so a child would
    # report its parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from store.db import open_database
from store.exports import export
target, project, kind, fmt, out = sys.argv[2:7]
db = open_database(target)
before = high_water_mb()
t0 = time.perf_counter()
rows = export(db, None, int(project), kind, out, fmt)
seconds = time.perf_counter() - t0
db.close()
print(json.dumps({"rows": rows, "seconds": seconds, "rss_before_mb": before,
                  "peak_rss_mb": high_water_mb()}))
"""


def run_export(target: str, project: int, kind: str, fmt: str, out: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), target, str(project), kind,
                           fmt, str(out)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
        return {"error": "out of memory" if "Out of Memory" in done.stderr else last[:60]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["mb"] = out.stat().st_size / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--kinds", help="comma-separated export kinds (default: all listed)")
    args = parser.parse_args()
    from bench.bench_export import fill
    from deploy import local_postgres
    from store import projects, users
    from store.db import open_database
    from tests.pg import free_port

    wanted = set(args.kinds.split(",")) if args.kinds else None
    results: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "bench.duckdb"
        db = open_database(source)
        admin = users.create_user(db, None, "admin", "Admin", "bench-password", "admin")
        pids = {"label": projects.create_project(db, admin, "Labels", "label"),
                "compare": projects.create_project(db, admin, "Pairs", "compare")}
        started = time.perf_counter()
        fill(db, pids["label"], pids["compare"], admin, args.annotations)
        fill_s = time.perf_counter() - started
        db.close()

        cluster = Path(tempfile.mkdtemp(prefix="safelabel-bench-pg-"))
        try:
            url = local_postgres.start(cluster, free_port(), fast=True)
            started = time.perf_counter()
            moved = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(source),
                                    "migrate-to", url], capture_output=True, text=True,
                                   timeout=3600)
            move_s = time.perf_counter() - started
            if moved.returncode != 0:
                raise RuntimeError(moved.stdout + moved.stderr)
            for project, kind, fmt in EXPORTS:
                if wanted and kind not in wanted:
                    continue
                for store, target in (("duckdb", str(source)), ("postgresql", url)):
                    out = tmp_path / store / f"{kind}.{fmt}"
                    out.parent.mkdir(exist_ok=True)
                    result = run_export(target, pids[project], kind, fmt, out)
                    results.append((kind, fmt, store, result))
                    print(f"  {kind} {fmt} {store}: {result}", file=sys.stderr)
        finally:
            local_postgres.stop(cluster)
            shutil.rmtree(cluster, ignore_errors=True)

    print(f"\nSafeLabel exports from DuckDB and PostgreSQL: {args.annotations:,} annotations per "
          f"project (filled in {fill_s:.1f} s; `cli.py migrate-to` moved the file into "
          f"PostgreSQL, {2 * args.annotations:,} items and {2 * args.annotations:,} annotations,"
          f" checked table by table, in {move_s:.1f} s)\n")
    print(f"{'export':30} {'format':7} {'store':10} {'rows':>9} {'seconds':>8} {'MB':>7}"
          f" {'RSS before':>10} {'peak RSS':>9}")
    print(f"{'-' * 30} {'-' * 7} {'-' * 10} {'-' * 9} {'-' * 8} {'-' * 7} {'-' * 10} {'-' * 9}")
    for kind, fmt, store, r in results:
        if "error" in r:
            print(f"{kind:30} {fmt:7} {store:10} failed: {r['error']}")
            continue
        print(f"{kind:30} {fmt:7} {store:10} {r['rows']:9,} {r['seconds']:8.2f} {r['mb']:7.1f}"
              f" {r['rss_before_mb']:8.0f}MB {r['peak_rss_mb']:7.0f}MB")


if __name__ == "__main__":
    main()
