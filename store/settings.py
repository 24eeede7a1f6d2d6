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


MIN_GROUP_SIZE_KEY = "min_group_size"
MAX_GROUP_SIZE = 50


def min_group_size(db: Database) -> int:
    """The fewest people a lead's team figures (wellbeing, mood, opt-out counts) may cover
    (an installation setting; default core.wellbeing.MIN_GROUP_SIZE). Cached like
    permissions: setting it calls `Database.access_changed`."""
    from core.wellbeing import MIN_GROUP_FLOOR, MIN_GROUP_SIZE
    key = ("setting", MIN_GROUP_SIZE_KEY)
    cached = db.access_cache.get(key)
    if cached is None:
        with db.read() as cur:
            value = get_setting(cur, MIN_GROUP_SIZE_KEY)
        try:
            cached = max(MIN_GROUP_FLOOR, int(value)) if value else MIN_GROUP_SIZE
        except ValueError:
            cached = MIN_GROUP_SIZE
        db.access_cache[key] = cached
    return cached


def set_min_group_size(db: Database, actor_id: int, size: int) -> None:
    """An admin sets the minimum group size: a whole number from 2 (below that a "group" is
    one person's figures) to MAX_GROUP_SIZE."""
    from core.wellbeing import MIN_GROUP_FLOOR
    from store.events import log_event
    from store.users import require_role
    if isinstance(size, bool) or not isinstance(size, int):
        raise StoreError("the minimum group size must be a whole number")
    if size < MIN_GROUP_FLOOR:
        raise StoreError(f"the minimum group size cannot be below {MIN_GROUP_FLOOR}: a group of "
                         "one is one person's figures, which leads must never see")
    if size > MAX_GROUP_SIZE:
        raise StoreError(f"the minimum group size may be at most {MAX_GROUP_SIZE}")

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "admin")
        set_setting(cur, MIN_GROUP_SIZE_KEY, str(size))
        log_event(cur, "min_group_size_changed", actor_id, details={"size": size})

    db.write(work)
    db.access_changed()
