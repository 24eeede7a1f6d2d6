"""Load benchmark (issue 14, PostgreSQL half): many annotators at once through 1 or 3 app
processes on one PostgreSQL database.

    .venv/bin/python bench/bench_load_pg.py [--items 100000] [--overlap 2] [--levels 1,20,50,100]
                                            [--processes 1,3] [--seconds 30] [--submits 2000]

A throwaway PostgreSQL cluster from Debian's packages in a temp dir (fsync on, as a real
server runs; deploy/local_postgres.py), on 127.0.0.1, removed at the end. What an app process
is to the store, a worker process is here: it opens the database with
`store.db.open_database(url)` (its own `PostgresDatabase`, its own connection pool of the
app's size) and runs one thread per simulated annotator, each with its own account and
`store.work_queue.WorkQueue`, exactly as bench/bench_load.py does on DuckDB (claim, then
submit a Label in a loop: save + client answer id + claim next, one transaction). A level's
annotators are dealt round-robin over the processes; all start together. Each process
count gets its own project of `--items` items; its levels run one after the other on it.

Printed per level: submits, submits/s in all, claim+save p50/p95/max, p95 against one
annotator (the first level of the same process count), errors, acknowledged answers
missing, and the SERIALIZABLE retries: how many write transactions failed to serialise and
ran again (per 100 committed writes, and the most any one write needed). Then, in SQL over
every annotation: items answered by more people than the overlap, items answered twice by
one person, queue bookkeeping that does not add up (bench/bench_load.py's checks).
Targets (issue 14): no error, nothing over-served, p95 within 2x of one annotator at 20.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")
os.environ.setdefault("SAFELABEL_HINT_WORKER", "0")

from bench.bench_load import (Annotator, add_load_arguments, check_database,  # noqa: E402
                              percentile)
from bench.seed import add_items  # noqa: E402
from deploy import local_postgres  # noqa: E402
from store import projects, users  # noqa: E402
from store.db import open_database  # noqa: E402


def count_retries() -> dict[str, int]:
    """Count, in this process, every write attempt and every one that failed to serialise
    (PostgresDatabase.write retries those). Returns the live counters."""
    from psycopg import errors

    from store.postgres import PostgresDatabase

    counts = {"attempts": 0, "retries": 0, "worst": 0}
    lock = threading.Lock()
    attempt = PostgresDatabase._attempt
    local = threading.local()

    def counted(work, cursor):
        with lock:
            counts["attempts"] += 1
        try:
            result = attempt(work, cursor)
        except (errors.SerializationFailure, errors.DeadlockDetected):
            local.failed = getattr(local, "failed", 0) + 1
            with lock:
                counts["retries"] += 1
                counts["worst"] = max(counts["worst"], local.failed)
            raise
        local.failed = 0
        return result

    PostgresDatabase._attempt = staticmethod(counted)
    return counts


def app_process(url: str, project_id: int, user_ids: list[int], seconds: float, submits: int,
                prefetch: int, think_ms: float, ready, go, results) -> None:
    """One app process: its own database handle, one thread per annotator."""
    counts = count_retries()
    db = open_database(url)
    workers = [Annotator(db, uid, project_id, go, seconds, submits, prefetch, think_ms)
               for uid in user_ids]
    for worker in workers:
        worker.start()
    ready.put(os.getpid())
    for worker in workers:
        worker.join()
    results.put({"latencies": [ms for w in workers for ms in w.latencies_ms],
                 "errors": dict(sum((w.errors for w in workers), Counter())),
                 "acknowledged": [a for w in workers for a in w.acknowledged],
                 "ran_out": sum(w.ran_out for w in workers), **counts})
    db.close()


def run_level(url: str, project_id: int, people: list[int], processes: int, seconds: float,
              submits: int, prefetch: int, think_ms: float = 0.0) -> tuple[float, list[dict]]:
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    groups = [people[n::processes] for n in range(processes)]
    children = [context.Process(target=app_process, args=(url, project_id, group, seconds,
                                                          submits, prefetch, think_ms, ready, go,
                                                          results))
                for group in groups if group]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=300)
    go.set()
    began = time.perf_counter()
    reports = [results.get(timeout=seconds + 600) for _ in children]
    wall = time.perf_counter() - began
    for child in children:
        child.join(timeout=60)
    return wall, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser)
    parser.add_argument("--processes", default="1,3", help="app process counts to run")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    process_counts = [int(n) for n in args.processes.split(",")]
    if not local_postgres.available():
        sys.exit("PostgreSQL is not installed (make postgresql)")

    from tests.pg import free_port

    folder = tempfile.mkdtemp(prefix="safelabel-load-pg-")
    url = local_postgres.start(folder, free_port())          # fsync on
    rows = []
    try:
        db = open_database(url)
        with db.read() as cur:
            version = cur.execute("SELECT current_setting('server_version')").fetchone()[0]
        admin = users.create_user(db, None, "admin", "Admin", "bench-password-1", "admin")
        print(f"SafeLabel load benchmark on PostgreSQL {version} (fsync on, local cluster):"
              f" {args.items:,} items per process count, overlap {args.overlap}; each level at"
              f" most {args.seconds:g} s or {args.submits:,} submits per annotator;"
              f" think time {args.think_ms:g} ms;"
              f" {os.cpu_count()} cores, load average before {os.getloadavg()[0]:.1f}\n",
              flush=True)
        for processes in process_counts:
            people = {level: [users.create_user(db, admin, f"p{processes}l{level}a{n}",
                                                f"P{processes} L{level} A{n}",
                                                "bench-password-1", "annotator")
                              for n in range(level)] for level in levels}
            pid = projects.create_project(db, admin, f"Load x{processes}", "label", "", None,
                                          args.overlap,
                                          [u for group in people.values() for u in group])
            started = time.perf_counter()
            add_items(db, admin, pid, args.items, f"load{processes}")
            print(f"{processes} app process(es): {args.items:,} items added in"
                  f" {time.perf_counter() - started:.1f} s", flush=True)
            baseline_p95 = None
            for level in levels:
                wall, reports = run_level(url, pid, people[level], processes, args.seconds,
                                          args.submits, args.prefetch, args.think_ms)
                latencies = [ms for r in reports for ms in r["latencies"]]
                errors: Counter[str] = sum((Counter(r["errors"]) for r in reports), Counter())
                acknowledged = [a for r in reports for a in r["acknowledged"]]
                with db.read() as cur:
                    found = cur.execute(
                        "SELECT count(*) FROM annotations WHERE id IN (SELECT unnest(?))",
                        [[a for _, a in acknowledged]]).fetchone()[0] if acknowledged else 0
                p50, p95 = percentile(latencies, .5), percentile(latencies, .95)
                baseline_p95 = baseline_p95 or p95
                attempts = sum(r["attempts"] for r in reports)
                retries = sum(r["retries"] for r in reports)
                rows.append({
                    "processes": processes, "level": level, "submits": len(latencies),
                    "rate": len(latencies) / wall, "p50": p50, "p95": p95,
                    "max": max(latencies, default=0.0), "ratio": p95 / baseline_p95,
                    "errors": sum(errors.values()), "missing": len(acknowledged) - found,
                    "retries": 100 * retries / max(attempts - retries, 1),
                    "worst": max(r["worst"] for r in reports),
                    "state": check_database(db, pid),
                    "ran_out": sum(r["ran_out"] for r in reports),
                    "load": os.getloadavg()[0]})
                for kind, count in errors.most_common(5):
                    print(f"  {processes} x level {level}: {count} x {kind}")
                print(f"{processes} app process(es), level {level} done in {wall:.1f} s",
                      flush=True)
        db.close()
    finally:
        local_postgres.stop(folder)
        import shutil
        shutil.rmtree(folder, ignore_errors=True)

    print()
    header = ("processes", "people", "submits", "per s", "p50 ms", "p95 ms", "max ms",
              "p95 / 1", "errors", "ack missing", "retries %", "worst", "over-served", "twice",
              "bookkeeping", "load")
    print("  ".join(f"{h:>11}" for h in header))
    for r in rows:
        cells = (r["processes"], r["level"], r["submits"], f"{r['rate']:.1f}", f"{r['p50']:.1f}",
                 f"{r['p95']:.1f}", f"{r['max']:.0f}", f"{r['ratio']:.1f}x", r["errors"],
                 r["missing"], f"{r['retries']:.1f}", r["worst"], r["state"]["over_served"],
                 r["state"]["twice"], r["state"]["bookkeeping"], f"{r['load']:.1f}")
        print("  ".join(f"{c:>11}" for c in cells)
              + (f"  ({r['ran_out']} ran out of items)" if r["ran_out"] else ""))
    ok_errors = all(r["errors"] == 0 and r["missing"] == 0 for r in rows)
    ok_served = all(not any(r["state"][k] for k in ("over_served", "twice", "bookkeeping"))
                    for r in rows)
    at_20 = [r for r in rows if r["level"] == 20]
    print(f"\ntarget: no error: {'met' if ok_errors else 'NOT met'}; nothing over-served or "
          f"twice: {'met' if ok_served else 'NOT met'}; p95 within 2x of one annotator at 20 "
          "people: " + ("; ".join(f"{r['processes']} process(es) "
                                  f"{'met' if r['ratio'] <= 2 else 'NOT met'} ({r['ratio']:.1f}x)"
                                  for r in at_20) or "not measured"))
    print("'retries %': write transactions that failed to serialise and ran again, per 100"
          " committed; 'worst': the most attempts one write needed beyond its first")


if __name__ == "__main__":
    main()
