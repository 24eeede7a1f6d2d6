"""PostgreSQL as the store: the same `Database` interface as the DuckDB file, for several app
processes on one server.

Every store function stays the same: it gets a cursor whose `execute` takes the store's
DuckDB-dialect SQL and runs its PostgreSQL translation (store/pg_dialect.py). Writes run at
SERIALIZABLE isolation and are retried on a serialization failure, so every write function
keeps the meaning it has on DuckDB, where one lock serialises them: concurrent writers
(threads, or app processes on other machines) never see a state a serial order could not
produce. The work queue's writes (claims, answers, skips) take turns across every process
(`queue_write`): side by side, SERIALIZABLE cancelled most of them (bench/results_proof_
postgres.txt). The claim queries still take their row `FOR UPDATE SKIP LOCKED`, so a claim
never waits on a row another writer (a lead's edit, a hint re-scoring step) holds.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors
from psycopg._oids import INVALID_OID, TEXT_ARRAY_OID
from psycopg.adapt import Loader, PyFormat
from psycopg.types.array import ListDumper
from psycopg_pool import ConnectionPool

from store.db import DatabaseLockedError, StoreError
from store.pg_dialect import COMPAT_FUNCTIONS, bind, translate

T = TypeVar("T")

# A serialization failure is the normal price of SERIALIZABLE under contention: try again,
# with a growing random pause so racing writers spread out.
MAX_ATTEMPTS = 60
POOL_SIZE = 16
# The advisory lock key of the work queue's turns (`PostgresDatabase.queue_write`).
QUEUE_LOCK = 72110530


# Indexes for PostgreSQL only (DuckDB scans columns fast, and an index there slows every
# write): the queue's per-person and per-item lookups that every claim and submit runs.
# Besides speed they keep SERIALIZABLE retries rare: a query answered by an index scan
# predicate-locks the index range it read, a sequential scan the whole table, so with
# sequential scans any two people's claims conflict (each reads the claims, events and
# exposures tables the other writes to). Created on every open (after the migrations), so
# a table a migration rebuilds gets them back.
PG_INDEXES = """
CREATE INDEX IF NOT EXISTS pg_items_open ON items (project_id, open_slots, done_count DESC, id)
    WHERE open_slots > 0;
CREATE INDEX IF NOT EXISTS pg_items_fresh ON items (project_id, id)
    WHERE open_slots > 0 AND touched_by = ',';
CREATE INDEX IF NOT EXISTS pg_items_any_open ON items (project_id, id) WHERE open_slots > 0;
CREATE INDEX IF NOT EXISTS pg_items_gold ON items (project_id) WHERE gold;
CREATE INDEX IF NOT EXISTS pg_claims_user ON claims (user_id, project_id, item_id);
CREATE INDEX IF NOT EXISTS pg_claims_item ON claims (item_id);
CREATE INDEX IF NOT EXISTS pg_claims_expiry ON claims (project_id, expires_at);
CREATE INDEX IF NOT EXISTS pg_events_user ON events (user_id, happened_at);
CREATE INDEX IF NOT EXISTS pg_exposures_user ON exposures (user_id, ended_at);
CREATE INDEX IF NOT EXISTS pg_exposures_person ON exposures (project_id, user_id);
CREATE INDEX IF NOT EXISTS pg_annotations_item ON annotations (item_id, user_id);
CREATE INDEX IF NOT EXISTS pg_opt_outs_user ON opt_outs (user_id, project_id);
"""


def _set_up(db: PostgresDatabase, sql: str) -> None:
    """Run set-up SQL of ours (no translation) while no other process starting does."""
    with db.read() as cursor:
        conn = cursor.connection
        conn.execute("SELECT pg_advisory_lock(72110514)")
        try:
            conn.execute(sql)
        finally:
            conn.execute("SELECT pg_advisory_unlock(72110514)")


def ensure_indexes(db: PostgresDatabase) -> None:
    """Create `PG_INDEXES` (once per database; processes starting together take turns)."""
    _set_up(db, PG_INDEXES)


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password, fit for logs and the page."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class _TextJson(Loader):
    """JSON columns come back as text, as DuckDB returns them (the store parses them)."""

    def load(self, data: Any) -> str:
        return bytes(data).decode()


class _Number(Loader):
    """NUMERIC (PostgreSQL's sum of BIGINT, avg of anything) -> int when whole, else float,
    as DuckDB returns them; a Decimal would leak into JSON and arithmetic."""

    def load(self, data: Any) -> int | float:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class _TextListDumper(ListDumper):
    """A list of str is a TEXT[] (psycopg leaves it untyped, and `unnest(?)` of an untyped
    array is ambiguous in PostgreSQL; DuckDB knows it as VARCHAR[])."""

    def upgrade(self, obj: list[Any], format: PyFormat) -> ListDumper:
        dumper = super().upgrade(obj, format)
        if dumper.oid == INVALID_OID and any(isinstance(x, str) for x in obj):
            dumper.oid = TEXT_ARRAY_OID
        return dumper


def _configure(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    conn.adapters.register_dumper(list, _TextListDumper)
    for name in ("json", "jsonb"):
        conn.adapters.register_loader(name, _TextJson)
    conn.adapters.register_loader("numeric", _Number)
    conn.execute("SET TIME ZONE 'UTC'")


class PgCursor:
    """A psycopg cursor that speaks the store's (DuckDB) SQL."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.connection = conn
        self._cur = conn.cursor()
        self._temp_tables = False

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> PgCursor:
        bound = bind(params) or {}
        nulls = [k for k, v in bound.items() if v is None]
        for statement in translate(sql):
            for key in nulls:
                # A NULL parameter has no type, and PostgreSQL must type every parameter
                # (`$1 IS NULL` alone fails); as a literal NULL it is typed by its place.
                statement = statement.replace(f"%({key})s", "NULL")
            if statement.startswith("CREATE TEMPORARY"):
                self._temp_tables = True
            self._cur.execute(statement, bound)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> PgCursor:
        (statement,) = translate(sql)
        self._cur.executemany(statement, [bind(row) for row in rows])
        return self

    def _changed_rows(self) -> list[tuple]:
        """DuckDB answers INSERT/UPDATE/DELETE with one row: the number of rows changed."""
        return [(max(self._cur.rowcount, 0),)]

    def fetchone(self) -> tuple | None:
        if self._cur.description is None:
            return self._changed_rows()[0]
        return self._cur.fetchone()

    def fetchall(self) -> list[tuple]:
        if self._cur.description is None:
            return self._changed_rows()
        return self._cur.fetchall()

    def fetchmany(self, size: int = 1) -> list[tuple]:
        return self._cur.fetchmany(size)

    @property
    def description(self) -> list[tuple] | None:
        if self._cur.description is None:
            return None
        return [(c.name, c.type_code) for c in self._cur.description]

    def df(self):
        import pandas as pd

        rows = self._cur.fetchall()
        return pd.DataFrame(rows, columns=[c.name for c in self._cur.description or []])

    def close(self) -> None:
        self._cur.close()
        if self._temp_tables:
            # A DuckDB cursor's temp tables end with it; a pooled connection's would not.
            self.connection.execute("DISCARD TEMP")


class _NoCache(dict):
    """Another process may change accounts or settings at any time: nothing is cached."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class PostgresDatabase:
    """A PostgreSQL database shared by any number of app processes."""

    backend = "postgresql"
    # Appended to the claim queries' SELECT (store/work.py): the row a claim takes is locked
    # until its transaction ends, and a concurrent claim skips it and takes the next one, so
    # people racing for work take different rows instead of conflicting and retrying.
    claim_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, pool: ConnectionPool) -> None:
        self.url = url
        self.path = redacted(url)
        self._pool = pool
        self.access_generation = 0
        self.access_cache: dict = _NoCache()
        self._local = threading.local()

    def access_changed(self) -> None:
        self.access_generation += 1

    @contextmanager
    def read(self) -> Iterator[PgCursor]:
        with self._pool.connection() as conn:
            cursor = PgCursor(conn)
            try:
                yield cursor
            finally:
                cursor.close()

    @contextmanager
    def session(self) -> Iterator[PgCursor]:
        """One connection held for a while (temp tables live on it)."""
        with self.read() as cursor:
            yield cursor

    def write(self, work: Callable[[PgCursor], T], retries: int = MAX_ATTEMPTS,
              cursor: PgCursor | None = None) -> T:
        """Run `work(cursor)` in one SERIALIZABLE transaction, retried on conflict."""
        attempt = 0
        while True:
            try:
                if cursor is not None:
                    return self._attempt(work, cursor)
                with self.read() as own:
                    return self._attempt(work, own)
            except (errors.SerializationFailure, errors.DeadlockDetected):
                attempt += 1
                if attempt >= max(retries, MAX_ATTEMPTS):
                    raise
            time.sleep(random.uniform(0, 0.004 * min(attempt, 25)))

    @staticmethod
    def _attempt(work: Callable[[PgCursor], T], cursor: PgCursor) -> T:
        raw = cursor.connection
        raw.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        # Writes look rows up by key: an index scan where there is one, even on a small
        # table, since a sequential scan predicate-locks the whole table (see PG_INDEXES).
        raw.execute("SET LOCAL enable_seqscan = off")
        try:
            result = work(cursor)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return result

    def queue_write(self, work: Callable[[PgCursor], T]) -> T:
        """A write of the work queue (claims, answers, skips), one at a time across every app
        process on this database (and schema): `write` after taking an advisory lock, on
        the same connection, before the transaction starts (so its snapshot comes after the
        previous turn's commit). Concurrent claims and submits all read and write the same
        few rows (the next open items, the claims and events tables), so under SERIALIZABLE
        they conflict and retry in storms (bench/results_proof_postgres.txt: 5 to 8 retries
        per committed submit at 20 people, and errors after 60); in turns they do not
        conflict, PostgreSQL grants the lock first come first served, and a turn lasts a
        few milliseconds. A process that dies mid-turn drops the lock with its connection."""
        with self.read() as cursor:
            conn = cursor.connection
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", [QUEUE_LOCK])
            try:
                return self.write(work, cursor=cursor)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))",
                             [QUEUE_LOCK])

    def migration_lock(self, cursor: PgCursor) -> None:
        """Processes starting together migrate one after another."""
        cursor.connection.execute("SELECT pg_advisory_xact_lock(72110514)")

    @contextmanager
    def exclusive(self, key: int) -> Iterator[bool]:
        """Whether this process may run the background job `key` now (until the block ends),
        while no other app process on this database does: a PostgreSQL advisory lock, tried
        without waiting, per schema. A process that dies drops its connection, and with it
        the lock, so another process takes the next turn."""
        with self._pool.connection() as conn:
            locked = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))",
                                  [key]).fetchone()[0]
            try:
                yield bool(locked)
            finally:
                if locked:
                    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))",
                                 [key])

    def close(self) -> None:
        self._pool.close()


def open_postgres(url: str, pool_size: int = POOL_SIZE,
                  up_to: int | None = None) -> PostgresDatabase:
    """Connect to the PostgreSQL database at `url` and bring its schema up to date (or up to
    version `up_to`: an older release's schema, for the upgrade tests)."""
    from store.schema import migrate

    try:
        probe = psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseLockedError(
            f"cannot reach PostgreSQL at {redacted(url)}: {str(exc).strip().splitlines()[0]}"
        ) from None
    probe.close()
    pool = ConnectionPool(url, min_size=1, max_size=pool_size, configure=_configure,
                          open=True, timeout=60, name="safelabel")
    db = PostgresDatabase(url, pool)
    _set_up(db, COMPAT_FUNCTIONS)
    migrate(db, up_to=up_to)
    ensure_indexes(db)
    return db
