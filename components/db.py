"""The app's one DuckDB handle per file, shared by every session (thread-safe by design).

The handles live in a registry of this module, not in `st.cache_resource`: any visitor's
browser can send Streamlit's "clear cache" message, which empties `st.cache_resource` for the
whole process; the next run would then open the file a second time, with a second write lock,
and the store's one-writer-per-file rule would silently break.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import streamlit as st

from core import config
from core.text import markdown_literal
from store import users
from store.bootstrap import open_app_database
from store.db import Database, DatabaseLockedError
from store.hint_models import start_hint_worker, stop_hint_workers
from store.postgres import is_postgres_url, redacted

_lock = threading.Lock()
_databases: dict[str, Database] = {}
_announced: set[str] = set()
_lock_reported: set[str] = set()


def open_shared(path: str, demo: bool) -> Database:
    """The process's open database for `path`, opened (and migrated, seeded) on first use.
    Raises DatabaseLockedError while another process holds the file; the next call tries
    again, so the app recovers once that process has stopped."""
    with _lock:
        db = _databases.get(path)
        if db is None:
            db = _databases[path] = open_app_database(path, demo)
            _lock_reported.discard(path)
            if config.hint_worker_enabled():
                # Trains hint models and re-scores items off the request path.
                start_hint_worker(db, config.hint_worker_seconds())
        return db


def held_elsewhere_message(path: str) -> str:
    """What a visitor reads while the file is held: its name, not the server's folders (the
    console has the full path)."""
    if is_postgres_url(path):
        return ("The database server (PostgreSQL) cannot be reached. Check that it is running "
                "and reachable from this machine, then reload this page.")
    name = markdown_literal(Path(path).name)
    return (f"Another SafeLabel process holds the database file {name}. DuckDB lets one "
            "process use it at a time: stop the other process (or this one), then reload "
            "this page.")


def get_db() -> Database:
    """The database named by SAFELABEL_DB, opened once per process. While another process
    holds the file, the page shows one plain message (no traceback) and stops."""
    path = str(config.db_path())
    try:
        return open_shared(path, config.demo_enabled())
    except DatabaseLockedError as exc:
        with _lock:
            first = path not in _lock_reported
            _lock_reported.add(path)
        if first:   # once until it opens, not once per page view
            shown = redacted(path) if is_postgres_url(path) else path
            print(f"SafeLabel: cannot open {shown}: {exc}", file=sys.stderr, flush=True)
        st.error(held_elsewhere_message(path))
        st.stop()
        raise   # st.stop() outside a script run returns; never hand back no database


def announce_setup_token() -> None:
    """Print the one-time setup token on the server console, once per process."""
    path = str(config.db_path())
    with _lock:
        if path in _announced:
            return
        _announced.add(path)
    token = users.setup_token(get_db())
    if token:
        print("\n" + "=" * 72 + "\nSafeLabel has no accounts yet. To create the first admin, "
              f"open the app\nand enter this one-time setup token:\n\n    {token}\n"
              + "=" * 72 + "\n", file=sys.stderr, flush=True)


def close_all() -> None:
    """Close and forget every open database (tests, between app instances)."""
    stop_hint_workers()   # before their databases close
    with _lock:
        for db in _databases.values():
            db.close()
        _databases.clear()
        _announced.clear()
        _lock_reported.clear()
