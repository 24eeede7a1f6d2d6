"""Qualification: a practical assessment before a project serves someone real items.

A project with the setting `qualification_required` serves a person only its qualification
items (gold items with `qualification=True`) until they pass. When they have answered every
one, the attempt is scored (share of items answered correctly: verdict and category set for
a label project, overall choice for a compare project; see core/gold.py), recorded in
`qualification_attempts`, and passed when the score reaches `qualification_threshold`. After a
failed attempt nothing more is served until a lead allows another attempt (`allow_retake`) or
waives the qualification for that person (`waive_qualification`); both are append-only rows
in `qualification_decisions` with their reason, and events.

An attempt's answers are the person's latest answer to each item given since the attempt
began (the end of the previous one). A skipped qualification item comes back after the
others: the attempt ends only when every item is answered. A project that requires a qualification but has no
qualification items serves real items (status "no_items", for the lead to see).
"""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from core.gold import Answer, answer_checks, is_correct
from core.limits import MAX_REASON_CHARS, length_problem
from core.queue import QueueRules, rules_from_settings
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.gold import current_gold
from store.projects import require_open_project
from store.users import require_role

EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Attempt:
    attempt: int
    score: float
    threshold: float
    passed: bool
    items: int
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True)
class QualificationStatus:
    """`state`: not_required, no_items (required but the set is empty), in_progress, failed
    (waiting for a lead), passed, waived."""
    state: str
    threshold: float
    total: int = 0                  # qualification items
    answered: int = 0               # of them, in the current attempt
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def may_work(self) -> bool:
        """Real items may be served."""
        return self.state in ("not_required", "no_items", "passed", "waived")


def _attempts(cur: duckdb.DuckDBPyConnection, project_id: int, user_id: int) -> list[Attempt]:
    rows = cur.execute(
        "SELECT attempt, score, threshold, passed, items, started_at, finished_at"
        " FROM qualification_attempts WHERE project_id = ? AND user_id = ? ORDER BY attempt",
        [project_id, user_id]).fetchall()
    return [Attempt(*row) for row in rows]


def _decisions(cur: duckdb.DuckDBPyConnection, project_id: int,
               user_id: int) -> list[tuple[str, datetime]]:
    return cur.execute(
        "SELECT decision, decided_at FROM qualification_decisions WHERE project_id = ?"
        " AND user_id = ? ORDER BY id", [project_id, user_id]).fetchall()


def _answers_since(cur: duckdb.DuckDBPyConnection, project_id: int, user_id: int,
                   item_ids: list[int], since: datetime) -> dict[int, Answer]:
    """The person's first answer to each of the items given after `since` (the start of the
    attempt): a correction made after seeing the expected answer does not count."""
    if not item_ids:
        return {}
    rows = cur.execute(
        "SELECT item_id, is_safe, categories, severity, judgment FROM annotations"
        f" WHERE project_id = ? AND user_id = ? AND item_id IN ({', '.join('?' * len(item_ids))})"
        " AND submitted_at > ?"
        " QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY id) = 1",
        [project_id, user_id, *item_ids, since]).fetchall()
    return {int(r[0]): Answer(r[1], tuple(r[2] or ()), r[3], json.loads(r[4]) if r[4] else None)
            for r in rows}


def _state(cur: duckdb.DuckDBPyConnection, project_id: int, user_id: int, rules: QueueRules,
           qualification_ids: list[int]) -> tuple[QualificationStatus, datetime]:
    """The person's status and when their current attempt began."""
    attempts = _attempts(cur, project_id, user_id)
    base = dict(threshold=rules.qualification_threshold, total=len(qualification_ids),
                attempts=attempts)
    if not rules.qualification_required:
        return QualificationStatus("not_required", **base), EPOCH
    decisions = _decisions(cur, project_id, user_id)
    if any(kind == "waive" for kind, _ in decisions):
        return QualificationStatus("waived", **base), EPOCH
    if attempts and attempts[-1].passed:
        return QualificationStatus("passed", **base), EPOCH
    if not qualification_ids:
        return QualificationStatus("no_items", **base), EPOCH
    since = EPOCH
    if attempts:
        since = attempts[-1].finished_at
        if not any(kind == "retake" and at > since for kind, at in decisions):
            return QualificationStatus("failed", **base), since
    answered = len(_answers_since(cur, project_id, user_id, qualification_ids, since))
    return QualificationStatus("in_progress", answered=answered, **base), since


def _settings_rules(cur: duckdb.DuckDBPyConnection, project_id: int) -> QueueRules:
    row = cur.execute("SELECT settings FROM projects WHERE id = ?", [project_id]).fetchone()
    if row is None:
        raise StoreError("no such project")
    return rules_from_settings(json.loads(row[0]) if row[0] else {})


def qualification_status(db: Database, project_id: int, user_id: int) -> QualificationStatus:
    """Where this person stands with the project's qualification."""
    with db.read() as cur:
        rules = _settings_rules(cur, project_id)
        ids = sorted(current_gold(cur, project_id, qualification_only=True))
        return _state(cur, project_id, user_id, rules, ids)[0]


def qualification_gate(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int,
                       project_id: int, rules: QueueRules,
                       gold_ids: tuple[tuple[int, bool], ...], ceiling: int | None,
                       now: datetime, held: Collection[int] = ()) -> tuple[str, int | None]:
    """For the work queue, inside its transaction: ("serve", item id) a qualification item
    to answer next; ("open", None) real items may be served; ("blocked", None) nothing may
    be served (failed and waiting for a lead, the remaining items are above the person's
    severity ceiling today, or all of them are `held`: claimed by the person already, ahead
    of this one in their queue). Scores and records an attempt when its last item is
    answered."""
    key = ("qualified", project_id, user_id)
    if db.access_cache.get(key):
        return "open", None
    ids = [item_id for item_id, qualification in gold_ids if qualification]
    status, since = _state(cur, project_id, user_id, rules, ids)
    if status.may_work:
        db.access_cache[key] = True      # cleared with every settings, gold or access change
        return "open", None
    if status.state == "failed":
        return "blocked", None
    answers = _answers_since(cur, project_id, user_id, ids, since)
    remaining = [i for i in ids if i not in answers]
    if remaining:
        rows = dict(cur.execute(
            "SELECT id, coalesce(hint_severity, 0) FROM items"
            f" WHERE id IN ({', '.join('?' * len(remaining))})", remaining).fetchall())
        allowed = [i for i in remaining if (ceiling is None or rows.get(i, 0) <= ceiling)
                   and i not in held]
        if not allowed:
            return "blocked", None
        # Every item must be answered to finish; one the person skipped comes back last.
        skipped = {r[0] for r in cur.execute(
            "SELECT DISTINCT item_id FROM events WHERE kind IN ('skip', 'flag')"
            " AND project_id = ? AND user_id = ? AND happened_at > ?"
            f" AND item_id IN ({', '.join('?' * len(allowed))})",
            [project_id, user_id, since, *allowed]).fetchall()}
        return "serve", min(allowed, key=lambda i: (i in skipped, i))
    passed = _record_attempt(cur, project_id, user_id, rules, ids, answers, since, now,
                             len(status.attempts) + 1)
    if passed:
        db.access_cache[key] = True
        return "open", None
    return "blocked", None


def _record_attempt(cur: duckdb.DuckDBPyConnection, project_id: int, user_id: int,
                    rules: QueueRules, ids: list[int], answers: dict[int, Answer],
                    since: datetime, now: datetime, attempt: int) -> bool:
    kind = cur.execute("SELECT kind FROM projects WHERE id = ?", [project_id]).fetchone()[0]
    gold = current_gold(cur, project_id, qualification_only=True)
    correct = sum(is_correct(kind, answer_checks(kind, gold[i], answers[i])) for i in ids)
    score = correct / len(ids)
    passed = score >= rules.qualification_threshold
    started = since if since > EPOCH else cur.execute(
        "SELECT min(submitted_at) FROM annotations WHERE project_id = ? AND user_id = ?"
        f" AND item_id IN ({', '.join('?' * len(ids))})", [project_id, user_id, *ids]).fetchone()[0]
    cur.execute("INSERT INTO qualification_attempts (project_id, user_id, attempt, score,"
                " threshold, passed, items, started_at, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [project_id, user_id, attempt, score, rules.qualification_threshold, passed,
                 len(ids), started or now, now])
    log_event(cur, "qualification_attempt", user_id, project_id,
              details={"attempt": attempt, "score": score, "passed": passed, "items": len(ids),
                       "correct": correct})
    return passed


def _decide(db: Database, actor_id: int, project_id: int, user_id: int, decision: str,
            reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("give a reason (it is kept with the decision)")
    problem = length_problem(reason, MAX_REASON_CHARS, "reason")
    if problem:
        raise StoreError(problem)

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "lead")
        require_open_project(cur, project_id)
        rules = _settings_rules(cur, project_id)
        if cur.execute("SELECT count(*) FROM users WHERE id = ?", [user_id]).fetchone()[0] == 0:
            raise StoreError("no such person")
        if decision == "retake":
            ids = sorted(current_gold(cur, project_id, qualification_only=True))
            status, _ = _state(cur, project_id, user_id, rules, ids)
            if status.state != "failed":
                raise StoreError("another attempt can be allowed only after a failed one")
        cur.execute("INSERT INTO qualification_decisions (project_id, user_id, decision, reason,"
                    " decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [project_id, user_id, decision, reason, actor_id, utcnow()])
        log_event(cur, f"qualification_{decision}", actor_id, project_id,
                  details={"user_id": user_id, "reason": reason})

    db.write(work)
    db.access_changed()


def waive_qualification(db: Database, actor_id: int, project_id: int, user_id: int,
                        reason: str) -> None:
    """A lead lets this person work on the project without (passing) the qualification."""
    _decide(db, actor_id, project_id, user_id, "waive", reason)


def allow_retake(db: Database, actor_id: int, project_id: int, user_id: int, reason: str) -> None:
    """A lead lets a person who failed the qualification try it again (every item anew)."""
    _decide(db, actor_id, project_id, user_id, "retake", reason)
