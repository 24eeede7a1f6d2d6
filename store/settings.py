"""Installation settings kept in the database: the one-time setup token and the support text.

No secret that opens a login is kept here: sessions are random tokens stored as hashes.
"""
from __future__ import annotations

import duckdb

from store.db import Database, StoreError

SETUP_TOKEN = "setup_token"


def get_setting(cursor: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = cursor.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_setting(cursor: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cursor.execute("DELETE FROM settings WHERE key = ?", [key])
    cursor.execute("INSERT INTO settings VALUES (?, ?)", [key, value])


SUPPORT_TEXT = "support_text"
SUPPORT_URL = "support_url"
DEFAULT_SUPPORT_TEXT = ("Reading harmful content is hard work. If something stays with you, "
                        "stop, take a break and talk to your lead or someone you trust. "
                        "Skipping an item is always fine.")


def support_info(db: Database) -> tuple[str, str | None]:
    """(text, link or None) shown on every page."""
    with db.read() as cur:
        text, url = get_setting(cur, SUPPORT_TEXT), get_setting(cur, SUPPORT_URL)
    return text or DEFAULT_SUPPORT_TEXT, url or None


def set_support_info(db: Database, actor_id: int, text: str, url: str) -> None:
    """An admin sets the support text and link (http(s) or mailto only)."""
    from store.events import log_event
    from store.users import require_role
    text, url = (text or "").strip(), (url or "").strip()
    if len(text) > 2000:
        raise StoreError("the support text may be at most 2,000 characters")
    if url and not url.lower().startswith(("https://", "http://", "mailto:")):
        raise StoreError("the support link must start with https://, http:// or mailto:")
    if any(c.isspace() for c in url):
        raise StoreError("the support link may not contain spaces")

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "admin")
        set_setting(cur, SUPPORT_TEXT, text)
        set_setting(cur, SUPPORT_URL, url)
        log_event(cur, "support_changed", actor_id, details={"url": url})

    db.write(work)
