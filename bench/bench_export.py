"""Export benchmark: 1,000,000 annotations to Parquet and JSONL, and TRL pairs.

    .venv/bin/python bench/bench_export.py [--annotations 1000000]

Fills a fresh database in bulk SQL (one label project with N annotations on N items, a
tenth of them with a rewrite, one compare project of three-turn transcripts with N
judgments, and skips and flags on 1% of the items of each), then times each export. Prints a
table. Kinds the code does not have are left out, so the same script measures older code.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from store import projects, users  # noqa: E402
from store.db import open_database  # noqa: E402
from store.exports import KINDS, export  # noqa: E402


def fill(db, label_pid: int, compare_pid: int, user_id: int, n: int) -> None:
    def work(cur):
        cur.execute(
            "INSERT INTO items (project_id, external_id, prompt, response, open_slots, done_count) "
            "SELECT ?, 'l' || i, 'Prompt ' || i || ': how do I handle a rude coworker?', "
            "'Response ' || i || ': stay calm and talk it over.', 0, 1 FROM range(?) t(i)",
            [label_pid, n])
        cur.execute(
            "INSERT INTO items (project_id, external_id, messages, response_a, response_b,"
            " open_slots, done_count) SELECT ?, 'c' || i, json_array("
            " json_object('role', 'user', 'content', 'Question ' || i || ': is this allowed?'),"
            " json_object('role', 'assistant', 'content', 'Tell me more about ' || i || '.'),"
            " json_object('role', 'user', 'content', 'It is about a neighbour ' || i || '.')),"
            " 'Answer A ' || i, 'Answer B ' || i, 0, 1 FROM range(?) t(i)", [compare_pid, n])
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, is_safe, categories,"
            " severity, edited_response, submitted_at, shown_at, active_ms) "
            "SELECT id, project_id, ?, 1, id % 3 = 0, CASE WHEN id % 3 = 0 THEN [] ELSE ['S1'] END,"
            " CASE WHEN id % 3 = 0 THEN 0 ELSE 2 END,"
            " CASE WHEN id % 10 = 1 THEN 'A calmer rewrite ' || id END,"
            " now()::TIMESTAMP, now()::TIMESTAMP, 4000 "
            "FROM items WHERE project_id = ?", [user_id, label_pid])
        cur.execute(
            "INSERT INTO flags (item_id, project_id, user_id, reason, flagged_at) "
            "SELECT id, project_id, ?, 'flag reason ' || id, now()::TIMESTAMP FROM items "
            "WHERE id % 100 = 7", [user_id])
        cur.execute(
            "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details) "
            "SELECT now()::TIMESTAMP, ?, 'skip', project_id, id, json_object('reason', 'skip ' || id)"
            " FROM items WHERE id % 100 = 9", [user_id])
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, judgment, submitted_at,"
            " active_ms) SELECT id, project_id, ?, 1, json_object('left', 'a', 'harmlessness',"
            " (id % 7) - 3, 'helpfulness', (id % 5) - 2, 'overall',"
            " CASE id % 3 WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE 'tie' END, 'rationale', NULL),"
            " now()::TIMESTAMP, 6000 FROM items WHERE project_id = ?", [user_id, compare_pid])
    db.write(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-") as tmp:
        tmp_path = Path(tmp)
        db = open_database(tmp_path / "bench.duckdb")
        admin = users.create_user(db, None, "admin", "Admin", "bench-password", "admin")
        label_pid = projects.create_project(db, admin, "Labels", "label")
        compare_pid = projects.create_project(db, admin, "Pairs", "compare")
        started = time.perf_counter()
        fill(db, label_pid, compare_pid, admin, args.annotations)
        fill_s = time.perf_counter() - started
        for pid, kind, fmt in ((label_pid, "annotations", "parquet"), (label_pid, "annotations", "jsonl"),
                               (label_pid, "annotations", "csv"), (label_pid, "items", "parquet"),
                               (label_pid, "items", "csv"),
                               (label_pid, "feedback", "jsonl"),
                               (label_pid, "trl_unpaired", "jsonl"),
                               (label_pid, "sft_rewrites", "jsonl"),
                               (label_pid, "sft_rewrites_conversational", "jsonl"),
                               (label_pid, "trl_rewrite_preference", "jsonl"),
                               (compare_pid, "trl_preference", "jsonl"),
                               (compare_pid, "trl_preference_conversational", "jsonl"),
                               (compare_pid, "trl_preference", "parquet"),
                               (compare_pid, "label_studio", "json")):
            if kind not in KINDS:
                continue
            out = tmp_path / f"{kind}.{fmt}"
            t0 = time.perf_counter()
            n = export(db, admin, pid, kind, out, fmt)
            rows.append((kind, fmt, n, time.perf_counter() - t0, out.stat().st_size / 1e6))
        db.close()
    print(f"\nSafeLabel export benchmark: {args.annotations:,} annotations per project "
          f"(filled in {fill_s:.1f} s)\n")
    print(f"{'export':32} {'format':8} {'rows':>10} {'seconds':>8} {'MB':>8}  target")
    print(f"{'-' * 32} {'-' * 8} {'-' * 10} {'-' * 8} {'-' * 8}  {'-' * 10}")
    for kind, fmt, n, seconds, mb in rows:
        target = "<= 10 s" if kind == "annotations" and fmt in ("parquet", "jsonl") else ""
        print(f"{kind:32} {fmt:8} {n:10,} {seconds:8.2f} {mb:8.1f}  {target}")


if __name__ == "__main__":
    main()
