"""Move a DuckDB installation into an empty PostgreSQL database (`cli.py migrate-to URL`).

The target is opened like any store (store/db.open_database creates its schema, at the
version the code knows), then, in one PostgreSQL transaction: every table of the DuckDB file
is streamed in as Arrow record batches (ADBC's bulk ingest, PostgreSQL's binary COPY), ids
kept; each sequence is set past the highest id it handed out; and every table is compared
with its source, row count and a checksum of its rows computed by the same DuckDB expression
on both sides (the target's rows read back inside the transaction). Only when every table
matches is the transaction committed: a refused or failed move leaves the target as it was.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.db import StoreError, open_database, utcnow
from store.pg_arrow import scratch_duckdb
from store.postgres import is_postgres_url, redacted
from store.schema import current_version

# Rows per Arrow batch read from the DuckDB file: big enough that per-batch costs vanish,
# small enough that a batch of long item texts stays a few tens of MB.
BATCH_ROWS = 50_000


@dataclass(frozen=True)
class TableCheck:
    """One table after the move: rows and checksum in the source and in the target."""
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def equal(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass(frozen=True)
class MoveReport:
    checks: list[TableCheck]
    committed: bool    # False: a table differed, so nothing was kept in the target

    @property
    def equal(self) -> bool:
        return all(check.equal for check in self.checks)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _target_tables_with_rows(url: str) -> dict[str, int]:
    """Tables of the target's schema that hold rows (the schema's own version list aside)."""
    import psycopg

    try:
        conn = psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as exc:
        raise StoreError(f"cannot reach PostgreSQL at {redacted(url)}: "
                         f"{str(exc).strip().splitlines()[0]}") from None
    with conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_version'"
        ).fetchall()]
        found = {}
        for table in tables:
            rows = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]
            if rows:
                found[table] = rows
    return found


def _refuse_if_holding_data(url: str) -> None:
    found = _target_tables_with_rows(url)
    if found:
        listed = ", ".join(f"{table} ({rows})" for table, rows in sorted(found.items()))
        raise StoreError(f"{redacted(url)} already holds data: {listed}. migrate-to moves an "
                         "installation into an empty database only; nothing was changed.")


def _columns(cur: Any, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the source table's columns, in order."""
    return [(r[0], r[1]) for r in cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema ="
        " 'main' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def _checksum_sql(source: str, columns: list[tuple[str, str]]) -> str:
    """Row count and an order-free checksum of `source`'s rows: the sum of a 64-bit hash of
    each row, its values cast to the DuckDB file's types (so the target's rows, read back
    through Arrow, are hashed exactly as the source's)."""
    values = ", ".join(f"CAST({_quote(name)} AS {kind})" for name, kind in columns)
    return (f"SELECT count(*), CAST(coalesce(sum(CAST(hash(row({values})) AS HUGEINT)), 0)"
            f" AS VARCHAR) FROM {source}")


def _sequence_columns(cur: Any) -> dict[str, tuple[str, str, int | None]]:
    """Each DuckDB sequence -> (table, column whose default draws from it, its last value)."""
    last = {r[0]: r[1] for r in cur.execute(
        "SELECT sequence_name, last_value FROM duckdb_sequences()").fetchall()}
    found = {}
    for table, column, default in cur.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = 'main' AND column_default LIKE 'nextval(%'").fetchall():
        match = re.match(r"nextval\('([^']+)'", default)
        if match and match.group(1) in last:
            found[match.group(1)] = (table, column, last[match.group(1)])
    return found


def move_to_postgres(source: str | Path, target_url: str) -> MoveReport:
    """Copy the DuckDB installation at `source` into the empty PostgreSQL database at
    `target_url`; see the module's docstring. Raises StoreError (nothing changed) when the
    target holds data, or its schema version differs from the source's."""
    if not is_postgres_url(target_url):
        raise StoreError("migrate-to takes a postgresql:// URL")
    if not Path(source).is_file():
        raise StoreError(f"no DuckDB database at {source}")
    _refuse_if_holding_data(target_url)
    source_db = open_database(source)
    try:
        target_db = open_database(target_url)
        try:
            source_version, target_version = current_version(source_db), current_version(target_db)
        finally:
            target_db.close()
        if source_version != target_version:
            raise StoreError(f"the target's schema is at version {target_version}, the source's "
                             f"at {source_version}; nothing was changed")
        with source_db.read() as cur:
            return copy_tables(cur, target_url, Path(source).name)
    finally:
        source_db.close()


def copy_tables(cur: Any, target_url: str, source_name: str | None = None) -> MoveReport:
    """Copy every table of the DuckDB connection `cur` into the same tables of the PostgreSQL
    database at `target_url` (its schema made already, at the same version, its tables
    empty), in one transaction kept only if every table then matches; see the module's
    docstring. Given `source_name`, the move is an audit event of the target (`migrated_in`,
    naming the file), its one row more than the source."""
    import adbc_driver_postgresql.dbapi as adbc

    tables = [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        " AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
    if not tables:
        raise StoreError("the source holds no tables")
    columns = {table: _columns(cur, table) for table in tables}
    sequences = _sequence_columns(cur)
    with adbc.connect(target_url) as conn, conn.cursor() as pg:
        pg.execute("SELECT table_name FROM information_schema.tables"
                   " WHERE table_schema = current_schema()")
        missing = set(tables) - {r[0] for r in pg.fetchall()}
        if missing:
            raise StoreError(f"the target has no table {', '.join(sorted(missing))}; "
                             "nothing was changed")
        # Nobody writes while the move runs; an app started on the target too early
        # waits (or a write it made already shows up below, and the move is refused).
        pg.execute("LOCK TABLE " + ", ".join(_quote(t) for t in tables)
                   + " IN EXCLUSIVE MODE")
        for table in tables:
            if table == "schema_version":
                continue
            pg.execute(f"SELECT count(*) FROM {_quote(table)}")
            if pg.fetchone()[0]:
                conn.rollback()
                raise StoreError(f"the target's table {table} got rows meanwhile; "
                                 "nothing was changed")
        # The target's version rows are its own migrations just now; the source's keep
        # when each version was first applied.
        pg.execute("DELETE FROM schema_version")
        for table in tables:
            names = ", ".join(_quote(name) for name, _ in columns[table])
            reader = cur.sql(f"SELECT {names} FROM {_quote(table)}").to_arrow_reader(
                BATCH_ROWS)
            pg.adbc_ingest(table, reader, mode="append")
            # Fresh statistics: a planner that believes the tables still empty picks nested
            # loops (an export of 5,000 items took 8 s instead of 0.1 s).
            pg.execute(f"ANALYZE {_quote(table)}")
        for sequence, (table, column, last_value) in sequences.items():
            # Past every id in the table and every id the file ever handed out.
            pg.execute(f"SELECT coalesce(max({_quote(column)}), 0) FROM {_quote(table)}")
            top = max(int(pg.fetchone()[0]), int(last_value or 0))
            if top:
                pg.execute(f"SELECT setval('{sequence}', {top}, true)")
        checks = []
        with scratch_duckdb() as duck:
            for table in tables:
                source_rows, source_sum = cur.execute(
                    _checksum_sql(_quote(table), columns[table])).fetchall()[0]
                names = ", ".join(_quote(name) for name, _ in columns[table])
                pg.execute(f"SELECT {names} FROM {_quote(table)}")
                duck.register("target_rows", pg.fetch_record_batch())
                target_rows, target_sum = duck.execute(
                    _checksum_sql("target_rows", columns[table])).fetchall()[0]
                duck.unregister("target_rows")
                checks.append(TableCheck(table, int(source_rows), int(target_rows),
                                         source_sum, target_sum))
        report = MoveReport(checks, committed=all(c.equal for c in checks))
        if report.committed and source_name is not None:
            # The move is an audit event of the target, written after the comparison (the
            # source has no such row), in the same transaction.
            details = {"tables": len(checks), "rows": sum(c.source_rows for c in checks),
                       "source": source_name}
            pg.execute("INSERT INTO events (happened_at, kind, details) VALUES"
                       " ($1, 'migrated_in', CAST($2 AS JSON))",
                       parameters=(utcnow(), json.dumps(details, ensure_ascii=False)))
        if report.committed:
            conn.commit()
        else:
            conn.rollback()
    return report
