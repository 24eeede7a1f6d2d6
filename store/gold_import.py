"""Expected answers from `gold_*` columns of an item import (core.gold.GOLD_COLUMNS).

Kept apart from store/imports.py, which calls three functions: the columns are staged (and
left out of the item's metadata), every row's answer is checked like a normal answer (its
problems join the import's, so a bad gold value stops an all-or-nothing import), and the
answers of the items the import adds are appended in its transaction, set by the importer.
Items that were already there (a re-import) are not touched.
"""
from __future__ import annotations

import json

import duckdb

from core.gold import GOLD_COLUMNS, parse_gold_columns
from core.labels import Label
from core.taxonomy import Taxonomy
from store.gold import insert_gold
from store.db import utcnow


# The valid expected answers of the rows an import may add, with their external ids.
GOLD_ROWS = "gold_rows"


def gold_columns(column_types: dict[str, str]) -> list[str]:
    return [c for c in GOLD_COLUMNS if c in column_types]


def _text(column: str, column_type: str) -> str:
    col = '"' + column.replace('"', '""') + '"'
    if column_type.endswith("[]"):
        return f"array_to_string({col}, ',')"
    if column_type == "JSON":
        return f"CASE WHEN json_type({col}) = 'VARCHAR' THEN json_extract_string({col}, '$')" \
               f" ELSE CAST({col} AS VARCHAR) END"
    return f"CAST({col} AS VARCHAR)"


def stage_gold(cur: duckdb.DuckDBPyConnection, column_types: dict[str, str]) -> bool:
    """`gold_staged` (_row and the gold columns as text) for rows that give any; True when the
    file has gold columns at all."""
    columns = gold_columns(column_types)
    if not columns:
        return False
    texts = [f"nullif(trim({_text(c, column_types[c])}), '') AS {c}" for c in columns]
    cur.execute(f"CREATE TEMP TABLE gold_raw AS SELECT _row, {', '.join(texts)} FROM input_rows")
    cur.execute(f"DELETE FROM gold_raw WHERE {' AND '.join(f'{c} IS NULL' for c in columns)}")
    return True


def check_gold(cur: duckdb.DuckDBPyConnection, kind: str, taxonomy: Taxonomy) -> None:
    """Add each gold row's problems to the import's `problems`, and keep the valid answers in
    `gold_staged` for `add_gold`."""
    columns = [r[0] for r in cur.execute("DESCRIBE gold_raw").fetchall() if r[0] != "_row"]
    cur.execute("CREATE TEMP TABLE gold_staged (_row BIGINT, is_safe BOOLEAN,"
                " categories VARCHAR[], severity INTEGER, judgment JSON, explanation VARCHAR,"
                " qualification BOOLEAN)")
    problems, answers = [], []
    for row in cur.execute(f"SELECT _row, {', '.join(columns)} FROM gold_raw ORDER BY _row"
                           ).fetchall():
        parsed = parse_gold_columns(kind, taxonomy, dict(zip(columns, row[1:])))
        if parsed.problems:
            problems += [(row[0], column, problem) for column, problem in parsed.problems]
            continue
        label = parsed.label
        answers.append((row[0], label.is_safe if label else None,
                        list(label.categories) if label else None,
                        label.severity if label else None,
                        json.dumps(parsed.judgment) if parsed.judgment else None,
                        parsed.explanation, parsed.qualification))
    if problems:
        cur.executemany("INSERT INTO problems VALUES (?, NULL, ?, ?)", problems)
    if answers:
        cur.executemany("INSERT INTO gold_staged VALUES (?, ?, ?, ?, ?, ?, ?)", answers)
    # What `add_gold` reads in the write (on PostgreSQL a copy of it, see store/staging.py).
    # The first answer of each item the import may add (its rows are the first of each id).
    cur.execute(f"CREATE TEMP VIEW {GOLD_ROWS} AS SELECT s.external_id, g.* FROM gold_staged g"
                " JOIN staged s USING (_row) WHERE g._row NOT IN (SELECT _row FROM problems)"
                " QUALIFY row_number() OVER (PARTITION BY s.external_id ORDER BY g._row) = 1")


def add_gold(cur: duckdb.DuckDBPyConnection, actor_id: int | None, project_id: int,
             import_id: int) -> int:
    """Append the expected answers of the items this import added; how many."""
    rows = cur.execute(
        "SELECT i.id, g.is_safe, g.categories, g.severity, g.judgment, g.explanation,"
        f" g.qualification FROM {GOLD_ROWS} g"
        " JOIN items i ON i.project_id = ? AND i.import_id = ? AND i.external_id = g.external_id"
        " ORDER BY i.id",
        [project_id, import_id]).fetchall()
    now = utcnow()
    for item_id, is_safe, categories, severity, judgment, explanation, qualification in rows:
        label = None if is_safe is None else Label(is_safe, tuple(categories or ()), severity)
        insert_gold(cur, actor_id, item_id, project_id, label,
                    json.loads(judgment) if judgment else None, explanation or "",
                    bool(qualification), now)
    return len(rows)
