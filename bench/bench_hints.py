"""Hint model benchmark: training and re-scoring time at scale, and the model candidates.

    .venv/bin/python bench/bench_hints.py [--labelled 100000] [--unlabelled 100000] [--step 500]

1. Candidates: cross-validated quality of each model candidate (core/hint_model.CANDIDATES)
   and of the keyword hint on the shipped set (tests/fixtures/hint_set.jsonl), with the time
   each took: how DEFAULT_CANDIDATE was chosen.
2. Scale: a fresh database with one label project of `labelled` + `unlabelled` items made by
   the shipped set's generator (tests/fixtures/make_hint_set.py, more rows), the first
   `labelled` labelled by a votes import. Times the training-data query, the cross-validated
   evaluation with the keyword hint, the final fit and serialisation (together:
   store/hint_models.train_and_store) and the re-scoring of every unlabelled item in steps
   of `step` items, with the longest time the write lock was held by one step.
Prints a table. Figures depend on the machine's load: rerun before quoting them.

Measured 2026-11-30 on the 2-core machine while other work ran (load average 10-12):
candidates on the shipped set: logreg recall >= 3 0.995 / false alarms 0.006 in 8.6 s, sgd
0.991 / 0.008 in 3.2 s (keywords 0.093 / 0.188), so logreg. 100,000 labelled + 100,000
unlabelled: training-data query 5.9 s, train_and_store 73 s (CV on a 5,000 sample, fit on
20,000), model 1.2 MB, re-scoring 100,000 items in 200 steps 97 s (1,034 items/s), write
lock per step: median 13 ms, p95 58 ms (from a run with 2,000 labelled + 100,000).
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

from core import hint_model  # noqa: E402
from core.severity_hint import severity_hint  # noqa: E402
from store import hint_models  # noqa: E402
from store.annotation_imports import import_annotations  # noqa: E402
from store.db import open_database  # noqa: E402
from store.imports import import_file  # noqa: E402
from tests.fixtures.make_hint_set import generate  # noqa: E402
from tests.hint_data import hint_rows, make_accounts  # noqa: E402
from store import projects  # noqa: E402


def table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")


def candidates() -> None:
    rows = hint_rows()
    examples = [hint_model.Example(r["prompt"] + " " + r["response"], r["severity"],
                                   tuple(r["categories"])) for r in rows]
    keywords = [severity_hint(e.text) for e in examples]
    print(f"== candidates, {len(examples)} items of the shipped set, 5-fold cross-validation")
    out = []
    for candidate in hint_model.CANDIDATES:
        started = time.perf_counter()
        ev = hint_model.evaluate(examples, keywords, candidate=candidate)
        seconds = time.perf_counter() - started
        for level in hint_model.LEVELS:
            m, k = ev.model[level], ev.keywords[level]
            out.append((f"{candidate} >= {level}",
                        f"recall {m.recall:.3f} false alarms {m.false_alarm_rate:.3f} | keywords "
                        f"recall {k.recall:.3f} false alarms {k.false_alarm_rate:.3f} | "
                        f"{seconds:.1f} s"))
    table(out)


def scale(labelled: int, unlabelled: int, step: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_hints_"))
    db = open_database(folder / "bench.duckdb")
    accounts = make_accounts(db)
    pid = projects.create_project(db, accounts["lead"], "Bench", "label", "", None, 1,
                                  [accounts["ann1"]])
    rows = generate(labelled + unlabelled)
    items = folder / "items.jsonl"
    items.write_text("".join(json.dumps({"id": r["id"] + f"-{n}", "prompt": r["prompt"],
                                         "response": r["response"]}) + "\n"
                             for n, r in enumerate(rows)), encoding="utf-8")
    votes = folder / "votes.jsonl"
    votes.write_text("".join(json.dumps({"item_id": r["id"] + f"-{n}", "annotator": "ann1",
                                         "is_safe": r["is_safe"], "categories": r["categories"],
                                         "severity": r["severity"]}) + "\n"
                             for n, r in enumerate(rows[:labelled])), encoding="utf-8")
    started = time.perf_counter()
    import_file(db, accounts["lead"], pid, items)
    import_annotations(db, accounts["lead"], pid, votes)
    setup = time.perf_counter() - started

    started = time.perf_counter()
    _, examples = hint_models.training_examples(db, pid)
    query = time.perf_counter() - started
    started = time.perf_counter()
    result = hint_models.train_and_store(db, None, pid)
    train_seconds = time.perf_counter() - started

    # Time each write transaction of the re-scoring: that is how long a submit may wait.
    holds: list[float] = []
    original = db.write

    def timed(work, *args, **kwargs):
        def wrapped(cur):
            began = time.perf_counter()
            try:
                return work(cur)
            finally:
                holds.append(time.perf_counter() - began)
        return original(wrapped, *args, **kwargs)

    db.write = timed  # type: ignore[method-assign]
    started = time.perf_counter()
    steps = rescored = 0
    while (done := hint_models.rescore_step(db, pid, step).rows):
        steps, rescored = steps + 1, rescored + done
    rescore_seconds = time.perf_counter() - started
    db.write = original  # type: ignore[method-assign]
    ev = result.evaluation
    with db.read() as cur:
        blob = cur.execute("SELECT octet_length(model) FROM hint_models WHERE id = ?",
                           [result.model.version]).fetchone()[0]
    print(f"\n== scale: {labelled:,} labelled + {unlabelled:,} unlabelled items")
    table([
        ("setup (import items + votes)", f"{setup:.1f} s"),
        ("training-data query", f"{query:.2f} s ({len(examples):,} examples)"),
        ("train_and_store (5-fold CV + final fit + keywords + save)", f"{train_seconds:.1f} s"),
        ("  of which stored train_seconds", f"{result.model.train_seconds:.1f} s"),
        ("model size", f"{blob / 1e6:.1f} MB"),
        ("re-scoring", f"{rescored:,} items in {steps} steps of <= {step}: "
                       f"{rescore_seconds:.1f} s ({rescored / max(rescore_seconds, 1e-9):,.0f} items/s)"),
        ("write-lock hold per step: median / p95 / max",
         f"{statistics.median(holds) * 1000:.0f} / "
         f"{sorted(holds)[int(0.95 * (len(holds) - 1))] * 1000:.0f} / {max(holds) * 1000:.0f} ms"),
        ("model >= 3", f"recall {ev.model[3].recall:.3f}, false alarms {ev.model[3].false_alarm_rate:.3f}"),
        ("keywords >= 3", f"recall {ev.keywords[3].recall:.3f}, false alarms {ev.keywords[3].false_alarm_rate:.3f}"),
    ])
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labelled", type=int, default=100_000)
    parser.add_argument("--unlabelled", type=int, default=100_000)
    parser.add_argument("--step", type=int, default=hint_models.DEFAULT_STEP)
    parser.add_argument("--skip-candidates", action="store_true")
    args = parser.parse_args()
    if not args.skip_candidates:
        candidates()
    scale(args.labelled, args.unlabelled, args.step)


if __name__ == "__main__":
    main()
