"""The audit log: every login, claim, submit, skip, flag, import and account change."""
from __future__ import annotations

import json
from typing import Any

import duckdb

from store.db import Database, utcnow


def log_event(cursor: duckdb.DuckDBPyConnection, kind: str, user_id: int | None = None,
              project_id: int | None = None, item_id: int | None = None,
              details: dict[str, Any] | None = None) -> None:
    """Append an event inside the caller's transaction."""
    cursor.execute(
        "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [utcnow(), user_id, kind, project_id, item_id,
         json.dumps(details, ensure_ascii=False) if details else None],
    )


def record_event(db: Database, kind: str, user_id: int | None = None,
                 project_id: int | None = None, item_id: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
    """Append an event in its own transaction."""
    db.write(lambda cur: log_event(cur, kind, user_id, project_id, item_id, details))


def recent_events(db: Database, limit: int = 100, kind: str | None = None,
                  item_id: int | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if kind:
        where.append("e.kind = ?")
        params.append(kind)
    if item_id is not None:
        where.append("e.item_id = ?")
        params.append(item_id)
    sql = ("SELECT e.id, e.happened_at, u.username, e.kind, e.project_id, e.item_id, e.details "
           "FROM events e LEFT JOIN users u ON u.id = e.user_id "
           + (("WHERE " + " AND ".join(where)) if where else "")
           + " ORDER BY e.id DESC LIMIT ?")
    params.append(limit)
    with db.read() as cur:
        rows = cur.execute(sql, params).fetchall()
    keys = ["id", "happened_at", "username", "kind", "project_id", "item_id", "details"]
    return [dict(zip(keys, row)) for row in rows]
