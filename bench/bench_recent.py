"""My items benchmark: store.recent.recent_items at 1,000,000 items and 1,000,000 annotations,
with and without an index on annotations(user_id), and with annotations in time order (as
the work pages append them) or not (votes imported afterwards, say).

    .venv/bin/python bench/bench_recent.py [--items 1000000] [--annotations 1000000]
                                           [--annotators 20] [--days 60] [--runs 30]

Builds fresh databases in a temp dir (nothing is kept) and prints p50 / p95 per query, and
the plan of the default query (EXPLAIN ANALYZE).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from store import projects, users  # noqa: E402
from store.db import open_database, utcnow  # noqa: E402
from store.recent import recent_items  # noqa: E402


def seed(db, items: int, annotations: int, annotators: int, days: int, in_order: bool):
    admin = users.create_user(db, None, "admin", "Admin", "bench-password", "admin")
    people = [users.create_user(db, admin, f"ann{n}", f"Ann {n}", "bench-password", "annotator")
              for n in range(annotators)]
    # Three projects, so the project filter has something to leave out.
    pids = [projects.create_project(db, admin, f"Bench {k}", "label", "", None, 1, people)
            for k in range(3)]
    now = utcnow()
    start = now - timedelta(days=days)

    def fill(cur):
        cur.execute(
            "INSERT INTO items (project_id, external_id, prompt, response, open_slots, done_count)"
            " SELECT ? + (i % 3), 'bench-' || i, 'Question ' || i || ': how should I answer a"
            " rude message from a coworker about the weekly report?', 'Stay calm. ' || i, 0, 1"
            " FROM range(?) t(i)", [pids[0], items])
        # Annotation n: item n % items, person n % annotators, at a time spread evenly over
        # `days` (in insertion order, or scattered). One in 50 also gets a correction.
        order = "n" if in_order else "hash(n) % ?"
        params = [] if in_order else [annotations]
        first_id = cur.execute("SELECT min(id) FROM items").fetchone()[0]
        # Item k (0-based) has id first_id + k and project pids[0] + k % 3 (as inserted).
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, is_safe, categories,"
            " severity, submitted_at, active_ms)"
            " SELECT ? + n % ?, ? + (n % ?) % 3, ? + (n % ?), 1, n % 7 <> 0,"
            " CASE WHEN n % 7 = 0 THEN ['S1'] ELSE [] END, CASE WHEN n % 7 = 0 THEN 2 ELSE 0 END,"
            f" ?::TIMESTAMP + INTERVAL 1 MILLISECOND * ({order}) * ?, 5000"
            " FROM range(?) t(n) ORDER BY n",
            [first_id, items, pids[0], items, people[0], annotators, start, *params,
             days * 86_400_000 // annotations, annotations])
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, supersedes, is_safe,"
            " categories, severity, submitted_at, active_ms)"
            " SELECT item_id, project_id, user_id, 2, id, NOT is_safe,"
            " CASE WHEN is_safe THEN ['S2'] ELSE [] END, CASE WHEN is_safe THEN 1 ELSE 0 END,"
            " submitted_at + INTERVAL 1 HOUR, 4000 FROM annotations WHERE id % 50 = 0"
            " AND submitted_at + INTERVAL 1 HOUR < ? ORDER BY id", [now])

    db.write(fill)
    with db.read() as cur:
        cur.execute("CHECKPOINT")   # row groups on disk, with their min/max, as in a real file
    return people, pids, now


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(runs: int, call) -> tuple[float, float, int]:
    call()   # warm
    ms, count = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        count = len(call())
        ms.append((time.perf_counter() - t0) * 1000)
    return percentile(ms, .5), percentile(ms, .95), count


def queries(db, user_id: int, pids: list[int], now):
    week = now - timedelta(days=7)
    return [
        ("last 7 days (default)", lambda: recent_items(db, user_id, week)),
        ("last 7 days, one project", lambda: recent_items(db, user_id, week, project_id=pids[1])),
        ("last 7 days, search text", lambda: recent_items(db, user_id, week, search="question 9")),
        ("last 7 days, answer unsafe", lambda: recent_items(db, user_id, week, answer="unsafe")),
        ("days 30..23 ago", lambda: recent_items(db, user_id, now - timedelta(days=30),
                                                 until=now - timedelta(days=23))),
        ("last 60 days", lambda: recent_items(db, user_id, now - timedelta(days=60))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    table = []
    plan = ""
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-recent-") as tmp:
        for in_order in (True, False):
            db = open_database(Path(tmp) / f"recent-{in_order}.duckdb")
            t0 = time.perf_counter()
            people, pids, now = seed(db, args.items, args.annotations, args.annotators,
                                     args.days, in_order)
            seeded = time.perf_counter() - t0
            with db.read() as cur:
                total = cur.execute("SELECT count(*) FROM annotations").fetchone()[0]
            print(f"seeded {total:,} annotations ({'in time order' if in_order else 'scattered'})"
                  f" in {seeded:.1f} s", flush=True)
            for indexed in (False, True):
                if indexed:
                    db.write(lambda cur: cur.execute(
                        "CREATE INDEX bench_annotations_user ON annotations (user_id)"))
                for name, call in queries(db, people[3], pids, now):
                    p50, p95, count = timed(args.runs, call)
                    table.append(("in time order" if in_order else "scattered",
                                  "index on user_id" if indexed else "no index", name,
                                  f"{count}", f"{p50:.1f} / {p95:.1f} ms"))
                if in_order and not indexed:
                    plan = explain(db, people[3], now - timedelta(days=7))
            db.close()

    print(f"\nrecent_items: {args.items:,} items, {args.annotations:,} annotations (+2% corrections),"
          f" {args.annotators} annotators over {args.days} days, {args.runs} runs each\n")
    header = ("annotations", "index", "query", "rows", "p50 / p95")
    widths = [max(len(r[i]) for r in table + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print("\nPlan of the default query (annotations in time order, no index):\n" + plan)


def explain(db, user_id: int, since) -> str:
    """EXPLAIN ANALYZE of the default query, by running recent_items' SQL through a cursor
    that records it."""
    import store.recent as recent

    captured: list = []

    class Recorder:
        def __init__(self, cur):
            self.cur = cur

        def execute(self, sql, params=None):
            captured.append((sql, params))
            return self.cur.execute(sql, params)

    class RecordingDb:
        def __init__(self, inner):
            self.inner = inner

        def read(self):
            from contextlib import contextmanager

            @contextmanager
            def reader():
                with self.inner.read() as cur:
                    yield Recorder(cur)
            return reader()

    recent.recent_items(RecordingDb(db), user_id, since)
    sql, params = captured[0]
    with db.read() as cur:
        rows = cur.execute("EXPLAIN ANALYZE " + sql, params).fetchall()
    return "\n".join(str(r[-1]) for r in rows)


if __name__ == "__main__":
    main()
