"""Import file formats: detection, the fields a file can map to, and byte-level checks.

The reading itself is DuckDB's (store/imports.py); these rules need no database.
"""
from __future__ import annotations

import codecs
import hashlib
import re
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


# Anthropic HH-RLHF layout: `chosen` and `rejected` are whole transcripts of
# "\n\nHuman: ...\n\nAssistant: ..." turns that share everything but the last reply.
_HH_TURN = re.compile(r"\n\n(Human|Assistant):[ ]?")


def parse_hh_transcript(text: str) -> list[dict[str, str]]:
    """'\\n\\nHuman: hi\\n\\nAssistant: hello' -> [{role: user, ...}, {role: assistant, ...}]."""
    text = text or ""
    if not text.startswith("\n\n"):
        text = "\n\n" + text.lstrip("\n")
    parts = _HH_TURN.split(text)
    if parts[0].strip() or len(parts) < 3:
        raise FormatProblem("not a transcript of '\\n\\nHuman: ...' / '\\n\\nAssistant: ...' turns")
    return [{"role": "user" if role == "Human" else "assistant", "content": content.strip()}
            for role, content in zip(parts[1::2], parts[2::2])]


def split_hh_pair(chosen: str, rejected: str) -> tuple[list[dict[str, str]], str, str]:
    """The shared conversation and the two final assistant replies (chosen, rejected)."""
    chosen_turns = parse_hh_transcript(chosen)
    rejected_turns = parse_hh_transcript(rejected)
    for turns, name in ((chosen_turns, "chosen"), (rejected_turns, "rejected")):
        if turns[-1]["role"] != "assistant" or len(turns) < 2:
            raise FormatProblem(f"the {name} transcript does not end with an Assistant reply")
    if chosen_turns[:-1] != rejected_turns[:-1]:
        raise FormatProblem("chosen and rejected differ before their last Assistant reply")
    return chosen_turns[:-1], chosen_turns[-1]["content"], rejected_turns[-1]["content"]


def source_preferred_side(prompt_turns: list[dict[str, str]], chosen: str) -> str:
    """Which side ("a" or "b") gets the source's chosen reply: a content hash, so half the
    pairs have it as A and re-imports place it the same way."""
    digest = hashlib.sha256((repr(prompt_turns) + "\x1f" + chosen).encode("utf-8")).digest()
    return "a" if digest[0] % 2 == 0 else "b"
