"""The work component's outbox, processed on the server: every answer, skip, flag, reveal
and undo the browser has not yet seen acknowledged, sent again whole on every send (two
sends in one browser task reach the server as one, so each carries them all).

Each entry is recorded at most once, by the browser's id for it (the `client_answers` table,
written in the same transaction as the annotation, skip, flag, reveal or undo): a re-send
is acknowledged without writing. Results go back to the browser as `acked` ids and
`rejected` entries with the message to show; a rejected answer's item is still claimed by
the person (nothing was written), so the browser brings it back.

Streamlit-free: the page's component glue (components/work_surface.py) calls
`process_outbox` from the component's trigger callback.
"""
from __future__ import annotations

import logging

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from typing import Protocol

from core.label_kind import AnswerError, client_id
from core.limits import MAX_REASON_CHARS
from store.db import StoreError, utcnow
from store.work import Item, get_item
from store.work_queue import (AlreadyRecorded, ClaimResult, Timing, UndoResult, WorkQueue,
                              client_answer_recorded, record_reveal)

class AnswerKind(Protocol):
    """A page kind (core.label_kind.LabelKind, core.compare_kind.CompareKind): how a submitted
    answer becomes WorkQueue.submit's keyword arguments, and the rules it breaks."""
    name: str

    def submit_fields(self, answer: dict[str, Any], item: Item
                      ) -> tuple[dict[str, Any], list[str]]: ...


# What a reveal may say it showed (as the classic page records them).
REVEALS = ("text", "dim", "terms")
# More entries than this in one send is not a person at a keyboard.
MAX_ENTRIES = 200


@dataclass
class OutboxResult:
    """What happened to one send: ids to acknowledge, entries refused (with the message the
    person sees), the submits saved now (item, annotation id, label), the latest claims and
    wellbeing status (None when nothing was written), and an undo done now."""
    acked: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    saved: list[tuple[Item, int, dict[str, Any]]] = field(default_factory=list)
    released: list[tuple[int, str]] = field(default_factory=list)
    claim: ClaimResult | None = None
    undone: UndoResult | None = None


MAX_DURATION_MS = 24 * 3600 * 1000


def _timing(entry: dict[str, Any], now, text_seen: bool = True) -> Timing:
    def ms(name: str) -> int | None:
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return None
        # A duration from the browser is at most a day: larger ones are nonsense (and
        # 1e300 overflowed the timestamp arithmetic).
        return max(0, min(int(min(value, MAX_DURATION_MS)), MAX_DURATION_MS))

    shown, active, age = ms("shown_ms"), ms("active_ms"), ms("age_ms") or 0
    shown_at = now - timedelta(milliseconds=age + shown) if shown is not None else None
    # Active time is never more than the time the item was on screen; without a time on
    # screen the browser's active time is not taken at all.
    active = None if shown is None else (shown if active is None else min(active, shown))
    return Timing(shown_at, active, text_seen)


def _reason(entry: dict[str, Any]) -> str:
    reason = entry.get("reason") or ""
    if not isinstance(reason, str):
        raise AnswerError("the reason must be text")
    return reason[:MAX_REASON_CHARS * 2]    # the store refuses past MAX_REASON_CHARS


def process_outbox(queue: WorkQueue, entries: Any, kind: AnswerKind,
                   known_items: Callable[[int], Item | None] | None = None) -> OutboxResult:
    """Record the browser's outbox in order, each entry in its own transaction, and return
    what to tell the browser. `known_items(item_id)` gives an item the page already has (for
    the rewrite's original), else it is read."""
    result = OutboxResult()
    if not isinstance(entries, list):
        return result
    for entry in entries[:MAX_ENTRIES]:
        try:
            cid = client_id(entry)
        except AnswerError:
            continue      # not an answer at all: nothing to acknowledge or bring back
        item_id = entry.get("item_id")
        try:
            _process(queue, entry, cid, kind, known_items, result)
            result.acked.append(cid)
        except AlreadyRecorded:
            result.acked.append(cid)
        except (StoreError, AnswerError) as exc:
            result.rejected.append({"id": cid, "item_id": item_id, "kind": entry.get("kind"),
                                    "message": str(exc)})
        except Exception:  # noqa: BLE001 - a malformed entry must not block those behind it
            # (it would stay in the browser and be re-sent every 2 s, forever).
            logging.getLogger(__name__).exception("work outbox entry refused")
            result.rejected.append({"id": cid, "item_id": item_id, "kind": entry.get("kind"),
                                    "message": "This answer could not be read, so it was not "
                                               "saved."})
    return result


def _process(queue: WorkQueue, entry: dict[str, Any], cid: str, kind_of: AnswerKind,
             known_items: Callable[[int], Item | None] | None, result: OutboxResult) -> None:
    kind = entry.get("kind")
    now = utcnow()
    if kind == "undo":
        if client_answer_recorded(queue.db, queue.user_id, cid):
            raise AlreadyRecorded(cid, "undo", None)
        result.undone = queue.undo_last(now=now, client_id=cid)
        result.claim = result.undone
        return
    item_id = entry.get("item_id")
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise AnswerError("an answer needs an item id")
    if kind == "submit":
        item = (known_items(item_id) if known_items else None) or get_item(queue.db, item_id)
        if item is None:
            raise StoreError("That item does not exist.")
        fields, problems = kind_of.submit_fields(entry, item)
        if problems:
            raise StoreError("; ".join(problems))
        done = queue.submit(item_id, timing=_timing(entry, now), now=now, client_id=cid,
                            **fields)
        result.saved.append((item, done.annotation_id, fields))
        result.claim = done
    elif kind in ("skip", "flag"):
        timing = _timing(entry, now, bool(entry.get("text_seen", True)))
        action = queue.skip if kind == "skip" else queue.flag
        result.claim = action(item_id, _reason(entry), timing, now=now, client_id=cid)
        result.released.append((item_id, kind))
    elif kind == "reveal":
        what = entry.get("what")
        if what not in REVEALS:
            raise AnswerError("unknown reveal")
        details: dict[str, Any] = {"what": what}
        terms = entry.get("terms")
        if isinstance(terms, int) and not isinstance(terms, bool) and terms > 0:
            details["terms"] = terms
        if entry.get("by") == "preference":
            details["by"] = "preference"
        record_reveal(queue.db, queue.user_id, queue.project_id, item_id, details, cid, now)
    else:
        raise AnswerError("unknown kind of answer")
