"""Installation settings kept in the database: the cookie key and the one-time setup token."""
from __future__ import annotations

import secrets

import duckdb

from store.db import Database

COOKIE_KEY = "cookie_key"
SETUP_TOKEN = "setup_token"


def get_setting(cursor: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = cursor.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_setting(cursor: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cursor.execute("DELETE FROM settings WHERE key = ?", [key])
    cursor.execute("INSERT INTO settings VALUES (?, ?)", [key, value])


def cookie_key(db: Database) -> str:
    """The installation's random cookie-signing key (64 hex chars = 32 bytes), made once."""
    with db.read() as cur:
        existing = get_setting(cur, COOKIE_KEY)
    if existing:
        return existing

    def create(cur: duckdb.DuckDBPyConnection) -> str:
        current = get_setting(cur, COOKIE_KEY)
        if current:
            return current
        key = secrets.token_hex(32)
        set_setting(cur, COOKIE_KEY, key)
        return key

    return db.write(create)
