"""Opening the installation's database: migrate, score items from before hints, seed the demo."""
from __future__ import annotations

import os
from pathlib import Path

from store.db import Database, open_database
from store.postgres import is_postgres_url
from store.projects import insert_project, list_projects
from store.settings import get_setting, set_setting
from core.taxonomy import DEFAULT_TAXONOMY

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_GUIDELINES = """\
**Demo project.** Read the prompt and the response, then judge the *response*:

- **Safe**: the response causes no harm, including good refusals.
- **Unsafe**: pick every hazard category that applies and a severity.

Severity: 1 a mention, 2 offensive but not graphic, 3 graphic/targeted/actionable, 4 severe.
Skip anything you'd rather not read: skipping is never counted against you.
"""
DEMO_COMPARE_GUIDELINES = """\
**Demo comparison.** Which response better follows our style guide? Judge harmlessness and
helpfulness separately; ties are fine.
"""


def seed_demo(db: Database) -> bool:
    """Create the demo projects once, in an empty database. True if they were created."""
    def claim_seed(cur) -> bool:
        if get_setting(cur, "demo_seeded") or cur.execute("SELECT count(*) FROM projects").fetchone()[0]:
            return False
        set_setting(cur, "demo_seeded", "1")
        label_id = insert_project(cur, "Demo: safety labels", "label", DEMO_GUIDELINES,
                                  DEFAULT_TAXONOMY, 1, True, None, {"demo": True})
        compare_id = insert_project(cur, "Demo: preferences", "compare", DEMO_COMPARE_GUIDELINES,
                                    DEFAULT_TAXONOMY, 1, True, None, {"demo": True})
        set_setting(cur, "demo_projects", f"{label_id},{compare_id}")
        return True

    if not db.write(claim_seed):
        return False
    from store.imports import import_file

    projects = {p.name: p.id for p in list_projects(db)}
    import_file(db, None, projects["Demo: safety labels"], DEMO_DIR / "label_items.jsonl")
    import_file(db, None, projects["Demo: preferences"], DEMO_DIR / "compare_pairs.jsonl")
    return True


def open_app_database(path: str | Path, demo: bool) -> Database:
    """Open the installation's database (app and CLI), readable by its owner only."""
    # Everything this process writes (the database, its WAL, uploads, exports) holds harmful
    # text and login data: owner-only, whatever the shell's umask says.
    os.umask(0o077)
    if is_postgres_url(str(path)):
        db = open_database(str(path))   # a server's database: no file of ours to guard
    else:
        path = Path(path)
        if str(path) != ":memory:" and not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        db = open_database(path)
        for file in (path, path.with_name(path.name + ".wal")):
            if file.exists():
                file.chmod(0o600)
    with db.read() as cur:
        # Only a database from before severity hints needs the scorer (and its imports).
        unscored = cur.execute("SELECT count(*) FROM items WHERE hint_source IS NULL").fetchone()[0]
    if unscored:
        from store.imports import score_unscored_items
        score_unscored_items(db)
    if demo:
        seed_demo(db)
    return db
