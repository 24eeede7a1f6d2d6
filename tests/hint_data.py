"""A label project built from the shipped hint set (tests/fixtures/hint_set.jsonl): items
imported, the first LABELLED rows labelled through a votes import, the rest left unlabelled."""
from __future__ import annotations

import json
from pathlib import Path

from store import projects, users
from store.annotation_imports import import_annotations
from store.db import Database
from store.imports import import_file
from tests.conftest import PASSWORD
from tests.helpers import write_jsonl

HINT_SET = Path(__file__).with_name("fixtures") / "hint_set.jsonl"
LABELLED = 600


def hint_rows() -> list[dict]:
    return [json.loads(line) for line in HINT_SET.read_text(encoding="utf-8").splitlines()]


def make_accounts(db: Database) -> dict[str, int]:
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ids = {"admin": admin, "lead": users.create_user(db, admin, "lead", "Lead", PASSWORD, "lead")}
    for name in ("ann1", "ann2", "ann3"):
        ids[name] = users.create_user(db, admin, name, name.title(), PASSWORD, "annotator")
    return ids


def labelled_project(db: Database, accounts: dict[str, int], folder: Path,
                     labelled: int = LABELLED, name: str = "Hints",
                     extra_items: list[dict] = ()) -> int:
    """A project with every row of the hint set as an item and the first `labelled` rows
    labelled by ann1 (votes import: fast, and the queue's bookkeeping kept)."""
    pid = projects.create_project(db, accounts["lead"], name, "label", "Be careful.", None, 1,
                                  [accounts[m] for m in ("ann1", "ann2", "ann3")])
    rows = hint_rows()
    items = [{"id": r["id"], "prompt": r["prompt"], "response": r["response"]} for r in rows]
    import_file(db, accounts["lead"], pid,
                write_jsonl(folder / f"{name}-items.jsonl", items + list(extra_items)))
    votes = [{"item_id": r["id"], "annotator": "ann1", "is_safe": r["is_safe"],
              "categories": r["categories"], "severity": r["severity"]} for r in rows[:labelled]]
    if votes:
        import_annotations(db, accounts["lead"], pid, write_jsonl(folder / f"{name}-votes.jsonl", votes))
    return pid
