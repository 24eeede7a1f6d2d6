"""Import file formats: detection, the fields a file can map to, and byte-level checks.

The reading itself is DuckDB's (store/imports.py); these rules need no database.
"""
from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

FORMATS = ("csv", "jsonl", "json", "parquet")

# Fields an import can fill, and what each means.
FIELDS: dict[str, str] = {
    "id": "your id for the item; re-importing the same id adds nothing",
    "prompt": "the prompt text",
    "response": "the model (or human) response to judge",
    "response_a": "first response of a comparison pair",
    "response_b": "second response of a comparison pair",
    "messages": "a chat transcript: a list of {role, content} messages",
    "hint_category": "a hazard category hint shown before the text",
    "hint_severity": "a severity hint (whole number) shown before the text",
}
TEXT_FIELDS = ("prompt", "response", "response_a", "response_b", "hint_category")
MAX_TEXT_BYTES = 5 * 1024 * 1024


class FormatProblem(ValueError):
    """The file cannot be imported; the message says why and where."""


def detect_format(file_name: str) -> str:
    suffix = Path(file_name).suffix.lower()
    mapping = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
               ".parquet": "parquet", ".pq": "parquet"}
    if suffix not in mapping:
        raise FormatProblem(
            f"unknown file type {suffix or '(no extension)'!r}: use .csv, .jsonl, .json or .parquet")
    return mapping[suffix]


def check_utf8(path: str | Path, chunk_size: int = 1 << 20) -> None:
    """Raise FormatProblem naming the line of the first invalid UTF-8 byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk[: exc.start].count(b"\n")
                raise FormatProblem(
                    f"the file is not valid UTF-8 (line {line}): save it as UTF-8 and retry"
                ) from None
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FormatProblem(
                f"the file is not valid UTF-8 (it ends inside a character, line {line})") from None


def csv_header(path: str | Path) -> list[str]:
    """The column names of a CSV file's first line, checked for blanks and repeats."""
    with open(path, encoding="utf-8", newline="") as handle:
        first = handle.readline()
    if first.startswith("\ufeff"):
        first = first[1:]
    row = next(csv.reader(io.StringIO(first)), [])
    if not row or not any(c.strip() for c in row):
        raise FormatProblem("the CSV file has no header line")
    names = [c.strip() for c in row]
    for n, name in enumerate(names, start=1):
        if not name:
            raise FormatProblem(f"CSV header column {n} has no name")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FormatProblem(f"CSV header repeats column(s): {', '.join(repeated)}")
    return names


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`["prompt=question", ...]` from the command line into {field: column}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep:
            raise FormatProblem(f"--map takes column=field, got {pair!r}")
        # Accept both column=field and field=column, whichever side names a known field.
        column, field = column.strip(), field.strip()
        if column in FIELDS and field not in FIELDS:
            column, field = field, column
        if field not in FIELDS:
            raise FormatProblem(f"unknown field {field!r}: use one of {', '.join(FIELDS)}")
        mapping[field] = column
    return mapping
