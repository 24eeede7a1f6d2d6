"""Threads benchmark: the sidebar's unread count (run on every page load), the inbox list and
one thread, for an annotator and for a lead, with many messages in the file.

    .venv/bin/python bench/bench_threads.py [--messages 100000] [--annotators 50] [--runs 200]

Builds a fresh database in a temp dir (nothing is kept). Messages are bulk-inserted: threads of
4 messages (question, reply, follow-up, reply) spread over the annotators and items, plus a
share of open questions; each annotator has read half of their threads.
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

from store import projects, threads, users  # noqa: E402
from store.db import open_database  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def fill(db, project_id: int, lead_id: int, annotator_ids: list[int], messages: int) -> None:
    threads_wanted = messages // 4
    first_annotator = min(annotator_ids)

    def work(cur):
        cur.execute(
            "INSERT INTO items (project_id, external_id, prompt, response, open_slots, touched_by)"
            " SELECT ?, 'b' || n, 'prompt ' || n, 'response ' || n, 0, ',' || (? + n % ?) || ','"
            " FROM range(?) t(n)", [project_id, first_annotator, len(annotator_ids), threads_wanted])
        cur.execute(
            "INSERT INTO messages (item_id, project_id, annotator_id, author_id, kind, body,"
            " created_at)"
            " SELECT i.id, i.project_id, ? + (i.id % ?),"
            "   CASE WHEN k % 2 = 0 THEN ? + (i.id % ?) ELSE ? END,"
            "   CASE WHEN k % 2 = 0 THEN 'question' ELSE 'reply' END,"
            "   'message ' || k || ' about item ' || i.id, now()::TIMESTAMP"
            " FROM items i, range(4) r(k)"
            # Every tenth thread ends with a question nobody answered yet (an open question).
            " WHERE i.project_id = ? AND NOT (i.id % 10 = 0 AND k = 3) ORDER BY i.id, k",
            [first_annotator, len(annotator_ids), first_annotator, len(annotator_ids), lead_id,
             project_id])
        cur.execute(
            "INSERT INTO message_reads SELECT annotator_id, item_id, annotator_id, max(id),"
            " now()::TIMESTAMP FROM messages WHERE item_id % 2 = 0"
            " GROUP BY item_id, annotator_id")
        # The lead read every thread up to their own last reply (writing reads a thread).
        cur.execute(
            "INSERT INTO message_reads SELECT author_id, item_id, annotator_id, max(id),"
            " now()::TIMESTAMP FROM messages WHERE author_id = ? GROUP BY ALL", [lead_id])

    db.write(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.duckdb")
        admin = users.create_user(db, None, "admin", "Admin", "bench-password-1", "admin")
        lead = users.create_user(db, admin, "lead", "Lead", "bench-password-1", "lead")
        annotators = [users.create_user(db, admin, f"a{n}", f"A {n}", "bench-password-1",
                                        "annotator") for n in range(args.annotators)]
        pid = projects.create_project(db, admin, "Bench", "label", "", None, 1, annotators)
        start = time.perf_counter()
        fill(db, pid, lead, annotators, args.messages)
        with db.read() as cur:
            total = cur.execute("SELECT count(*) FROM messages").fetchone()[0]
        print(f"{total:,} messages in {total // 4:,} threads, {args.annotators} annotators "
              f"(filled in {time.perf_counter() - start:.1f} s)")
        someone = annotators[0]
        item = threads.inbox(db, someone, limit=1)[0].item_id
        rows = [
            # A baseline: on a busy machine every figure grows, this one too.
            ("baseline: one user by id", lambda: users.get_user(db, someone)),
            ("unread_count, annotator", lambda: threads.unread_count(db, someone)),
            ("unread_count, lead", lambda: threads.unread_count(db, lead)),
            ("inbox, annotator", lambda: threads.inbox(db, someone)),
            ("inbox, lead (200 newest)", lambda: threads.inbox(db, lead)),
            ("thread, annotator", lambda: threads.thread(db, someone, item, someone)),
            ("open_questions, project", lambda: threads.open_questions(db, pid)),
        ]
        print(f"{'query':28} {'median ms':>10} {'p95 ms':>8}")
        for name, fn in rows:
            median, p95 = timed(fn, args.runs)
            print(f"{name:28} {median:10.2f} {p95:8.2f}")
        print(f"unread for the annotator: {threads.unread_count(db, someone)}, "
              f"for the lead: {threads.unread_count(db, lead)}")
        db.close()


if __name__ == "__main__":
    main()
