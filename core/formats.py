"""Import file formats: detection, the fields a file can map to, and byte-level checks.

The reading itself is DuckDB's (store/imports.py); these rules need no database.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
# Limits that hold before DuckDB reads a file, so a small file cannot make it read a huge one.
# A row (a JSON object, a CSV line, a Parquet row once decoded) holds every field of one item:
# room for a few fields at the text limit, JSON escapes and metadata.
MAX_ROW_BYTES = 16 * 1024 * 1024
# Real item files have tens of columns; 40,000 took DuckDB 66 s just to preview.
MAX_COLUMNS = 1000
MAX_CSV_HEADER_BYTES = 1024 * 1024
# A Parquet footer is read whole before any row; real ones are kilobytes.
MAX_PARQUET_FOOTER_BYTES = 8 * 1024 * 1024
# DuckDB works out a JSON file's columns from its first 20,480 records, at a cost that grows
# with the number of different keys times records (200 lines of 40,000 keys: 71 s), and
# reads an object of more than 200 keys as a map, which the import cannot use. Counting the
# keys (nested ones by their path) in Python first takes a fraction of a second.
MAX_JSON_KEYS = 200
JSON_SAMPLE_RECORDS = 20480


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


def size_text(n: int) -> str:
    """A byte count for a message: '40 KB', '1.5 GB'."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 100 else f"{value:,.0f} {unit}"
    return f"{n} bytes"


def check_file_size(size: int, limit: int) -> None:
    """Refuse a file larger than the import limit before anything reads it."""
    if size > limit:
        raise FormatProblem(f"the file is {size_text(size)}; an import may be at most "
                            f"{size_text(limit)} (SAFELABEL_IMPORT_MAX_MB)")


def check_row_count(rows: int, limit: int) -> None:
    if rows > limit:
        raise FormatProblem(f"the file has {rows:,} rows; an import may have at most {limit:,} "
                            "(SAFELABEL_IMPORT_MAX_ROWS): split it into several files")


def check_column_count(columns: int) -> None:
    if columns > MAX_COLUMNS:
        raise FormatProblem(f"the file has {columns:,} columns; an import may have at most "
                            f"{MAX_COLUMNS:,}: keep the columns you need")


def check_row_size(row: int, size: int, what: str = "row") -> None:
    """One row (an item with all its fields) must fit in MAX_ROW_BYTES."""
    if size > MAX_ROW_BYTES:
        raise FormatProblem(f"{what} {row} holds {size_text(size)}; a row may hold at most "
                            f"{size_text(MAX_ROW_BYTES)} (and {size_text(MAX_TEXT_BYTES)} per text field)")


def first_long_line(path: str | Path, limit: int = MAX_ROW_BYTES,
                    chunk_size: int = 1 << 20) -> tuple[int, int] | None:
    """(line number, length in bytes) of the first line longer than `limit`, reading the file
    in chunks (never a whole line), or None."""
    line, length = 1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            start = 0
            while (end := chunk.find(b"\n", start)) != -1:
                length += end - start
                if length > limit:
                    return line, length
                line, length, start = line + 1, 0, end + 1
            length += len(chunk) - start
            if length > limit:
                # Keep counting to the line's end for the message, without holding it.
                while (more := handle.read(chunk_size)) and (end := more.find(b"\n")) == -1:
                    length += len(more)
                return line, length + (end if more else 0)
    return None


def check_json_keys(records: Iterable[str | bytes]) -> None:
    """Refuse JSON records that use more than MAX_JSON_KEYS different keys between them,
    counting nested objects' keys by path (`meta.source`, `messages[].role`).

    Records that do not parse are skipped: DuckDB's reader names the bad line."""
    paths: set[str] = set()
    for number, text in enumerate(records, start=1):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            continue
        stack = [("", value)]
        while stack:  # iterative: a deeply nested record cannot exhaust the Python stack
            prefix, node = stack.pop()
            if isinstance(node, dict):
                for key, child in node.items():
                    path = f"{prefix}.{key}" if prefix else str(key)
                    paths.add(path)
                    stack.append((path, child))
            elif isinstance(node, list):
                stack.extend((prefix + "[]", child) for child in node)
        if len(paths) > MAX_JSON_KEYS:
            where = "record 1 uses" if number == 1 else f"records 1 to {number:,} use"
            raise FormatProblem(
                f"{where} {len(paths):,} different keys (nested keys included); a JSON import "
                f"may use at most {MAX_JSON_KEYS}: keep the keys you need")


def jsonl_records(path: str | Path, limit: int = JSON_SAMPLE_RECORDS) -> Iterator[bytes]:
    """The first `limit` non-blank lines of a JSONL file, never reading a line whole when it
    is over MAX_ROW_BYTES (that refuses the file, naming the line)."""
    count = 0
    with open(path, "rb") as handle:
        while count < limit:
            line = handle.readline(MAX_ROW_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_ROW_BYTES:
                found = first_long_line(path)
                if found:
                    check_row_size(*found, what="line")
            if line.strip():
                count += 1
                yield line


def json_array_problem(path: str | Path, chunk_size: int = 1 << 20) -> tuple[int, str] | None:
    """(1-based record number, what is wrong) of the first record of a JSON array file that is
    not valid JSON, or None when every record parses (or the file is not an array). Reads the
    file in chunks, holding one record at a time (at most about 2 x MAX_ROW_BYTES)."""
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")
    with open(path, encoding="utf-8-sig") as handle:
        buf, pos, eof = "", 0, False

        def more() -> bool:
            nonlocal buf, pos, eof
            chunk = handle.read(chunk_size)
            eof = not chunk
            buf, pos = buf[pos:] + chunk, 0
            return bool(chunk)

        def next_char() -> str:
            nonlocal pos
            while True:
                pos = space.match(buf, pos).end()
                if pos < len(buf) or not more():
                    return buf[pos:pos + 1]

        more()
        if next_char() != "[":
            return None
        pos += 1
        if next_char() == "]":
            return None
        record = 0
        while True:
            record += 1
            if not next_char():
                return record, "the file ends before this record (it is cut off)"
            while True:
                try:
                    end = decoder.raw_decode(buf, pos)[1]
                    break
                except json.JSONDecodeError as exc:
                    # The record may go on in the next chunk; a real error stays one.
                    if not eof and len(buf) - pos <= 2 * MAX_ROW_BYTES:
                        more()
                        continue
                    if eof and (exc.msg.startswith("Unterminated") or exc.pos >= len(buf.rstrip())):
                        return record, "not valid JSON: the file ends inside this record (it is cut off)"
                    return record, f"not valid JSON ({exc.msg}, character {exc.pos - pos + 1:,} of the record)"
                except RecursionError:
                    return record, "not valid JSON (nested too deeply)"
            pos = end
            after = next_char()
            if after == ",":
                pos += 1
            elif after == "]":
                return None
            else:
                return record, ("not valid JSON: the file ends after this record (it is cut off)"
                                if not after else "is not followed by a comma or the closing ]")


def check_parquet_footer(path: str | Path) -> None:
    """Refuse a Parquet file whose footer (read whole, before any row) is implausibly large."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        if handle.tell() < 12:
            raise FormatProblem("not a Parquet file (too short)")
        handle.seek(-8, 2)
        tail = handle.read(8)
    footer = int.from_bytes(tail[:4], "little")
    if tail[4:] == b"PAR1" and footer > MAX_PARQUET_FOOTER_BYTES:
        raise FormatProblem(f"the Parquet file's metadata is {size_text(footer)}; at most "
                            f"{size_text(MAX_PARQUET_FOOTER_BYTES)} is read")


def csv_header(path: str | Path) -> list[str]:
    """The column names of a CSV file's first line, checked for blanks, repeats and count.

    Reads at most MAX_CSV_HEADER_BYTES, so a file without line breaks is not read whole."""
    with open(path, encoding="utf-8", newline="") as handle:
        first = handle.readline(MAX_CSV_HEADER_BYTES)  # characters: at most 4x in bytes
        if not first.endswith(("\n", "\r")) and handle.read(1):
            raise FormatProblem(f"the CSV header line is longer than {MAX_CSV_HEADER_BYTES:,} "
                                "characters: the first line must name the columns")
    if first.startswith("\ufeff"):
        first = first[1:]
    row = next(csv.reader(io.StringIO(first)), [])
    check_column_count(len(row))
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
# "\n\nHuman: ...\n\nAssistant: ..." turns. Most pairs share everything but the last reply; in
# the real files some diverge earlier (one transcript has an extra turn, or a marker lacks the
# blank line before it) and some last replies are empty. A marker is "Human:" or "Assistant:"
# at the start of the text or of a line: a blank line before it is usual, not required.
_HH_MARKER = re.compile(r"^(Human|Assistant):[ ]?", re.MULTILINE)
HH_ROLES = {"Human": "user", "Assistant": "assistant"}
HH_MARKERS = {"user": "Human", "assistant": "Assistant"}


def is_hh_layout(kind: str, columns: Iterable[str], mapping: dict[str, str]) -> bool:
    """Whether an import into a project of `kind` splits `chosen`/`rejected` transcripts into
    the shared conversation and responses A and B: a compare project, both columns present,
    and neither the file nor the mapping names responses A and B."""
    columns = set(columns)
    return (kind == "compare" and {"chosen", "rejected"} <= columns
            and not any(mapping.get(f) for f in ("response_a", "response_b"))
            and not {"response_a", "response_b"} & columns)


def parse_hh_transcript(text: str) -> list[dict[str, str]]:
    """'\\n\\nHuman: hi\\n\\nAssistant: hello' -> [{role: user, ...}, {role: assistant, ...}].

    Text around a turn is stripped; an empty turn (a last "Assistant:" with nothing after it)
    is kept with empty content."""
    parts = _HH_MARKER.split(text or "")
    if len(parts) < 3 or parts[0].strip():
        raise FormatProblem("not a transcript of 'Human: ...' / 'Assistant: ...' turns")
    return [{"role": HH_ROLES[role], "content": content.strip()}
            for role, content in zip(parts[1::2], parts[2::2])]


def hh_text(turns: list[dict[str, str]]) -> str:
    """Turns as HH text: the first turn's content as it is, each later one after a blank line
    and its marker. A response that spans turns is stored this way ("reply\\n\\nHuman: ...
    \\n\\nAssistant: ..."), so a prompt ending with "Assistant:" plus it reads as the dialogue."""
    if not turns:
        return ""
    return turns[0]["content"] + "".join(f"\n\n{HH_MARKERS[t['role']]}: {t['content']}"
                                         for t in turns[1:])


class HHProblem(FormatProblem):
    """An HH-RLHF row that cannot be split; `column` names the transcript(s) at fault."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class HHPair:
    """One HH-RLHF row split: the conversation both transcripts share (ending with a Human
    turn) and what follows it in each, which starts with an Assistant reply and may go on
    for more turns."""
    shared: list[dict[str, str]]
    chosen: list[dict[str, str]]
    rejected: list[dict[str, str]]


def split_hh(chosen: str, rejected: str) -> HHPair:
    """Split at the longest run of turns the two transcripts share that ends with a Human turn
    (TRL's extract_prompt takes the common prefix too; ending it on the Human turn makes each
    response start with the Assistant's reply). Raise HHProblem when no split exists."""
    sides = {}
    for name, text in (("chosen", chosen), ("rejected", rejected)):
        try:
            sides[name] = parse_hh_transcript(text)
        except FormatProblem as exc:
            raise HHProblem(str(exc), name) from None
    a, b = sides["chosen"], sides["rejected"]
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    # Back off to the last Human turn of the common part, so the responses start with a reply.
    cut = common
    while cut and a[cut - 1]["role"] != "user":
        cut -= 1
    if cut == 0:
        raise HHProblem("chosen and rejected differ before their first Assistant reply "
                        "(they share no Human turn)", "chosen / rejected")
    for name, turns in sides.items():
        rest = turns[cut:]
        if not rest or rest[0]["role"] != "assistant" or rest[-1]["role"] != "assistant":
            raise HHProblem(f"the {name} transcript does not end with an Assistant reply "
                            "after the conversation both share", name)
    return HHPair(a[:cut], a[cut:], b[cut:])


def split_hh_pair(chosen: str, rejected: str) -> tuple[list[dict[str, str]], str, str]:
    """The shared conversation and the two responses (chosen, rejected) as HH text."""
    pair = split_hh(chosen, rejected)
    return pair.shared, hh_text(pair.chosen), hh_text(pair.rejected)


def source_preferred_side(prompt_turns: list[dict[str, str]], chosen: str) -> str:
    """Which side ("a" or "b") gets the source's chosen reply: a content hash, so half the
    pairs have it as A and re-imports place it the same way."""
    digest = hashlib.sha256((repr(prompt_turns) + "\x1f" + chosen).encode("utf-8")).digest()
    return "a" if digest[0] % 2 == 0 else "b"
