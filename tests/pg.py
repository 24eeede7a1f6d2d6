"""PostgreSQL helpers for the tests: a free port, and a fresh schema per test."""
from __future__ import annotations

import socket
import uuid
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_schema_url(url: str) -> tuple[str, Callable[[], None]]:
    """A URL whose connections work in a new, empty schema, and the function that drops it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return f"{url}?options=-csearch_path%3D{schema}", drop


def duckdb_copy_of(url: str):
    """An in-memory DuckDB holding a copy of every table of the PostgreSQL schema at `url`,
    read as Arrow: checks written for DuckDB (text casts, ORDER BY ALL) then read both stores'
    rows the same way."""
    import adbc_driver_postgresql.dbapi as adbc
    import duckdb

    copy = duckdb.connect(":memory:")
    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT * FROM "{table}"')
            copy.register("pg_rows", cur.fetch_record_batch())
            copy.execute(f'CREATE TABLE "{table}" AS SELECT * FROM pg_rows')
            copy.unregister("pg_rows")
    return copy


def make_schema_at_version(url: str, version: int) -> None:
    """The store's schema in the PostgreSQL schema at `url`, built only up to migration
    `version` (what an older release made), as open_postgres builds the newest one."""
    from psycopg_pool import ConnectionPool

    from store.pg_dialect import COMPAT_FUNCTIONS
    from store.postgres import PostgresDatabase, _configure
    from store.schema import migrate

    pool = ConnectionPool(url, min_size=1, max_size=2, configure=_configure, open=True)
    db = PostgresDatabase(url, pool)
    try:
        with db.read() as cursor:
            cursor.connection.execute(COMPAT_FUNCTIONS)
        migrate(db, up_to=version)
    finally:
        db.close()
