"""Store benchmark: JSONL import time, and claim-next + save-annotation latency.

    .venv/bin/python bench/bench_store.py [--items 100000] [--ops 1000] [--annotations 0]
                                          [--overlap 1]

Builds a fresh database in a temp dir (nothing is kept), prints a table with the targets
from PRODUCT.md. `--annotations N` pre-fills N annotations first (bulk SQL), so latency can
be read at the PRODUCT.md size (1,000,000 items and 1,000,000 annotations).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from core.labels import Label  # noqa: E402
from store import projects, users, work  # noqa: E402
from store.db import open_database  # noqa: E402
from store.imports import import_file  # noqa: E402
from store.work_queue import Timing, WorkQueue  # noqa: E402


def write_items(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps({
                "id": f"bench-{n}",
                "prompt": f"Question {n}: how should I respond to a rude message from a coworker?",
                "response": f"Answer {n}: stay calm, describe the behaviour, and ask to talk it over "
                            "in person; involve a manager if it continues.",
                "source": "bench"}) + "\n")


def prefill_annotations(db, project_id: int, user_id: int, count: int) -> None:
    """Mark the first `count` items done by one person, in bulk, as if labeled earlier
    (annotations and exposures)."""
    def work_(cur):
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, is_safe, categories,"
            " severity, submitted_at, active_ms) "
            "SELECT id, project_id, ?, 1, true, [], 0, now()::TIMESTAMP, 5000 FROM items "
            "WHERE project_id = ? ORDER BY id LIMIT ?", [user_id, project_id, count])
        # Their exposure records, spread over the past year (one person's day stays small).
        cur.execute(
            "INSERT INTO exposures (user_id, project_id, item_id, severity, outcome, active_ms,"
            " started_at, ended_at) SELECT user_id, project_id, item_id, severity, 'submit',"
            " active_ms, submitted_at - INTERVAL 1 DAY * (1 + id % 365) - INTERVAL 5 SECOND,"
            " submitted_at - INTERVAL 1 DAY * (1 + id % 365) FROM annotations WHERE project_id = ?",
            [project_id])
        cur.execute("UPDATE items SET done_count = 1, open_slots = 0, touched_by = ',' || ? || ','"
                    " WHERE project_id = ? AND id <= (SELECT min(id) FROM items WHERE project_id = ?) + ? - 1",
                    [user_id, project_id, project_id, count])
    db.write(work_)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--annotations", type=int, default=0)
    parser.add_argument("--overlap", type=int, default=1,
                        help="annotators per item (2+ exercises depth-first serving)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="safelabel-bench-") as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / "items.jsonl"
        write_items(data, args.items)
        db = open_database(tmp_path / "bench.duckdb")
        admin = users.create_user(db, None, "admin", "Admin", "bench-password", "admin")
        annotators = [users.create_user(db, admin, f"ann{n}", f"Ann {n}", "bench-password", "annotator")
                      for n in range(4)]
        pid = projects.create_project(db, admin, "Bench", "label", "", None, args.overlap,
                                      annotators)

        started = time.perf_counter()
        result = import_file(db, admin, pid, data)
        import_seconds = time.perf_counter() - started
        assert result.items_added == args.items

        if args.annotations:
            prefill_annotations(db, pid, admin, min(args.annotations, args.items - 3 * args.ops - 3))

        label = Label(False, ("S1",), 2, "bench")
        claim_ms, save_ms, both_ms = [], [], []
        for n in range(args.ops):
            user_id = annotators[n % len(annotators)]
            t0 = time.perf_counter()
            item = work.claim_next_item(db, user_id, pid)
            t1 = time.perf_counter()
            work.save_annotation(db, user_id, item.id, label, active_ms=1000)
            t2 = time.perf_counter()
            claim_ms.append((t1 - t0) * 1000)
            save_ms.append((t2 - t1) * 1000)
            both_ms.append((t2 - t0) * 1000)
        combined_ms = []
        user_id = annotators[0]
        item = work.claim_next_item(db, user_id, pid)
        for _ in range(args.ops):
            t0 = time.perf_counter()
            _, item = work.save_and_claim_next(db, user_id, item.id, label, active_ms=1000)
            combined_ms.append((time.perf_counter() - t0) * 1000)
        # The work pages' path: WorkQueue.submit holding two claims (the one shown and the
        # next), which returns the next one (already claimed) and claims the one after.
        queue_ms = []
        queue = WorkQueue(db, annotators[1], pid, prefetch=2)
        result = queue.claim()
        for _ in range(args.ops):
            t0 = time.perf_counter()
            result = queue.submit(result.current.id, label, timing=Timing(active_ms=1000))
            queue_ms.append((time.perf_counter() - t0) * 1000)
        db.close()

    print(f"\nSafeLabel store benchmark: {args.items:,} items, overlap {args.overlap}, "
          f"{args.annotations:,} prior annotations, {args.ops:,} operations\n")
    rows = [
        ("import JSONL", f"{args.items:,} items", f"{import_seconds:.2f} s",
         "<= 5 s per 100,000; <= 40 s per 1,000,000"),
        ("claim next", "p50 / p95", f"{percentile(claim_ms, .5):.2f} / {percentile(claim_ms, .95):.2f} ms", ""),
        ("save annotation", "p50 / p95", f"{percentile(save_ms, .5):.2f} / {percentile(save_ms, .95):.2f} ms", ""),
        ("claim + save", "p50 / p95", f"{percentile(both_ms, .5):.2f} / {percentile(both_ms, .95):.2f} ms",
         "p95 <= 5 ms"),
        ("claim + save", "mean", f"{statistics.mean(both_ms):.2f} ms", ""),
        ("save + claim next, one transaction", "p50 / p95",
         f"{percentile(combined_ms, .5):.2f} / {percentile(combined_ms, .95):.2f} ms", "p95 <= 5 ms"),
        ("WorkQueue.submit, prefetch 2", "p50 / p95",
         f"{percentile(queue_ms, .5):.2f} / {percentile(queue_ms, .95):.2f} ms", "p95 <= 5 ms"),
    ]
    widths = [max(len(r[i]) for r in rows + [("what", "measure", "result", "target")]) for i in range(4)]
    header = ("what", "measure", "result", "target")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()
