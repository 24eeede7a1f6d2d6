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

from core import config

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

    backend = "duckdb"
    # Appended to the claim queries' SELECT (store/work.py): nothing here, where one write
    # lock already serialises every claim.
    claim_lock = ""

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

    def queue_write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """A write of the work queue (claims, answers, skips: store/work.py, work_queue.py).
        Here like any write: every write already takes the file's one lock. On PostgreSQL
        these take turns across every app process (PostgresDatabase.queue_write)."""
        return self.write(work)

    def migration_lock(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Nothing to do: this process is the file's only writer."""

    @contextmanager
    def exclusive(self, key: int) -> Iterator[bool]:
        """Whether this process may run the background job `key` now, while no other process
        does (see PostgresDatabase.exclusive): always, as the file's only process."""
        yield True

    def close(self) -> None:
        self._root.close()
        if self.path != ":memory:":
            # DuckDB deletes its spill files on close; the empty folder goes too.
            try:
                spill_directory(self.path).rmdir()
            except OSError:
                pass


def spill_directory(db_path: str | Path) -> Path:
    """Where DuckDB writes what does not fit in its memory budget: beside the database file,
    readable by this account only (spilled pages hold item text)."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".spill")


def _prepare_spill_directory(spill: Path) -> None:
    spill.mkdir(mode=0o700, exist_ok=True)
    spill.chmod(0o700)  # mkdir's mode is filtered by the umask; an older folder may differ
    for leftover in spill.iterdir():  # from a process that was killed mid-import
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


def connect_duckdb(target: str, spill: Path | None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (a file, or ":memory:") inside the memory budget, spilling to
    `spill` (None: nowhere, it refuses instead). The store's file and an import's scratch
    database on PostgreSQL (store/staging.py) are both opened so."""
    # A bounded budget: past it DuckDB spills to the folder below (or refuses) instead of
    # growing until the kernel kills the server (a 1 KB Parquet file can decode to GBs).
    settings: dict[str, str | int] = {"memory_limit": config.memory_limit(),
                                      "threads": config.duckdb_threads()}
    if spill is not None:
        settings["temp_directory"] = str(spill)
    try:
        connection = duckdb.connect(target, config=settings)
    except (duckdb.ParserException, duckdb.InvalidInputException) as exc:
        if "memory" not in str(exc).lower():
            raise
        raise StoreError(f"SAFELABEL_MEMORY_LIMIT={settings['memory_limit']!r} is not a "
                         f"memory size such as 384MB or 1GB ({exc})") from None
    # Parquet prefetching reads whole row groups ahead; without it DuckDB reads a file in
    # less memory (a 200 MB file written by DuckDB itself failed at 256MB with it on).
    connection.execute("SET GLOBAL disable_parquet_prefetching = true")
    return connection


def open_database(path: str | Path) -> Database:
    """Open the store `path` names and bring its schema up to date: a `postgresql://` URL
    (store/postgres.py), or else a DuckDB file, created if needed."""
    from store.postgres import is_postgres_url, open_postgres
    from store.schema import migrate

    if is_postgres_url(path):
        return open_postgres(str(path))  # type: ignore[return-value]

    path = Path(path)
    in_memory = str(path) == ":memory:"
    if not in_memory:
        path.parent.mkdir(parents=True, exist_ok=True)
    spill = None if in_memory else spill_directory(path)
    try:
        connection = connect_duckdb(str(path), spill)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseLockedError(
                f"{path} is in use by another process (is the SafeLabel app running?). "
                "Stop it, or do this from the app."
            ) from None
        raise
    if spill is not None:
        # Only now, holding the file's lock, is every file in the folder a stale one of ours.
        _prepare_spill_directory(spill)
    db = Database(path, connection)
    migrate(db)
    return db
