"""Threads: the conversation about one item between one annotator and the leads.

A thread is keyed by (item_id, annotator_id). Its messages are append-only rows of
`messages`; a message whose author is the thread's annotator is theirs (a question, a flag
note), any other author is a lead (a reply, feedback on the annotator's answer).

Who sees what: an annotator sees only threads where they are the annotator, and only about
items they were given; leads and admins see every thread (leads may work on every project,
see store/access.py). Writes check the same in the store, plus `require_worker` (active
account, project not archived), and each is one transaction with its event.

Read state is a per-person marker, `message_reads.last_read_id`, moved forward only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import duckdb

from core.limits import message_problem
from core.roles import has_role
from store.access import require_worker
from store.db import Database, PermissionDenied, StoreError, utcnow
from store.events import log_event
from store.users import require_role

QUESTION, REPLY, FEEDBACK, FLAG_NOTE = "question", "reply", "feedback", "flag_note"
PREVIEW_CHARS = 200
INBOX_LIMIT = 200


@dataclass(frozen=True)
class Message:
    id: int
    item_id: int
    project_id: int
    annotator_id: int
    author_id: int
    author_name: str
    kind: str
    body: str
    annotation_id: int | None
    created_at: datetime

    @property
    def from_annotator(self) -> bool:
        return self.author_id == self.annotator_id


@dataclass(frozen=True)
class InboxEntry:
    """One thread as a list shows it: where it is, its last message, and its state for the
    person looking (`unread`: messages by others after their read marker)."""
    item_id: int
    annotator_id: int
    project_id: int
    project_name: str
    external_id: str
    annotator_name: str
    messages: int
    unread: int
    awaiting_lead: bool          # the annotator wrote after the last lead message
    last_message_id: int
    last_author_name: str
    last_kind: str
    last_preview: str            # the last message's first PREVIEW_CHARS characters
    last_at: datetime


# -- checks ---------------------------------------------------------------------------------

def _item_project(cur: duckdb.DuckDBPyConnection, item_id: int) -> int:
    row = cur.execute("SELECT project_id FROM items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise StoreError("no such item")
    return int(row[0])


def _involved(cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int) -> bool:
    """Was the item given to this person (served, claimed, annotated, skipped, flagged), or
    do they already have a thread about it? Asked one cheap question at a time, the usual
    answer (the item's own bookkeeping) first: as one statement with EXISTS subqueries
    DuckDB scanned whole tables."""
    token = f",{int(user_id)},"
    row = cur.execute("SELECT contains(touched_by, ?) FROM items WHERE id = ?",
                      [token, item_id]).fetchone()
    if row is None:
        return False
    if row[0]:
        return True
    for table, column in (("messages", "annotator_id"), ("annotations", "user_id"),
                          ("flags", "user_id")):
        if cur.execute(f"SELECT 1 FROM {table} WHERE item_id = ? AND {column} = ? LIMIT 1",
                       [item_id, user_id]).fetchone():
            return True
    return False


def _viewer_role(cur: duckdb.DuckDBPyConnection, viewer_id: int) -> str:
    row = cur.execute("SELECT role, active FROM users WHERE id = ?", [viewer_id]).fetchone()
    if row is None or not row[1]:
        raise PermissionDenied("this account cannot read threads")
    return row[0]


def _require_view(cur: duckdb.DuckDBPyConnection, viewer_id: int, item_id: int,
                  annotator_id: int) -> bool:
    """Raise unless the viewer may read the thread; True when they read it as a lead."""
    role = _viewer_role(cur, viewer_id)
    _item_project(cur, item_id)
    if has_role(role, "lead"):
        return True
    if viewer_id == annotator_id and _involved(cur, viewer_id, item_id):
        return False
    raise PermissionDenied("this thread is between another annotator and the leads")


def _clean(body: str | None) -> str:
    body = (body or "").strip()
    problem = message_problem(body)
    if problem:
        raise StoreError(problem)
    return body


def _append(cur: duckdb.DuckDBPyConnection, item_id: int, project_id: int, annotator_id: int,
            author_id: int, kind: str, body: str, annotation_id: int | None = None) -> int:
    message_id = cur.execute(
        "INSERT INTO messages (item_id, project_id, annotator_id, author_id, kind, body,"
        " annotation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [item_id, project_id, annotator_id, author_id, kind, body, annotation_id,
         utcnow()]).fetchone()[0]
    details: dict[str, Any] = {"message_id": int(message_id), "kind": kind,
                               "annotator_id": annotator_id}
    if annotation_id is not None:
        details["annotation_id"] = annotation_id
    log_event(cur, "thread_message", author_id, project_id, item_id, details)
    # Whoever writes has read the thread up to their own message.
    _move_marker(cur, author_id, item_id, annotator_id, int(message_id))
    return int(message_id)


def _move_marker(cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int, annotator_id: int,
                 last_read_id: int) -> None:
    cur.execute(
        "INSERT INTO message_reads VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, item_id, annotator_id) DO UPDATE SET"
        " last_read_id = greatest(message_reads.last_read_id, excluded.last_read_id),"
        " read_at = excluded.read_at",
        [user_id, item_id, annotator_id, last_read_id, utcnow()])


def _lead_posts(db: Database, cur: duckdb.DuckDBPyConnection, lead_id: int, item_id: int,
                annotator_id: int) -> int:
    """The checks before a lead writes in an annotator's thread; returns the project id."""
    require_role(cur, lead_id, "lead")
    project_id = _item_project(cur, item_id)
    require_worker(db, cur, lead_id, project_id)
    if annotator_id == lead_id:
        raise StoreError("this is your own thread: another lead answers it")
    if not _involved(cur, annotator_id, item_id):
        raise StoreError("that person has not worked on this item")
    return project_id


# -- writes ---------------------------------------------------------------------------------

def post_question(db: Database, user_id: int, item_id: int, body: str) -> int:
    """The annotator writes to the leads in their own thread about an item they were given
    (a question, or a follow-up). Returns the message id."""
    body = _clean(body)

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        require_role(cur, user_id, "annotator")
        project_id = _item_project(cur, item_id)
        require_worker(db, cur, user_id, project_id)
        if not _involved(cur, user_id, item_id):
            raise PermissionDenied("you can ask only about items you were given")
        return _append(cur, item_id, project_id, user_id, user_id, QUESTION, body)

    return db.write(work)


def post_reply(db: Database, lead_id: int, item_id: int, annotator_id: int, body: str) -> int:
    """A lead writes in the annotator's thread about the item. Returns the message id."""
    body = _clean(body)

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        project_id = _lead_posts(db, cur, lead_id, item_id, annotator_id)
        return _append(cur, item_id, project_id, annotator_id, lead_id, REPLY, body)

    return db.write(work)


def post_feedback(db: Database, lead_id: int, annotation_id: int, body: str) -> int:
    """A lead's feedback on one answer (an annotation version), in the thread of that
    answer's author. Returns the message id."""
    body = _clean(body)

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        row = cur.execute("SELECT item_id, user_id FROM annotations WHERE id = ?",
                          [annotation_id]).fetchone()
        if row is None:
            require_role(cur, lead_id, "lead")
            raise StoreError("no such answer")
        item_id, annotator_id = int(row[0]), int(row[1])
        project_id = _lead_posts(db, cur, lead_id, item_id, annotator_id)
        return _append(cur, item_id, project_id, annotator_id, lead_id, FEEDBACK, body,
                       annotation_id)

    return db.write(work)


def mark_read(db: Database, user_id: int, item_id: int, annotator_id: int) -> int:
    """Everything now in the thread counts as read by this person. Returns their previous
    marker (0 if none), so a caller can highlight what was new. Writes (with an event) only
    when the marker moves."""
    with db.read() as cur:
        _require_view(cur, user_id, item_id, annotator_id)
        last, previous = cur.execute(
            "SELECT (SELECT max(id) FROM messages WHERE annotator_id = ? AND item_id = ?),"
            " (SELECT last_read_id FROM message_reads WHERE user_id = ? AND item_id = ?"
            "  AND annotator_id = ?)",
            [annotator_id, item_id, user_id, item_id, annotator_id]).fetchone()
    previous = int(previous or 0)
    if last is None or int(last) <= previous:
        return previous

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        _move_marker(cur, user_id, item_id, annotator_id, int(last))
        log_event(cur, "thread_read", user_id, None, item_id,
                  {"annotator_id": annotator_id, "last_read_id": int(last)})

    db.write(work)
    return previous


# -- reads ----------------------------------------------------------------------------------

def thread(db: Database, viewer_id: int, item_id: int, annotator_id: int) -> list[Message]:
    """The thread's messages, oldest first. PermissionDenied (a StoreError) when the viewer
    is neither a lead nor that annotator (about an item they were given)."""
    with db.read() as cur:
        _require_view(cur, viewer_id, item_id, annotator_id)
        rows = cur.execute(
            "SELECT m.id, m.item_id, m.project_id, m.annotator_id, m.author_id,"
            " coalesce(u.name, '(unknown)'), m.kind, m.body, m.annotation_id, m.created_at"
            " FROM messages m LEFT JOIN users u ON u.id = m.author_id"
            " WHERE m.annotator_id = ? AND m.item_id = ? ORDER BY m.id",
            [annotator_id, item_id]).fetchall()
    return [Message(*row) for row in rows]


# Threads with their state for one viewer, in one pass over `messages` (the last message's
# fields by arg_max, no self-join). `$lead` widens the scan from the viewer's own threads to
# every thread; the filter keeps, for a lead, threads they took part in and open questions
# (the annotator wrote after the last lead message) of projects still open.
_THREADS = """
WITH t AS (
    SELECT m.item_id, m.annotator_id, any_value(m.project_id) AS project_id,
           max(m.id) AS last_id, count(*) AS messages,
           count(*) FILTER (WHERE m.author_id <> $viewer
                            AND m.id > coalesce(r.last_read_id, 0)) AS unread,
           coalesce(max(m.id) FILTER (WHERE m.author_id = m.annotator_id), 0) AS from_annotator,
           coalesce(max(m.id) FILTER (WHERE m.author_id <> m.annotator_id), 0) AS from_lead,
           bool_or(m.author_id = $viewer) AS took_part,
           arg_max(m.author_id, m.id) AS last_author, arg_max(m.kind, m.id) AS last_kind,
           arg_max(left(m.body, {preview}), m.id) AS last_preview,
           max(m.created_at) AS last_at
    FROM messages m
    LEFT JOIN message_reads r ON r.user_id = $viewer AND r.item_id = m.item_id
                             AND r.annotator_id = m.annotator_id
    WHERE ($lead OR m.annotator_id = $viewer) AND ($project IS NULL OR m.project_id = $project)
    GROUP BY m.item_id, m.annotator_id
), kept AS (
    SELECT t.*, p.name AS project_name FROM t JOIN projects p ON p.id = t.project_id
    WHERE (t.annotator_id = $viewer
           OR ($lead AND (t.took_part
                          OR (t.from_annotator > t.from_lead AND p.archived_at IS NULL))))
      {extra}
)
"""
# Items are joined only to the rows kept (at most `limit`): a join before the LIMIT would
# read the whole items table.
_ENTRIES = """
, page AS (SELECT * FROM kept ORDER BY {order} LIMIT $limit)
SELECT k.item_id, k.annotator_id, k.project_id, k.project_name, i.external_id, an.name,
       k.messages, k.unread, k.from_annotator > k.from_lead, k.last_id,
       coalesce(au.name, '(unknown)'), k.last_kind, k.last_preview, k.last_at
FROM page k JOIN items i ON i.id = k.item_id
LEFT JOIN users an ON an.id = k.annotator_id LEFT JOIN users au ON au.id = k.last_author
ORDER BY {order}
"""


def _threads_sql(extra: str = "") -> str:
    return _THREADS.format(preview=PREVIEW_CHARS, extra=extra)


def _is_lead(cur: duckdb.DuckDBPyConnection, user_id: int) -> bool:
    row = cur.execute("SELECT role, active FROM users WHERE id = ?", [user_id]).fetchone()
    return bool(row and row[1] and has_role(row[0], "lead"))


def _entries(rows: list[tuple]) -> list[InboxEntry]:
    return [InboxEntry(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5] or "(unknown)",
                       int(r[6]), int(r[7]), bool(r[8]), int(r[9]), r[10], r[11], r[12], r[13])
            for r in rows]


def inbox(db: Database, user_id: int, limit: int = INBOX_LIMIT) -> list[InboxEntry]:
    """The person's threads, latest activity first. An annotator: every thread they are the
    annotator of. A lead or admin: also threads they wrote in, and open questions (the
    annotator wrote last) in every project that is not archived."""
    with db.read() as cur:
        lead = _is_lead(cur, user_id)
        sql = _threads_sql() + _ENTRIES.format(order="last_id DESC")
        rows = cur.execute(sql, {"viewer": user_id, "lead": lead, "project": None,
                                 "limit": limit}).fetchall()
    return _entries(rows)


# What the sidebar's count needs and no more (no last-message fields): it runs on every
# page load. An annotator's count is a filtered count of their own rows.
_UNREAD_ANNOTATOR = """
SELECT count(*) FROM messages m
LEFT JOIN message_reads r ON r.user_id = $viewer AND r.item_id = m.item_id
                         AND r.annotator_id = m.annotator_id
WHERE m.annotator_id = $viewer AND m.author_id <> $viewer AND m.id > coalesce(r.last_read_id, 0)
"""
_UNREAD_LEAD = """
SELECT coalesce(sum(t.unread), 0) FROM (
    SELECT any_value(m.project_id) AS project_id, any_value(m.annotator_id) AS annotator_id,
           count(*) FILTER (WHERE m.author_id <> $viewer
                            AND m.id > coalesce(r.last_read_id, 0)) AS unread,
           coalesce(max(m.id) FILTER (WHERE m.author_id = m.annotator_id), 0) AS from_annotator,
           coalesce(max(m.id) FILTER (WHERE m.author_id <> m.annotator_id), 0) AS from_lead,
           bool_or(m.author_id = $viewer) AS took_part
    FROM messages m
    LEFT JOIN message_reads r ON r.user_id = $viewer AND r.item_id = m.item_id
                             AND r.annotator_id = m.annotator_id
    GROUP BY m.item_id, m.annotator_id) t
JOIN projects p ON p.id = t.project_id
WHERE t.unread > 0 AND (t.annotator_id = $viewer OR t.took_part
                        OR (t.from_annotator > t.from_lead AND p.archived_at IS NULL))
"""


def unread_count(db: Database, user_id: int) -> int:
    """Messages by others in the person's inbox threads that they have not read (the same
    threads `inbox` lists): one query, for an annotator over their own rows only."""
    with db.read() as cur:
        sql = _UNREAD_LEAD if _is_lead(cur, user_id) else _UNREAD_ANNOTATOR
        return int(cur.execute(sql, {"viewer": user_id}).fetchone()[0])


def open_questions(db: Database, project_id: int, viewer_id: int | None = None,
                   limit: int = INBOX_LIMIT) -> list[InboxEntry]:
    """Threads of the project whose annotator wrote after the last lead message, the longest
    waiting first (the review page's "asked about" queue). `unread` counts for `viewer_id`
    (0 without one). Callers check that the viewer is a lead."""
    with db.read() as cur:
        sql = (_threads_sql("AND t.from_annotator > t.from_lead")
               + _ENTRIES.format(order="from_annotator"))
        rows = cur.execute(sql, {"viewer": viewer_id if viewer_id is not None else -1,
                                 "lead": True, "project": project_id,
                                 "limit": limit}).fetchall()
    entries = _entries(rows)
    return entries if viewer_id is not None else [replace(e, unread=0) for e in entries]


def item_threads(db: Database, item_id: int) -> list[tuple[int, str, int]]:
    """(annotator id, username, messages) of every thread on the item, for a lead's review
    (callers check the role)."""
    with db.read() as cur:
        rows = cur.execute(
            "SELECT m.annotator_id, u.username, count(*) FROM messages m"
            " JOIN users u ON u.id = m.annotator_id WHERE m.item_id = ?"
            " GROUP BY ALL ORDER BY min(m.id)", [item_id]).fetchall()
    return [(int(a), name, int(n)) for a, name, n in rows]
