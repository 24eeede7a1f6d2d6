"""Wellness benchmark: what the weekly budget and opt-outs add to a claim.

    .venv/bin/python bench/bench_wellness.py [--items 100000] [--exposures 1000000] [--ops 300]

Builds a fresh database in a temp dir: `--items` items with category hints, `--exposures`
exposure rows spread over the past year for 50 people, plus one heavy week for each of the two
people measured (700 items a day). Prints the time of the routing status (store.wellbeing.
person_day: the day's rows and the 7-day sums) and of claim + skip with no opt-outs and
with three.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from store import projects, users, wellness  # noqa: E402
from store.db import open_database, utcnow  # noqa: E402
from store.imports import import_file  # noqa: E402
from store.wellbeing import person_day  # noqa: E402
from store.work_queue import WorkQueue  # noqa: E402

CATEGORIES = ["S1", "S2", "S4", "S10", "S11", "S12", None]


def timed_ms(fn, ops: int) -> tuple[float, float]:
    times = []
    for _ in range(ops):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.duckdb")
        admin = users.create_user(db, None, "admin", "Admin", "bench-password-1", "admin")
        person = users.create_user(db, admin, "ann", "Ann", "bench-password-1", "annotator")
        # A second person with the same heavy week, so each claim case starts equally fresh.
        twin = users.create_user(db, admin, "ann2", "Ann Two", "bench-password-1", "annotator")
        pid = projects.create_project(db, admin, "Bench", "label", "", None, 1, [person, twin])
        path = Path(tmp) / "items.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for n in range(args.items):
                out.write(json.dumps({"id": f"b-{n}", "prompt": f"prompt {n}", "response": "r",
                                      "hint_category": CATEGORIES[n % len(CATEGORIES)],
                                      "hint_severity": n % 5}) + "\n")
        import_file(db, admin, pid, path)
        now = utcnow()

        def fill(cur):
            cur.execute(
                "INSERT INTO exposures (user_id, project_id, item_id, severity, outcome,"
                " active_ms, started_at, ended_at)"
                " SELECT 100 + i % 50, ?, 1, i % 5, 'submit', 20000,"
                "  ? - to_seconds(i * 31536000 // ?) - INTERVAL 20 SECOND,"
                "  ? - to_seconds(i * 31536000 // ?) FROM range(?) t(i)",
                [pid, now, args.exposures, now, args.exposures, args.exposures])
            cur.execute(
                "INSERT INTO exposures (user_id, project_id, item_id, severity, outcome,"
                " active_ms, started_at, ended_at)"
                " SELECT CASE WHEN i % 2 = 0 THEN ? ELSE ? END, ?, 1, i % 3, 'submit', 20000,"
                "  ? - to_seconds(i * 432) - INTERVAL 20 SECOND, ? - to_seconds(i * 432)"
                " FROM range(9800) t(i)", [person, twin, pid, now, now])
        db.write(fill)

        def status() -> None:
            with db.read() as cur:
                person_day(cur, person, utcnow())

        rows = [("routing status (day + 7-day sums)", *timed_ms(status, args.ops))]
        for label, who, codes in (("claim + skip, no opt-outs", person, []),
                                  ("claim + skip, 3 opt-outs", twin, ["S1", "S4", "S11"])):
            wellness.set_opt_outs(db, who, pid, codes)
            queue = WorkQueue(db, who, pid, prefetch=1)

            def claim_and_skip() -> None:
                item = queue.claim().current
                queue.skip(item.id)
            rows.append((label, *timed_ms(claim_and_skip, args.ops)))
        print(f"{args.items:,} items, {args.exposures + 9800:,} exposures")
        print(f"{'operation':40} {'median ms':>10} {'p95 ms':>10}")
        for label, median, p95 in rows:
            print(f"{label:40} {median:10.1f} {p95:10.1f}")
        db.close()


if __name__ == "__main__":
    main()
