"""Small writers of test files, so tests make their own data."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from store import users
from tests.conftest import ROOT


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def label_rows(n: int, prefix: str = "item") -> list[dict]:
    return [{"id": f"{prefix}-{i}", "prompt": f"prompt {i}", "response": f"response {i}"}
            for i in range(n)]


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def by_label(elements, label):
    matches = [e for e in elements if e.label == label]
    assert matches, f"no element labelled {label!r}"
    return matches[0]


def as_user(db, username: str) -> AppTest:
    """An app whose session is already logged in (skips the form)."""
    from store.sessions import start_session

    user = users.get_user_by_username(db, username)
    at = new_app()
    at.session_state["_sl_session"] = start_session(db, user.id)
    return at
