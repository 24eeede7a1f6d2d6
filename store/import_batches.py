"""Import batches: what each import added, and removing one that nobody has worked on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.projects import require_open_project
from store.users import require_role


@dataclass(frozen=True)
class ImportBatch:
    id: int
    file_name: str
    imported_at: datetime
    imported_by: str | None
    rows_read: int
    items_added: int
    items_now: int          # items of the batch still in the project
    worked_on: int          # of those, items with an annotation, a flag or an adjudication
    removed_at: datetime | None


def list_import_batches(db: Database, project_id: int) -> list[ImportBatch]:
    """The project's imports, newest first, with how many of their items people worked on."""
    with db.read() as cur:
        rows = cur.execute(
            "SELECT b.id, b.file_name, b.imported_at, u.username, b.rows_read, b.items_added,"
            " (SELECT count(*) FROM items i WHERE i.import_id = b.id),"
            " (SELECT count(*) FROM items i WHERE i.import_id = b.id AND (i.done_count > 0"
            "   OR EXISTS (SELECT 1 FROM annotations a WHERE a.item_id = i.id)"
            "   OR EXISTS (SELECT 1 FROM flags f WHERE f.item_id = i.id)"
            "   OR EXISTS (SELECT 1 FROM adjudications j WHERE j.item_id = i.id))),"
            " b.removed_at "
            "FROM imports b LEFT JOIN users u ON u.id = b.user_id WHERE b.project_id = ? "
            "ORDER BY b.id DESC", [project_id]).fetchall()
    return [ImportBatch(*row) for row in rows]


def remove_import_batch(db: Database, actor_id: int | None, import_id: int) -> int:
    """Remove the items an import added, while nobody has annotated or flagged any of them
    (an import into the wrong project, say). The import's row stays, marked removed, and the
    removal is an event. Returns how many items went. `actor_id=None` is the CLI."""
    def work(cur: duckdb.DuckDBPyConnection) -> int:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        row = cur.execute("SELECT project_id, file_name, removed_at FROM imports WHERE id = ?",
                          [import_id]).fetchone()
        if row is None:
            raise StoreError("no such import")
        project_id, file_name, removed_at = row
        if removed_at is not None:
            raise StoreError("this import was removed already")
        require_open_project(cur, project_id)
        worked = cur.execute(
            "SELECT count(*) FROM items i WHERE i.import_id = ? AND (i.done_count > 0"
            " OR EXISTS (SELECT 1 FROM annotations a WHERE a.item_id = i.id)"
            " OR EXISTS (SELECT 1 FROM flags f WHERE f.item_id = i.id)"
            " OR EXISTS (SELECT 1 FROM adjudications j WHERE j.item_id = i.id))",
            [import_id]).fetchone()[0]
        if worked:
            raise StoreError(f"{worked:,} items of this import have annotations or flags: "
                             "work people did is never removed")
        cur.execute("DELETE FROM claims WHERE item_id IN (SELECT id FROM items WHERE import_id = ?)",
                    [import_id])
        removed = cur.execute("DELETE FROM items WHERE import_id = ?", [import_id]).fetchone()[0]
        cur.execute("UPDATE imports SET removed_at = ?, removed_by = ? WHERE id = ?",
                    [utcnow(), actor_id, import_id])
        log_event(cur, "import_removed", actor_id, project_id,
                  details={"import_id": import_id, "file": file_name, "items": int(removed)})
        return int(removed)

    return db.write(work)
