"""Gold items: expected answers set by a lead (or a `gold_*` column at import), served to each
person as one item in each block of n (core/queue.gold_due), and checked against what people answered.

`gold_answers` is append-only: the latest row per item wins, and a removal is a new row with
`removed_at` set. `items.gold` / `items.qualification` follow the latest row so the queue can
find gold items without reading this table; a gold item has no open slots, so the normal scan
never serves it.

Gold items are checks, not work: they are left out of the project's progress (store/projects)
and of the agreed answers a training export builds on. Accuracy and misses read each person's
*first* answer (a correction made after seeing the expected answer does not count).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from core.gold import Answer, GoldAnswer, answer_checks, gold_problems, is_correct, misses
from core.labels import Label
from core.limits import MAX_NOTE_CHARS, length_problem
from core.taxonomy import taxonomy_from_json
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.projects import require_open_project
from store.users import require_role

_GOLD_COLUMNS = ("id, item_id, project_id, is_safe, categories, severity, judgment, explanation,"
                 " qualification, set_by, set_at")

# The latest row of each gold item of a project, when it is not a removal.
_CURRENT_GOLD = (f"SELECT * FROM (SELECT {_GOLD_COLUMNS}, removed_at FROM gold_answers"
                 " WHERE project_id = ?"
                 " QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY id DESC) = 1)"
                 " WHERE removed_at IS NULL")


def _gold(row: tuple) -> GoldAnswer:
    (gid, item_id, project_id, is_safe, categories, severity, judgment, explanation,
     qualification, set_by, set_at) = row
    return GoldAnswer(int(gid), int(item_id), int(project_id), is_safe, tuple(categories or ()),
                      severity, json.loads(judgment) if judgment else None, explanation or "",
                      bool(qualification), set_by, set_at)


def _project_of(cur: duckdb.DuckDBPyConnection, item_id: int) -> tuple[int, str, Any]:
    row = cur.execute("SELECT p.id, p.kind, p.taxonomy FROM items i JOIN projects p"
                      " ON p.id = i.project_id WHERE i.id = ?", [item_id]).fetchone()
    if row is None:
        raise StoreError("no such item")
    return int(row[0]), row[1], taxonomy_from_json(row[2])


def insert_gold(cur: duckdb.DuckDBPyConnection, actor_id: int | None, item_id: int,
                project_id: int, label: Label | None, judgment: dict[str, Any] | None,
                explanation: str, qualification: bool, now: datetime) -> int:
    """Append a gold answer and mark the item, inside the caller's transaction (checked
    already). The item's open slots go: only the gold path serves it from now on."""
    gold_id = cur.execute(
        "INSERT INTO gold_answers (item_id, project_id, is_safe, categories, severity, judgment,"
        " explanation, qualification, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        [item_id, project_id, label.is_safe if label else None,
         list(label.categories) if label else None, label.severity if label else None,
         json.dumps(judgment) if judgment else None, explanation or "", qualification,
         actor_id, now]).fetchone()[0]
    cur.execute("UPDATE items SET gold = true, qualification = ?, open_slots = 0 WHERE id = ?",
                [qualification, item_id])
    log_event(cur, "gold_set", actor_id, project_id, item_id,
              {"gold_answer_id": int(gold_id), "qualification": qualification})
    return int(gold_id)


def set_gold(db: Database, actor_id: int, item_id: int, label: Label | None,
             judgment: dict[str, Any] | None, explanation: str,
             qualification: bool = False) -> int:
    """A lead makes the item a gold item with this expected answer (or changes the answer):
    `label` for a label project, `judgment` (at least {"overall": "a" | "b" | "tie"}, in
    stored A/B terms) for a compare project, `explanation` shown to the annotator after they
    answer. `qualification=True` puts it in the project's qualification set. Returns the
    gold answer's id."""
    explanation = (explanation or "").strip()

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        require_role(cur, actor_id, "lead")
        project_id, kind, taxonomy = _project_of(cur, item_id)
        require_open_project(cur, project_id)
        problems = gold_problems(kind, taxonomy, label, judgment)
        problem = length_problem(explanation, MAX_NOTE_CHARS, "explanation")
        if problem:
            problems.append(problem)
        if problems:
            raise StoreError("gold answer: " + "; ".join(problems))
        return insert_gold(cur, actor_id, item_id, project_id,
                           label if kind == "label" else None,
                           judgment if kind == "compare" else None, explanation,
                           bool(qualification), utcnow())

    result = db.write(work)
    db.access_changed()      # the queue caches each project's gold items
    return result


def remove_gold(db: Database, actor_id: int, item_id: int) -> None:
    """A lead makes a gold item an ordinary item again (its earlier answers are kept; the
    removal is a new row). It gets open slots back for the overlap still wanted."""
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "lead")
        project_id, _, _ = _project_of(cur, item_id)
        require_open_project(cur, project_id)
        if _current(cur, item_id) is None:
            raise StoreError("this item is not a gold item")
        cur.execute("INSERT INTO gold_answers (item_id, project_id, set_by, set_at, removed_at)"
                    " VALUES (?, ?, ?, ?, ?)", [item_id, project_id, actor_id, utcnow(), utcnow()])
        cur.execute(
            "UPDATE items SET gold = false, qualification = false, open_slots = greatest(0,"
            " (SELECT overlap FROM projects WHERE id = ?) - done_count -"
            " (SELECT count(*) FROM claims c WHERE c.item_id = items.id)) WHERE id = ?",
            [project_id, item_id])
        log_event(cur, "gold_removed", actor_id, project_id, item_id)

    db.write(work)
    db.access_changed()


def _current(cur: duckdb.DuckDBPyConnection, item_id: int) -> GoldAnswer | None:
    row = cur.execute(f"SELECT {_GOLD_COLUMNS}, removed_at FROM gold_answers WHERE item_id = ?"
                      " ORDER BY id DESC LIMIT 1", [item_id]).fetchone()
    if row is None or row[-1] is not None:
        return None
    return _gold(row[:-1])


def gold_answer(db: Database, item_id: int) -> GoldAnswer | None:
    """The item's current expected answer, or None when it is not a gold item."""
    with db.read() as cur:
        return _current(cur, item_id)


def current_gold(cur: duckdb.DuckDBPyConnection, project_id: int,
                 qualification_only: bool = False) -> dict[int, GoldAnswer]:
    """Item id -> current gold answer, for a project."""
    rows = cur.execute(_CURRENT_GOLD, [project_id]).fetchall()
    answers = {int(r[1]): _gold(r[:-1]) for r in rows}
    if qualification_only:
        answers = {k: v for k, v in answers.items() if v.qualification}
    return answers


def _first_answers(cur: duckdb.DuckDBPyConnection, project_id: int, item_ids: list[int],
                   user_id: int | None) -> list[tuple]:
    if not item_ids:
        return []
    sql = ("SELECT a.id, a.item_id, a.user_id, u.username, a.is_safe, a.categories, a.severity,"
           " a.judgment, a.submitted_at FROM annotations a LEFT JOIN users u ON u.id = a.user_id"
           f" WHERE a.project_id = ? AND a.version = 1 AND a.item_id IN ({', '.join('?' * len(item_ids))})")
    params: list[Any] = [project_id, *item_ids]
    if user_id is not None:
        sql += " AND a.user_id = ?"
        params.append(user_id)
    return cur.execute(sql + " ORDER BY a.user_id, a.item_id", params).fetchall()


def _answer(row: tuple) -> Answer:
    return Answer(row[4], tuple(row[5] or ()), row[6], json.loads(row[7]) if row[7] else None)


@dataclass(frozen=True)
class GoldAccuracy:
    """One person's first answers to gold items, on one question: `safe`, `categories`
    (the exact set), `severity`, `category <code>` (present/absent), `overall` (compare), and
    `answer` (the answer as a whole: verdict and categories, or the overall choice)."""
    user_id: int
    username: str
    question: str
    items: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.items if self.items else 0.0


def gold_accuracy(db: Database, project_id: int, user_id: int | None = None) -> list[GoldAccuracy]:
    """Per annotator (or one) and per question, how many gold items they answered and how
    many right, by their first answer. Ordered by person, then question."""
    with db.read() as cur:
        kind, taxonomy = cur.execute("SELECT kind, taxonomy FROM projects WHERE id = ?",
                                     [project_id]).fetchone() or (None, None)
        if kind is None:
            raise StoreError("no such project")
        codes = taxonomy_from_json(taxonomy).category_codes()
        gold = current_gold(cur, project_id)
        rows = _first_answers(cur, project_id, list(gold), user_id)
    tally: dict[tuple[int, str, str], list[int]] = {}
    for row in rows:
        checks = answer_checks(kind, gold[row[1]], _answer(row), codes)
        checks["answer"] = is_correct(kind, checks)
        for question, right in checks.items():
            counts = tally.setdefault((row[2], row[3] or "?", question), [0, 0])
            counts[0] += 1
            counts[1] += int(right)
    return [GoldAccuracy(uid, name, question, items, correct)
            for (uid, name, question), (items, correct) in sorted(tally.items())]


@dataclass(frozen=True)
class GoldMiss:
    """A first answer that disagrees with the gold answer (for a lead's review queue)."""
    annotation_id: int
    item_id: int
    user_id: int
    username: str
    submitted_at: datetime
    expected: GoldAnswer
    given: Answer
    missed: tuple[str, ...]       # "safe", "categories" (label) or "overall" (compare)


def gold_misses(db: Database, project_id: int) -> list[GoldMiss]:
    """Every first answer to a gold item that gets the verdict or the category set (label)
    or the overall choice (compare) wrong, newest first."""
    with db.read() as cur:
        row = cur.execute("SELECT kind FROM projects WHERE id = ?", [project_id]).fetchone()
        if row is None:
            raise StoreError("no such project")
        kind = row[0]
        gold = current_gold(cur, project_id)
        rows = _first_answers(cur, project_id, list(gold), None)
    found = []
    for row in rows:
        given = _answer(row)
        missed = misses(kind, answer_checks(kind, gold[row[1]], given))
        if missed:
            found.append(GoldMiss(int(row[0]), int(row[1]), int(row[2]), row[3] or "?", row[8],
                                  gold[row[1]], given, missed))
    return sorted(found, key=lambda m: (m.submitted_at, m.annotation_id), reverse=True)
