"""Everything that happened to an item, in time order, for leads.

The history is gathered from sources: small functions `source(cur, item_id) ->
list[HistoryEntry]`, each reading one place, listed in HISTORY_SOURCES. The audit log gives
the claims, skips, reveals and any other event logged against the item; the tables that hold
the values give the import, every annotation version, the flags and the adjudications
(their events are left out of the audit-log source, so nothing is listed twice).

To add a source (threads, gold answers): write the function and append it to
HISTORY_SOURCES; if its records are also logged as events of some kind, add that kind to
TABLE_EVENT_KINDS so the audit-log source leaves them to yours.

For leads only: the history names every annotator and shows their answers, which
annotators never see of each other. These reads do not check the role (like every read in
the store); the Review page, the one place that shows it, does.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from store.db import Database


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    who: str | None         # a username; None for the system
    what: str               # what happened, a few words
    details: str = ""       # the values, reasons, notes: plain text, shown literally


HistorySource = Callable[[duckdb.DuckDBPyConnection, int], list[HistoryEntry]]

# Event kinds whose records come from a table source with their values instead.
TABLE_EVENT_KINDS: set[str] = {"submit", "correct", "flag", "adjudicate", "thread_message",
                                "gold_set", "gold_removed",
                                # Who read a thread when is not something that happened to
                                # the item.
                                "thread_read"}


def _signed(score: Any) -> str:
    return f"{score:+d}" if isinstance(score, int) and not isinstance(score, bool) else str(score)


def describe_label(is_safe: bool | None, categories: list[str] | None,
                   severity: int | None) -> str:
    """"unsafe · S1, S10 · severity 3", as a lead reads a label."""
    verdict = {True: "safe", False: "unsafe", None: "no verdict"}[is_safe]
    parts = [verdict]
    if categories:
        parts.append(", ".join(categories))
    if severity is not None:
        parts.append(f"severity {severity}")
    return " · ".join(parts)


def describe_judgment(judgment: dict[str, Any] | None) -> str:
    """"overall a · harmlessness +1 · helpfulness -2" (A and B as stored, not as shown)."""
    if not judgment:
        return "no judgment"
    parts = [f"overall {judgment.get('overall')}"]
    for axis in ("harmlessness", "helpfulness"):
        if judgment.get(axis) is not None:
            parts.append(f"{axis} {_signed(judgment[axis])}")
    safety = judgment.get("safety") or {}
    for side in ("a", "b"):
        verdict = safety.get(side)
        if verdict:
            parts.append(f"response {side.upper()} "
                         + describe_label(verdict.get("is_safe"), verdict.get("categories"), None))
    return " · ".join(parts)


def _with_text(summary: str, **texts: str | None) -> str:
    return summary + "".join(f" · {name}: {text}" for name, text in texts.items() if text)


def _imported(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    rows = cur.execute(
        "SELECT b.imported_at, u.username, b.id, b.file_name, b.items_added, i.external_id"
        " FROM items i JOIN imports b ON b.id = i.import_id LEFT JOIN users u ON u.id = b.user_id"
        " WHERE i.id = ?", [item_id]).fetchall()
    return [HistoryEntry(at, who, "imported",
                         f"as {external!r} from {file_name} (import #{batch}, "
                         f"{added:,} item{'' if added == 1 else 's'} added)")
            for at, who, batch, file_name, added, external in rows]


def _annotations(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    rows = cur.execute(
        "SELECT a.submitted_at, u.username, a.version, a.is_safe, a.categories, a.severity,"
        " a.judgment, a.note, a.edited_response IS NOT NULL, a.edit_distance, p.kind"
        " FROM annotations a JOIN projects p ON p.id = a.project_id"
        " LEFT JOIN users u ON u.id = a.user_id WHERE a.item_id = ? ORDER BY a.id",
        [item_id]).fetchall()
    entries = []
    for at, who, version, is_safe, cats, severity, judgment, note, rewrote, distance, kind in rows:
        if kind == "label":
            values = describe_label(is_safe, list(cats or []), severity)
            rationale = None
        else:
            parsed = json.loads(judgment) if judgment else None
            values = describe_judgment(parsed)
            rationale = (parsed or {}).get("rationale")
        if rewrote:
            values += " · rewrote the response" + (f" ({distance:,} edits)" if distance else "")
        entries.append(HistoryEntry(
            at, who, "answered" if version == 1 else f"corrected (version {version})",
            _with_text(values, note=note, rationale=rationale)))
    return entries


def _flags(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    rows = cur.execute(
        "SELECT f.flagged_at, u.username, f.reason FROM flags f"
        " LEFT JOIN users u ON u.id = f.user_id WHERE f.item_id = ? ORDER BY f.id",
        [item_id]).fetchall()
    return [HistoryEntry(at, who, "flagged", f"reason: {reason}") for at, who, reason in rows]


def _adjudications(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    rows = cur.execute(
        "SELECT j.decided_at, u.username, j.is_safe, j.categories, j.severity, j.judgment,"
        " j.reason, j.note, p.kind FROM adjudications j JOIN projects p ON p.id = j.project_id"
        " LEFT JOIN users u ON u.id = j.lead_id WHERE j.item_id = ? ORDER BY j.id",
        [item_id]).fetchall()
    entries = []
    for at, who, is_safe, cats, severity, judgment, reason, note, kind in rows:
        values = (describe_label(is_safe, list(cats or []), severity) if kind == "label"
                  else describe_judgment(json.loads(judgment) if judgment else None))
        entries.append(HistoryEntry(at, who, "adjudicated",
                                    _with_text(values, reason=reason, note=note)))
    return entries


def _messages(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    """The item's threads (store/threads.py): who wrote what, in which person's thread."""
    rows = cur.execute(
        "SELECT m.created_at, u.username, m.kind, a.username, m.body FROM messages m"
        " LEFT JOIN users u ON u.id = m.author_id LEFT JOIN users a ON a.id = m.annotator_id"
        " WHERE m.item_id = ? ORDER BY m.id", [item_id]).fetchall()
    words = {"question": "asked", "reply": "replied", "feedback": "gave feedback",
             "flag_note": "explained a flag"}
    return [HistoryEntry(at, who, words.get(kind, kind), f"thread with {annotator}: {body}")
            for at, who, kind, annotator, body in rows]


def _gold(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    """Expected answers set (or removed) for the item as a gold item (store/gold.py)."""
    rows = cur.execute(
        "SELECT g.set_at, u.username, g.removed_at IS NOT NULL, g.is_safe, g.categories,"
        " g.severity, g.judgment, g.explanation, g.qualification, p.kind"
        " FROM gold_answers g JOIN projects p ON p.id = g.project_id"
        " LEFT JOIN users u ON u.id = g.set_by WHERE g.item_id = ? ORDER BY g.id",
        [item_id]).fetchall()
    entries = []
    for at, who, removed, is_safe, cats, severity, judgment, explanation, qual, kind in rows:
        if removed:
            entries.append(HistoryEntry(at, who, "gold removed", ""))
            continue
        values = (describe_label(is_safe, list(cats or []), severity) if kind == "label"
                  else describe_judgment(json.loads(judgment) if judgment else None))
        entries.append(HistoryEntry(
            at, who, "gold answer set",
            _with_text(values + (" · qualification set" if qual else ""),
                       explanation=explanation)))
    return entries


_EVENT_WORDS = {"claim": "claimed", "claim_expired": "claim lapsed",
                "claim_released": "claim released", "skip": "skipped", "reveal": "revealed"}


def _event_details(kind: str, details: dict[str, Any], names: dict[int, str]) -> str:
    if kind == "skip":
        return f"reason: {details['reason']}" if details.get("reason") else "no reason given"
    if kind == "reveal":
        what = {"terms": "masked words", "text": "hidden text", "dim": "blurred text"}.get(
            details.get("what"), str(details.get("what")))
        extra = [f"{details['terms']} terms" if details.get("terms") else "",
                 "by preference" if details.get("by") == "preference" else "",
                 f"on the {details['where']} page" if details.get("where") else ""]
        return ", ".join([what] + [e for e in extra if e])
    if kind == "claim" and details.get("taken_over_from") is not None:
        return f"taken over from {names.get(details['taken_over_from'], details['taken_over_from'])}"
    if kind == "claim_expired" and details.get("taken_by") is not None:
        return f"taken by {names.get(details['taken_by'], details['taken_by'])}"
    if kind == "claim_released" and details.get("why"):
        return str(details["why"])
    return json.dumps(details, ensure_ascii=False, default=str) if details else ""


def _events(cur: duckdb.DuckDBPyConnection, item_id: int) -> list[HistoryEntry]:
    rows = cur.execute(
        "SELECT e.happened_at, u.username, e.kind, e.details FROM events e"
        " LEFT JOIN users u ON u.id = e.user_id"
        " WHERE e.item_id = ? AND NOT list_contains(?, e.kind) ORDER BY e.id",
        [item_id, sorted(TABLE_EVENT_KINDS)]).fetchall()
    names = dict(cur.execute("SELECT id, username FROM users").fetchall()) if any(
        r[2] in ("claim", "claim_expired") and r[3] for r in rows) else {}
    return [HistoryEntry(at, who, _EVENT_WORDS.get(kind, kind.replace("_", " ")),
                         _event_details(kind, json.loads(details) if details else {}, names))
            for at, who, kind, details in rows]


HISTORY_SOURCES: list[HistorySource] = [_imported, _events, _annotations, _flags,
                                        _adjudications, _messages, _gold]


def item_history(db: Database, item_id: int) -> list[HistoryEntry]:
    """Everything that happened to the item, oldest first: import, claims, every annotation
    version with its values, skips, flags, reveals, adjudications (and whatever sources were
    added). Entries at the same moment keep the order of their sources. Leads only."""
    entries: list[HistoryEntry] = []
    with db.read() as cur:
        for source in HISTORY_SOURCES:
            entries += source(cur, item_id)
    return sorted(entries, key=lambda e: e.when)   # stable: ties keep source order
