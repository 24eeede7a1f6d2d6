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
