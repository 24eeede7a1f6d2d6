"""Server-side login sessions: issued at login, checked on every script run, ended on
log-out, password reset, role change and deactivation.

The browser holds a random session token in an HttpOnly cookie; the store keeps only its
SHA-256. A login happens in a page run, which cannot set an HttpOnly cookie, so the login
issues a one-time activation token instead; the browser trades it over HTTP (serve.py) for
the cookie within ACTIVATION_WINDOW, and the session token is made at that moment.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import duckdb

from store.db import Database, utcnow
from store.events import log_event

SESSION_LIFETIME = timedelta(days=7)
ACTIVATION_WINDOW = timedelta(minutes=2)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def begin_login(db: Database, user_id: int, client: str | None = None) -> str:
    """A person has proved who they are (password checked): return the one-time activation
    token the browser trades for its session cookie."""
    activation = secrets.token_urlsafe(32)
    now = utcnow()
    db.write(lambda cur: cur.execute(
        "INSERT INTO sessions (user_id, created_at, expires_at, activation_sha256, client) "
        "VALUES (?, ?, ?, ?, ?)",
        [user_id, now, now + SESSION_LIFETIME, token_sha256(activation), client]))
    return activation


def activate_session(db: Database, activation: str) -> tuple[str, timedelta] | None:
    """Trade a fresh, unused activation token for (session token, time it stays valid);
    None when the token is unknown, used, too old, or its session has ended."""
    now = utcnow()
    token = secrets.token_urlsafe(32)

    def work(cur: duckdb.DuckDBPyConnection) -> timedelta | None:
        row = cur.execute(
            "SELECT id, expires_at FROM sessions WHERE activation_sha256 = ? "
            "AND activated_at IS NULL AND ended_at IS NULL AND created_at > ?",
            [token_sha256(activation or ""), now - ACTIVATION_WINDOW]).fetchone()
        if row is None:
            return None
        cur.execute("UPDATE sessions SET token_sha256 = ?, activated_at = ?, "
                    "activation_sha256 = NULL WHERE id = ?", [token_sha256(token), now, row[0]])
        return row[1] - now

    left = db.write(work)
    return (token, left) if left is not None else None


def start_session(db: Database, user_id: int, client: str | None = None) -> str:
    """Issue an active session at once and return its token (command line, tests, and runs
    with no browser connection to carry a cookie)."""
    activation = begin_login(db, user_id, client)
    return activate_session(db, activation)[0]


def session_user_id(db: Database, token: str | None) -> int | None:
    """The id of the active person whose live session `token` is, or None (unknown, ended,
    expired, or the account was deactivated)."""
    if not token:
        return None
    with db.read() as cur:
        row = cur.execute(
            "SELECT s.user_id FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_sha256 = ? AND s.ended_at IS NULL AND s.expires_at > ? AND u.active",
            [token_sha256(token), utcnow()]).fetchone()
    return int(row[0]) if row else None


def end_session(db: Database, token: str, why: str = "logout") -> bool:
    """End one session (log-out). True if it was live."""
    def work(cur: duckdb.DuckDBPyConnection) -> bool:
        row = cur.execute("SELECT id, user_id FROM sessions WHERE token_sha256 = ? "
                          "AND ended_at IS NULL", [token_sha256(token or "")]).fetchone()
        if row is None:
            return False
        cur.execute("UPDATE sessions SET ended_at = ?, ended_why = ? WHERE id = ?",
                    [utcnow(), why, row[0]])
        log_event(cur, why, row[1])
        return True

    return db.write(work)


def end_user_sessions(cur: duckdb.DuckDBPyConnection, user_id: int, why: str) -> int:
    """End every live or pending session of a person, inside the caller's transaction: a
    password reset, role change or deactivation logs them out everywhere at once."""
    return int(cur.execute(
        "UPDATE sessions SET ended_at = ?, ended_why = ? WHERE user_id = ? AND ended_at IS NULL",
        [utcnow(), why, user_id]).fetchone()[0])
