"""Items for the benches and tests on either store, without a file import.

`store.imports.import_file` reads files with DuckDB's readers, which have no PostgreSQL
translation yet (issue 14 is porting them); the load, crash and cluster proofs need only
plain label items with the queue's bookkeeping as an import leaves it (open slots = the
project's overlap, nobody has touched them), so they add them with one INSERT.
"""
from __future__ import annotations

from store.db import Database
from store.events import log_event


def add_items(db: Database, actor_id: int, project_id: int, count: int,
              prefix: str = "item") -> int:
    """Add `count` label items `{prefix}-0`... to the project, as an import would (one
    transaction with its event); returns how many were added."""
    def work(cur) -> int:
        overlap = cur.execute("SELECT overlap FROM projects WHERE id = ?",
                              [project_id]).fetchone()[0]
        added = cur.execute(
            "INSERT INTO items (project_id, external_id, prompt, response, hint_severity,"
            " hint_source, open_slots) SELECT ?, ? || '-' || n, 'Question ' || n ||"
            " ': how do I answer a rude message from a coworker?', 'Answer ' || n ||"
            " ': stay calm, describe the behaviour and ask to talk.', 0, 'scorer', ?"
            " FROM (SELECT unnest(?) AS n) AS t ORDER BY n",
            [project_id, prefix, overlap, list(range(count))]).fetchone()[0]
        log_event(cur, "import", actor_id, project_id,
                  details={"file": f"{prefix} (seeded)", "added": int(added)})
        return int(added)

    return db.write(work)
