"""Versioned project guidelines: every text a project's guidelines have had, append-only.

Version 1 is the text a project was created with; each change of text appends the next
version (and a `guidelines_changed` event) in the transaction that changes it, and
`projects.guidelines` is kept equal to the latest version's text. Every annotation records
the version current when it was saved (store/work.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from store.db import Database, StoreError, utcnow
from store.events import log_event


@dataclass(frozen=True)
class GuidelineVersion:
    project_id: int
    version: int
    text: str
    created_by: int | None
    created_at: datetime
    created_by_name: str | None = None


_SELECT = ("SELECT g.project_id, g.version, g.text, g.created_by, g.created_at, u.username "
           "FROM guideline_versions g LEFT JOIN users u ON u.id = g.created_by "
           "WHERE g.project_id = ?")


def first_guidelines(cur: duckdb.DuckDBPyConnection, project_id: int, text: str,
                     actor_id: int | None) -> None:
    """Version 1 of a new project's guidelines, inside the caller's transaction."""
    cur.execute("INSERT INTO guideline_versions VALUES (?, 1, ?, ?, ?)",
                [project_id, text or "", actor_id, utcnow()])


def change_guidelines(cur: duckdb.DuckDBPyConnection, project_id: int, text: str,
                      actor_id: int | None) -> int | None:
    """Append a new version when `text` differs from the current one, inside the caller's
    transaction (after its permission check): the new version number, or None when the text
    is unchanged (nothing written)."""
    text = text or ""
    row = cur.execute("SELECT version, text FROM guideline_versions WHERE project_id = ? "
                      "ORDER BY version DESC LIMIT 1", [project_id]).fetchone()
    if row is None:
        raise StoreError("no such project")
    current_version, current_text = row
    if text == current_text:
        return None
    version = int(current_version) + 1
    cur.execute("INSERT INTO guideline_versions VALUES (?, ?, ?, ?, ?)",
                [project_id, version, text, actor_id, utcnow()])
    cur.execute("UPDATE projects SET guidelines = ? WHERE id = ?", [text, project_id])
    log_event(cur, "guidelines_changed", actor_id, project_id,
              details={"version": version, "previous_version": int(current_version),
                       "chars": len(text)})
    return version


def current_guidelines(db: Database, project_id: int) -> GuidelineVersion:
    """The project's guidelines as they are now (the highest version)."""
    with db.read() as cur:
        row = cur.execute(_SELECT + " ORDER BY g.version DESC LIMIT 1", [project_id]).fetchone()
    if row is None:
        raise StoreError("no such project")
    return GuidelineVersion(*row)


def guideline_history(db: Database, project_id: int, limit: int | None = None
                      ) -> list[GuidelineVersion]:
    """Every version of the project's guidelines, newest first (the latest `limit` only)."""
    sql = _SELECT + " ORDER BY g.version DESC"
    params: list = [project_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    with db.read() as cur:
        rows = cur.execute(sql, params).fetchall()
    return [GuidelineVersion(*row) for row in rows]
