"""Per-person preferences (for example: show masked words without asking)."""
from __future__ import annotations

import json
from typing import Any

import duckdb

from store.db import Database, utcnow
from store.events import log_event

# Where a person last worked ({"kind": "label" | "compare", "project_id": id}): the work page
# and project they land on at the next login, on any device.
LAST_WORK_PREF = "last_work"


def get_preference(db: Database, user_id: int, key: str, default: Any = None) -> Any:
    with db.read() as cur:
        row = cur.execute("SELECT value FROM preferences WHERE user_id = ? AND key = ?",
                          [user_id, key]).fetchone()
    return json.loads(row[0]) if row else default


def set_preference(db: Database, user_id: int, key: str, value: Any) -> None:
    """A person sets their own preference; the change is an event."""
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("DELETE FROM preferences WHERE user_id = ? AND key = ?", [user_id, key])
        cur.execute("INSERT INTO preferences VALUES (?, ?, ?, ?)",
                    [user_id, key, json.dumps(value), utcnow()])
        log_event(cur, "preference", user_id, details={"key": key, "value": value})

    db.write(work)
