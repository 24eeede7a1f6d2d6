"""One DuckDB file per `Database`: a root connection, a cursor per unit of work, serialised writes.

DuckDB connections are not safe to share between threads (Streamlit serves every session from
a thread of one process), so every unit of work takes its own cursor from the root connection.
Writers racing on the same rows conflict in DuckDB's optimistic MVCC; one process-wide lock
per file turns those conflicts into a short wait (see shared/STACK_NOTES.md).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import duckdb

T = TypeVar("T")


class StoreError(Exception):
    """A request the store refuses, with a message fit to show to a person."""


class PermissionDenied(StoreError):
    """The acting user's role does not allow this change."""


class DatabaseLockedError(StoreError):
    """Another process (usually the running app) holds the database file."""


def utcnow() -> datetime:
    """Naive UTC timestamp, the form every TIMESTAMP column in the store uses."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Database:
    """A DuckDB file opened read-write by this process."""

    def __init__(self, path: str | Path, connection: duckdb.DuckDBPyConnection) -> None:
        self.path = str(path)
        self._root = connection
        self._write_lock = threading.Lock()
        # Bumped by every change to accounts, roles or project membership, so answers
        # cached against it (see store/access.py) are never stale: this process is the
        # file's only writer.
        self.access_generation = 0
        self.access_cache: dict = {}

    def access_changed(self) -> None:
        self.access_generation += 1
        self.access_cache.clear()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor for reads; needs no lock."""
        cursor = self._root.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T], retries: int = 3,
              cursor: duckdb.DuckDBPyConnection | None = None) -> T:
        """Run `work(cursor)` in one transaction, serialised with every other write.

        The whole of `work` commits or none of it does. A DuckDB write conflict (possible only
        against another process's connection or an internal checkpoint) is retried. Pass
        `cursor` to write on a cursor the caller owns (one holding temp tables, say); the
        caller then closes it.
        """
        attempt = 0
        own_cursor = cursor is None
        while True:
            with self._write_lock:
                cursor = self._root.cursor() if own_cursor else cursor
                try:
                    cursor.execute("BEGIN TRANSACTION")
                    try:
                        result = work(cursor)
                        cursor.execute("COMMIT")
                        return result
                    except BaseException:
                        cursor.execute("ROLLBACK")
                        raise
                except (duckdb.TransactionException, duckdb.ConstraintException) as exc:
                    if attempt >= retries or "onflict" not in str(exc):
                        raise
                finally:
                    if own_cursor:
                        cursor.close()
            attempt += 1
            time.sleep(0.005 * attempt)

    def close(self) -> None:
        self._root.close()


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) the DuckDB file at `path` and bring its schema up to date."""
    from store.schema import migrate

    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLockedError(
                f"{path} is in use by another process (is the SafeLabel app running?). "
                "Stop it, or do this from the app."
            ) from None
        raise
    db = Database(path, connection)
    migrate(db)
    return db
