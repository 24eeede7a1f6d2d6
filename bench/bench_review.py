"""Review benchmark: the queues and an item's history on a large project.

    .venv/bin/python bench/bench_review.py [--items 500000]

Fills a fresh database in bulk SQL: one label project of N items with two current votes each
(a third of them disagreeing, a tenth corrected once), flags on 1% of the items, and five
events per item (claims, a skip on some) so the audit log is large. Times each review query
(median of 5 runs) and prints a table.

Measured 2026-11-29 at 500,000 items / 1,050,000 annotations / 2,500,000 events, on the
2-core machine while it ran other work (load average 11): disagreements 2.3-2.6 s (12.7 s
before the current votes were found by an anti-join on `supersedes` and answers compared by
hash), flags 0.2 s, item_answers 20 ms, item_history 0.1 s. Figures on an idle machine
will be lower; rerun before quoting them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from store import projects, users  # noqa: E402
from store.db import open_database  # noqa: E402
from store.history import item_history  # noqa: E402
from store.review import disagreements, flags, item_answers  # noqa: E402


def fill(db, pid: int, people: tuple[int, int], n: int) -> None:
    first, second = people

    def work(cur):
        cur.execute(
            "INSERT INTO items (project_id, external_id, prompt, response, open_slots, done_count)"
            " SELECT ?, 'e' || i, 'Prompt ' || i, 'Response ' || i, 0, 2 FROM range(?) t(i)",
            [pid, n])
        for user, differs in ((first, "false"), (second, "id % 3 = 0")):
            cur.execute(
                "INSERT INTO annotations (item_id, project_id, user_id, version, is_safe,"
                " categories, severity, submitted_at, active_ms) SELECT id, project_id, ?, 1,"
                f" NOT ({differs}), CASE WHEN {differs} THEN ['S1'] ELSE [] END,"
                f" CASE WHEN {differs} THEN 2 ELSE 0 END, now()::TIMESTAMP, 4000"
                " FROM items WHERE project_id = ?", [user, pid])
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, is_safe, categories,"
            " severity, submitted_at, active_ms) SELECT id, project_id, ?, 2, true, [], 1,"
            " now()::TIMESTAMP, 3000 FROM items WHERE project_id = ? AND id % 10 = 1",
            [first, pid])
        cur.execute(
            "INSERT INTO flags (item_id, project_id, user_id, reason, flagged_at)"
            " SELECT id, project_id, ?, 'flag reason ' || id, now()::TIMESTAMP FROM items"
            " WHERE project_id = ? AND id % 100 = 7", [second, pid])
        cur.execute(
            "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details)"
            " SELECT now()::TIMESTAMP, ?, CASE WHEN k = 4 AND id % 20 = 0 THEN 'skip' ELSE 'claim'"
            " END, project_id, id, NULL FROM items, range(5) r(k) WHERE project_id = ?",
            [first, pid])

    db.write(work)


def timed(fn) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500_000)
    n = parser.parse_args().items
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "bench.duckdb")
        admin = users.create_user(db, None, "admin", "Admin", "correct-horse-9", "admin")
        a = users.create_user(db, admin, "ann_a", "A", "correct-horse-9", "annotator")
        b = users.create_user(db, admin, "ann_b", "B", "correct-horse-9", "annotator")
        pid = projects.create_project(db, admin, "P", "label", "", None, 2, [a, b])
        start = time.perf_counter()
        fill(db, pid, (a, b), n)
        print(f"filled {n:,} items, {2 * n + n // 10:,} annotations, {5 * n:,} events "
              f"in {time.perf_counter() - start:.1f} s")
        item = n // 2
        rows = [("disagreements (any, first 500)", lambda: disagreements(db, pid)),
                ("disagreements (below 0.75)", lambda: disagreements(db, pid, threshold=0.75)),
                ("flags (first 500)", lambda: flags(db, pid)),
                ("item_answers (one item)", lambda: item_answers(db, item)),
                ("item_history (one item)", lambda: item_history(db, item))]
        print(f"{'query':34} {'median ms':>10}")
        for name, fn in rows:
            print(f"{name:34} {timed(fn):10.1f}")
        db.close()


if __name__ == "__main__":
    main()
