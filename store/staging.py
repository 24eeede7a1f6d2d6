"""Where a file import reads and checks its file, and how its prepared rows reach the store:
the one place where imports differ between the two stores.

The imports (store/imports.py, store/annotation_imports.py, store/gold_import.py) read files
with DuckDB's readers and check, repair and score the rows in DuckDB SQL (temp tables,
QUALIFY, RE2 regexes). On a DuckDB store that happens on a cursor of the store itself, and
the write runs on the same cursor, so its temp tables are in reach. On PostgreSQL the same
reading and checking runs in a scratch in-process DuckDB (in memory, inside the same memory
budget, spilling to the import's private scratch folder); only the all-or-nothing write runs
on PostgreSQL. The prepared rows (already filtered and scored) reach the write's connection
by COPY into temp tables of the same names just before its transaction (which so stays
short, and is retried without copying again), and are dropped after it.

- `staging_cursor(db, scratch)`: the DuckDB cursor to read and check on.
- `write_staged(db, staging, work, tables)`: `db.write(work)` with the staged tables in reach.
- `temp_rows(db, cur, table, columns, values)`: rows made in Python (votes), as a temp table
  of the write.
- `through_duckdb(db, cur, source_sql, ...)`: rows of the store through DuckDB SQL (the hint
  refresh's RE2 score) and back, as a temp table of the write.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import psycopg

from store.db import Database, StoreError, connect_duckdb

T = TypeVar("T")

# Rows taken from the scratch DuckDB per fetch while copying (a batch, not the file, in memory).
COPY_BATCH_ROWS = 2048

_PG_TYPES = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric", "HUGEINT": "numeric", "FLOAT": "real", "DOUBLE": "double precision",
    "VARCHAR": "text", "JSON": "json", "DATE": "date", "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "BLOB": "bytea",
}


@contextmanager
def staging_cursor(db: Database, scratch: str | Path | None = None
                   ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB cursor to read and check an import's file on: on a DuckDB store a cursor of
    the store (pass it to `write_staged`); on PostgreSQL one of a scratch in-process DuckDB
    that spills to `scratch` (a private folder; a temporary one when None), closed after."""
    if db.backend == "duckdb":
        with db.read() as cur:
            yield cur
        return
    with ExitStack() as stack:
        if scratch is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="safelabel-staging-"))
        # The folder is the import's own (mode 0700): spilled pages hold item text.
        connection = connect_duckdb(":memory:", Path(scratch) / "duckdb.spill")
        stack.callback(connection.close)
        cursor = connection.cursor()
        stack.callback(cursor.close)
        yield cursor


class UnstorableValue(StoreError):
    """A prepared value the store cannot hold (PostgreSQL's text has no NUL character)."""


def refuses_nul(db: Database) -> bool:
    """Whether the store refuses the NUL character in text: PostgreSQL does, DuckDB not (an
    import checks its text columns for it there, and names the rows)."""
    return db.backend == "postgresql"


def write_staged(db: Database, staging: duckdb.DuckDBPyConnection, work: Callable[[Any], T],
                 tables: Sequence[str]) -> T:
    """`db.write(work)`, where `work` can read the staging cursor's `tables` (tables or
    views) by their names: on DuckDB by running on that cursor; on PostgreSQL by copying
    their rows into temp tables of the write's connection first. The copy (and the scoring
    a view computes) comes before the SERIALIZABLE transaction, so that stays as short as
    its inserts and a retry does not copy again; the tables go when it ends."""
    if db.backend == "duckdb":
        return db.write(work, cursor=staging)
    with db.session() as cur:
        connection = cur.connection
        try:
            for table in tables:
                copy_to_postgres(staging, connection, table, drop_at_commit=False)
                connection.execute(f"ANALYZE {_quote(table)}")   # a plan for its real size
            return db.write(work, cursor=cur)
        finally:
            for table in tables:
                connection.execute(f"DROP TABLE IF EXISTS pg_temp.{_quote(table)}")


def copy_to_postgres(staging: duckdb.DuckDBPyConnection, connection: Any, table: str,
                     drop_at_commit: bool = True) -> int:
    """Copy the DuckDB table or view `table` into a PostgreSQL temp table of that name on
    `connection` (a psycopg connection: inside a transaction, the table goes at its end
    when `drop_at_commit`; else the caller drops it). The rows stream a batch at a time
    through COPY. Returns how many."""
    columns = [(name, ctype) for name, ctype, *_ in
               staging.execute(f"DESCRIBE {_quote(table)}").fetchall()]
    names = ", ".join(_quote(name) for name, _ in columns)
    connection.execute(
        f"CREATE TEMP TABLE {_quote(table)} ("
        + ", ".join(f"{_quote(name)} {pg_type(ctype)}" for name, ctype in columns)
        + (") ON COMMIT DROP" if drop_at_commit else ")"))
    result = staging.execute(f"SELECT {names} FROM {_quote(table)}")
    count = 0
    # Text COPY: each value goes in its Python type's text form (a JSON column's text
    # is parsed by PostgreSQL as it is, lists become array literals).
    try:
        with connection.cursor() as cursor, \
                cursor.copy(f"COPY {_quote(table)} ({names}) FROM STDIN") as copy:
            while batch := result.fetchmany(COPY_BATCH_ROWS):
                for row in batch:
                    copy.write_row(row)
                count += len(batch)
    except psycopg.DataError as exc:
        raise UnstorableValue(f"a value cannot be stored in PostgreSQL: "
                              f"{str(exc).strip().splitlines()[0]}") from None
    return count


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one (lists become arrays)."""
    if duckdb_type.endswith("[]"):
        return pg_type(duckdb_type[:-2]) + "[]"
    if duckdb_type.startswith("DECIMAL"):
        return "numeric" + duckdb_type[len("DECIMAL"):]
    try:
        return _PG_TYPES[duckdb_type]
    except KeyError:
        raise TypeError(f"no PostgreSQL column type for DuckDB's {duckdb_type}") from None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def temp_rows(db: Database, cur: Any, table: str, columns: dict[str, str],
              values: dict[str, list[Any]]) -> None:
    """Make the temp table `table` on the write cursor `cur` (inside `db.write`) holding rows
    given column-wise: `columns` maps each name to its DuckDB type, `values` each name to a
    list (all of one length). DuckDB unnests the lists side by side in one statement (row by
    row inserts take seconds per thousand rows there); PostgreSQL has no lists of lists (its
    unnest flattens them), so there the rows go in by COPY. The caller drops the table."""
    names = list(columns)
    if db.backend == "duckdb":
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {_quote(table)} AS SELECT "
                    + ", ".join(f"unnest(?::{columns[n]}[]) AS {_quote(n)}" for n in names),
                    [values[n] for n in names])
        return
    connection = cur.connection
    quoted = ", ".join(_quote(n) for n in names)
    connection.execute(f"CREATE TEMP TABLE {_quote(table)} ("
                       + ", ".join(f"{_quote(n)} {pg_type(columns[n])}" for n in names)
                       + ") ON COMMIT DROP")
    with connection.cursor() as cursor, \
            cursor.copy(f"COPY {_quote(table)} ({quoted}) FROM STDIN") as copy:
        for row in zip(*(values[n] for n in names)):
            copy.write_row(row)


def through_duckdb(db: Database, cur: Any, source_sql: str, params: Sequence[Any],
                   columns: dict[str, str], duckdb_sql: str, table: str) -> None:
    """Make the temp table `table` on the write cursor `cur` (inside `db.write`): the rows of
    `duckdb_sql`, DuckDB SQL (an RE2 regex, say) over a table `source` that holds the rows of
    `source_sql` (the store's SQL, with `params`; `columns` names and types them, DuckDB's
    types). On DuckDB one statement; on PostgreSQL the rows stream, a batch at a time, into
    a scratch DuckDB and the result back by COPY. The caller drops the table."""
    if db.backend == "duckdb":
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {_quote(table)} AS "
                    f"WITH source AS ({source_sql}) {duckdb_sql}", list(params))
        return
    from store.pg_dialect import bind, translate

    (statement,) = translate(source_sql)
    names = list(columns)
    with staging_cursor(db) as duck:
        duck.execute("CREATE TABLE source ("
                     + ", ".join(f"{_quote(n)} {columns[n]}" for n in names) + ")")
        insert = ("INSERT INTO source SELECT "
                  + ", ".join(f"unnest(?::{columns[n]}[])" for n in names))
        # A server-side cursor: the rows come a batch at a time, not all at once.
        with cur.connection.cursor(name="safelabel_staging_source") as source:
            source.execute(statement, bind(params))
            while batch := source.fetchmany(COPY_BATCH_ROWS):
                duck.execute(insert, [list(column) for column in zip(*batch)])
        duck.execute(f"CREATE VIEW {_quote(table)} AS {duckdb_sql}")
        copy_to_postgres(duck, cur.connection, table)
