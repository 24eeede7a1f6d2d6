"""Failed-login counters behind the growing delays of core/accounts.py."""
from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

from core import accounts
from store.db import Database, utcnow


def wait_before_login(db: Database, username: str, address: str | None,
                      now: datetime | None = None) -> timedelta:
    """How long this name at this address must still wait before a password is checked."""
    rules = accounts.throttle_keys(username, address)
    with db.read() as cur:
        rows = cur.execute("SELECT key, failures, last_failed FROM login_failures "
                           "WHERE key IN (SELECT unnest(?))", [list(rules)]).fetchall()
    counts = {key: (failures, last) for key, failures, last in rows}
    return accounts.wait_before_next_attempt(counts, rules, now or utcnow())


def claim_login_attempt(db: Database, username: str, address: str | None,
                        now: datetime | None = None) -> timedelta:
    """Before a password is checked: the wait still due (nothing counted), or zero after
    counting this attempt as a failure in the same transaction, so attempts sent at the
    same moment from many sessions cannot all pass one check. A good password then clears
    the count (`clear_login_failures`)."""
    now = now or utcnow()
    rules = accounts.throttle_keys(username, address)

    def work(cur: duckdb.DuckDBPyConnection) -> timedelta:
        # Counters nobody has touched for FAILURE_MEMORY mean nothing any more.
        cur.execute("DELETE FROM login_failures WHERE last_failed < ?", [now - accounts.FAILURE_MEMORY])
        rows = cur.execute("SELECT key, failures, last_failed FROM login_failures "
                           "WHERE key IN (SELECT unnest(?))", [list(rules)]).fetchall()
        wait = accounts.wait_before_next_attempt({k: (f, t) for k, f, t in rows}, rules, now)
        if wait.total_seconds() <= 0:
            record_login_failure(cur, username, address, now)
        return wait

    return db.write(work)


def record_login_failure(cur: duckdb.DuckDBPyConnection, username: str,
                         address: str | None, now: datetime | None = None) -> None:
    """Count a failure on every key of the attempt, inside the caller's transaction."""
    now = now or utcnow()
    for key in accounts.throttle_keys(username, address):
        row = cur.execute("SELECT failures, last_failed FROM login_failures WHERE key = ?",
                          [key]).fetchone()
        if row is None:
            cur.execute("INSERT INTO login_failures VALUES (?, 1, ?)", [key, now])
        else:
            # A failure long after the last one starts a new count.
            failures = row[0] + 1 if now - row[1] <= accounts.FAILURE_MEMORY else 1
            cur.execute("UPDATE login_failures SET failures = ?, last_failed = ? WHERE key = ?",
                        [failures, now, key])


def clear_login_failures(cur: duckdb.DuckDBPyConnection, username: str,
                         address: str | None = None) -> None:
    """Forget a name's failures: after a good password from `address`, or everywhere when
    `address` is None (the operator's `cli.py unlock`)."""
    name = (username or "").strip().lower()
    if address is None:
        cur.execute("DELETE FROM login_failures WHERE key = ? OR key LIKE ? ESCAPE '\\'",
                    [f"user:{name}", "user:" + _like_literal(name) + "@%"])
    else:
        cur.execute("DELETE FROM login_failures WHERE key IN (SELECT unnest(?))",
                    [[k for k in accounts.throttle_keys(name, address) if k.startswith("user:")]])


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
