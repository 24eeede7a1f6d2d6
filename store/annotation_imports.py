"""Import votes made elsewhere as annotations: all or nothing, every problem listed.

A votes file is CSV or JSONL (a vote a row: the item's external id, the annotator's name and
the project's answer fields, see core/vote_formats.py) or a Label Studio JSON export (tasks
with their annotations; our own `label_studio` export reads back as the same votes).

- Items are matched by external id within the project; an unknown id is a problem of its row.
- Annotators are matched by username; a name that is no username maps to an INACTIVE
  annotator account (an unusable password hash, a username derived from the name, the name
  kept as its display name), made once: a later import of the same name finds it again.
- A vote becomes version 1 of that person's annotation of the item, with the work queue's
  bookkeeping (done_count, open_slots, touched_by; a claim the person held is used up) as
  store/work.py keeps it, so the queue does not serve the item to them again.
- A person voting twice on one item in one file is a problem (which vote stands is unclear).
  A vote equal to the person's current answer is left alone (re-importing a file adds
  nothing); a different one is appended as a correction (a new version that supersedes it),
  so a corrected spreadsheet can be imported again and the history stays.
- Any problem refuses the whole file: nothing is written. The write is one transaction with
  its audit events (the accounts made and the import).

Votes are parsed in Python (a pilot's file is thousands of rows; core.vote_formats.MAX_VOTES
bounds it) and written set-wise, each column passed as a list and unnested by DuckDB.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from core.formats import MAX_ROW_BYTES, FormatProblem, csv_header, size_text
from core.vote_formats import (MAX_VOTES, VOTE_FORMATS, Vote, VoteProblem, detect_vote_format,
                               label_studio_votes, parse_vote, resolve_columns,
                               stored_answer_key, username_for, username_with_suffix,
                               vote_fields)
from store.db import Database, utcnow
from store.events import log_event
from store.imports import (CLI, PROBLEMS_KEPT, Controls, ImportProblem, RowProblem,
                           check_import_file, file_sha256, import_target)
from store.staging import refuses_nul, staging_cursor, temp_rows
from store.users import require_role

# The password hash of an account made for an imported annotator: not a bcrypt hash, so no
# password matches it (bcrypt refuses it as a salt), and the account is inactive besides. An
# admin who activates the person sets a password first (cli.py reset-password).
IMPORTED_ACCOUNT_HASH = "!imported-annotator:no-password"
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class VoteImportResult:
    import_id: int
    rows_read: int          # rows (CSV, JSONL) or votes (Label Studio annotations) read
    votes_added: int        # new annotations (version 1)
    votes_corrected: int    # new versions of a person's different earlier answer
    votes_unchanged: int    # equal to the person's current answer: nothing written
    accounts_created: list[str] = field(default_factory=list)   # usernames, inactive
    ignored_columns: list[str] = field(default_factory=list)
    cancelled_skipped: int = 0   # Label Studio annotations marked cancelled (skips)

    def summary(self) -> str:
        text = (f"Read {self.rows_read:,} votes: added {self.votes_added:,}, corrected "
                f"{self.votes_corrected:,}, {self.votes_unchanged:,} already present.")
        if self.accounts_created:
            text += (f" New inactive annotator accounts: {', '.join(self.accounts_created)}.")
        if self.cancelled_skipped:
            text += f" Left out {self.cancelled_skipped:,} cancelled (skipped) annotations."
        if self.ignored_columns:
            text += f" Columns not used: {', '.join(self.ignored_columns)}."
        return text


@dataclass
class _Read:
    """A file's rows as (row, line, values by column), and the rows that could not be read."""
    rows: list[tuple[int, int | None, dict[str, Any]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    cancelled: int = 0


def _too_many(count: int) -> ImportProblem:
    return ImportProblem(f"the file has more than {MAX_VOTES:,} votes; a vote import may have "
                         "at most that many: split it into several files")


def _read_csv(path: str) -> _Read:
    out = _Read(columns=csv_header(path))
    csv.field_size_limit(MAX_ROW_BYTES)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        next(reader, None)
        row = 0
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row += 1
                out.problems.append(RowProblem(row, None, f"cannot be read as CSV ({exc})", line))
                break   # the reader cannot find the next record reliably after this
            if not values:
                continue
            row += 1
            if row > MAX_VOTES:
                raise _too_many(row)
            if len(values) != len(out.columns):
                out.problems.append(RowProblem(row, None, f"has {len(values):,} values; the "
                                               f"header names {len(out.columns):,} columns", line))
                continue
            out.rows.append((row, line, dict(zip(out.columns, values))))
    return out


def _read_jsonl(path: str) -> _Read:
    out = _Read()
    seen: dict[str, None] = {}
    with open(path, "rb") as handle:
        line = row = 0
        while chunk := handle.readline(MAX_ROW_BYTES + 1):
            line += 1
            if len(chunk) > MAX_ROW_BYTES and not chunk.endswith(b"\n"):
                raise ImportProblem(f"line {line:,} is longer than {size_text(MAX_ROW_BYTES)}, "
                                    "the most one row may hold")
            if not chunk.strip():
                continue
            row += 1
            if row > MAX_VOTES:
                raise _too_many(row)
            try:
                value = json.loads(chunk)
            except (ValueError, RecursionError):
                out.problems.append(RowProblem(row, None, "not valid JSON", line))
                continue
            if not isinstance(value, dict):
                out.problems.append(RowProblem(row, None, "must be a JSON object ({...}), one "
                                               "vote per line", line))
                continue
            seen.update(dict.fromkeys(value))
            out.rows.append((row, line, value))
    out.columns = list(seen)
    return out


def _read_label_studio(db: Database, path: str, kind: str) -> _Read:
    """Each task's annotations as rows keyed by field name; a task is read one at a time
    (DuckDB hands the array's records over singly), so memory holds the votes, not the file."""
    out = _Read()
    count = 0
    # DuckDB's JSON reader: the store's own, or a scratch one beside PostgreSQL.
    with staging_cursor(db) as cur:
        try:
            result = cur.execute("SELECT json FROM read_json_objects(?, format = 'array', "
                                 f"maximum_object_size = {MAX_ROW_BYTES})", [path])
            task_number = 0
            while batch := result.fetchmany(256):
                for (text,) in batch:
                    task_number += 1
                    try:
                        try:
                            task = json.loads(text)
                        except (ValueError, RecursionError):
                            # DuckDB read the object; Python refuses what nests too deep.
                            raise VoteProblem("this task is not JSON SafeLabel can read "
                                              "(nested too deeply)") from None
                        for where, values in label_studio_votes(task, kind):
                            if values is None:      # a cancelled annotation: a skip
                                out.cancelled += 1
                                continue
                            count += 1
                            if count > MAX_VOTES:
                                raise _too_many(count)
                            values["_where"] = where
                            out.rows.append((task_number, None, values))
                    except VoteProblem as exc:
                        out.problems.append(RowProblem(task_number, None, str(exc)))
        except duckdb.Error as exc:
            text = str(exc)
            if "maximum_object_size" in text:
                raise ImportProblem(f"a task in the file is larger than "
                                    f"{size_text(MAX_ROW_BYTES)}, the most one task may hold") from None
            raise ImportProblem("a Label Studio export is a JSON array of tasks "
                                "([{\"data\": {...}, \"annotations\": [...]}, ...]); this file "
                                "cannot be read as one") from None
    return out


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _problem_message(total: int, rows: int, unit: str) -> str:
    found = "1 problem" if total == 1 else f"{total:,} problems"
    where = f"1 {unit}" if rows == 1 else f"{rows:,} {unit}s"
    return f"{found} in {where}. Nothing was imported: correct the file and import it again."


def _refuse(problems: list[RowProblem], unit: str) -> ImportProblem:
    problems = sorted(problems, key=lambda p: p.row)
    return ImportProblem(_problem_message(len(problems), len({p.row for p in problems}), unit),
                         problems[:PROBLEMS_KEPT], len(problems), len({p.row for p in problems}))


def import_annotations(db: Database, actor_id: int | None, project_id: int, path: str | Path,
                       fmt: str | None = None, mapping: dict[str, str] | None = None,
                       file_name: str | None = None,
                       controls: Controls = CLI) -> VoteImportResult:
    """Import the votes in `path` into a project as annotations (see the module's rules).
    Leads and admins only (`actor_id=None` is the server's own CLI). `fmt` is csv, jsonl or
    label_studio (default: from the file name, .json being Label Studio); `mapping` maps vote
    fields (core.vote_formats.vote_fields) to the file's columns. Raises ImportProblem listing
    every problem, having written nothing."""
    path = str(path)
    file_name = file_name or Path(path).name
    try:
        return _import(db, actor_id, project_id, path, fmt, mapping or {}, file_name)
    except (FormatProblem, VoteProblem) as exc:
        raise ImportProblem(str(exc)).about(file_name) from None
    except ImportProblem as exc:
        raise exc.about(file_name) from None


def _import(db: Database, actor_id: int | None, project_id: int, path: str, fmt: str | None,
            mapping: dict[str, str], file_name: str) -> VoteImportResult:
    fmt = fmt or detect_vote_format(file_name)
    if fmt not in VOTE_FORMATS:
        raise ImportProblem(f"unknown votes format {fmt!r}: use {', '.join(VOTE_FORMATS)}")
    with db.read() as cur:      # refuse a person without the role before reading anything
        project = import_target(cur, actor_id, project_id)
    check_import_file(path, "csv" if fmt == "csv" else "json")
    digest = file_sha256(path)

    if fmt == "label_studio":
        read = _read_label_studio(db, path, project.kind)
        columns = {name: name for name in vote_fields(project.kind)}
        unit = "task"
    else:
        read = _read_csv(path) if fmt == "csv" else _read_jsonl(path)
        if not read.rows and not read.problems:
            raise ImportProblem("the file has no votes")
        columns = resolve_columns(read.columns, project.kind, mapping)
        unit = "row"
    ignored = [c for c in read.columns if c not in columns.values()]
    problems = list(read.problems)
    votes: list[tuple[int, Vote]] = []
    first_vote: dict[tuple[str, str], int] = {}
    refuse_nul = refuses_nul(db)
    for row, line, values in read.rows:
        where = values.pop("_where", None) if fmt == "label_studio" else None
        by_field = {name: values.get(column) for name, column in columns.items()}
        unstorable = [columns[name] for name, value in by_field.items()
                      if refuse_nul and _holds_nul(value)]
        if unstorable:
            problems += [RowProblem(row, f"{where}.{column}" if where else column,
                                    "holds the NUL character (\\u0000), which the PostgreSQL "
                                    "store cannot keep in text", line) for column in unstorable]
            continue
        vote, found = parse_vote(by_field, columns, project.kind, project.taxonomy)
        for problem in found:
            column = f"{where}.{problem.column}" if where else problem.column
            problems.append(RowProblem(row, column, str(problem), line))
        if vote is None:
            continue
        if len(vote.annotator) > MAX_NAME_CHARS:
            problems.append(RowProblem(row, f"{where}.annotator" if where else columns["annotator"],
                                       f"an annotator name may be at most {MAX_NAME_CHARS} "
                                       "characters", line))
            continue
        key = (vote.external_id, vote.annotator.lower())
        if key in first_vote:
            problems.append(RowProblem(
                row, where or columns["item_id"],
                f"{vote.annotator!r} votes on item {vote.external_id!r} again ({unit} "
                f"{first_vote[key]:,} has their vote): one vote per person and item", line))
            continue
        first_vote[key] = row
        votes.append((row, vote))
    if not votes and not problems:
        raise ImportProblem("the file has no votes" + (
            f" ({read.cancelled:,} annotations are cancelled)" if read.cancelled else ""))

    def work(cur: duckdb.DuckDBPyConnection) -> VoteImportResult:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        now = utcnow()
        item_ids = _item_ids(cur, project_id, {v.external_id for _, v in votes})
        for row, vote in votes:
            if vote.external_id not in item_ids:
                problems.append(RowProblem(row, columns["item_id"] if unit == "row" else "data.external_id",
                                           f"no item with id {vote.external_id!r} in this "
                                           "project (import the items first)"))
        if problems:
            raise _refuse(problems, unit)
        accounts, created = _accounts(cur, actor_id, {v.annotator for _, v in votes})
        current = _current_answers(cur, project_id, list(set(item_ids.values())))
        new, corrections, unchanged = [], [], 0
        for _, vote in votes:
            item_id, user_id = item_ids[vote.external_id], accounts[vote.annotator]
            previous = current.get((item_id, user_id))
            if previous is None:
                new.append((item_id, user_id, vote, 1, None))
            elif previous[2] == vote.answer_key():
                unchanged += 1
            else:
                corrections.append((item_id, user_id, vote, previous[1] + 1, previous[0]))
        import_id = int(cur.execute(
            "INSERT INTO vote_imports (project_id, file_name, file_format, file_sha256,"
            " rows_read, votes_added, votes_corrected, votes_unchanged, accounts_created,"
            " user_id, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [project_id, file_name, fmt, digest, len(read.rows), len(new), len(corrections),
             unchanged, len(created), actor_id, now]).fetchone()[0])
        _insert_annotations(db, cur, project_id, import_id, new + corrections, now)
        _keep_queue_bookkeeping(cur, [(item_id, user_id) for item_id, user_id, *_ in new])
        log_event(cur, "annotations_imported", actor_id, project_id, details={
            "vote_import_id": import_id, "file": file_name, "format": fmt,
            "sha256": digest, "rows": len(read.rows), "added": len(new),
            "corrected": len(corrections), "unchanged": unchanged,
            "accounts_created": created})
        return VoteImportResult(import_id, len(read.rows), len(new), len(corrections),
                                unchanged, created, ignored, read.cancelled)

    result = db.write(work)
    if result.accounts_created:
        db.access_changed()
    return result


def _item_ids(cur: duckdb.DuckDBPyConnection, project_id: int,
              external_ids: set[str]) -> dict[str, int]:
    rows = cur.execute("SELECT external_id, id FROM items WHERE project_id = ? AND external_id IN"
                       " (SELECT unnest(?::VARCHAR[]))", [project_id, sorted(external_ids)]).fetchall()
    return {external: int(item_id) for external, item_id in rows}


def _accounts(cur: duckdb.DuckDBPyConnection, actor_id: int | None,
              names: set[str]) -> tuple[dict[str, int], list[str]]:
    """{annotator name: user id}, making inactive accounts for names no username matches;
    and the usernames made. A name matches a username (case aside), or the account an earlier
    vote import made for the same name (even once activated)."""
    wanted = {name: name.strip().lower() for name in names}
    existing = dict(cur.execute("SELECT username, id FROM users WHERE username IN"
                                " (SELECT unnest(?::VARCHAR[]))",
                                [sorted(set(wanted.values()))]).fetchall())
    # The link from a name to the account an import made for it outlives the account's
    # state: an admin may since have given it a password and activated it.
    imported = dict(cur.execute("SELECT name, user_id FROM imported_annotators WHERE name IN"
                                " (SELECT unnest(?::VARCHAR[]))",
                                [sorted(n.strip() for n in names)]).fetchall())
    accounts: dict[str, int] = {}
    created: list[str] = []
    for name in sorted(names):
        if wanted[name] in existing:
            accounts[name] = int(existing[wanted[name]])
        elif name.strip() in imported:
            accounts[name] = int(imported[name.strip()])
    # Names that differ only in case are one person (usernames are lower case).
    for name in sorted(names):
        if name in accounts:
            continue
        same = next((accounts[n] for n in accounts if n.strip().lower() == name.strip().lower()), None)
        if same is not None:
            accounts[name] = same
            continue
        base = username_for(name.strip())
        username, attempt = base, 0
        while cur.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()[0]:
            username = username_with_suffix(base, name.strip(), attempt)
            attempt += 1
        user_id = int(cur.execute(
            "INSERT INTO users (username, name, password_hash, role, active, created_at)"
            " VALUES (?, ?, ?, 'annotator', false, ?) RETURNING id",
            [username, name.strip(), IMPORTED_ACCOUNT_HASH, utcnow()]).fetchone()[0])
        cur.execute("INSERT INTO imported_annotators VALUES (?, ?, ?)",
                    [name.strip(), user_id, utcnow()])
        log_event(cur, "user_created", actor_id, details={
            "username": username, "role": "annotator", "active": False,
            "why": "an annotator named in imported votes"})
        accounts[name] = user_id
        created.append(username)
    return accounts, created


def _current_answers(cur: duckdb.DuckDBPyConnection, project_id: int,
                     item_ids: list[int]) -> dict[tuple[int, int], tuple[int, int, tuple]]:
    """{(item, user): (annotation id, version, answer key)} of the current annotations."""
    kind = cur.execute("SELECT kind FROM projects WHERE id = ?", [project_id]).fetchone()[0]
    rows = cur.execute(
        "SELECT item_id, user_id, id, version, is_safe, categories, severity, note, judgment"
        " FROM annotations WHERE project_id = ? AND item_id IN (SELECT unnest(?::BIGINT[]))"
        " QUALIFY row_number() OVER (PARTITION BY item_id, user_id ORDER BY version DESC) = 1",
        [project_id, item_ids]).fetchall()
    return {(int(i), int(u)): (int(a), int(v), stored_answer_key(kind, s, c, sev, n, j))
            for i, u, a, v, s, c, sev, n, j in rows}


def _insert_annotations(db: Database, cur: duckdb.DuckDBPyConnection, project_id: int,
                        import_id: int,
                        rows: list[tuple[int, int, Vote, int, int | None]], now: datetime) -> None:
    if not rows:
        return
    columns: dict[str, list[Any]] = {k: [] for k in (
        "item", "user", "version", "supersedes", "is_safe", "categories", "severity", "note",
        "judgment", "submitted")}
    for item_id, user_id, vote, version, supersedes in rows:
        label = vote.label
        columns["item"].append(item_id)
        columns["user"].append(user_id)
        columns["version"].append(version)
        columns["supersedes"].append(supersedes)
        columns["is_safe"].append(label.is_safe if label else None)
        columns["categories"].append(list(label.categories) if label else [])
        columns["severity"].append(label.severity if label else None)
        columns["note"].append((label.note or None) if label else None)
        columns["judgment"].append(json.dumps(vote.judgment) if vote.judgment else None)
        columns["submitted"].append(vote.submitted_at or now)
    temp_rows(db, cur, "imported_annotations", {
        "item": "BIGINT", "user": "INTEGER", "version": "INTEGER", "supersedes": "BIGINT",
        "is_safe": "BOOLEAN", "categories": "VARCHAR[]", "severity": "INTEGER",
        "note": "VARCHAR", "judgment": "JSON", "submitted": "TIMESTAMP"}, columns)
    cur.execute(
        "INSERT INTO annotations (item_id, project_id, user_id, version, supersedes, is_safe,"
        " categories, severity, note, judgment, submitted_at, vote_import_id) "
        "SELECT item, ?, \"user\", version, supersedes, is_safe, categories, severity, note,"
        " judgment, submitted, ? FROM imported_annotations", [project_id, import_id])
    cur.execute("DROP TABLE imported_annotations")


def _keep_queue_bookkeeping(cur: duckdb.DuckDBPyConnection, pairs: list[tuple[int, int]]) -> None:
    """As store/work.py does for a first version: the item is done once more; the person's
    claim on it, if any, is used up (its slot was taken at the claim), otherwise a slot
    closes; and the person is in `touched_by` (',id,' tokens), so they are not served it."""
    if not pairs:
        return
    cur.execute("CREATE OR REPLACE TEMP TABLE imported_votes AS"
                " SELECT unnest(?::BIGINT[]) AS item_id, unnest(?::INTEGER[]) AS user_id",
                [[i for i, _ in pairs], [u for _, u in pairs]])
    cur.execute(
        "UPDATE items SET done_count = items.done_count + s.n,"
        " open_slots = greatest(0, items.open_slots - s.unclaimed),"
        " touched_by = items.touched_by || s.tokens "
        "FROM (SELECT v.item_id, count(*) AS n,"
        "       count(*) FILTER (WHERE c.user_id IS NULL) AS unclaimed,"
        "       coalesce(string_agg(CASE WHEN NOT contains(i.touched_by, ',' || v.user_id || ',')"
        "         THEN v.user_id || ',' END, ''), '') AS tokens"
        "      FROM imported_votes v JOIN items i ON i.id = v.item_id"
        "      LEFT JOIN claims c ON c.item_id = v.item_id AND c.user_id = v.user_id"
        "      GROUP BY v.item_id) s "
        "WHERE items.id = s.item_id")
    cur.execute("DELETE FROM claims WHERE EXISTS (SELECT 1 FROM imported_votes v"
                " WHERE v.item_id = claims.item_id AND v.user_id = claims.user_id)")
    cur.execute("DROP TABLE imported_votes")


def vote_imports(db: Database, project_id: int) -> list[dict[str, Any]]:
    """The project's vote imports, newest first (for the Import page and the history)."""
    with db.read() as cur:
        result = cur.execute(
            "SELECT v.id, v.file_name, v.file_format, v.imported_at, u.username AS imported_by,"
            " v.rows_read, v.votes_added, v.votes_corrected, v.votes_unchanged,"
            " v.accounts_created FROM vote_imports v LEFT JOIN users u ON u.id = v.user_id"
            " WHERE v.project_id = ? ORDER BY v.id DESC", [project_id])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]

