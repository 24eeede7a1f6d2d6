"""The work queue: claim the next item, save annotations (append-only), skip and flag.

Bookkeeping lives on the item row so a claim is one filtered scan with LIMIT 1:
`open_slots` (annotations still wanted minus claims), `done_count` (first-version
annotations), `touched_by` (',id,' tokens of people who claimed, annotated or skipped it,
so nobody is served the same item twice). Claims are rows in `claims` until submitted,
skipped or given to someone else. A person may hold several (store/work_queue.py
prefetches the next item): `claimed_at` orders them, the one to show first oldest.

A claim past its `expires_at` has lapsed but keeps its slot: its holder gets the item back
first when they next ask (their work is then not a second copy), and someone else gets it
only when nothing fresh is left for them. A holder who submits after that is still saved
(work is never dropped); the item then has more annotations than its overlap, which the
exports and the dashboard report as over-served.

Order (project setting `serve_order`): depth first by default, items other people have
started (fewest open slots left, then most done) before new ones, so overlapped items are
complete early; breadth first takes the first open item found (the old order).

Gold items (store/gold.py) have no open slots, so this scan never serves them; they come
by their own path, as one item in each block of n of a person (n = round(1 / gold_rate),
core/queue.gold_due), and while a project requires a qualification the person gets only its qualification items
(store/qualification.py) until they pass or a lead waives it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from core import config
from core.labels import Label
from core.queue import QueueRules, gold_due, rules_from_settings
from core.limits import (MAX_NOTE_CHARS, MAX_REASON_CHARS, judgment_problem, length_problem,
                         rewrite_problem)
from core.wellbeing import WellbeingPolicy, effective_severity
from core.wellness import hint_names_any
from store.access import require_worker
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.wellbeing import (WellbeingStatus, note_caps_reached, person_day, project_policy,
                             record_exposure, status_from_day)
from store.wellness import hint_names_any_sql, queue_opt_outs

MAX_EDIT_DISTANCE_CHARS = 200_000


@dataclass(frozen=True)
class Item:
    id: int
    project_id: int
    external_id: str
    prompt: str | None
    response: str | None
    response_a: str | None
    response_b: str | None
    messages: list[dict[str, str]] | None
    metadata: dict[str, Any] = field(default_factory=dict)
    hint_category: str | None = None
    hint_severity: int | None = None
    hint_source: str | None = None      # "import" (a file's column), "scorer" (keywords), "model"
    hint_confidence: float | None = None  # a model hint's confidence (store/hint_models.py)


_ITEM_COLUMNS = ("id, project_id, external_id, prompt, response, response_a, response_b, "
                 "messages, metadata, hint_category, hint_severity, hint_source, hint_confidence")


def _item(row: tuple) -> Item:
    (iid, pid, ext, prompt, response, a, b, messages, metadata, hint_cat, hint_sev,
     hint_source, hint_confidence) = row
    return Item(iid, pid, ext, prompt, response, a, b,
                json.loads(messages) if messages else None,
                json.loads(metadata) if metadata else {}, hint_cat, hint_sev, hint_source,
                hint_confidence)


def _token(user_id: int) -> str:
    return f",{int(user_id)},"


def _claim(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
           now: datetime, seen: dict | None = None, answered: bool = False) -> Item | None:
    """The one item to work on next (the single-item queue: `claim_next_item`,
    `save_and_claim_next`). `seen`, when given, receives the wellbeing status routed by."""
    items, status = _claim_items(db, cur, user_id, project_id, now, 1, answered)
    if seen is not None:
        seen["status"] = status
    return items[0] if items else None


def _claim_items(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                 now: datetime, count: int, answered: bool = False
                 ) -> tuple[list[Item], WellbeingStatus]:
    """Up to `count` items for this person, the one to show first first, each claimed for
    them, and the wellbeing status they were routed by. Claims already held come first,
    oldest first (`claimed_at` orders a person's claims); the rest are claimed fresh.

    With `count` > 1 some claims are prefetched: chosen before the item ahead of them was
    answered. Every call routes them again by the person's status now: a claim above the
    day's ceiling goes back to the pool (`_drop_claims_above`); when a lighter item is due
    (`benign_next`), one is claimed and put first, ahead of a held claim that is not light,
    which stays claimed and comes after it. The first held claim is the item on the
    person's screen unless `answered` (called right after an answer): that one is never
    re-routed for `benign_next`, as the single-item queue never re-routed a held claim.
    Held claims beyond `count` (the furthest ones) go back to the pool."""
    timeout = timedelta(minutes=config.claim_timeout_minutes())
    require_worker(db, cur, user_id, project_id)
    policy = project_policy(cur, project_id, db)
    status = _routing_status(cur, user_id, project_id, policy, now)
    ceiling, benign = _limits(status, policy)
    # Lapsed claims too: nobody else has needed the slot, so it is still this person's.
    held = [row[0] for row in cur.execute(
        "SELECT item_id FROM claims WHERE project_id = ? AND user_id = ?"
        " ORDER BY claimed_at, item_id", [project_id, user_id]).fetchall()]
    if held and ceiling is not None:
        held = _drop_claims_above(cur, user_id, project_id, held, ceiling)
    avoid = queue_opt_outs(db, cur, user_id, project_id)
    if held and avoid:
        held = _drop_opted_out_claims(cur, user_id, project_id, held, avoid)
    if len(held) > count:
        _release_claims(cur, user_id, project_id, held[count:], UNSEEN_RELEASE)
        held = held[:count]
    items = []
    if held:
        # Held claims stay this person's for another timeout from now.
        cur.execute(f"UPDATE claims SET expires_at = ? WHERE user_id = ? AND item_id IN"
                    f" ({', '.join('?' * len(held))})", [now + timeout, user_id, *held])
        rows = {row[0]: row for row in cur.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE id IN ({', '.join('?' * len(held))})",
            held).fetchall()}
        items = [_item(rows[item_id]) for item_id in held]
    on_screen = 0 if answered or not items else 1
    light_tried = False
    if benign is not None and len(items) > on_screen and (items[on_screen].hint_severity or 0) > benign:
        # A lighter item is due and the next held one (prefetched before the answer that
        # made it due) is not light: put a light one in front of it, when there is one.
        light_tried = True
        light = _claim_fresh(db, cur, user_id, project_id, now, timeout, ceiling, benign,
                             [i.id for i in items], only_light=True)
        if light is not None:
            items.insert(on_screen, light)
            if len(items) > count:
                # The furthest claim makes room (it goes back to the pool).
                _release_claims(cur, user_id, project_id, [items[-1].id], UNSEEN_RELEASE)
                items.pop()
            _order_claims(cur, user_id, [i.id for i in items], now)
    while len(items) < count:
        # Only the first item the person will see next is due to be light.
        due_light = benign if len(items) == on_screen and not light_tried else None
        item = _claim_fresh(db, cur, user_id, project_id, now + timedelta(microseconds=len(items)),
                            timeout, ceiling, due_light, [i.id for i in items])
        if item is None:
            break
        items.append(item)
    return items, status


def _claim_fresh(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                 now: datetime, timeout: timedelta, ceiling: int | None, benign: int | None,
                 ahead: list[int], only_light: bool = False) -> Item | None:
    """Claim one more item for this person, to be served after the `ahead` items they hold:
    a qualification item while they must qualify, a gold item when their next item is due
    to be one (counting `ahead` as finished), else an open item (a light one first when
    `benign` is set; with `only_light` nothing else), else someone's lapsed claim."""
    rules, gold_ids, overlap = _queue_setup(db, cur, project_id)
    # Categories the person opted out of (their wellness plan): never served by any path
    # below but the qualification items, which everyone must answer to start.
    avoid = queue_opt_outs(db, cur, user_id, project_id)
    if rules.qualification_required:
        from store.qualification import qualification_gate
        gate, item_id = qualification_gate(db, cur, user_id, project_id, rules, gold_ids,
                                           benign if only_light else ceiling, now, held=ahead)
        if gate == "serve":
            return _claim_gold(cur, user_id, project_id, item_id, now, timeout, "qualification")
        if gate == "blocked":
            return None
    if gold_ids and rules.gold_rate > 0:
        item_id = _gold_due(cur, user_id, project_id, rules, gold_ids,
                            benign if only_light else ceiling, len(ahead), avoid)
        if item_id is not None:
            return _claim_gold(cur, user_id, project_id, item_id, now, timeout, "gold")
    token = _token(user_id)
    # Two statements, not UPDATE ... WHERE id = (subquery): DuckDB plans that as a join
    # over the whole table, while a point update by primary key is cheap. The write
    # lock makes the pair atomic (on PostgreSQL the row lock `db.claim_lock` takes, inside
    # the SERIALIZABLE transaction).
    candidate = None
    if benign is not None:
        # After a long run of severe items: something light first, when there is any.
        candidate = _candidate(cur, project_id, token, benign, rules.serve_order, overlap, avoid,
                               db.claim_lock)
        if candidate is None and only_light:
            return None
    if candidate is None:
        candidate = _candidate(cur, project_id, token, ceiling, rules.serve_order, overlap, avoid,
                               db.claim_lock)
    if candidate is None:
        # Nothing fresh: take over someone's lapsed claim (their late work, if any, is kept).
        return _take_over(cur, user_id, project_id, now, timeout,
                          benign if only_light else ceiling, avoid, db.claim_lock)
    row = cur.execute(
        "UPDATE items SET open_slots = open_slots - 1, touched_by = touched_by || ? "
        f"WHERE id = ? RETURNING {_ITEM_COLUMNS}", [token[1:], candidate[0]]).fetchone()
    item = _item(row)
    cur.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                [item.id, project_id, user_id, now, now + timeout])
    log_event(cur, "claim", user_id, project_id, item.id)
    return item


def _order_claims(cur: duckdb.DuckDBPyConnection, user_id: int, item_ids: list[int],
                  now: datetime) -> None:
    """Make the person's claims come back in this order (by `claimed_at`), keeping them
    no later than now."""
    first = cur.execute(
        f"SELECT min(claimed_at) FROM claims WHERE user_id = ? AND item_id IN"
        f" ({', '.join('?' * len(item_ids))})", [user_id, *item_ids]).fetchone()[0] or now
    for n, item_id in enumerate(item_ids):
        cur.execute("UPDATE claims SET claimed_at = ? WHERE item_id = ? AND user_id = ?",
                    [first + timedelta(microseconds=n), item_id, user_id])


def _take_over(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int, now: datetime,
               timeout: timedelta, ceiling: int | None, avoid: tuple[str, ...] = (),
               lock: str = "") -> Item | None:
    """Give this person the oldest lapsed claim of someone else on an item they have not
    touched (within their severity ceiling), or None. The slot moves from one person to the
    other, so `open_slots` does not change; the former holder may be served the item again.
    `lock`: `Database.claim_lock`, so two people never take over the same claim at once."""
    token = _token(user_id)
    opted_out, opted_params = hint_names_any_sql(avoid, "i.hint_category")
    lapsed = cur.execute(
        "SELECT c.item_id, c.user_id FROM claims c JOIN items i ON i.id = c.item_id"
        " WHERE c.project_id = ? AND c.expires_at <= ? AND c.user_id <> ?"
        " AND NOT contains(i.touched_by, ?) AND (? IS NULL OR coalesce(i.hint_severity, 0) <= ?)"
        " AND NOT coalesce(i.gold, false)"   # gold comes only by its own path
        f" AND NOT coalesce({opted_out}, false)"
        " ORDER BY c.expires_at, c.item_id LIMIT 1" + lock,
        [project_id, now, user_id, token, ceiling, ceiling, *opted_params]).fetchone()
    if lapsed is None:
        return None
    item_id, holder = lapsed
    cur.execute("DELETE FROM claims WHERE item_id = ? AND user_id = ?", [item_id, holder])
    log_event(cur, "claim_expired", holder, project_id, item_id, {"taken_by": user_id})
    row = cur.execute(
        "UPDATE items SET touched_by = replace(touched_by, ?, ',') || ? "
        f"WHERE id = ? RETURNING {_ITEM_COLUMNS}", [_token(holder), token[1:], item_id]).fetchone()
    cur.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                [item_id, project_id, user_id, now, now + timeout])
    log_event(cur, "claim", user_id, project_id, item_id, {"taken_over_from": holder})
    return _item(row)


def _routing_status(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                    policy: WellbeingPolicy, now: datetime) -> WellbeingStatus:
    """The person's wellbeing state as the queue sees it; a cap reached is logged once a day.
    Daily caps count exposure in every project; the limits are the project's."""
    day = person_day(cur, user_id, now)
    status = status_from_day(day, policy, now)
    if status.daily_caps_reached:
        note_caps_reached(cur, user_id, project_id, day, status.daily_caps_reached)
    if status.week_budgets_reached:
        note_caps_reached(cur, user_id, project_id, day, status.week_budgets_reached,
                          "week_budget_reached")
    return status


def _limits(status: WellbeingStatus, policy: WellbeingPolicy) -> tuple[int | None, int | None]:
    """(highest severity this person may be served today, None for no limit; the severity
    ceiling of a benign item to serve first, or None)."""
    benign = policy.harmful_severity - 1 if status.benign_next else None
    if benign is not None and status.ceiling is not None:
        benign = min(benign, status.ceiling)
    return status.ceiling, benign


def _candidate(cur: duckdb.DuckDBPyConnection, project_id: int, token: str,
               ceiling: int | None, serve_order: str = "depth_first",
               overlap: int = 1, avoid: tuple[str, ...] = (), lock: str = "") -> tuple | None:
    """The id of the next open item for the person holding `token`, or None. `lock`
    (`Database.claim_lock`) makes it a queue on PostgreSQL: the row is locked for this
    claim's transaction and concurrent claims skip it."""
    # Items with no hint count as severity 0: the scorer gives every imported item one.
    sql = "SELECT id FROM items WHERE project_id = ? AND open_slots > 0 AND NOT contains(touched_by, ?)"
    params: list[Any] = [project_id, token]
    if ceiling is not None:
        sql += " AND coalesce(hint_severity, 0) <= ?"
        params.append(ceiling)
    if avoid:
        # The person's opt-outs; an item with no category hint is served.
        opted_out, opted_params = hint_names_any_sql(avoid)
        sql += f" AND NOT coalesce({opted_out}, false)"
        params.extend(opted_params)
    if serve_order == "depth_first" and overlap > 1:
        # Started items first (done or claimed by others: fewer open slots than the
        # overlap), fewest slots left, then most done, then oldest. Only the few started
        # items reach the ORDER BY; one ORDER BY over every open item instead cost about
        # 8x the plain scan at 100,000 items (it cannot stop at the first row).
        started = cur.execute(sql + " AND open_slots < ? ORDER BY open_slots, done_count DESC, id"
                              " LIMIT 1" + lock, [*params, overlap]).fetchone()
        if started is not None:
            return started
    # Breadth first: the first open row the scan finds. In DuckDB that is the earliest row
    # not rewritten since (a claim or a skip rewrites its row to the end), so items nobody
    # touched come first, without a sort of every open item. PostgreSQL's heap has no such
    # order, so there (`lock` is its mark) the same is asked for: the oldest item nobody
    # touched, else the oldest open one (both by index, see store/postgres.PG_INDEXES).
    if lock:
        fresh = cur.execute(sql + " AND touched_by = ',' ORDER BY id LIMIT 1" + lock,
                            params).fetchone()
        if fresh is not None:
            return fresh
        return cur.execute(sql + " ORDER BY id LIMIT 1" + lock, params).fetchone()
    return cur.execute(sql + " LIMIT 1", params).fetchone()


def _queue_setup(db: Database, cur: duckdb.DuckDBPyConnection, project_id: int
                 ) -> tuple[QueueRules, tuple[tuple[int, bool], ...], int]:
    """The project's queue rules, its gold items ((item id, qualification), by id) and its
    overlap, cached like permissions: project, settings and gold changes call
    `Database.access_changed`."""
    key = ("queue", project_id)
    cached = db.access_cache.get(key)
    if cached is None:
        row = cur.execute("SELECT settings, overlap FROM projects WHERE id = ?",
                          [project_id]).fetchone()
        rules = rules_from_settings(json.loads(row[0]) if row and row[0] else {})
        gold_ids = tuple((int(i), bool(q)) for i, q in cur.execute(
            "SELECT id, coalesce(qualification, false) FROM items"
            " WHERE project_id = ? AND gold ORDER BY id", [project_id]).fetchall())
        cached = db.access_cache[key] = (rules, gold_ids, int(row[1]) if row else 1)
    return cached


def finished_items(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int) -> int:
    """How many times this person finished an item in the project (answered, corrected,
    skipped or flagged: each leaves one exposure row), the clock gold items are drawn by."""
    return int(cur.execute(
        "SELECT count(*) FROM exposures WHERE project_id = ? AND user_id = ?",
        [project_id, user_id]).fetchone()[0])


def _gold_due(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int, rules: QueueRules,
              gold_ids: tuple[tuple[int, bool], ...], ceiling: int | None,
              ahead: int = 0, avoid: tuple[str, ...] = ()) -> int | None:
    """A gold item this person has not touched, when their next item is due to be gold
    (one in each block of n: core.queue.gold_due); plain gold items before qualification
    ones. `ahead`: items they hold that come before this one (prefetch), counted as
    finished (a correction made in between moves the count on by one)."""
    if not gold_due(finished_items(cur, user_id, project_id) + ahead, rules.gold_rate, user_id,
                    project_id):
        return None
    ids = [item_id for item_id, _ in sorted(gold_ids, key=lambda g: (g[1], g[0]))]
    # A point lookup by primary key per gold item (the list is short).
    opted_out, opted_params = hint_names_any_sql(avoid)
    rows = dict(cur.execute(
        "SELECT id, NOT contains(touched_by, ?) AND (? IS NULL OR coalesce(hint_severity, 0) <= ?)"
        f" AND NOT coalesce({opted_out}, false)"
        f" FROM items WHERE id IN ({', '.join('?' * len(ids))})",
        [_token(user_id), ceiling, ceiling, *opted_params, *ids]).fetchall())
    return next((item_id for item_id in ids if rows.get(item_id)), None)


def _claim_gold(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int, item_id: int,
                now: datetime, timeout: timedelta, why: str) -> Item:
    """Claim a gold or qualification item: it has no open slots to count down (the normal
    scan never serves it); only the person's token and the claim are added."""
    token = _token(user_id)
    row = cur.execute(
        "UPDATE items SET touched_by = CASE WHEN contains(touched_by, ?) THEN touched_by"
        f" ELSE touched_by || ? END WHERE id = ? RETURNING {_ITEM_COLUMNS}",
        [token, token[1:], item_id]).fetchone()
    cur.execute("INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                [item_id, project_id, user_id, now, now + timeout])
    log_event(cur, "claim", user_id, project_id, item_id, {"served_as": why})
    return _item(row)


def _drop_claims_above(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                       held: list[int], ceiling: int) -> list[int]:
    """A claim held from before a cap was reached goes back to the pool if it is now above
    the person's ceiling (and may come back to them another day)."""
    severities = dict(cur.execute(
        f"SELECT id, hint_severity FROM items WHERE id IN ({', '.join('?' * len(held))})",
        held).fetchall())
    above = [i for i in held if severities.get(i) is not None and severities[i] > ceiling]
    if above:
        _release_claims(cur, user_id, project_id, above, UNSEEN_RELEASE)
    return [i for i in held if i not in above]


def _drop_opted_out_claims(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                           held: list[int], avoid: tuple[str, ...]) -> list[int]:
    """Claims held from before the person opted out of their category go back to the pool.
    The event says only UNSEEN_RELEASE, like any held item given back: the plan is private."""
    # A few rows by primary key: the Python rule itself (core.wellness) decides.
    dropped = {item.id for item in (_item(row) for row in cur.execute(
        f"SELECT {_ITEM_COLUMNS} FROM items WHERE id IN ({', '.join('?' * len(held))})"
        " AND NOT coalesce(qualification, false)", held).fetchall())
        if hint_names_any(item, avoid)}
    if dropped:
        _release_claims(cur, user_id, project_id, [i for i in held if i in dropped],
                        UNSEEN_RELEASE)
    return [i for i in held if i not in dropped]


# Why a held, never-shown item went back to the pool, in its event (the Review page's
# history shows it to leads). One wording for a prefetch no longer needed, a daily cap or
# weekly budget reached, and an opt-out: a lead must not read a person's caps or wellness
# plan off an item's history.
UNSEEN_RELEASE = "given back unseen"


def _release_claims(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                    item_ids: list[int], why: str) -> None:
    """Give these claims of the person back to the pool unseen: the slot opens again and
    the item may be served to them again later (their token goes)."""
    for item_id in item_ids:
        cur.execute("DELETE FROM claims WHERE item_id = ? AND user_id = ?", [item_id, user_id])
        cur.execute("UPDATE items SET open_slots = open_slots + CASE WHEN gold THEN 0 ELSE 1 END,"
                    " touched_by = replace(touched_by, ?, ',') WHERE id = ?",
                    [_token(user_id), item_id])
        log_event(cur, "claim_released", user_id, project_id, item_id, {"why": why})


def claim_next_item(db: Database, user_id: int, project_id: int,
                    now: datetime | None = None) -> Item | None:
    """The item this person should work on next in the project, claimed for them; None when
    nothing is left for them. A claim they already hold (a reload) is returned again."""
    now = now or utcnow()
    return db.queue_write(lambda cur: _claim(db, cur, user_id, project_id, now))


def get_item(db: Database, item_id: int) -> Item | None:
    with db.read() as cur:
        row = cur.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", [item_id]).fetchone()
    return _item(row) if row else None


@dataclass(frozen=True)
class _Target:
    project_id: int
    response: str | None
    has_claim: bool
    hint_severity: int | None
    hint_category: str | None
    gold: bool = False


def _item_project_and_claim(cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int) -> _Target:
    row = cur.execute(
        "SELECT i.project_id, i.response, c.user_id IS NOT NULL, i.hint_severity, i.hint_category,"
        " coalesce(i.gold, false)"
        " FROM items i LEFT JOIN claims c ON c.item_id = i.id AND c.user_id = ? WHERE i.id = ?",
        [user_id, item_id]).fetchone()
    if row is None:
        raise StoreError("no such item")
    return _Target(int(row[0]), row[1], bool(row[2]), row[3], row[4], bool(row[5]))


def _require_lapsed_claim(cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int,
                          target: _Target, answered: bool) -> None:
    """An answer, skip or flag for an item the person no longer holds is accepted only as
    the end of their own lapsed claim: the queue gave it to them and they have not answered,
    skipped or flagged it since. Anything else (an item never served to them, someone
    else's, a crafted message, a second tab after the first answered) is refused: it would
    over-serve the item, bypass qualification and caps, or make a second first answer."""
    # The person's latest claim or release of the item: a claim not given back since. (Not
    # `touched_by`: a takeover of a lapsed claim takes their token off the item.)
    last = cur.execute("SELECT kind FROM events WHERE user_id = ? AND item_id = ?"
                       " AND kind IN ('claim', 'claim_released') ORDER BY id DESC LIMIT 1",
                       [user_id, item_id]).fetchone()
    if last is None or last[0] != "claim":
        raise StoreError("This item was not given to you, so nothing was saved.")
    if answered:
        raise StoreError("You have already answered this item; open it from My items to "
                         "correct it.")
    ended = cur.execute("SELECT count(*) FROM exposures WHERE user_id = ? AND item_id = ?"
                        " AND outcome IN ('skip', 'flag')", [user_id, item_id]).fetchone()[0]
    if ended:
        raise StoreError("You skipped or flagged this item, so it is no longer yours.")


def _edit_distance(original: str | None, edited: str | None) -> int | None:
    if edited is None:
        return None
    from core.text import edit_distance
    return edit_distance(original or "", edited, limit_chars=MAX_EDIT_DISTANCE_CHARS)


def _save(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int,
          label: Label, judgment: dict[str, Any] | None, shown_at: datetime | None,
          active_ms: int | None, now: datetime, correction: bool = False,
          strict: bool = False) -> tuple[int, int]:
    """Append the annotation inside the caller's transaction: (annotation id, project id).
    A `correction` must follow an annotation of the item by this person. `strict` (the work
    pages' queue): an item the person does not hold is accepted only as their own lapsed
    claim (`_require_lapsed_claim`)."""
    target = _item_project_and_claim(cur, user_id, item_id)
    project_id, original, has_claim = target.project_id, target.response, target.has_claim
    require_worker(db, cur, user_id, project_id)
    problem = (length_problem(label.note, MAX_NOTE_CHARS, "note")
               or rewrite_problem(label.edited_response, original)
               or judgment_problem(judgment))
    if problem:
        raise StoreError(problem)
    previous = None
    # A claimed item is normally new to the person; a gold item may come again (a second
    # qualification attempt), and the new answer is then a new version of the old one.
    if correction or not has_claim or target.gold:
        previous = cur.execute(
            "SELECT id, version FROM annotations WHERE item_id = ? AND user_id = ? "
            "ORDER BY version DESC LIMIT 1", [item_id, user_id]).fetchone()
    if correction and previous is None:
        # A correction names any item id (My items opens it outside the queue): without
        # this it would become a first annotation of an item the queue never gave them.
        raise StoreError("you have not annotated this item, so there is nothing to correct")
    if strict and not correction and not has_claim and not target.gold:
        # A lapsed claim someone else took over is still saved (work is never dropped;
        # the module docstring): the item is then over-served, and reported so.
        _require_lapsed_claim(cur, user_id, item_id, target, previous is not None)
    edited = label.edited_response
    if edited is not None and edited == (original or ""):
        edited = None
    version = previous[1] + 1 if previous else 1
    annotation_id = cur.execute(
        "INSERT INTO annotations (item_id, project_id, user_id, version, supersedes, is_safe,"
        " categories, severity, note, edited_response, edit_distance, judgment, shown_at,"
        " submitted_at, active_ms, guideline_version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        # The guidelines version in force now (guideline_versions is tiny: a few rows a project).
        "  (SELECT max(version) FROM guideline_versions WHERE project_id = ?)) RETURNING id",
        [item_id, project_id, user_id, version, previous[0] if previous else None,
         label.is_safe, list(label.categories), label.severity, label.note or None, edited,
         _edit_distance(original, edited), json.dumps(judgment) if judgment else None,
         shown_at, now, active_ms, project_id]).fetchone()[0]
    if has_claim and version > 1:
        cur.execute("DELETE FROM claims WHERE item_id = ? AND user_id = ?", [item_id, user_id])
    if version == 1:
        if has_claim:
            cur.execute("UPDATE items SET done_count = done_count + 1 WHERE id = ?", [item_id])
            cur.execute("DELETE FROM claims WHERE item_id = ? AND user_id = ?",
                        [item_id, user_id])
        else:
            token = _token(user_id)
            cur.execute(
                "UPDATE items SET done_count = done_count + 1,"
                " open_slots = greatest(0, open_slots - 1),"
                " touched_by = CASE WHEN contains(touched_by, ?) THEN touched_by"
                "   ELSE touched_by || ? END WHERE id = ?", [token, token[1:], item_id])
    record_exposure(cur, user_id, project_id, item_id,
                    effective_severity(label.severity, target.hint_severity), target.hint_category,
                    "submit" if version == 1 else "correct", active_ms, shown_at, now)
    log_event(cur, "submit" if version == 1 else "correct", user_id, project_id, item_id,
              {"annotation_id": int(annotation_id), "version": version,
               **({"late": True} if version == 1 and not has_claim else {})})
    return int(annotation_id), project_id


def save_annotation(db: Database, user_id: int, item_id: int, label: Label | None = None,
                    judgment: dict[str, Any] | None = None, shown_at: datetime | None = None,
                    active_ms: int | None = None, now: datetime | None = None,
                    correction: bool = False) -> int:
    """Append this person's annotation of the item; a second save is a correction (a new
    version that supersedes the last). Returns the new annotation id.

    Works without a live claim too (the claim expired while the person was away): the
    annotation is kept, never dropped. With `correction=True` (the work pages' corrections)
    the person must have annotated the item before, else StoreError and nothing is written.
    """
    now = now or utcnow()
    label = label or Label(is_safe=None)

    return db.queue_write(lambda cur: _save(db, cur, user_id, item_id, label, judgment, shown_at,
                                      active_ms, now, correction)[0])


def save_and_claim_next(db: Database, user_id: int, item_id: int, label: Label | None = None,
                        judgment: dict[str, Any] | None = None, shown_at: datetime | None = None,
                        active_ms: int | None = None, now: datetime | None = None,
                        seen: dict | None = None) -> tuple[int, Item | None]:
    """Submit and get the next item in one transaction (one commit instead of two): the
    annotation id, and the next claimed item of the same project (None when none is left).
    `seen`, when given, receives the wellbeing status the queue routed by (so the page need
    not read it again)."""
    now = now or utcnow()
    label = label or Label(is_safe=None)

    def work(cur: duckdb.DuckDBPyConnection) -> tuple[int, Item | None]:
        annotation_id, project_id = _save(db, cur, user_id, item_id, label, judgment, shown_at,
                                          active_ms, now)
        return annotation_id, _claim(db, cur, user_id, project_id, now, seen, answered=True)

    return db.queue_write(work)


def skip_reason(reason: str | None) -> str:
    """The skip reason as stored (optional); StoreError when it is too long."""
    reason = (reason or "").strip()
    problem = length_problem(reason, MAX_REASON_CHARS, "reason")
    if problem:
        raise StoreError(problem)
    return reason


def flag_reason(reason: str | None) -> str:
    """The flag reason as stored (required); StoreError when missing or too long."""
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("say briefly why you flag this item")
    problem = length_problem(reason, MAX_REASON_CHARS, "reason")
    if problem:
        raise StoreError(problem)
    return reason


def skip_item(db: Database, user_id: int, item_id: int, reason: str = "",
              shown_at: datetime | None = None, active_ms: int | None = None,
              text_seen: bool = True) -> None:
    """Give the item back to the pool for others (never to this person again). No penalty.
    The time spent with it still counts as exposure, at the item's hint when its text was
    seen (`text_seen=False`: skipped from behind the warning or the blur, severity unknown)."""
    reason = skip_reason(reason)
    db.queue_write(lambda cur: _release(db, cur, user_id, item_id, "skip",
                                  {"reason": reason} if reason else None,
                                  timing=(shown_at, active_ms), text_seen=text_seen))


def flag_item(db: Database, user_id: int, item_id: int, reason: str,
              shown_at: datetime | None = None, active_ms: int | None = None,
              text_seen: bool = True) -> None:
    """Flag the item for a lead and move on; the slot returns to the pool."""
    reason = flag_reason(reason)
    db.queue_write(lambda cur: _release(db, cur, user_id, item_id, "flag", {"reason": reason},
                                  timing=(shown_at, active_ms), text_seen=text_seen))


def _release(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int, item_id: int,
             kind: str, details: dict[str, Any] | None,
             timing: tuple[datetime | None, int | None] = (None, None),
             text_seen: bool = True, strict: bool = False) -> int:
    """Skip or flag the item inside the caller's transaction; returns its project id.
    `strict` as for `_save`."""
    target = _item_project_and_claim(cur, user_id, item_id)
    project_id, has_claim = target.project_id, target.has_claim
    require_worker(db, cur, user_id, project_id)
    if strict and not has_claim:
        answered = cur.execute("SELECT count(*) FROM annotations WHERE item_id = ? AND"
                               " user_id = ?", [item_id, user_id]).fetchone()[0] > 0
        _require_lapsed_claim(cur, user_id, item_id, target, answered)
    now = utcnow()
    record_exposure(cur, user_id, project_id, item_id,
                    target.hint_severity if text_seen else None, target.hint_category, kind,
                    timing[1], timing[0], now)
    if has_claim:
        cur.execute("DELETE FROM claims WHERE item_id = ? AND user_id = ?", [item_id, user_id])
        # A gold item keeps no open slots (only its own path serves it).
        cur.execute("UPDATE items SET open_slots = open_slots + 1 WHERE id = ?"
                    " AND NOT coalesce(gold, false)", [item_id])
    if kind == "flag":
        cur.execute("INSERT INTO flags (item_id, project_id, user_id, reason, flagged_at) "
                    "VALUES (?, ?, ?, ?, ?)", [item_id, project_id, user_id, details["reason"], now])
    log_event(cur, kind, user_id, project_id, item_id, details)
    return project_id


@dataclass(frozen=True)
class AnnotationRecord:
    id: int
    item_id: int
    user_id: int
    version: int
    supersedes: int | None
    is_safe: bool | None
    categories: list[str]
    severity: int | None
    note: str | None
    edited_response: str | None
    edit_distance: int | None
    submitted_at: datetime
    judgment: dict[str, Any] | None = None
    # The guidelines version it was made under (None: made before guidelines had versions).
    guideline_version: int | None = None


_ANNOTATION_COLUMNS = ("id, item_id, user_id, version, supersedes, is_safe, categories, severity,"
                       " note, edited_response, edit_distance, submitted_at, judgment,"
                       " guideline_version")


def annotation_history(db: Database, item_id: int, user_id: int | None = None) -> list[AnnotationRecord]:
    """Every version of every annotation of an item (or one person's), oldest first."""
    sql = f"SELECT {_ANNOTATION_COLUMNS} FROM annotations WHERE item_id = ?"
    params: list[Any] = [item_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    with db.read() as cur:
        rows = cur.execute(sql + " ORDER BY user_id, version", params).fetchall()
    return [AnnotationRecord(*row[:-2], json.loads(row[-2]) if row[-2] else None, row[-1])
            for row in rows]


def latest_annotation(db: Database, item_id: int, user_id: int) -> AnnotationRecord | None:
    history = annotation_history(db, item_id, user_id)
    return history[-1] if history else None


def annotations_today(db: Database, user_id: int, project_id: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with db.read() as cur:
        return int(cur.execute(
            "SELECT count(*) FROM annotations WHERE user_id = ? AND project_id = ? "
            "AND version = 1 AND submitted_at >= ?", [user_id, project_id, start]).fetchone()[0])
