"""Import items from CSV, JSONL/JSON and Parquet files: all or nothing, or the valid rows.

The file is read by DuckDB into a connection-local staging table, checked there, then inserted
in one transaction. Every check looks at every row, so one pass lists every problem (row,
column, what is wrong). By default any problem refuses the whole file; with `skip_bad` the
valid rows go in and the others are written to a rejects file with their reasons. Items are
keyed by (project, external id): the file's `id`, or a content hash where there is none, so
importing the same file twice adds nothing.

Records DuckDB cannot parse (a JSONL line that is not JSON, a CSV record with the wrong number
of values) are found by a streaming pass in Python and replaced, in a private copy, by an empty
record: the other rows keep their numbers and are checked as usual.

Messages name the person's own file (`file_name`), 1-based row numbers (records, not lines:
a CSV header or a blank JSONL line is not a row) and the control of the surface that shows
them (`Controls`: the command line's flags, or the Import page's form).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core import config
from core.formats import (FIELDS, MAX_ROW_BYTES, MAX_TEXT_BYTES, TEXT_FIELDS, FormatProblem,
                          HHProblem, JSON_SAMPLE_RECORDS, check_column_count, check_file_size,
                          check_json_keys, check_parquet_footer, check_row_count, check_row_size,
                          check_utf8, csv_header, detect_format, first_long_line, hh_text,
                          is_hh_layout, json_array_problem, jsonl_records, size_text, source_preferred_side, split_hh)
from core.gold import GOLD_COLUMNS
from core.severity_hint import hint_from_score_sql, item_text_sql, project_score_sql
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.gold_import import GOLD_ROWS, add_gold, check_gold, stage_gold
from store.projects import Project
from store.projects import _get as _get_project
from store.staging import (UnstorableValue, refuses_nul, staging_cursor, through_duckdb,
                           write_staged)
from store.users import require_role

Progress = Callable[[float, str], None]

# An ImportProblem carries the first PROBLEMS_KEPT problems (and counts them all); its
# message lists the first PROBLEMS_SHOWN.
PROBLEMS_KEPT = 1000
PROBLEMS_SHOWN = 100
COLUMNS_JOINED = " / "


@dataclass(frozen=True)
class Controls:
    """How the surface showing a message names its controls."""
    mapping: str
    skip_bad: str


CLI = Controls(mapping="--map COLUMN=FIELD", skip_bad="--skip-bad")
PAGE = Controls(mapping="the mapping form",
                skip_bad="the option \u201cImport the valid rows and set the rest aside\u201d")


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one row: `row` is the 1-based record number; `line` the file's
    line where that differs and is known; `column` None when the whole record is unreadable,
    several names joined by COLUMNS_JOINED when the problem is between columns."""
    row: int
    column: str | None
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"row {self.row:,}"
        if self.line is not None and self.line != self.row:
            where += f" (line {self.line:,})"
        names = self.column.split(COLUMNS_JOINED) if self.column else []
        if len(names) == 1:
            where += f", column {names[0]!r}"
        elif names:
            where += ", columns " + "/".join(repr(name) for name in names)
        return f"{where}: {self.problem}"


class ImportProblem(StoreError):
    """The file was not imported; nothing was written. Either one problem with the file as a
    whole (`problems` empty), or row problems: the first PROBLEMS_KEPT of `total`, in `bad_rows`
    rows. `str()` gives the whole message (the row problems one a line, the first 100)."""

    def __init__(self, message: str, problems: Sequence[RowProblem] = (), total: int = 0,
                 bad_rows: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)
        self.total = total or len(self.problems)
        self.bad_rows = bad_rows or len({p.row for p in self.problems})
        self.file_name: str | None = None

    def about(self, file_name: str) -> ImportProblem:
        """This problem, naming the person's file (once)."""
        if self.file_name is None:
            self.file_name = file_name
        return self

    @property
    def summary(self) -> str:
        """The message without the list of row problems."""
        if self.file_name is None:
            return self.message
        return f"{self.file_name!r}: {self.message}"

    def __str__(self) -> str:
        return self.summary + ("\n" + listing(self.problems, self.total) if self.problems else "")


def listing(problems: Sequence[RowProblem], total: int, limit: int = PROBLEMS_SHOWN) -> str:
    """The first `limit` problems, one an indented line, and how many more there are."""
    lines = [f"  {p}" for p in problems[:limit]]
    if total > len(lines):
        lines.append(f"  \u2026 and {total - len(lines):,} more")
    return "\n".join(lines)


def _row_problems_message(total: int, bad_rows: int, controls: Controls) -> str:
    rows = "1 row" if bad_rows == 1 else f"{bad_rows:,} rows"
    found = "1 problem" if total == 1 else f"{total:,} problems"
    return (f"{found} in {rows}. Nothing was imported: correct the file, or use "
            f"{controls.skip_bad} to import the valid rows and set these aside.")


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    rows_read: int
    items_added: int
    duplicates_skipped: int
    rows_rejected: int = 0
    # With skip_bad: what was wrong with the rows set aside (the first PROBLEMS_KEPT).
    problems: list[RowProblem] = field(default_factory=list)
    problems_total: int = 0
    rejects_path: str | None = None


def default_rejects_path(path: str | Path) -> Path:
    """Where the command line writes the rows it set aside: beside the file,
    `items.csv` -> `items.rejects.jsonl`."""
    path = Path(path)
    return path.with_name(path.stem + ".rejects.jsonl")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _clean_duckdb_error(exc: Exception, path: str = "") -> str:
    text = str(exc)
    if "expected records" in text:
        return "every line must be a JSON object ({...}), one item per line"
    if path:
        # The path is a private copy (an upload, a repaired copy): the message names the
        # person's file already.
        text = (text.replace(f'in file "{path}"', "in the file").replace(f'"{path}"', "the file")
                .replace(path, "the file"))
    text = re.sub(r"^[A-Za-z ]+Error: ", "", text)
    text = text.split("\nLINE 1:")[0]
    text = text.split("\nPossible fixes:")[0]
    text = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    # DuckDB quotes the offending line, which can be megabytes long.
    return text if len(text) <= 400 else text[:400] + " \u2026"


def _read_error(exc: duckdb.Error, path: str, fmt: str) -> ImportProblem:
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
        if fmt == "json" and "Malformed JSON" in text:
            found = json_array_problem(path)
            if found:
                # DuckDB's own record number is one past the broken record.
                raise FormatProblem(f"row {found[0]:,}: {found[1]}. A JSON array cannot be read "
                                    "past a broken record: correct it (or save the rows as "
                                    "JSONL, where such rows can be set aside)")
        line = re.search(r"CSV Error on Line: (\d+)", text)
        if line and "aximum line size" in text:
            raise FormatProblem(f"line {line.group(1)} is longer than {size_text(MAX_ROW_BYTES)}, "
                                f"the most one row may hold ({size_text(MAX_TEXT_BYTES)} per text field)")
    except FormatProblem as problem:
        return ImportProblem(str(problem))
    return ImportProblem(f"could not read the file: {_clean_duckdb_error(exc, path)}")


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


def read_preview(db: Database, path: str | Path, fmt: str | None = None, limit: int = 5,
                 file_name: str | None = None) -> tuple[list[str], list[tuple]]:
    """Column names and the first rows of a file, without importing it. A record that cannot
    be parsed shows as an empty row (the import lists it as a problem)."""
    path = str(path)
    file_name = file_name or Path(path).name
    try:
        fmt = fmt or detect_format(file_name)
        _check_file(path, fmt)
        with tempfile.TemporaryDirectory(prefix="safelabel-preview-") as scratch, \
                staging_cursor(db, scratch) as cur:
            _check_parquet(cur, path, fmt, first_rows=limit)
            _check_json(cur, path, fmt)

            def preview(source: str) -> tuple[list[str], list[tuple]]:
                reader, params = _reader_sql(source, fmt)
                result = cur.execute(f"SELECT * FROM {reader} LIMIT ?", [*params, limit])
                rows = result.fetchall()
                names = [d[0] for d in result.description]
                check_column_count(len(names))
                return names, rows

            return _read_repairing(cur, path, fmt, scratch, preview)
    except FormatProblem as exc:
        raise ImportProblem(str(exc)).about(file_name) from None
    except ImportProblem as exc:
        raise exc.about(file_name) from None


def _read_repairing(cur: duckdb.DuckDBPyConnection, path: str, fmt: str, scratch: str,
                    operation: Callable[[str], Any]) -> Any:
    """`operation(path)`, which reads the file with DuckDB. When DuckDB cannot parse some
    records of a JSONL or CSV file, list them in the temp table `unreadable` and run
    `operation` on a copy in the private folder `scratch` where each is an empty record (so
    every other row keeps its number). Other read errors refuse the file."""
    cur.execute("CREATE OR REPLACE TEMP TABLE unreadable"
                " (_row BIGINT, line BIGINT, problem VARCHAR, text VARCHAR)")
    try:
        return operation(path)
    except duckdb.Error as exc:
        if not _repairable(exc, fmt):
            raise _read_error(exc, path, fmt) from None
        first_error = exc
    repaired = Path(scratch) / f"repaired.{fmt}"
    found = Path(scratch) / "unreadable.jsonl"
    try:
        good, bad = (_repair_jsonl if fmt == "jsonl" else _repair_csv)(path, repaired, found)
    except csv.Error:
        raise _read_error(first_error, path, fmt) from None
    if bad:
        cur.execute("INSERT INTO unreadable SELECT * FROM read_json(?, format = 'newline_delimited',"
                    " columns = {_row: 'BIGINT', line: 'BIGINT', problem: 'VARCHAR', text: 'VARCHAR'},"
                    f" maximum_object_size = {MAX_ROW_BYTES + 4096})", [str(found)])
    if not bad or not good:
        # Nothing for a copy to fix (DuckDB objects to something else), or nothing left in it.
        if bad:
            raise _problems_from(cur, "unreadable")
        raise _read_error(first_error, path, fmt)
    try:
        return operation(str(repaired))
    except duckdb.Error:
        raise _read_error(first_error, path, fmt) from None


def _repairable(exc: duckdb.Error, fmt: str) -> bool:
    text = str(exc)
    if isinstance(exc, duckdb.OutOfMemoryException) or "maximum_object_size" in text:
        return False
    if fmt == "jsonl":
        return "Malformed JSON" in text or "expected records" in text
    if fmt == "csv":
        return "CSV Error on Line" in text and "aximum line size" not in text
    return False


def _unreadable_line(handle: Any, row: int, line: int, problem: str, text: str | None) -> None:
    entry = json.dumps({"_row": row, "line": line, "problem": problem, "text": text},
                       ensure_ascii=False)
    if len(entry) > MAX_ROW_BYTES:  # escapes can make a long line longer than DuckDB reads
        entry = json.dumps({"_row": row, "line": line, "problem": problem, "text": None})
    handle.write(entry + "\n")


def _repair_jsonl(path: str, repaired: Path, found: Path) -> tuple[int, int]:
    """Copy a JSONL file line by line, each line that is not a JSON object replaced by `{}`
    (blank lines kept: DuckDB skips them, so row numbers stay the same). Returns the numbers
    of good and bad records; the bad ones go to `found`."""
    good = bad = row = line = 0
    with open(path, "rb") as source, open(repaired, "wb") as out, \
            open(found, "w", encoding="utf-8") as found_list:
        while chunk := source.readline(MAX_ROW_BYTES + 1):
            line += 1
            if not chunk.endswith(b"\n") and len(chunk) > MAX_ROW_BYTES:
                while (more := source.readline(MAX_ROW_BYTES)) and not more.endswith(b"\n"):
                    pass
                row += 1
                bad += 1
                _unreadable_line(found_list, row, line, f"is longer than {size_text(MAX_ROW_BYTES)}",
                                 None)
                out.write(b"{}\n")
                continue
            if not chunk.strip():
                out.write(b"\n")
                continue
            row += 1
            try:
                value = json.loads(chunk)
                problem = (None if isinstance(value, dict)
                           else "must be a JSON object ({...}), one item per line")
            except (ValueError, RecursionError) as exc:
                problem = _json_problem(exc, chunk)
            if problem is None:
                good += 1
                out.write(chunk if chunk.endswith(b"\n") else chunk + b"\n")
            else:
                bad += 1
                _unreadable_line(found_list, row, line, problem, chunk.decode("utf-8").rstrip("\r\n"))
                out.write(b"{}\n")
    return good, bad


def _json_problem(exc: Exception, chunk: bytes) -> str:
    if not chunk.endswith(b"\n"):
        return "not valid JSON: the file ends inside this record (it is cut off)"
    if isinstance(exc, json.JSONDecodeError):
        if exc.pos >= len(chunk.rstrip()):
            return "not valid JSON: the record ends before it is complete"
        return f"not valid JSON ({exc.msg}, character {exc.pos + 1:,})"
    return "not valid JSON (nested too deeply)"


class _LineTracker:
    """Lines of a text file for csv.reader, remembering those of the current record (up to
    MAX_ROW_BYTES characters) and counting them."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.kept: list[str] = []
        self.size = 0
        self.lines = 0

    def __iter__(self) -> _LineTracker:
        return self

    def __next__(self) -> str:
        text = self.handle.readline()
        if not text:
            raise StopIteration
        self.lines += 1
        if self.size < MAX_ROW_BYTES:
            self.kept.append(text)
            self.size += len(text)
        return text

    def take(self) -> str:
        text = "".join(self.kept)
        self.kept, self.size = [], 0
        return text[:MAX_ROW_BYTES].rstrip("\r\n")


def _repair_csv(path: str, repaired: Path, found: Path) -> tuple[int, int]:
    """Copy a CSV file record by record, each record Python's csv module cannot read or that
    has the wrong number of values replaced by an empty one. Returns the numbers of good and
    bad records; the bad ones go to `found`."""
    names = csv_header(path)
    csv.field_size_limit(MAX_ROW_BYTES)
    good = bad = row = 0
    empty = [""] * len(names)
    with open(path, encoding="utf-8-sig", newline="") as source, \
            open(repaired, "w", encoding="utf-8", newline="") as out, \
            open(found, "w", encoding="utf-8") as found_list:
        lines = _LineTracker(source)
        reader = csv.reader(lines, strict=True)
        writer = csv.writer(out, lineterminator="\n")
        next(reader, None)
        lines.take()
        writer.writerow(names)
        while True:
            start = lines.lines + 1
            try:
                values = next(reader)
                problem = None
            except StopIteration:
                break
            except csv.Error as exc:
                values, problem = None, _csv_problem(str(exc))
            text = lines.take()
            if values == []:
                continue  # a blank line: not a record, for DuckDB either
            row += 1
            if problem is None and len(values) != len(names):
                problem = (f"has {len(values):,} values; the header names {len(names):,} columns")
            if problem is None:
                good += 1
                writer.writerow(values)
            else:
                bad += 1
                _unreadable_line(found_list, row, start, problem, text)
                writer.writerow(empty)
    return good, bad


def _csv_problem(message: str) -> str:
    if "unexpected end of data" in message or "EOF" in message:
        return "a quoted value is not closed (unterminated quote) before the end of the file"
    return f"cannot be read as CSV ({message})"


def import_target(cur: duckdb.DuckDBPyConnection, actor_id: int | None, project_id: int) -> Project:
    """The project an import (of items or of votes) writes into: the person must be a lead
    (None: the command line), the project must exist and be open."""
    if actor_id is not None:
        require_role(cur, actor_id, "lead")
    project = _get_project(cur, project_id)
    if project is None:
        raise ImportProblem("no such project")
    if project.archived:
        raise ImportProblem("this project is archived (read-only): unarchive it first")
    return project


def check_import_file(path: str | Path, fmt: str) -> None:
    """Refuse a file before reading it: missing, empty, over the size limit, not UTF-8 (text
    formats), a bad CSV header, an implausible Parquet footer. Shared with the vote import."""
    _check_file(str(path), fmt)


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256, read in chunks (recorded per import)."""
    return _sha256(str(path))


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
                file_name: str | None = None, progress: Progress | None = None, *,
                skip_bad: bool = False, rejects_path: str | Path | None = None,
                controls: Controls = CLI) -> ImportResult:
    """Import `path` into a project. The one import path of the Import page and the command
    line: both pass only the choices the person made, and get the same defaults.

    `mapping` maps SafeLabel fields (see core.formats.FIELDS) to the file's column names; a
    field not in it uses a column of the same name when there is one (a field mapped to ""
    uses none). Columns that map to no field are kept per item as JSON metadata. In a compare
    project, `chosen`/`rejected` transcripts (Anthropic HH-RLHF) are split into the shared
    conversation and responses A and B (see core.formats.split_hh).

    Every row is checked. Any problem raises ImportProblem listing them all, and nothing is
    written; unless `skip_bad`, when the valid rows are imported and the others written to
    `rejects_path` (default: beside the file, see default_rejects_path), one JSON line each
    with the row number, its problems and the original record. `file_name` is the person's
    name for the file (an upload's temporary copy has another), used in every message;
    `controls` names the controls of the surface that shows them. `actor_id=None` is the
    server's own CLI.
    """
    path = str(path)
    file_name = file_name or Path(path).name
    try:
        # A private folder (mode 0700) for copies and lists made on the way; gone afterwards,
        # also after an error.
        with tempfile.TemporaryDirectory(prefix="safelabel-import-") as scratch:
            return _import(db, actor_id, project_id, path, fmt, mapping or {}, file_name,
                           progress or (lambda fraction, text: None), skip_bad,
                           rejects_path, controls, scratch)
    except FormatProblem as exc:
        raise ImportProblem(str(exc)).about(file_name) from None
    except ImportProblem as exc:
        raise exc.about(file_name) from None


def _import(db: Database, actor_id: int | None, project_id: int, path: str, fmt: str | None,
            mapping: dict[str, str], file_name: str, report: Progress, skip_bad: bool,
            rejects_path: str | Path | None, controls: Controls, scratch: str) -> ImportResult:
    fmt = fmt or detect_format(file_name)
    _check_file(path, fmt)
    report(0.05, "reading the file")
    digest = _sha256(path)

    with db.read() as cur:
        project = import_target(cur, actor_id, project_id)
    # The file is read and checked in DuckDB: the store's own, or a scratch one beside a
    # PostgreSQL store (store/staging.py); only the write below runs on the store.
    with staging_cursor(db, scratch) as cur:
        _check_parquet(cur, path, fmt)
        _check_json(cur, path, fmt)

        def read(source: str) -> None:
            reader, params = _reader_sql(source, fmt)
            cur.execute("CREATE OR REPLACE TEMP TABLE raw_rows AS "
                        f"SELECT row_number() OVER () AS _row, * FROM {reader}", params)

        _read_repairing(cur, path, fmt, scratch, read)
        report(0.35, "checking every row")
        rows_read = cur.execute("SELECT count(*) FROM raw_rows").fetchone()[0]
        if rows_read == 0:
            raise ImportProblem("the file has a header but no rows")
        column_types = {name: ctype for name, ctype, *_ in
                        cur.execute("DESCRIBE raw_rows").fetchall() if name != "_row"}
        raw_columns = list(column_types)
        # Parquet's were checked from its metadata; a JSON file's show only once read.
        check_row_count(rows_read, config.import_max_rows())
        check_column_count(len(column_types))
        cur.execute("CREATE TEMP TABLE problems (_row BIGINT, line BIGINT, col VARCHAR,"
                    " problem VARCHAR)")
        cur.execute("INSERT INTO problems SELECT _row, line, NULL, problem FROM unreadable")
        try:
            hh = is_hh_layout(project.kind, column_types, mapping)
            if hh:
                column_types = _split_hh_pairs(cur, column_types, scratch)
            else:
                cur.execute("CREATE TEMP VIEW input_rows AS SELECT * FROM raw_rows")
            fields = _resolve_mapping(mapping, column_types, project.kind, controls)
            _stage(cur, fields, column_types, hh)
            _validate(cur, fields, project.kind, hh, refuses_nul(db))
            has_gold = stage_gold(cur, column_types)
            if has_gold:
                check_gold(cur, project.kind, project.taxonomy)
            total, bad_rows = cur.execute(
                "SELECT count(*), count(DISTINCT _row) FROM problems").fetchone()
        except duckdb.OutOfMemoryException:
            raise _memory_problem(fmt) from None
        listed = _listed_problems(cur) if total else []
        if total and not skip_bad:
            raise ImportProblem(_row_problems_message(total, bad_rows, controls), listed,
                                total, bad_rows)
        if total and bad_rows == rows_read:
            raise ImportProblem(f"{_count(total, 'problem')}: no row can be imported. "
                                "Nothing was imported.", listed, total, bad_rows)
        written = None
        if total:
            target = Path(rejects_path) if rejects_path else default_rejects_path(path)
            report(0.5, "writing the rows set aside")
            _write_rejects(cur, target, raw_columns)
            written = str(target)
        report(0.6, "adding new items")
        _prepare_new_rows(cur, project.settings)

        def insert(wcur: duckdb.DuckDBPyConnection) -> ImportResult:
            # Again inside the write: another process may have archived the project, or
            # taken the person's role, while the file was read.
            import_target(wcur, actor_id, project_id)
            import_row = wcur.execute(
                "INSERT INTO imports (project_id, file_name, file_format, file_sha256, rows_read,"
                " items_added, duplicates_skipped, rows_rejected, user_id, imported_at)"
                " VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?) RETURNING id",
                [project_id, file_name, fmt, digest, rows_read, bad_rows, actor_id,
                 utcnow()]).fetchone()
            import_id = int(import_row[0])
            overlap = wcur.execute("SELECT overlap FROM projects WHERE id = ?",
                                   [project_id]).fetchone()[0]
            added = wcur.execute(
                "INSERT INTO items (project_id, external_id, prompt, response, response_a,"
                " response_b, messages, metadata, hint_category, hint_severity, hint_source,"
                " import_id, open_slots) "
                "SELECT ?, s.external_id, s.prompt, s.response, s.response_a, s.response_b,"
                " s.messages, s.metadata, s.hint_category, s.hint_severity, s.hint_source, ?, ? "
                "FROM new_rows s "
                "WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.project_id = ?"
                "                  AND i.external_id = s.external_id) "
                "ORDER BY s._row",
                [project_id, import_id, overlap, project_id]).fetchone()[0]
            skipped = rows_read - bad_rows - added
            gold = add_gold(wcur, actor_id, project_id, import_id) if has_gold else 0
            wcur.execute("UPDATE imports SET items_added = ?, duplicates_skipped = ? WHERE id = ?",
                         [added, skipped, import_id])
            log_event(wcur, "import", actor_id, project_id,
                      details={"file": file_name, "format": fmt, "rows": rows_read,
                               "added": added, "duplicates": skipped, "rejected": bad_rows,
                               **({"gold": gold} if gold else {})})
            return ImportResult(import_id, rows_read, int(added), int(skipped), int(bad_rows),
                                listed, int(total), written)

        try:
            result = write_staged(db, cur, insert,
                                  ["new_rows", *([GOLD_ROWS] if has_gold else [])])
        except BaseException as exc:
            if written:
                Path(written).unlink(missing_ok=True)  # nothing imported: no rows set aside
            if isinstance(exc, duckdb.OutOfMemoryException):
                raise _memory_problem(fmt) from None
            if isinstance(exc, UnstorableValue):
                raise ImportProblem(f"{exc}. Nothing was imported.") from None
            raise
        if has_gold:
            db.access_changed()      # the queue caches each project's gold items
    report(1.0, f"added {result.items_added} items")
    return result


def _prepare_new_rows(cur: duckdb.DuckDBPyConnection, settings: dict) -> None:
    """The view `new_rows`: the rows to add (no problems, the first of each external id in
    the file), each with its severity hint: the file's, or else the offline score's."""
    score = project_score_sql(settings)
    cur.execute(
        "CREATE TEMP VIEW new_rows AS SELECT _row, external_id, prompt, response, response_a,"
        " response_b, messages, metadata, hint_category,"
        f" coalesce(hint_severity, {hint_from_score_sql('_score')}) AS hint_severity,"
        " CASE WHEN hint_severity IS NULL THEN 'scorer' ELSE 'import' END AS hint_source "
        f"FROM (SELECT *, CASE WHEN hint_severity IS NULL THEN {score} END AS _score"
        "      FROM staged WHERE _row NOT IN (SELECT _row FROM problems)"
        "      QUALIFY row_number() OVER (PARTITION BY external_id ORDER BY _row) = 1)")


def _count(n: int, what: str) -> str:
    return f"1 {what}" if n == 1 else f"{n:,} {what}s"


def _listed_problems(cur: duckdb.DuckDBPyConnection) -> list[RowProblem]:
    rows = cur.execute("SELECT _row, col, problem, line FROM problems ORDER BY _row, rowid "
                       "LIMIT ?", [PROBLEMS_KEPT]).fetchall()
    return [RowProblem(int(row), col, problem, None if line is None else int(line))
            for row, col, problem, line in rows]


def _problems_from(cur: duckdb.DuckDBPyConnection, table: str) -> ImportProblem:
    """Every row of the file is unreadable: the problems of `table`, as a refusal."""
    column = "col" if table == "problems" else "NULL"
    total, bad = cur.execute(f"SELECT count(*), count(DISTINCT _row) FROM {table}").fetchone()
    rows = cur.execute(f"SELECT _row, {column}, problem, line FROM {table} "
                       "ORDER BY _row, rowid LIMIT ?", [PROBLEMS_KEPT]).fetchall()
    listed = [RowProblem(int(r), c, p, None if line is None else int(line))
              for r, c, p, line in rows]
    return ImportProblem(f"{_count(total, 'problem')}: no row of the file can be read. "
                         "Nothing was imported.", listed, total, bad)


def _write_rejects(cur: duckdb.DuckDBPyConnection, target: Path, columns: list[str]) -> None:
    """One JSON line per row set aside: its number, its problems, and the record as the file
    had it (or, for a record that could not be parsed, its text and line)."""
    record = "json_object(" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', r.{_quote(c)}"
                                        for c in columns) + ")"
    result = cur.execute(
        "SELECT CASE WHEN u._row IS NULL"
        f"  THEN json_object('row', p._row, 'problems', p.problems, 'record', {record})"
        "  ELSE json_object('row', p._row, 'line', u.line, 'problems', p.problems,"
        "                   'text', u.text) END "
        "FROM (SELECT _row, list({'column': col, 'problem': problem} ORDER BY rowid) AS problems"
        "      FROM problems GROUP BY _row) p "
        "JOIN raw_rows r USING (_row) LEFT JOIN unreadable u USING (_row) ORDER BY p._row")
    try:
        with open(target, "w", encoding="utf-8") as out:
            while batch := result.fetchmany(256):
                out.writelines(line + "\n" for (line,) in batch)
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise ImportProblem(f"could not write the rejects file {str(target)!r}: "
                            f"{exc.strerror or exc}") from None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _split_hh_pairs(cur: duckdb.DuckDBPyConnection, column_types: dict[str, str],
                    scratch: str) -> dict[str, str]:
    """Split HH-RLHF `chosen`/`rejected` transcripts into the shared conversation plus
    responses A and B (view `input_rows`); rows that cannot be split go to `problems`. Which
    response the source preferred, and the turns of a response that spans several, go to
    metadata (`source_preferred`, `response_turns`), never shown to annotators as such.

    The rows stream through Python a few at a time, and the results go to a file in the
    private folder that DuckDB then reads: memory holds a batch, not the file."""
    chosen = _text_expr("chosen", column_types["chosen"], "chosen")
    rejected = _text_expr("rejected", column_types["rejected"], "rejected")
    split_path = Path(scratch) / "hh_split.jsonl"
    problem_path = Path(scratch) / "hh_problems.jsonl"
    result = cur.execute(f"SELECT _row, {chosen}, {rejected} FROM raw_rows "
                         "WHERE _row NOT IN (SELECT _row FROM unreadable)")
    bad = 0
    with open(split_path, "w", encoding="utf-8") as out, \
            open(problem_path, "w", encoding="utf-8") as problems:
        while batch := result.fetchmany(64):
            for row, chosen_text, rejected_text in batch:
                missing = [name for name, text in (("chosen", chosen_text),
                                                   ("rejected", rejected_text))
                           if text is None or not text.strip()]
                try:
                    if missing:
                        raise HHProblem("is empty", COLUMNS_JOINED.join(missing))
                    pair = split_hh(chosen_text, rejected_text)
                except HHProblem as exc:
                    bad += 1
                    problems.write(json.dumps({"_row": row, "col": exc.column,
                                               "problem": str(exc)}) + "\n")
                    continue
                side = source_preferred_side(pair.shared, hh_text(pair.chosen))
                a, b = (pair.chosen, pair.rejected) if side == "a" else (pair.rejected, pair.chosen)
                meta: dict[str, Any] = {"source_preferred": side}
                turns = {name: t for name, t in (("a", a), ("b", b)) if len(t) > 1}
                if turns:
                    meta["response_turns"] = turns
                out.write(json.dumps({"_row": row, "messages": pair.shared,
                                      "response_a": hh_text(a), "response_b": hh_text(b),
                                      "hh_meta": meta}, ensure_ascii=False) + "\n")
    cur.execute(
        "CREATE TEMP TABLE hh_split AS SELECT * FROM read_json(?, format = 'newline_delimited',"
        " columns = {_row: 'BIGINT', messages: 'JSON', response_a: 'VARCHAR',"
        " response_b: 'VARCHAR', hh_meta: 'JSON'},"
        f" maximum_object_size = {2 * MAX_ROW_BYTES})", [str(split_path)])
    if bad:
        cur.execute("INSERT INTO problems SELECT _row, NULL, col, problem FROM read_json(?,"
                    " format = 'newline_delimited',"
                    " columns = {_row: 'BIGINT', col: 'VARCHAR', problem: 'VARCHAR'})",
                    [str(problem_path)])
    keep = [c for c in column_types if c not in ("chosen", "rejected", "messages")]
    cur.execute("CREATE TEMP VIEW input_rows AS SELECT r._row, "
                + "".join(f"r.{_quote(c)}, " for c in keep)
                + "h.messages, h.response_a, h.response_b, h.hh_meta "
                  "FROM raw_rows r LEFT JOIN hh_split h USING (_row)")
    return {name: ctype for name, ctype, *_ in cur.execute("DESCRIBE input_rows").fetchall()
            if name not in ("_row", "hh_meta")}


def _resolve_mapping(mapping: dict[str, str], column_types: dict[str, str], kind: str,
                     controls: Controls = CLI) -> dict[str, str]:
    for field_name, column in mapping.items():
        if field_name not in FIELDS:
            raise ImportProblem(f"unknown field {field_name!r}: use one of {', '.join(FIELDS)}")
        if column and column not in column_types:
            raise ImportProblem(f"the file has no column {column!r} (chosen for {field_name} "
                                f"with {controls.mapping}); its columns are: "
                                f"{', '.join(column_types)}")
    fields = {f: c for f, c in mapping.items() if c}
    for field_name in FIELDS:
        if field_name not in fields and field_name in column_types and field_name not in mapping:
            fields[field_name] = field_name
    if "prompt" not in fields and "messages" not in fields:
        raise ImportProblem("the file needs a 'prompt' or a 'messages' column: choose the "
                            f"column that holds the prompt with {controls.mapping}; its "
                            f"columns are: {', '.join(column_types)}")
    if kind == "compare":
        missing = [f for f in ("response_a", "response_b") if f not in fields]
        if missing:
            raise ImportProblem(f"a compare project needs column(s) {', '.join(missing)} (or "
                                "HH-RLHF 'chosen' and 'rejected' transcripts): choose them "
                                f"with {controls.mapping}; the file has: {', '.join(column_types)}")
    return fields


def _stage(cur: duckdb.DuckDBPyConnection, fields: dict[str, str],
           column_types: dict[str, str], hh: bool = False) -> None:
    select = ["_row"]
    for field_name in TEXT_FIELDS + ("id",):
        if field_name in fields:
            column = fields[field_name]
            select.append(f"{_text_expr(column, column_types[column], field_name)} AS {field_name}")
        else:
            select.append(f"NULL::VARCHAR AS {field_name}")
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
    # Expected answers (gold_* columns) are never item metadata: annotators may see that.
    extra = [c for c in column_types if c not in fields.values() and c not in GOLD_COLUMNS]
    metadata = ("json_object(" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', {_quote(c)}"
                                           for c in extra) + ")") if extra else "NULL::JSON"
    if hh:
        # What the HH split adds: which side the source preferred, multi-turn responses.
        metadata = f"json_merge_patch(coalesce({metadata}, '{{}}'::JSON), hh_meta)"
    select.append(f"{metadata} AS metadata")
    cur.execute(f"CREATE TEMP TABLE mapped AS SELECT {', '.join(select)} FROM input_rows")
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


def _validate(cur: duckdb.DuckDBPyConnection, fields: dict[str, str], kind: str,
              hh: bool = False, refuse_nul: bool = False) -> None:
    """Add every problem of every staged row to `problems` (rows there already, unreadable
    or unsplittable, are not checked again). `refuse_nul`: the store cannot hold the NUL
    character in text (PostgreSQL, see store/staging.refuses_nul)."""
    cur.execute("CREATE TEMP TABLE checked_out AS SELECT DISTINCT _row FROM problems")

    def add(field_name: str | None, problem: str, condition: str) -> None:
        column = fields.get(field_name, field_name) if field_name else None
        cur.execute("INSERT INTO problems SELECT _row, NULL, ?, ? FROM staged "
                    f"WHERE ({condition}) AND _row NOT IN (SELECT _row FROM checked_out) "
                    "ORDER BY _row", [column, problem])

    too_long = f"is longer than {MAX_TEXT_BYTES // (1024 * 1024)} MB"
    if "messages" in fields:
        shape = ("messages IS NOT NULL AND (json_type(messages) <> 'ARRAY'"
                 " OR json_array_length(messages) = 0"
                 " OR len(list_filter(json_extract(messages, '$[*]'), lambda m:"
                 "   coalesce(json_type(m, '$.role') <> 'VARCHAR', true)"
                 "   OR coalesce(json_type(m, '$.content') <> 'VARCHAR', true))) > 0)")
        add("messages", "expected a list of {\"role\": ..., \"content\": ...} messages", shape)
        invalid = ("messages IS NULL AND _row IN (SELECT _row FROM input_rows WHERE "
                   f"{_quote(fields['messages'])} IS NOT NULL)")
        add("messages", "not valid JSON", invalid)
        add("messages", "no transcript and no prompt",
            f"messages IS NULL AND (prompt IS NULL OR trim(prompt) = '') AND NOT ({invalid})")
    elif "prompt" in fields:
        add("prompt", "is empty", "prompt IS NULL OR trim(prompt) = ''")
    if kind == "compare":
        for field_name in ("response_a", "response_b"):
            # An HH reply may be empty ("Assistant:" and nothing): a response all the same.
            add(field_name, "is empty", f"{field_name} IS NULL" if hh
                else f"{field_name} IS NULL OR trim({field_name}) = ''")
    for field_name in TEXT_FIELDS:
        if field_name in fields:
            add(field_name, too_long, f"strlen({field_name}) > {MAX_TEXT_BYTES}")
    add("messages", too_long, f"strlen(CAST(messages AS VARCHAR)) > {MAX_TEXT_BYTES}")
    if refuse_nul:
        # Inside JSON (messages, metadata) the character is written escaped: stored as is.
        for field_name in ("id", *TEXT_FIELDS):
            if field_name in fields:
                add(field_name, "holds the NUL character (\\u0000), which the PostgreSQL store "
                    "cannot keep in text", f"contains({field_name}, chr(0))")
    # Columns kept as metadata are stored with the item too: the same cap, over them together.
    add(None, f"the columns kept as metadata hold more than {MAX_TEXT_BYTES // (1024 * 1024)} "
              "MB together", f"strlen(CAST(metadata AS VARCHAR)) > {MAX_TEXT_BYTES}")
    if "hint_severity" in fields:
        add("hint_severity", "must be a whole number from 0 to 9",
            "hint_severity_raw IS NOT NULL AND trim(hint_severity_raw) <> '' AND"
            " (hint_severity IS NULL OR hint_severity NOT BETWEEN 0 AND 9)")
    if "id" in fields:
        # Among rows otherwise fine, the first of each id is the one that counts.
        cur.execute(
            "INSERT INTO problems SELECT s._row, NULL, ?, 'has the same id ' || chr(39)"
            " || CASE WHEN length(s.id) > 100 THEN left(s.id, 100) || chr(8230) ELSE s.id END"
            " || chr(39) || ' as row ' || f.first FROM staged s JOIN"
            " (SELECT external_id, min(_row) AS first FROM staged WHERE id IS NOT NULL"
            "  AND trim(id) <> '' AND _row NOT IN (SELECT _row FROM problems)"
            "  GROUP BY external_id HAVING count(*) > 1) f USING (external_id)"
            " WHERE s._row > f.first AND s._row NOT IN (SELECT _row FROM problems)"
            " ORDER BY s._row", [fields["id"]])


def _rescore(db: Database, cur: duckdb.DuckDBPyConnection, project_id: int, settings: dict,
             only_unscored: bool) -> int:
    which = ("hint_source IS NULL" if only_unscored
             else "coalesce(hint_source, 'scorer') = 'scorer'")
    # The score is DuckDB SQL (RE2): on PostgreSQL it runs in a scratch DuckDB.
    through_duckdb(db, cur, f"SELECT id, {item_text_sql()} AS text FROM items"
                   f" WHERE project_id = ? AND {which}", [project_id],
                   {"id": "BIGINT", "text": "VARCHAR"},
                   f"SELECT id, {hint_from_score_sql(project_score_sql(settings, 'text'))}"
                   " AS hint FROM source", "rescored")
    changed = int(cur.execute(
        "UPDATE items SET hint_severity = s.hint, hint_source = 'scorer' FROM rescored s"
        " WHERE items.id = s.id").fetchone()[0])
    cur.execute("DROP TABLE rescored")
    return changed


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
        changed = _rescore(db, cur, project_id, project.settings, False)
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
            changed = _rescore(db, cur, project_id, project.settings if project else {}, True)
            log_event(cur, "hints_refreshed", None, project_id,
                      details={"items": changed, "why": "scored at start-up"})
            return changed
        total += db.write(work)
    return total
