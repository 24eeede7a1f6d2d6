"""Bulk reads from PostgreSQL as Arrow record batches, and the in-process DuckDB that writes
them to files (exports) or reads them.

psycopg hands rows to Python one tuple at a time; for an export of a million annotations that
loop is the cost. ADBC's PostgreSQL driver reads the result with the binary COPY protocol
straight into Arrow batches, which DuckDB scans without Python touching a row.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from core import config
from store.pg_dialect import numbered, translate


@contextmanager
def record_batches(db: Any, sql: str) -> Iterator[Any]:
    """A `pyarrow.RecordBatchReader` over the rows of `sql` (one SELECT in the store's DuckDB
    dialect, parameters already written in as literals) run in `db`'s PostgreSQL database.
    The reader is good until the block ends; it runs in a read-only transaction of its own."""
    import adbc_driver_postgresql.dbapi as adbc

    (statement,) = translate(sql)
    with adbc.connect(db.url) as conn, conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(numbered(statement))
        yield cursor.fetch_record_batch()


@contextmanager
def scratch_duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the store's memory budget; what does not fit spills to a
    private temporary folder (it may hold item text), removed at the end."""
    with tempfile.TemporaryDirectory(prefix="safelabel-duckdb-") as spill:
        duck = duckdb.connect(":memory:", config={
            "memory_limit": config.memory_limit(), "threads": config.duckdb_threads(),
            "temp_directory": spill})
        try:
            yield duck
        finally:
            duck.close()
