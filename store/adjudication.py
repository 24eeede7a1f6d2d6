"""Adjudication: a lead records the answer an item should have, with a reason and a note.

Append-only, like annotations: a second adjudication of an item is a new row, and the latest
(highest id) is the item's adjudicated answer. The agreed-answer export (store/exports.py)
uses it instead of the majority of votes, and the review queues (store/review.py) leave the
item out until new votes or flags arrive after it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from core.adjudication import adjudication_problems, canonical_judgment
from core.labels import Label
from core.taxonomy import taxonomy_from_json
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.projects import require_open_project
from store.users import require_role


@dataclass(frozen=True)
class Adjudication:
    id: int
    item_id: int
    project_id: int
    lead_id: int
    lead: str                       # the lead's username
    is_safe: bool | None
    categories: list[str]
    severity: int | None
    judgment: dict[str, Any] | None
    reason: str
    note: str | None
    decided_at: datetime


def adjudicate(db: Database, actor_id: int, item_id: int, label: Label | None,
               judgment: dict[str, Any] | None, reason: str, note: str = "") -> int:
    """Record the lead's answer for the item (label projects: `label`; compare projects:
    `judgment` with overall, harmlessness and helpfulness); returns the adjudication id.
    Leads and admins only; refused with nothing written when the answer would not be valid
    from an annotator (taxonomy, scales), the reason is not one of core.adjudication.REASONS,
    the note is too long, or the project is archived. The label's own note and rewrite are
    not used: `note` is the lead's."""
    note = (note or "").strip()

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        require_role(cur, actor_id, "lead")
        row = cur.execute("SELECT p.id, p.kind, p.taxonomy FROM items i"
                          " JOIN projects p ON p.id = i.project_id WHERE i.id = ?",
                          [item_id]).fetchone()
        if row is None:
            raise StoreError("no such item")
        project_id, kind, taxonomy = int(row[0]), row[1], taxonomy_from_json(row[2])
        require_open_project(cur, project_id)
        problems = adjudication_problems(kind, taxonomy, label, judgment, reason, note)
        if problems:
            raise StoreError("; ".join(problems))
        if kind == "label":
            values = [label.is_safe, list(dict.fromkeys(label.categories)), label.severity, None]
        else:
            values = [None, None, None, json.dumps(canonical_judgment(judgment))]
        adjudication_id = cur.execute(
            "INSERT INTO adjudications (item_id, project_id, lead_id, is_safe, categories,"
            " severity, judgment, reason, note, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            [item_id, project_id, actor_id, *values, reason, note or None, utcnow()]).fetchone()[0]
        log_event(cur, "adjudicate", actor_id, project_id, item_id,
                  {"adjudication_id": int(adjudication_id), "reason": reason})
        return int(adjudication_id)

    return db.write(work)


_COLUMNS = ("a.id, a.item_id, a.project_id, a.lead_id, u.username, a.is_safe, a.categories,"
            " a.severity, a.judgment, a.reason, a.note, a.decided_at")


def _adjudication(row: tuple) -> Adjudication:
    values = list(row)
    values[6] = list(values[6] or [])
    values[8] = json.loads(values[8]) if values[8] else None
    return Adjudication(*values)


def adjudications_of(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[Adjudication]:
    """Every adjudication of the item, oldest first (inside the caller's read)."""
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM adjudications a LEFT JOIN users u ON u.id = a.lead_id"
        " WHERE a.item_id = ? ORDER BY a.id", [item_id]).fetchall()
    return [_adjudication(r) for r in rows]


def current_adjudication(db: Database, item_id: int) -> Adjudication | None:
    """The item's latest adjudication, or None when no lead has decided it."""
    with db.read() as cur:
        history = adjudications_of(cur, item_id)
    return history[-1] if history else None
