"""Import items from CSV, JSONL/JSON and Parquet files, all or nothing.

The file is read by DuckDB into a connection-local staging table, checked there (every check
names the row and column it found wrong), then inserted in one transaction. Items are keyed by
(project, external id): the file's `id`, or a content hash where there is none, so importing
the same file twice adds nothing.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from core import config
from core.formats import (FIELDS, MAX_ROW_BYTES, MAX_TEXT_BYTES, TEXT_FIELDS, FormatProblem,
                          JSON_SAMPLE_RECORDS, check_column_count, check_file_size,
                          check_json_keys, check_parquet_footer, check_row_count, check_row_size,
                          check_utf8, csv_header, detect_format, first_long_line, jsonl_records,
                          size_text, source_preferred_side, split_hh_pair)
from core.severity_hint import hint_from_score_sql, item_text_sql, severity_score_sql
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.projects import _get as _get_project
from store.users import require_role

Progress = Callable[[float, str], None]


class ImportProblem(StoreError):
    """The file was not imported; nothing was written. The message names row and column."""


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    rows_read: int
    items_added: int
    duplicates_skipped: int


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _clean_duckdb_error(exc: Exception, path: str = "", file_name: str = "") -> str:
    text = str(exc)
    if "expected records" in text:
        return "every line must be a JSON object ({...}), one item per line"
    if path:
        text = text.replace(f'"{path}"', repr(file_name or Path(path).name))
    text = re.sub(r"^[A-Za-z ]+Error: ", "", text)
    text = text.split("\nLINE 1:")[0]
    text = text.split("\nPossible fixes:")[0]
    text = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    # DuckDB quotes the offending line, which can be megabytes long.
    return text if len(text) <= 400 else text[:400] + " …"


def _read_error(exc: duckdb.Error, path: str, fmt: str, file_name: str = "") -> ImportProblem:
    """A DuckDB error while reading the file, as a message that says which limit and where."""
    text = str(exc)
    try:
        if isinstance(exc, duckdb.OutOfMemoryException):
            return _memory_problem(fmt)
        if "maximum_object_size" in text:
            found = first_long_line(path) if fmt == "jsonl" else None
            if found:
                check_row_size(*found, what="line")
            raise FormatProblem(f"a record in the file is larger than {size_text(MAX_ROW_BYTES)}, "
                                f"the most one row may hold ({size_text(MAX_TEXT_BYTES)} per text field)")
        line = re.search(r"CSV Error on Line: (\d+)", text)
        if line and "aximum line size" in text:
            raise FormatProblem(f"line {line.group(1)} is longer than {size_text(MAX_ROW_BYTES)}, "
                                f"the most one row may hold ({size_text(MAX_TEXT_BYTES)} per text field)")
    except FormatProblem as problem:
        return ImportProblem(str(problem))
    return ImportProblem(f"could not read the file: {_clean_duckdb_error(exc, path, file_name)}")


def _memory_problem(fmt: str) -> ImportProblem:
    advice = "split it into smaller files"
    if fmt == "parquet":
        # DuckDB reads a Parquet page whole: one written by DuckDB holds a row group's column.
        advice += ", or write it with smaller pages (pyarrow's and pandas' defaults read well)"
    return ImportProblem(
        "reading the file needs more memory than the database may use "
        f"({config.memory_limit()}, SAFELABEL_MEMORY_LIMIT): a value in it is too large, "
        f"or the file is; {advice}")


def _reader_sql(path: str, fmt: str) -> tuple[str, list[Any]]:
    if fmt == "csv":
        names = csv_header(path)
        columns = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
        return (f"read_csv(?, header = true, delim = ',', quote = '\"', escape = '\"', "
                f"columns = {columns}, strict_mode = true, auto_detect = false, "
                f"max_line_size = {MAX_ROW_BYTES})", [path])
    if fmt == "jsonl":
        return ("read_json(?, format = 'newline_delimited', records = true, "
                f"maximum_object_size = {MAX_ROW_BYTES})", [path])
    if fmt == "json":
        return ("read_json(?, format = 'auto', records = true, "
                f"maximum_object_size = {MAX_ROW_BYTES})", [path])
    if fmt == "parquet":
        return "read_parquet(?)", [path]
    raise FormatProblem(f"unknown format {fmt!r}")


def read_preview(db: Database, path: str | Path, fmt: str | None = None,
                 limit: int = 5) -> tuple[list[str], list[tuple]]:
    """Column names and the first rows of a file, without importing it."""
    path = str(path)
    fmt = fmt or detect_format(path)
    _check_file(path, fmt)
    with db.read() as cur:
        _check_parquet(cur, path, fmt, first_rows=limit)
        _check_json(cur, path, fmt)
        try:
            reader, params = _reader_sql(path, fmt)
            result = cur.execute(f"SELECT * FROM {reader} LIMIT ?", [*params, limit])
            rows = result.fetchall()
            names = [d[0] for d in result.description]
            check_column_count(len(names))
        except FormatProblem as exc:
            raise ImportProblem(str(exc)) from None
        except duckdb.Error as exc:
            raise _read_error(exc, path, fmt) from None
    return names, rows


def _check_file(path: str, fmt: str) -> None:
    file = Path(path)
    if not file.is_file():
        raise ImportProblem(f"no such file: {path}")
    if file.stat().st_size == 0:
        raise ImportProblem("the file is empty")
    try:
        check_file_size(file.stat().st_size, config.import_max_bytes())
        if fmt in ("csv", "jsonl", "json"):
            check_utf8(file)
        if fmt == "csv":
            csv_header(file)  # the column count, from the first line only
        if fmt == "parquet":
            check_parquet_footer(file)
    except FormatProblem as exc:
        raise ImportProblem(str(exc)) from None


def _check_parquet(cur: duckdb.DuckDBPyConnection, path: str, fmt: str,
                   first_rows: int | None = None) -> None:
    """Refuse a Parquet file whose rows, columns or decoded text exceed the limits, reading
    its metadata and then only the sizes of its values (of the `first_rows` a preview shows,
    or of all).

    A Parquet file can decode to far more than it stores (a 1 KB file held 1 GB of text: one
    long string, dictionary-encoded, repeated), and its metadata's uncompressed size does
    not count such repeats; so the text is measured by a streaming scan, which DuckDB runs
    on the dictionary without copying the strings, inside its memory budget.
    """
    if fmt != "parquet":
        return
    try:
        rows = cur.execute("SELECT num_rows FROM parquet_file_metadata(?)", [path]).fetchone()[0]
        check_row_count(int(rows or 0), config.import_max_rows())
        columns = cur.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
        check_column_count(len(columns))
        declared = cur.execute("SELECT coalesce(sum(total_uncompressed_size), 0) "
                               "FROM parquet_metadata(?)", [path]).fetchone()[0]
        limit = config.import_max_bytes()
        if declared > limit:
            raise FormatProblem(f"the Parquet file holds {size_text(declared)} once decompressed; "
                                f"an import may be at most {size_text(limit)} (SAFELABEL_IMPORT_MAX_MB)")
        sizes = [_size_sql(_quote(name), duckdb.sqltype(ctype)) for name, ctype, *_ in columns]
        sizes = [f"coalesce({size}, 0)" for size in sizes if size]
        if not sizes:
            return
        total, largest, row = cur.execute(
            "SELECT coalesce(sum(s), 0), coalesce(max(s), 0), arg_max(file_row_number, s) FROM "
            f"(SELECT file_row_number, {' + '.join(sizes)} AS s "
            " FROM read_parquet(?, file_row_number = true)"
            + (f" LIMIT {int(first_rows)}" if first_rows is not None else "") + ")",
            [path]).fetchone()
        if total > limit:
            raise FormatProblem(f"the Parquet file holds {size_text(total)} of text once decoded; "
                                f"an import may be at most {size_text(limit)} (SAFELABEL_IMPORT_MAX_MB)")
        check_row_size(int(row or 0) + 1, int(largest))
    except FormatProblem as exc:
        raise ImportProblem(str(exc)) from None
    except duckdb.Error as exc:
        raise _read_error(exc, path, fmt) from None


def _check_json(cur: duckdb.DuckDBPyConnection, path: str, fmt: str) -> None:
    """Refuse a JSON file whose first records use too many different keys, before DuckDB
    spends minutes working out their columns (see core.formats.MAX_JSON_KEYS)."""
    if fmt not in ("jsonl", "json"):
        return
    try:
        if fmt == "jsonl":
            check_json_keys(jsonl_records(path))
            return
        # A JSON array is not split into lines: DuckDB hands over one record at a time.
        result = cur.execute(
            "SELECT json FROM read_json_objects(?, format = 'auto', "
            f"maximum_object_size = {MAX_ROW_BYTES}) LIMIT {JSON_SAMPLE_RECORDS}", [path])

        def records() -> Iterator[str]:
            number = 0
            while rows := result.fetchmany(256):
                for (text,) in rows:
                    number += 1
                    # DuckDB lets an array's record reach twice maximum_object_size.
                    if len(text) > MAX_ROW_BYTES:
                        check_row_size(number, len(text.encode("utf-8")), what="record")
                    yield text

        check_json_keys(records())
    except FormatProblem as exc:
        raise ImportProblem(str(exc)) from None
    except duckdb.Error as exc:
        raise _read_error(exc, path, fmt) from None


def _size_sql(expr: str, column_type: duckdb.sqltypes.DuckDBPyType, depth: int = 0) -> str | None:
    """SQL for the bytes of text (and binary) in a value of this type, through lists,
    structs and maps; None where the type holds none (numbers, dates: fixed width)."""
    kind = column_type.id
    if kind == "varchar":
        return f"strlen({expr})"
    if kind in ("blob", "bit"):
        return f"octet_length({expr})"
    if kind in ("list", "array"):
        var = f"v{depth}"
        inner = _size_sql(var, column_type.children[0][1], depth + 1)
        return f"list_sum(list_transform({expr}, lambda {var}: coalesce({inner}, 0)))" if inner else None
    if kind == "map":
        parts = [_size_sql(f"{part}({expr})", duckdb.list_type(child), depth)
                 for part, (_, child) in zip(("map_keys", "map_values"), column_type.children)]
        parts = [f"coalesce({p}, 0)" for p in parts if p]
        return " + ".join(parts) or None
    if kind == "struct":
        parts = [_size_sql(f"struct_extract({expr}, '{name.replace(chr(39), chr(39) * 2)}')",
                           child, depth) for name, child in column_type.children]
        parts = [f"coalesce({p}, 0)" for p in parts if p]
        return f"({' + '.join(parts)})" if parts else None
    return None


def _text_expr(column: str, column_type: str, field: str) -> str:
    col = _quote(column)
    if column_type == "VARCHAR":
        return col
    if column_type == "JSON":
        # Strings come back unquoted; objects and arrays are refused by the type check below.
        return f"json_extract_string({col}, '$')"
    if column_type.endswith("]") or column_type.startswith(("STRUCT", "MAP", "UNION")):
        raise ImportProblem(f"column {column!r} (mapped to {field}) holds {column_type} values, not text")
    return f"CAST({col} AS VARCHAR)"


def _messages_expr(column: str, column_type: str) -> str:
    col = _quote(column)
    if column_type in ("VARCHAR", "JSON"):
        return f"TRY_CAST({col} AS JSON)"
    return f"to_json({col})"


def import_file(db: Database, actor_id: int | None, project_id: int, path: str | Path,
                fmt: str | None = None, mapping: dict[str, str] | None = None,
                file_name: str | None = None, progress: Progress | None = None) -> ImportResult:
    """Import `path` into a project; raise ImportProblem (and write nothing) on any bad input.

    `mapping` maps SafeLabel fields (see core.formats.FIELDS) to the file's column names; a
    field not mapped uses a column of the same name when there is one. Columns that map to no
    field are kept per item as JSON metadata. `actor_id=None` is the server's own CLI.
    """
    path = str(path)
    file_name = file_name or Path(path).name
    report = progress or (lambda fraction, text: None)
    try:
        fmt = fmt or detect_format(file_name)
    except FormatProblem as exc:
        raise ImportProblem(str(exc)) from None
    _check_file(path, fmt)
    report(0.05, "reading the file")
    digest = _sha256(path)

    with db.read() as cur:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        project = _get_project(cur, project_id)
        if project is None:
            raise ImportProblem("no such project")
        if project.archived:
            raise ImportProblem("this project is archived (read-only): unarchive it first")
        _check_parquet(cur, path, fmt)
        _check_json(cur, path, fmt)
        try:
            reader, params = _reader_sql(path, fmt)
            cur.execute(f"CREATE TEMP TABLE raw_rows AS "
                        f"SELECT row_number() OVER () AS _row, * FROM {reader}", params)
        except FormatProblem as exc:
            raise ImportProblem(str(exc)) from None
        except duckdb.Error as exc:
            raise _read_error(exc, path, fmt, file_name) from None
        report(0.35, "checking every row")
        rows_read = cur.execute("SELECT count(*) FROM raw_rows").fetchone()[0]
        if rows_read == 0:
            raise ImportProblem("the file has a header but no rows")
        column_types = {name: ctype for name, ctype, *_ in
                        cur.execute("DESCRIBE raw_rows").fetchall() if name != "_row"}
        try:
            # Parquet's were checked from its metadata; a JSON file's show only once read.
            check_row_count(rows_read, config.import_max_rows())
            check_column_count(len(column_types))
        except FormatProblem as exc:
            raise ImportProblem(str(exc)) from None
        try:
            if _is_hh_layout(project.kind, column_types, mapping or {}):
                column_types = _split_hh_pairs(cur, column_types)
            fields = _resolve_mapping(mapping or {}, column_types, project.kind)
            _stage(cur, fields, column_types)
            _validate(cur, fields, project.kind)
        except duckdb.OutOfMemoryException:
            raise _memory_problem(fmt) from None
        report(0.6, "adding new items")

        def insert(wcur: duckdb.DuckDBPyConnection) -> ImportResult:
            import_row = wcur.execute(
                "INSERT INTO imports (project_id, file_name, file_format, file_sha256, rows_read,"
                " items_added, duplicates_skipped, user_id, imported_at)"
                " VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?) RETURNING id",
                [project_id, file_name, fmt, digest, rows_read, actor_id, utcnow()]).fetchone()
            import_id = int(import_row[0])
            overlap = wcur.execute("SELECT overlap FROM projects WHERE id = ?",
                                   [project_id]).fetchone()[0]
            # The offline severity hint, for rows whose file gave none.
            score = severity_score_sql(item_text_sql(),
                                       project.settings.get("mask_terms", []))
            added = wcur.execute(
                "INSERT INTO items (project_id, external_id, prompt, response, response_a,"
                " response_b, messages, metadata, hint_category, hint_severity, hint_source,"
                " import_id, open_slots) "
                "SELECT ?, s.external_id, s.prompt, s.response, s.response_a, s.response_b,"
                " s.messages, s.metadata, s.hint_category,"
                f" coalesce(s.hint_severity, {hint_from_score_sql('s._score')}),"
                " CASE WHEN s.hint_severity IS NULL THEN 'scorer' ELSE 'import' END, ?, ? "
                f"FROM (SELECT *, CASE WHEN hint_severity IS NULL THEN {score} END AS _score"
                "      FROM staged QUALIFY row_number() OVER"
                "      (PARTITION BY external_id ORDER BY _row) = 1) s "
                "WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.project_id = ?"
                "                  AND i.external_id = s.external_id) "
                "ORDER BY s._row",
                [project_id, import_id, overlap, project_id]).fetchone()[0]
            skipped = rows_read - added
            wcur.execute("UPDATE imports SET items_added = ?, duplicates_skipped = ? WHERE id = ?",
                         [added, skipped, import_id])
            log_event(wcur, "import", actor_id, project_id,
                      details={"file": file_name, "format": fmt, "rows": rows_read,
                               "added": added, "duplicates": skipped})
            return ImportResult(import_id, rows_read, int(added), int(skipped))

        try:
            result = db.write(insert, cursor=cur)
        except duckdb.OutOfMemoryException:
            raise _memory_problem(fmt) from None
    report(1.0, f"added {result.items_added} items")
    return result


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_hh_layout(kind: str, column_types: dict[str, str], mapping: dict[str, str]) -> bool:
    return (kind == "compare" and "chosen" in column_types and "rejected" in column_types
            and not any(mapping.get(f) for f in ("response_a", "response_b"))
            and "response_a" not in column_types and "response_b" not in column_types)


def _split_hh_pairs(cur: duckdb.DuckDBPyConnection, column_types: dict[str, str]) -> dict[str, str]:
    """Turn HH-RLHF `chosen`/`rejected` transcripts into the shared conversation plus
    responses A and B; which one the source preferred goes to metadata (never shown)."""
    rows = cur.execute("SELECT _row, CAST(chosen AS VARCHAR), CAST(rejected AS VARCHAR) "
                       "FROM raw_rows ORDER BY _row").fetchall()
    parsed = []
    for row, chosen, rejected in rows:
        if chosen is None or rejected is None:
            column = "chosen" if chosen is None else "rejected"
            raise ImportProblem(f"row {row}, column {column!r}: is empty. Nothing was imported.")
        try:
            turns, chosen_reply, rejected_reply = split_hh_pair(chosen, rejected)
        except FormatProblem as exc:
            raise ImportProblem(f"row {row}, columns 'chosen'/'rejected': {exc}. "
                                "Nothing was imported.") from None
        side = source_preferred_side(turns, chosen_reply)
        a, b = (chosen_reply, rejected_reply) if side == "a" else (rejected_reply, chosen_reply)
        parsed.append((row, json.dumps(turns, ensure_ascii=False), a, b, side))
    frame = pd.DataFrame(parsed, columns=["_row", "messages", "response_a", "response_b",
                                          "source_preferred"])
    cur.register("hh_parsed", frame)
    keep = [c for c in column_types if c not in ("chosen", "rejected", "messages")]
    cur.execute("CREATE TEMP TABLE hh_rows AS SELECT r._row, "
                + "".join(f"r.{_quote(c)}, " for c in keep)
                + "h.messages, h.response_a, h.response_b, h.source_preferred "
                  "FROM raw_rows r JOIN hh_parsed h USING (_row)")
    cur.unregister("hh_parsed")
    cur.execute("DROP TABLE raw_rows")
    cur.execute("ALTER TABLE hh_rows RENAME TO raw_rows")
    return {name: ctype for name, ctype, *_ in
            cur.execute("DESCRIBE raw_rows").fetchall() if name != "_row"}


def _resolve_mapping(mapping: dict[str, str], column_types: dict[str, str],
                     kind: str) -> dict[str, str]:
    for field, column in mapping.items():
        if field not in FIELDS:
            raise ImportProblem(f"unknown field {field!r}: use one of {', '.join(FIELDS)}")
        if column and column not in column_types:
            raise ImportProblem(f"the file has no column {column!r} (mapped to {field}); "
                                f"its columns are: {', '.join(column_types)}")
    fields = {f: c for f, c in mapping.items() if c}
    for field in FIELDS:
        if field not in fields and field in column_types and field not in mapping:
            fields[field] = field
    if "prompt" not in fields and "messages" not in fields:
        raise ImportProblem("the file needs a 'prompt' or a 'messages' column (or map one with "
                            f"--map / the mapping form); its columns are: {', '.join(column_types)}")
    if kind == "compare":
        missing = [f for f in ("response_a", "response_b") if f not in fields]
        if missing:
            raise ImportProblem(f"a compare project needs column(s) {', '.join(missing)}; "
                                f"the file has: {', '.join(column_types)}")
    return fields


def _stage(cur: duckdb.DuckDBPyConnection, fields: dict[str, str],
           column_types: dict[str, str]) -> None:
    select = ["_row"]
    for field in TEXT_FIELDS + ("id",):
        if field in fields:
            select.append(f"{_text_expr(fields[field], column_types[fields[field]], field)} AS {field}")
        else:
            select.append(f"NULL::VARCHAR AS {field}")
    if "messages" in fields:
        select.append(f"{_messages_expr(fields['messages'], column_types[fields['messages']])} AS messages")
    else:
        select.append("NULL::JSON AS messages")
    if "hint_severity" in fields:
        column = fields["hint_severity"]
        raw = _text_expr(column, column_types[column], "hint_severity")
        select.append(f"{raw} AS hint_severity_raw")
    else:
        select.append("NULL::VARCHAR AS hint_severity_raw")
    extra = [c for c in column_types if c not in fields.values()]
    if extra:
        select.append("json_object(" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', {_quote(c)}"
                                                 for c in extra) + ") AS metadata")
    else:
        select.append("NULL::JSON AS metadata")
    cur.execute(f"CREATE TEMP TABLE mapped AS SELECT {', '.join(select)} FROM raw_rows")
    # A transcript whose last turn is the assistant's supplies the response to judge.
    cur.execute(
        "CREATE TEMP TABLE staged AS SELECT _row, id, prompt,"
        " coalesce(response, CASE WHEN json_extract_string(messages, '$[#-1].role') = 'assistant'"
        "   THEN json_extract_string(messages, '$[#-1].content') END) AS response,"
        " response_a, response_b, messages, metadata, nullif(trim(hint_category), '') AS hint_category,"
        " TRY_CAST(nullif(trim(hint_severity_raw), '') AS INTEGER) AS hint_severity,"
        " hint_severity_raw,"
        " coalesce(nullif(trim(id), ''), 'sha256:' || sha256(concat_ws(chr(31), coalesce(prompt, ''),"
        "   coalesce(response, ''), coalesce(response_a, ''), coalesce(response_b, ''),"
        "   coalesce(CAST(messages AS VARCHAR), '')))) AS external_id "
        "FROM mapped")


def _first_bad(cur: duckdb.DuckDBPyConnection, condition: str) -> int | None:
    row = cur.execute(f"SELECT min(_row) FROM staged WHERE {condition}").fetchone()
    return None if row[0] is None else int(row[0])


def _validate(cur: duckdb.DuckDBPyConnection, fields: dict[str, str], kind: str) -> None:
    def fail(row: int, field: str, problem: str) -> None:
        column = fields.get(field, field)
        raise ImportProblem(f"row {row}, column {column!r}: {problem}. Nothing was imported.")

    if "messages" in fields:
        shape = ("messages IS NOT NULL AND (json_type(messages) <> 'ARRAY'"
                 " OR json_array_length(messages) = 0"
                 " OR len(list_filter(json_extract(messages, '$[*]'), lambda m:"
                 "   coalesce(json_type(m, '$.role') <> 'VARCHAR', true)"
                 "   OR coalesce(json_type(m, '$.content') <> 'VARCHAR', true))) > 0)")
        row = _first_bad(cur, shape)
        if row:
            fail(row, "messages", "expected a list of {\"role\": ..., \"content\": ...} messages")
        raw = fields["messages"]
        row = _first_bad(cur, "messages IS NULL AND _row IN (SELECT _row FROM raw_rows WHERE "
                              f"{_quote(raw)} IS NOT NULL)")
        if row:
            fail(row, "messages", "not valid JSON")
        row = _first_bad(cur, "messages IS NULL AND prompt IS NULL")
        if row:
            fail(row, "messages", "no transcript and no prompt")
    if "prompt" in fields:
        condition = "(prompt IS NULL OR trim(prompt) = '')"
        if "messages" in fields:
            condition += " AND messages IS NULL"
        row = _first_bad(cur, condition)
        if row:
            fail(row, "prompt", "is empty")
    required = ("response_a", "response_b") if kind == "compare" else ()
    for field in required:
        row = _first_bad(cur, f"{field} IS NULL OR trim({field}) = ''")
        if row:
            fail(row, field, "is empty")
    for field in TEXT_FIELDS:
        if field in fields:
            row = _first_bad(cur, f"strlen({field}) > {MAX_TEXT_BYTES}")
            if row:
                fail(row, field, f"is longer than {MAX_TEXT_BYTES // (1024 * 1024)} MB")
    row = _first_bad(cur, f"strlen(CAST(messages AS VARCHAR)) > {MAX_TEXT_BYTES}")
    if row:
        fail(row, "messages", f"is longer than {MAX_TEXT_BYTES // (1024 * 1024)} MB")
    # Columns kept as metadata are stored with the item too: the same cap, over them together.
    row = _first_bad(cur, f"strlen(CAST(metadata AS VARCHAR)) > {MAX_TEXT_BYTES}")
    if row:
        raise ImportProblem(f"row {row}: the columns kept as metadata hold more than "
                            f"{MAX_TEXT_BYTES // (1024 * 1024)} MB together. Nothing was imported.")
    if "hint_severity" in fields:
        row = _first_bad(cur, "hint_severity_raw IS NOT NULL AND trim(hint_severity_raw) <> '' AND"
                              " (hint_severity IS NULL OR hint_severity NOT BETWEEN 0 AND 9)")
        if row:
            fail(row, "hint_severity", "must be a whole number from 0 to 9")
    if "id" in fields:
        dup = cur.execute(
            "SELECT external_id, list_sort(list(_row))[1:2] FROM staged WHERE id IS NOT NULL "
            "AND trim(id) <> '' GROUP BY external_id HAVING count(*) > 1 ORDER BY min(_row) LIMIT 1"
        ).fetchone()
        if dup:
            first, second = dup[1]
            raise ImportProblem(f"rows {first} and {second} have the same id {dup[0]!r} "
                                f"(column {fields['id']!r}). Nothing was imported.")


def _rescore(cur: duckdb.DuckDBPyConnection, project_id: int, extra_terms: list[str],
             only_unscored: bool) -> int:
    score = severity_score_sql(item_text_sql(), extra_terms)
    which = ("hint_source IS NULL" if only_unscored
             else "coalesce(hint_source, 'scorer') = 'scorer'")
    return int(cur.execute(
        f"UPDATE items SET hint_severity = {hint_from_score_sql('s._score')},"
        " hint_source = 'scorer' "
        f"FROM (SELECT id, {score} AS _score FROM items WHERE project_id = ? AND {which}) s"
        " WHERE items.id = s.id", [project_id]).fetchone()[0])


def refresh_severity_hints(db: Database, actor_id: int | None, project_id: int) -> int:
    """Recompute the offline severity hint of the project's items (after the word lists or
    the project's extra terms changed). Hints that came from an imported column are kept.
    Returns how many items were rescored."""
    def work(cur: duckdb.DuckDBPyConnection) -> int:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        project = _get_project(cur, project_id)
        if project is None:
            raise StoreError("no such project")
        changed = _rescore(cur, project_id, project.settings.get("mask_terms", []), False)
        log_event(cur, "hints_refreshed", actor_id, project_id, details={"items": changed})
        return changed

    return db.write(work)


def score_unscored_items(db: Database) -> int:
    """Give a severity hint to items imported before hints existed (schema version 3): run at
    start-up, so caps, routing and the blur work on old projects too. Returns the count."""
    with db.read() as cur:
        pending = [r[0] for r in cur.execute(
            "SELECT DISTINCT project_id FROM items WHERE hint_source IS NULL").fetchall()]
    total = 0
    for project_id in pending:
        def work(cur: duckdb.DuckDBPyConnection, project_id=project_id) -> int:
            project = _get_project(cur, project_id)
            extra = project.settings.get("mask_terms", []) if project else []
            changed = _rescore(cur, project_id, extra, True)
            log_event(cur, "hints_refreshed", None, project_id,
                      details={"items": changed, "why": "scored at start-up"})
            return changed
        total += db.write(work)
    return total
