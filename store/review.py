"""The lead's review queues, and every annotator's current answer to an item.

A queue is a plain function `fn(db, project_id, **opts) -> list[QueueRow]` registered by
name in REVIEW_QUEUES; the Review page offers every registered queue. To add one, write the
function (its options as keyword arguments with defaults; every queue takes `limit`) and
add it: `REVIEW_QUEUES["asked about"] = open_questions`. The page passes an option only to a
queue whose signature names it (see `queue_takes`).

Adjudicated items (store/adjudication.py) leave the queues: an item is listed only when
something arrived after its latest adjudication: a vote or correction submitted later (the
disagreement queue, when the current votes still disagree) or a later flag (the flag queue).
So a decision closes the item, and new work on it opens it again.

Names of annotators are shown to leads here only (the page checks the role; these reads
do not, like every read in the store). Every query runs in DuckDB over the project's rows;
nothing is loaded into pandas.
"""
from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.db import Database
from store.gold import gold_misses
from store.threads import open_questions

DEFAULT_LIMIT = 500
SUMMARY_CHARS = 300


@dataclass(frozen=True)
class QueueRow:
    item_id: int
    external_id: str
    summary: str                        # why the item is in the queue, one line of plain text
    counts: dict[str, int] = field(default_factory=dict)   # e.g. {"votes": 3, "majority": 2}
    since: datetime | None = None       # the newest vote / flag that put it there


ReviewQueue = Callable[..., list[QueueRow]]

# The answer fields each project kind compares, as SQL over a current annotation `c`.
LABEL_QUESTIONS: dict[str, str] = {
    "safe/unsafe": "c.is_safe",
    "categories": "list_sort(coalesce(c.categories, []))",
    "severity": "c.severity",
}
COMPARE_QUESTIONS: dict[str, str] = {
    "overall": "c.judgment->>'overall'",
    "harmlessness": "TRY_CAST(c.judgment->>'harmlessness' AS INTEGER)",
    "helpfulness": "TRY_CAST(c.judgment->>'helpfulness' AS INTEGER)",
}


def questions_for(project_kind: str) -> dict[str, str]:
    return LABEL_QUESTIONS if project_kind == "label" else COMPARE_QUESTIONS


def _project_kind(cur, project_id: int) -> str | None:
    row = cur.execute("SELECT kind FROM projects WHERE id = ?", [project_id]).fetchone()
    return row[0] if row else None


def _clip(text: str) -> str:
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


# Each person's current answer per item of the project: the annotations no later version
# supersedes (a correction names the row it supersedes, store/work.py). An anti-join on the
# few superseded ids, instead of ranking versions per (item, person): 1,000,000 annotations
# in about 25 ms instead of 1.5 s (bench/bench_review.py).
_CURRENT = """
    SELECT * FROM annotations WHERE project_id = $project
      AND id NOT IN (SELECT supersedes FROM annotations
                     WHERE project_id = $project AND supersedes IS NOT NULL)"""

# The time of each item's latest adjudication.
_DECIDED = """
    SELECT item_id, max(decided_at) AS decided_at FROM adjudications
    WHERE project_id = $project GROUP BY item_id"""


def disagreements(db: Database, project_id: int, threshold: float | None = None,
                  questions: tuple[str, ...] | None = None,
                  limit: int = DEFAULT_LIMIT) -> list[QueueRow]:
    """Items with two or more current votes whose answers differ, least agreement first.

    An answer is the tuple of the `questions` compared (default: all of the project kind's:
    safe/unsafe, categories and severity; or overall, harmlessness and helpfulness). An
    item's agreement is the share of its votes on the most common answer. `threshold`
    None lists any disagreement (agreement below 1); a number lists items whose agreement
    is below it (0.7: fewer than 70% on the majority answer). Adjudicated items are left
    out unless a vote or correction came after the latest adjudication."""
    with db.read() as cur:
        kind = _project_kind(cur, project_id)
        if kind is None:
            return []
        known = questions_for(kind)
        chosen = [q for q in (questions or tuple(known)) if q in known]
        if not chosen:
            return []
        # Answers are compared by a 64-bit hash of their fields: grouping on the values
        # themselves (a list among them) took twice as long.
        answer = f"hash({', '.join(known[q] for q in chosen)})"
        params = {"project": project_id, "limit": int(limit),
                  "threshold": 1.0 if threshold is None else float(threshold)}
        rows = cur.execute(f"""
            WITH current AS ({_CURRENT}),
            answers AS (SELECT c.item_id, {answer} AS answer, count(*) AS n,
                               max(c.submitted_at) AS last_vote
                        FROM current c GROUP BY ALL),
            per_item AS (SELECT item_id, sum(n) AS votes, max(n) AS top,
                                count(*) AS distinct_answers, max(last_vote) AS last_vote
                         FROM answers GROUP BY item_id HAVING sum(n) >= 2),
            decided AS ({_DECIDED})
            SELECT p.item_id, i.external_id, p.votes, p.top, p.distinct_answers, p.last_vote,
                   d.decided_at
            FROM per_item p JOIN items i ON i.id = p.item_id
            LEFT JOIN decided d ON d.item_id = p.item_id
            -- Gold items have an expected answer: their misses are the gold queue's.
            WHERE p.top < p.votes AND p.top < p.votes * $threshold
              AND NOT coalesce(i.gold, false)
              AND (d.decided_at IS NULL OR p.last_vote > d.decided_at)
            ORDER BY p.top / p.votes, p.item_id
            LIMIT $limit""", params).fetchall()
        # Which questions differ: asked of the listed items only.
        differs = ", ".join(f"count(DISTINCT {known[q]}) > 1" for q in chosen)
        differ_rows = cur.execute(f"""
            SELECT c.item_id, {differs} FROM ({_CURRENT}) c
            WHERE list_contains($items, c.item_id) GROUP BY c.item_id""",
            {"project": project_id, "items": [r[0] for r in rows]}).fetchall() if rows else []
    differing = {r[0]: [q for q, d in zip(chosen, r[1:]) if d] for r in differ_rows}
    result = []
    for item_id, external_id, votes, top, distinct, last_vote, decided_at in rows:
        summary = (f"{top} of {votes} votes on the most common answer ({top / votes:.0%}); "
                   f"{distinct} different answers; differ on "
                   f"{', '.join(differing.get(item_id, []))}")
        if decided_at is not None:
            summary += "; re-opened by votes after the adjudication"
        result.append(QueueRow(int(item_id), external_id, summary,
                               {"votes": int(votes), "majority": int(top),
                                "answers": int(distinct)}, last_vote))
    return result


def flags(db: Database, project_id: int, limit: int = DEFAULT_LIMIT) -> list[QueueRow]:
    """Flagged items with their reasons (newest flag first). An adjudicated item is listed
    only for flags raised after its latest adjudication."""
    with db.read() as cur:
        rows = cur.execute(f"""
            WITH decided AS ({_DECIDED}),
            open_flags AS (
                SELECT f.* FROM flags f LEFT JOIN decided d ON d.item_id = f.item_id
                WHERE f.project_id = $project
                  AND (d.decided_at IS NULL OR f.flagged_at > d.decided_at))
            SELECT f.item_id, i.external_id, count(*) AS flags,
                   count(DISTINCT f.user_id) AS people, max(f.flagged_at) AS last_flag,
                   list(f.reason ORDER BY f.flagged_at DESC, f.id DESC) AS reasons
            FROM open_flags f JOIN items i ON i.id = f.item_id
            GROUP BY f.item_id, i.external_id
            ORDER BY last_flag DESC, f.item_id
            LIMIT $limit""", {"project": project_id, "limit": int(limit)}).fetchall()
    result = []
    for item_id, external_id, count, people, last_flag, reasons in rows:
        # Reasons are people's text: quoted as they are (the page shows them as plain text).
        quoted = " · ".join(json.dumps(r, ensure_ascii=False) for r in reasons)
        summary = _clip(f"{count} flag{'s' if count != 1 else ''}: {quoted}")
        result.append(QueueRow(int(item_id), external_id, summary,
                               {"flags": int(count), "people": int(people)}, last_flag))
    return result


def gold_miss_items(db: Database, project_id: int, limit: int = DEFAULT_LIMIT) -> list[QueueRow]:
    """Gold items someone answered wrongly (their first answer), most recent miss first:
    who missed and on what. A miss is feedback the person already saw on the work page; a
    lead looks here for items whose expected answer may itself be wrong."""
    by_item: dict[int, list] = {}
    for miss in gold_misses(db, project_id):
        by_item.setdefault(miss.item_id, []).append(miss)
    with db.read() as cur:
        external = dict(cur.execute(
            "SELECT id, external_id FROM items WHERE list_contains(?, id)",
            [list(by_item)]).fetchall()) if by_item else {}
    rows = []
    for item_id, found in by_item.items():
        people = sorted({m.username for m in found})
        missed = sorted({what for m in found for what in m.missed})
        rows.append(QueueRow(item_id, external.get(item_id, ""), _clip(
            f"{len(found)} miss{'es' if len(found) != 1 else ''} ({', '.join(missed)}) by "
            f"{', '.join(people)}"), {"misses": len(found), "people": len(people)},
            max(m.submitted_at for m in found)))
    rows.sort(key=lambda r: (r.since is None, r.since), reverse=True)
    return rows[:limit]


def asked_about(db: Database, project_id: int, limit: int = DEFAULT_LIMIT) -> list[QueueRow]:
    """Items an annotator asked about (or wrote on) since a lead last wrote in that thread,
    the longest waiting first."""
    rows = []
    for entry in open_questions(db, project_id, limit=limit):
        rows.append(QueueRow(entry.item_id, entry.external_id, _clip(
            f"{entry.annotator_name} wrote: {entry.last_preview}"),
            {"messages": int(entry.messages)}, entry.last_at))
    return rows


REVIEW_QUEUES: dict[str, ReviewQueue] = {
    "disagreements": disagreements,
    "flags": flags,
    "gold misses": gold_miss_items,
    "asked about": asked_about,
}


def queue_takes(name: str, option: str) -> bool:
    """Whether the registered queue `name` takes the keyword option `option`."""
    queue = REVIEW_QUEUES.get(name)
    return queue is not None and option in inspect.signature(queue).parameters


@dataclass(frozen=True)
class Answer:
    """One annotator's current (latest) answer to an item."""
    annotation_id: int
    user_id: int
    username: str
    name: str
    version: int
    submitted_at: datetime
    is_safe: bool | None
    categories: list[str]
    severity: int | None
    judgment: dict[str, Any] | None
    note: str | None
    edited_response: str | None
    guideline_version: int | None = None     # None: made before versions, or imported


def item_answers(db: Database, item_id: int) -> list[Answer]:
    """Every annotator's current answer to the item, with their names, in the order they
    first answered. For leads only: annotators never see each other's answers."""
    with db.read() as cur:
        rows = cur.execute("""
            SELECT a.id, a.user_id, u.username, u.name, a.version, a.submitted_at, a.is_safe,
                   a.categories, a.severity, a.judgment, a.note, a.edited_response,
                   a.guideline_version
            FROM annotations a JOIN users u ON u.id = a.user_id
            WHERE a.item_id = ?
            QUALIFY row_number() OVER (PARTITION BY a.user_id ORDER BY a.version DESC) = 1
            ORDER BY min(a.id) OVER (PARTITION BY a.user_id)""", [item_id]).fetchall()
    return [Answer(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), r[5], r[6], list(r[7] or []),
                   r[8], json.loads(r[9]) if r[9] else None, r[10], r[11], r[12]) for r in rows]


def find_item(db: Database, project_id: int, external_id: str) -> int | None:
    """The id of the project's item imported with `external_id`, or None."""
    with db.read() as cur:
        row = cur.execute("SELECT id FROM items WHERE project_id = ? AND external_id = ?",
                          [project_id, external_id]).fetchone()
    return int(row[0]) if row else None
