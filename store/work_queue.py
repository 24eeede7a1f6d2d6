"""One person's work queue in one project, without Streamlit: claim, submit, skip, flag,
undo, prefetch. Every call is one transaction and returns what happened (the saved id, the
items to show next, the wellbeing status they were routed by) instead of filling a dict.

    queue = WorkQueue(db, user_id, project_id, prefetch=2)
    shown = queue.claim()                      # shown.current, shown.prefetched
    done = queue.submit(shown.current.id, label=label, timing=Timing(shown_at, active_ms))
    done.annotation_id, done.current           # the next item (the prefetched one, routed again)

Prefetch: the person holds up to `prefetch` claims, the one to show first first (the
oldest `claimed_at`). A prefetched claim is an ordinary claim: it counts against
`open_slots`, lapses after the claim timeout like any other (every call renews the
expiry of the claims it returns; a lapsed one stays the holder's until someone with
nothing fresh left takes it over), and is routed again on every call, because it was
chosen before the answer ahead of it: an answer that reaches a daily cap sends a held
claim above the new ceiling back to the pool and a lighter item takes its place; an answer
that makes a light item due (a long run of severe items) puts a light item in front of a
severe prefetched one, which stays claimed and comes after it (store.work._claim_items).
`release_prefetched` gives back the claims not yet shown when the person leaves.

Undo: only the person's own last action (submit, correction or skip), within
core.queue.UNDO_WINDOW_SECONDS. A submit undone is not deleted (work is appended, never
overwritten): the item reopens for correction with that answer, and the next save is a new
version. A skip undone claims the item for the person again, first in their queue, if it
still has an open slot nobody else took and it is within their severity ceiling today.
Both record an `undo` event; a refusal changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from core import config
from core.labels import Label
from core.queue import DEFAULT_PREFETCH, UNDO_WINDOW_SECONDS
from core.wellness import hint_names_any
from store.access import require_worker
from store.db import Database, PermissionDenied, StoreError, utcnow
from store.events import log_event
from store.wellbeing import WellbeingStatus, project_policy
from store.wellness import queue_opt_outs
from store.work import (_ITEM_COLUMNS, AnnotationRecord, Item, _claim_items, _item,
                        _item_project_and_claim, _limits, _release, _release_claims,
                        _routing_status, _save, _token, flag_reason, latest_annotation,
                        skip_reason)

# The person's actions that can be undone or end an undo's chance (an undo is one too, so
# a second undo in a row finds nothing to undo).
ACTION_KINDS = ("submit", "correct", "skip", "flag", "undo")
# How far back the last action is looked for (a refusal then says "too late", not "nothing").
_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Timing:
    """When the item was shown and the active time spent with it (exposure accounting);
    `text_seen` for skips and flags: False when the text was still hidden or blurred."""
    shown_at: datetime | None = None
    active_ms: int | None = None
    text_seen: bool = True


@dataclass(frozen=True)
class ClaimResult:
    """The items claimed for the person, the one to show first first (empty: nothing left
    for them), and the wellbeing status they were routed by."""
    items: list[Item]
    status: WellbeingStatus

    @property
    def current(self) -> Item | None:
        return self.items[0] if self.items else None

    @property
    def prefetched(self) -> list[Item]:
        return self.items[1:]


@dataclass(frozen=True)
class SubmitResult(ClaimResult):
    """A saved answer (acknowledged by its item and annotation id) and what comes next."""
    item_id: int
    annotation_id: int


@dataclass(frozen=True)
class ReleaseResult(ClaimResult):
    """A skip or flag (`kind`) of `item_id` recorded, and what comes next."""
    item_id: int
    kind: str


@dataclass(frozen=True)
class UndoResult(ClaimResult):
    """An undone `kind` ("submit" or "skip") of `item`. After a submit, `annotation` is the
    answer to show pre-filled for correction (the item is not in `items`: corrections need no
    claim); after a skip the item is claimed again and is `items[0]`."""
    kind: str
    item: Item
    annotation: AnnotationRecord | None


class AlreadyRecorded(StoreError):
    """The browser sent an answer (by its client answer id) that is already recorded: a
    re-send after a dropped connection or a reload. Nothing was written; acknowledge it."""

    def __init__(self, client_id: str, kind: str, annotation_id: int | None) -> None:
        super().__init__(f"answer {client_id} is already recorded")
        self.client_id, self.kind, self.annotation_id = client_id, kind, annotation_id


def _check_client_id(cur: duckdb.DuckDBPyConnection, user_id: int, client_id: str | None) -> None:
    """AlreadyRecorded when this person's browser already sent this answer."""
    if client_id is None:
        return
    row = cur.execute("SELECT kind, annotation_id FROM client_answers"
                      " WHERE user_id = ? AND client_id = ?", [user_id, client_id]).fetchone()
    if row is not None:
        raise AlreadyRecorded(client_id, row[0], row[1])


def _note_client_id(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                    client_id: str | None, item_id: int | None, kind: str,
                    annotation_id: int | None, now: datetime) -> None:
    """Remember the browser's answer id in the caller's transaction (the one that wrote the
    answer), so that a re-send is acknowledged and never written twice."""
    if client_id is not None:
        cur.execute("INSERT INTO client_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [client_id, user_id, project_id, item_id, kind, annotation_id, now])


def record_reveal(db: Database, user_id: int, project_id: int, item_id: int,
                  details: dict[str, Any], client_id: str | None = None,
                  now: datetime | None = None) -> None:
    """A reveal event (text shown past the warning, unblurred, masked words shown), at most
    once per browser event id; AlreadyRecorded for a re-send."""
    now = now or utcnow()

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        _check_client_id(cur, user_id, client_id)
        require_worker(db, cur, user_id, project_id)
        row = cur.execute("SELECT project_id FROM items WHERE id = ?", [item_id]).fetchone()
        if row is None or int(row[0]) != int(project_id):
            raise StoreError("That item is not in this project.")
        log_event(cur, "reveal", user_id, project_id, item_id, details)
        _note_client_id(cur, user_id, project_id, client_id, item_id, "reveal", None, now)

    db.queue_write(work)


@dataclass(frozen=True)
class LastAction:
    kind: str
    project_id: int
    item_id: int
    at: datetime
    annotation_id: int | None = None


def _last_action(cur: duckdb.DuckDBPyConnection, user_id: int, now: datetime) -> LastAction | None:
    # Events are appended in time order, so the time bound lets DuckDB skip old row groups.
    row = cur.execute(
        "SELECT kind, project_id, item_id, details, happened_at FROM events"
        f" WHERE user_id = ? AND happened_at >= ? AND kind IN ({', '.join('?' * len(ACTION_KINDS))})"
        " ORDER BY happened_at DESC, id DESC LIMIT 1",
        [user_id, now - _LOOKBACK, *ACTION_KINDS]).fetchone()
    if row is None:
        return None
    kind, project_id, item_id, details, at = row
    details = json.loads(details) if details else {}
    return LastAction(kind, int(project_id), int(item_id), at, details.get("annotation_id"))


def last_action(db: Database, user_id: int, now: datetime | None = None) -> LastAction | None:
    """The person's last submit, correction, skip, flag or undo (in the last day)."""
    with db.read() as cur:
        return _last_action(cur, user_id, now or utcnow())


def _undoable(cur: duckdb.DuckDBPyConnection, user_id: int, now: datetime, within_seconds: float,
              kinds: tuple[str, ...], item_id: int, annotation_id: int | None = None) -> LastAction:
    """The person's last action if it is the one named and recent enough, else StoreError."""
    action = _last_action(cur, user_id, now)
    if action is None or action.kind == "undo":
        raise StoreError("There is nothing to undo.")
    if (action.kind not in kinds or action.item_id != item_id
            or (annotation_id is not None and action.annotation_id != annotation_id)):
        raise StoreError("Only your last action can be undone, and this was not it.")
    if (now - action.at).total_seconds() > within_seconds:
        raise StoreError(f"Too late to undo: that was more than {within_seconds / 60:g} minutes "
                         "ago. You can still correct an answer from My items.")
    return action


def _undo_submit(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int,
                 annotation_id: int, within_seconds: float, now: datetime) -> tuple[Item, int]:
    row = cur.execute("SELECT item_id, project_id, user_id FROM annotations WHERE id = ?",
                      [annotation_id]).fetchone()
    if row is None:
        raise StoreError("There is no such answer.")
    item_id, project_id, author = int(row[0]), int(row[1]), int(row[2])
    if author != user_id:
        raise PermissionDenied("You can undo only your own answers.")
    require_worker(db, cur, user_id, project_id)
    action = _undoable(cur, user_id, now, within_seconds, ("submit", "correct"), item_id,
                       annotation_id)
    log_event(cur, "undo", user_id, project_id, item_id,
              {"undone": action.kind, "annotation_id": annotation_id})
    item = _item(cur.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?",
                             [item_id]).fetchone())
    return item, project_id


def _undo_skip(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int,
               within_seconds: float, now: datetime) -> tuple[Item, int]:
    target = _item_project_and_claim(cur, user_id, item_id)
    project_id = target.project_id
    require_worker(db, cur, user_id, project_id)
    _undoable(cur, user_id, now, within_seconds, ("skip",), item_id)
    open_slots, gold = cur.execute("SELECT open_slots, coalesce(gold, false) FROM items"
                                   " WHERE id = ?", [item_id]).fetchone()
    if not target.has_claim:
        # A gold item has no slots to take: it is only ever served to each person alone.
        if not gold and open_slots <= 0:
            raise StoreError("Someone else has taken this item since you skipped it, so it "
                             "stays with them.")
        ceiling, _ = _limits(_routing_status(cur, user_id, project_id,
                                             project_policy(cur, project_id, db), now),
                             project_policy(cur, project_id, db))
        if ceiling is not None and (target.hint_severity or 0) > ceiling:
            raise StoreError("You have reached today's limit for items this severe, so this "
                             "one cannot come back to you today.")
        if hint_names_any(target, queue_opt_outs(db, cur, user_id, project_id)):
            # Neutral words: the person knows their plan; anyone reading along need not.
            raise StoreError("This item cannot come back to you; it goes to a colleague.")
        # First in the person's queue: before the claims they hold now.
        first = cur.execute("SELECT min(claimed_at) FROM claims WHERE project_id = ?"
                            " AND user_id = ?", [project_id, user_id]).fetchone()[0]
        claimed_at = min(first - timedelta(microseconds=1), now) if first else now
        token = _token(user_id)
        cur.execute("UPDATE items SET open_slots = open_slots - CASE WHEN coalesce(gold, false)"
                    " THEN 0 ELSE 1 END, touched_by = CASE WHEN contains(touched_by, ?)"
                    " THEN touched_by ELSE touched_by || ? END WHERE id = ?",
                    [token, token[1:], item_id])
        cur.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                    [item_id, project_id, user_id, claimed_at,
                     now + timedelta(minutes=config.claim_timeout_minutes())])
    log_event(cur, "undo", user_id, project_id, item_id, {"undone": "skip"})
    log_event(cur, "claim", user_id, project_id, item_id, {"served_as": "undo"})
    item = _item(cur.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?",
                             [item_id]).fetchone())
    return item, project_id


def undo_submit(db: Database, user_id: int, annotation_id: int,
                within_seconds: float = UNDO_WINDOW_SECONDS, now: datetime | None = None,
                prefetch: int = DEFAULT_PREFETCH,
                client_id: str | None = None) -> UndoResult:
    """Reopen the person's last answer for correction (it is kept; the next save of the item
    with `correction=True` is version + 1). Only their own last action, within
    `within_seconds`; else StoreError (PermissionDenied for someone else's answer) and
    nothing changes. `items` are the claims they hold, as `WorkQueue.claim` gives them."""
    now = now or utcnow()

    def work(cur: duckdb.DuckDBPyConnection) -> UndoResult:
        _check_client_id(cur, user_id, client_id)
        item, project_id = _undo_submit(db, cur, user_id, annotation_id, within_seconds, now)
        _note_client_id(cur, user_id, project_id, client_id, item.id, "undo", None, now)
        items, status = _claim_items(db, cur, user_id, project_id, now, prefetch)
        return UndoResult(items, status, "submit", item, None)

    result = db.queue_write(work)
    annotation = latest_annotation(db, result.item.id, user_id)
    return UndoResult(result.items, result.status, "submit", result.item, annotation)


def undo_skip(db: Database, user_id: int, item_id: int,
              within_seconds: float = UNDO_WINDOW_SECONDS, now: datetime | None = None,
              prefetch: int = DEFAULT_PREFETCH,
              client_id: str | None = None) -> UndoResult:
    """Give the person back the item they just skipped, first in their queue, if the skip
    was their last action, within `within_seconds`, and nobody else has taken its slot
    since; else StoreError and nothing changes. Holding more than `prefetch` claims then,
    the furthest goes back to the pool."""
    now = now or utcnow()

    def work(cur: duckdb.DuckDBPyConnection) -> UndoResult:
        _check_client_id(cur, user_id, client_id)
        item, project_id = _undo_skip(db, cur, user_id, item_id, within_seconds, now)
        _note_client_id(cur, user_id, project_id, client_id, item.id, "undo", None, now)
        items, status = _claim_items(db, cur, user_id, project_id, now, max(1, prefetch))
        return UndoResult(items, status, "skip", item, None)

    return db.queue_write(work)


class WorkQueue:
    """One person's queue in one project. Holds no state but its arguments: every call reads
    and writes the database, so two instances for the same person agree."""

    def __init__(self, db: Database, user_id: int, project_id: int,
                 prefetch: int = DEFAULT_PREFETCH) -> None:
        if prefetch < 1:
            raise ValueError("prefetch is at least 1 (the item shown)")
        self.db, self.user_id, self.project_id, self.prefetch = db, user_id, project_id, prefetch

    def claim(self, prefetch: int | None = None, now: datetime | None = None) -> ClaimResult:
        """The items to show, first the one on screen (a claim already held: a reload gets
        it again), then up to `prefetch` - 1 more, all claimed for the person."""
        now = now or utcnow()
        count = max(1, prefetch or self.prefetch)
        items, status = self.db.queue_write(lambda cur: _claim_items(
            self.db, cur, self.user_id, self.project_id, now, count))
        return ClaimResult(items, status)

    def _check_project(self, project_id: int) -> None:
        if project_id != self.project_id:
            raise StoreError("That item belongs to another project.")

    def submit(self, item_id: int, label: Label | None = None, *,
               judgment: dict[str, Any] | None = None, timing: Timing = Timing(),
               now: datetime | None = None, client_id: str | None = None) -> SubmitResult:
        """Save the answer (a label or a compare judgment) and claim what comes next, in one
        transaction. A bad answer: StoreError, nothing saved and nothing claimed.
        `client_id`: the browser's id for this answer, recorded in the same transaction; an
        answer with an id already recorded raises AlreadyRecorded and writes nothing."""
        now = now or utcnow()

        def work(cur: duckdb.DuckDBPyConnection) -> SubmitResult:
            _check_client_id(cur, self.user_id, client_id)
            annotation_id, project_id = _save(self.db, cur, self.user_id, item_id,
                                              label or Label(is_safe=None), judgment,
                                              timing.shown_at, timing.active_ms, now,
                                              strict=True)
            self._check_project(project_id)
            _note_client_id(cur, self.user_id, project_id, client_id, item_id, "submit",
                            annotation_id, now)
            items, status = _claim_items(self.db, cur, self.user_id, project_id, now,
                                         self.prefetch, answered=True)
            return SubmitResult(items, status, item_id, annotation_id)

        return self.db.queue_write(work)

    def correct(self, item_id: int, label: Label | None = None, *,
                judgment: dict[str, Any] | None = None, timing: Timing = Timing(),
                now: datetime | None = None) -> SubmitResult:
        """Save a new version of the person's earlier answer to the item; the claims they
        hold stay as they are (`items`)."""
        now = now or utcnow()

        def work(cur: duckdb.DuckDBPyConnection) -> SubmitResult:
            annotation_id, project_id = _save(self.db, cur, self.user_id, item_id,
                                              label or Label(is_safe=None), judgment,
                                              timing.shown_at, timing.active_ms, now,
                                              correction=True)
            self._check_project(project_id)
            items, status = _claim_items(self.db, cur, self.user_id, project_id, now,
                                         self.prefetch)
            return SubmitResult(items, status, item_id, annotation_id)

        return self.db.queue_write(work)

    def _release(self, item_id: int, kind: str, details: dict[str, Any] | None,
                 timing: Timing, now: datetime | None,
                 client_id: str | None = None) -> ReleaseResult:
        now = now or utcnow()

        def work(cur: duckdb.DuckDBPyConnection) -> ReleaseResult:
            _check_client_id(cur, self.user_id, client_id)
            project_id = _release(self.db, cur, self.user_id, item_id, kind, details,
                                  (timing.shown_at, timing.active_ms), timing.text_seen,
                                  strict=True)
            self._check_project(project_id)
            _note_client_id(cur, self.user_id, project_id, client_id, item_id, kind, None, now)
            items, status = _claim_items(self.db, cur, self.user_id, project_id, now,
                                         self.prefetch, answered=True)
            return ReleaseResult(items, status, item_id, kind)

        return self.db.queue_write(work)

    def skip(self, item_id: int, reason: str = "", timing: Timing = Timing(),
             now: datetime | None = None, client_id: str | None = None) -> ReleaseResult:
        """Give the item back to the pool (never to this person again; no penalty) and
        claim what comes next. The reason is optional. `client_id` as for `submit`."""
        reason = skip_reason(reason)
        return self._release(item_id, "skip", {"reason": reason} if reason else None, timing,
                             now, client_id)

    def flag(self, item_id: int, reason: str, timing: Timing = Timing(),
             now: datetime | None = None, client_id: str | None = None) -> ReleaseResult:
        """Flag the item for a lead (a reason is required) and claim what comes next."""
        return self._release(item_id, "flag", {"reason": flag_reason(reason)}, timing, now,
                             client_id)

    def last_action(self, now: datetime | None = None) -> LastAction | None:
        """The person's last action, when it is in this project."""
        action = last_action(self.db, self.user_id, now)
        return action if action is not None and action.project_id == self.project_id else None

    def undo_last(self, now: datetime | None = None,
                  within_seconds: float = UNDO_WINDOW_SECONDS,
                  client_id: str | None = None) -> UndoResult:
        """Undo the person's last submit or skip in this project (see `undo_submit`,
        `undo_skip`); StoreError when there is none that can be undone."""
        now = now or utcnow()
        action = self.last_action(now)
        if action is None or action.kind == "undo":
            raise StoreError("There is nothing to undo.")
        if action.kind in ("submit", "correct") and action.annotation_id is not None:
            return undo_submit(self.db, self.user_id, int(action.annotation_id), within_seconds,
                               now, self.prefetch, client_id)
        if action.kind == "skip":
            return undo_skip(self.db, self.user_id, action.item_id, within_seconds, now,
                             self.prefetch, client_id)
        raise StoreError(f"A {action.kind} cannot be undone.")

    def release_prefetched(self) -> int:
        """The person leaves (or ends the day): the claims they hold but have not been shown
        go back to the pool; the one on screen stays theirs and lapses as claims do. Returns
        how many went back."""
        def work(cur: duckdb.DuckDBPyConnection) -> int:
            held = [row[0] for row in cur.execute(
                "SELECT item_id FROM claims WHERE project_id = ? AND user_id = ?"
                " ORDER BY claimed_at, item_id", [self.project_id, self.user_id]).fetchall()]
            if len(held) > 1:
                _release_claims(cur, self.user_id, self.project_id, held[1:], "left")
            return max(0, len(held) - 1)

        return self.db.queue_write(work)


def release_all_prefetched(db: Database, user_id: int) -> int:
    """The person logs out: in every project, the claims they hold but have not been shown
    go back to the pool (the one on screen lapses as claims do). Returns how many went."""
    with db.read() as cur:
        project_ids = [row[0] for row in cur.execute(
            "SELECT project_id FROM claims WHERE user_id = ? GROUP BY project_id"
            " HAVING count(*) > 1", [user_id]).fetchall()]
    return sum(WorkQueue(db, user_id, project_id).release_prefetched()
               for project_id in project_ids)


def client_answer_recorded(db: Database, user_id: int, client_id: str) -> bool:
    """Whether this person's browser already sent the answer with this id."""
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM client_answers WHERE user_id = ?"
                           " AND client_id = ?", [user_id, client_id]).fetchone()[0] > 0
