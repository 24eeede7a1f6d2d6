"""Load benchmark (issue 14, DuckDB half): many annotators at once on one DuckDB file.

    .venv/bin/python bench/bench_load.py [--items 100000] [--overlap 2] [--levels 1,20,50,100]
                                         [--seconds 30] [--submits 2000] [--prefetch 2]

One process, one database file in a temp dir (nothing is kept), localhost only: each simulated
annotator is a thread with its own account and its own `store.work_queue.WorkQueue` (what the
work pages use), claiming and then submitting a Label in a loop. Every submit is the work
page's round trip, one transaction: save the answer, note its client answer id, claim what
comes next (`WorkQueue.submit`). Each level runs with fresh accounts on the same project
(later levels find the earlier levels' work done), every thread bounded by `--seconds` and
`--submits`, whichever comes first.

Printed per level: submits, submits/s in all, claim+save p50/p95/max, p95 against one
annotator (the first level), how long a write transaction holds the store's one write lock
(p50: the service time everyone else queues behind), errors by kind, and what the database holds at the end, checked
in SQL over every annotation: items answered by more distinct people than their overlap,
and items answered twice (version 1) by one person. Target from issue 14: no error, nothing
over-served, p95 within 2x of one annotator at 20 people.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")
# The bench measures the queue, not the background hint trainer.
os.environ.setdefault("SAFELABEL_HINT_WORKER", "0")

from core.labels import Label  # noqa: E402
from store import projects, users  # noqa: E402
from store.db import Database, open_database  # noqa: E402
from store.imports import import_file  # noqa: E402
from store.work_queue import Timing, WorkQueue  # noqa: E402

LABELS = (Label(True, (), 0), Label(False, ("S1",), 1, "bench note"))


def write_items(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps({
                "id": f"load-{n}",
                "prompt": f"Question {n}: how do I answer a rude message from a coworker?",
                "response": f"Answer {n}: stay calm, describe the behaviour and ask to talk."})
                + "\n")


class TimedLock:
    """Stands in for the store's write lock (`Database._write_lock`) to record how long each
    write transaction holds it: the service time every other writer queues behind."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock, self.held_ms, self._since = lock, [], 0.0

    def __enter__(self) -> "TimedLock":
        self._lock.acquire()
        self._since = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.held_ms.append((time.perf_counter() - self._since) * 1000)
        self._lock.release()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


class Annotator(threading.Thread):
    """One person at the work page: claim, then submit answers until time or count runs out."""

    def __init__(self, db: Database, user_id: int, project_id: int, start: threading.Barrier,
                 seconds: float, submits: int, prefetch: int, think_ms: float = 0.0) -> None:
        super().__init__(daemon=True)
        # A person reads the item before answering: a pause after each submit, random around
        # `think_ms` (0: none, every annotator submits back to back, the stress case).
        self.think_s = think_ms / 1000
        self.queue = WorkQueue(db, user_id, project_id, prefetch=prefetch)
        self.start_barrier, self.seconds, self.submits = start, seconds, submits
        self.latencies_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.acknowledged: list[tuple[int, int]] = []   # (item id, annotation id)
        self.ran_out = False

    def run(self) -> None:
        self.start_barrier.wait()
        deadline = time.perf_counter() + self.seconds
        try:
            shown = self.queue.claim()
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none hidden
            self.errors[f"claim: {type(exc).__name__}: {str(exc)[:80]}"] += 1
            return
        if self.think_s:
            # People do not all press Enter at the same instant: each reads their first item
            # for a while too (else the first submits of a level all queue at once).
            time.sleep(random.uniform(0.5, 1.5) * self.think_s)
        count = 0
        while count < self.submits and time.perf_counter() < deadline:
            if shown.current is None:
                self.ran_out = True
                return
            item_id = shown.current.id
            started = time.perf_counter()
            try:
                shown = self.queue.submit(item_id, LABELS[count % 2],
                                          timing=Timing(active_ms=4000),
                                          client_id=str(uuid.uuid4()))
            except Exception as exc:  # noqa: BLE001
                self.errors[f"submit: {type(exc).__name__}: {str(exc)[:80]}"] += 1
                if len(self.errors) == 1 and sum(self.errors.values()) == 1:
                    traceback.print_exc()
                try:
                    shown = self.queue.claim()
                except Exception as again:  # noqa: BLE001
                    self.errors[f"claim: {type(again).__name__}"] += 1
                    return
                continue
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.acknowledged.append((item_id, shown.annotation_id))
            count += 1
            if self.think_s:
                time.sleep(random.uniform(0.5, 1.5) * self.think_s)


def check_database(db: Database, project_id: int) -> dict[str, int]:
    """What the file holds, in SQL over every annotation of the project."""
    with db.read() as cur:
        over_served = cur.execute(
            "SELECT count(*) FROM (SELECT a.item_id FROM annotations a JOIN projects p"
            " ON p.id = a.project_id WHERE a.project_id = ? GROUP BY a.item_id, p.overlap"
            " HAVING count(DISTINCT a.user_id) > p.overlap)", [project_id]).fetchone()[0]
        twice = cur.execute(
            "SELECT count(*) FROM (SELECT item_id, user_id FROM annotations WHERE project_id = ?"
            " AND version = 1 GROUP BY ALL HAVING count(*) > 1)", [project_id]).fetchone()[0]
        annotations = cur.execute("SELECT count(*) FROM annotations WHERE project_id = ?",
                                  [project_id]).fetchone()[0]
        # The queue's bookkeeping agrees with the answers: done_count is each item's answers.
        bookkeeping = cur.execute(
            "SELECT count(*) FROM items i LEFT JOIN (SELECT item_id, count(*) AS n FROM"
            " annotations WHERE version = 1 GROUP BY item_id) a ON a.item_id = i.id"
            " WHERE i.project_id = ? AND (i.done_count <> coalesce(a.n, 0) OR i.open_slots < 0)",
            [project_id]).fetchone()[0]
    return {"annotations": annotations, "over_served": over_served, "twice": twice,
            "bookkeeping": bookkeeping}


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both load benches take (this one and bench_load_pg.py)."""
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--overlap", type=int, default=2)
    parser.add_argument("--levels", default="1,20,50,100")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--submits", type=int, default=2000,
                        help="at most this many submits per annotator and level")
    parser.add_argument("--prefetch", type=int, default=2, help="claims held (the page: 2)")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="each annotator's pause after a submit, random in 0.5x-1.5x"
                             " (0: back to back, the stress case)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_arguments(parser)
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    with tempfile.TemporaryDirectory(prefix="safelabel-load-") as tmp:
        tmp_path = Path(tmp)
        write_items(tmp_path / "items.jsonl", args.items)
        db = open_database(tmp_path / "load.duckdb")
        admin = users.create_user(db, None, "admin", "Admin", "bench-password-1", "admin")
        people = {level: [users.create_user(db, admin, f"l{level}a{n}", f"L{level} A{n}",
                                            "bench-password-1", "annotator")
                          for n in range(level)] for level in levels}
        pid = projects.create_project(db, admin, "Load", "label", "", None, args.overlap,
                                      [u for group in people.values() for u in group])
        started = time.perf_counter()
        import_file(db, admin, pid, tmp_path / "items.jsonl")
        print(f"SafeLabel load benchmark on DuckDB {__import__('duckdb').__version__}: "
              f"{args.items:,} items, overlap {args.overlap}, one process, one file "
              f"(imported in {time.perf_counter() - started:.1f} s); each level at most "
              f"{args.seconds:g} s or {args.submits:,} submits per annotator; think time "
              f"{args.think_ms:g} ms; "
              f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.1f}\n",
              flush=True)

        rows = []
        baseline_p95 = None
        lock = db._write_lock = TimedLock(db._write_lock)
        for level in levels:
            lock.held_ms = []
            barrier = threading.Barrier(level + 1)
            workers = [Annotator(db, uid, pid, barrier, args.seconds, args.submits,
                                 args.prefetch, args.think_ms) for uid in people[level]]
            for worker in workers:
                worker.start()
            barrier.wait()
            began = time.perf_counter()
            for worker in workers:
                worker.join()
            wall = time.perf_counter() - began
            latencies = [ms for w in workers for ms in w.latencies_ms]
            errors: Counter[str] = sum((w.errors for w in workers), Counter())
            acknowledged = [a for w in workers for a in w.acknowledged]
            with db.read() as cur:   # every acknowledged answer is in the file, once
                found = cur.execute(
                    "SELECT count(*) FROM annotations WHERE id IN (SELECT unnest(?))",
                    [[a for _, a in acknowledged]]).fetchone()[0] if acknowledged else 0
            p50, p95 = percentile(latencies, .5), percentile(latencies, .95)
            baseline_p95 = baseline_p95 or p95
            state = check_database(db, pid)
            rows.append((level, len(latencies), len(latencies) / wall, p50, p95,
                         max(latencies, default=0.0), p95 / baseline_p95,
                         sum(errors.values()), len(acknowledged) - found, state,
                         sum(w.ran_out for w in workers), os.getloadavg()[0],
                         percentile(lock.held_ms, .5)))
            for kind, count in errors.most_common(5):
                print(f"  level {level}: {count} x {kind}")
            print(f"level {level} done in {wall:.1f} s", flush=True)
        db.close()

    print()
    header = ("people", "submits", "per s", "p50 ms", "p95 ms", "max ms", "p95 / 1",
              "lock p50 ms", "errors", "ack missing", "over-served", "twice", "bookkeeping",
              "load")
    print("  ".join(f"{h:>11}" for h in header))
    for (level, n, rate, p50, p95, top, ratio, errors, missing, state, ran_out,
         load, held) in rows:
        cells = (level, n, f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}", f"{top:.0f}",
                 f"{ratio:.1f}x", f"{held:.1f}", errors, missing, state["over_served"], state["twice"],
                 state["bookkeeping"], f"{load:.1f}")
        print("  ".join(f"{c:>11}" for c in cells) + (f"  ({ran_out} ran out of items)"
                                                     if ran_out else ""))
    at_20 = next((r for r in rows if r[0] == 20), None)
    ok_errors = all(r[7] == 0 and r[8] == 0 for r in rows)
    ok_served = all(r[9]["over_served"] == 0 and r[9]["twice"] == 0 and r[9]["bookkeeping"] == 0
                    for r in rows)
    print(f"\ntarget: no error: {'met' if ok_errors else 'NOT met'}; nothing over-served or "
          f"twice: {'met' if ok_served else 'NOT met'}; p95 within 2x of one annotator at 20 "
          f"people: " + ("not measured" if at_20 is None else
                         f"{'met' if at_20[6] <= 2 else 'NOT met'} ({at_20[6]:.1f}x)"))
    print(f"annotations in the file at the end: {rows[-1][9]['annotations']:,}")


if __name__ == "__main__":
    main()
