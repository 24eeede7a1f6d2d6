"""Wellness plans and the informed start.

Opt-outs: a person may opt out of up to core.wellness.MAX_OPT_OUTS categories of a project's
taxonomy; the queue then does not serve them items whose hint names one of them
(store/work.py). The choice is private: it lives in its own table (`opt_outs`, appended; the
latest row of a person and project wins), not in `preferences`, whose change events carry
the value. The event logged with a change says only that the plan changed, and leads see a
count per category, never under the minimum group size (`opt_out_counts`). Nothing else
reads it: no score, no dashboard figure of a person.

Informed start: the first time a person opens a project's work page they see what it holds
(`project_briefing`) and confirm (`confirm_informed_start`, an `informed_start` event);
`has_confirmed_start` is asked before anything is claimed.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from core.wellness import (CONTENT_DESCRIPTION_SETTING, HINT_CATEGORY_SEPARATORS, normal_code,
                           opt_out_problems, shown_count)
from core.taxonomy import taxonomy_from_json
from store.access import require_worker
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.settings import min_group_size
from store.users import require_role

OPT_OUT_EVENT = "wellness_plan_changed"
INFORMED_START_EVENT = "informed_start"


# -- opt-outs ---------------------------------------------------------------------------------

def hint_names_any_sql(terms: Sequence[str], column: str = "hint_category") -> tuple[str, list[Any]]:
    """SQL twin of core.wellness.hint_names_category over any of `terms` (codes and labels):
    a condition that is true when one of the hint's parts starts with one of them or is one
    (NULL when the item has no hint; wrap it in coalesce). ('FALSE', []) when there are none."""
    if not terms:
        return "FALSE", []
    separators = "[" + re.escape(HINT_CATEGORY_SEPARATORS) + "]"
    parts = f"string_split_regex(lower({column}), '{separators}')"
    return (f"(list_has_any(list_transform({parts}, lambda p: regexp_extract(trim(p), '^[^\\s:]*')),"
            f" ?::VARCHAR[]) OR list_has_any(list_transform({parts}, lambda p: trim(p)), ?::VARCHAR[]))",
            [[normal_code(t) for t in terms]] * 2)


def hint_parts_sql(column: str = "hint_category", none: str | None = "none") -> str:
    """SQL: the list of categories a hint names (core.wellness.hint_category_parts), or
    [`none`] for an item without one (`none` None: an empty list). Unnest it to count per
    category: a hint "S4,S12" counts for both."""
    separators = "[" + re.escape(HINT_CATEGORY_SEPARATORS) + "]"
    parts = (f"list_filter(list_transform(string_split_regex(coalesce({column}, ''),"
             f" '{separators}'), lambda p: trim(p)), lambda p: p <> '')")
    if none is None:
        return parts
    return f"(CASE WHEN len({parts}) = 0 THEN ['{none}'] ELSE {parts} END)"


def _latest_opt_outs(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int) -> tuple[str, ...]:
    row = cur.execute("SELECT categories FROM opt_outs WHERE user_id = ? AND project_id = ?"
                      " ORDER BY set_at DESC LIMIT 1", [user_id, project_id]).fetchone()
    return tuple(row[0]) if row else ()


def queue_opt_outs(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int,
                   project_id: int) -> tuple[str, ...]:
    """What to keep from this person, for the queue inside its transaction: the codes of the
    categories they opted out of and those categories' labels (a file's hint may name a
    category by its label). Cached per person and project (a change drops the entry)."""
    key = ("opt_outs", user_id, project_id)
    cached = db.access_cache.get(key)
    if cached is None:
        codes = _latest_opt_outs(cur, user_id, project_id)
        labels: tuple[str, ...] = ()
        if codes:
            row = cur.execute("SELECT taxonomy FROM projects WHERE id = ?", [project_id]).fetchone()
            taxonomy = taxonomy_from_json(row[0]) if row else None
            labels = tuple(c.name for c in taxonomy.categories if c.code in codes) if taxonomy else ()
        cached = db.access_cache[key] = codes + tuple(l for l in labels if l not in codes)
    return cached


def my_opt_outs(db: Database, user_id: int, project_id: int) -> tuple[str, ...]:
    """The person's own opt-outs in the project (only they are shown them)."""
    with db.read() as cur:
        return _latest_opt_outs(cur, user_id, project_id)


def set_opt_outs(db: Database, user_id: int, project_id: int, codes: Sequence[str],
                 now: datetime | None = None) -> None:
    """A person sets their own opt-outs in a project (replacing the earlier choice; an empty
    list opts back in). Bad input: StoreError, nothing written."""
    codes = list(codes)

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_worker(db, cur, user_id, project_id)
        row = cur.execute("SELECT taxonomy FROM projects WHERE id = ?", [project_id]).fetchone()
        problems = opt_out_problems(codes, taxonomy_from_json(row[0]).category_codes())
        if problems:
            raise StoreError("; ".join(problems))
        cur.execute("INSERT INTO opt_outs VALUES (?, ?, ?, ?)",
                    [user_id, project_id, sorted(set(codes)), now or utcnow()])
        # Which categories stays out of the log: the table is the private record.
        log_event(cur, OPT_OUT_EVENT, user_id, project_id)

    db.write(work)
    db.access_cache.pop(("opt_outs", user_id, project_id), None)


@dataclass(frozen=True)
class OptOutCount:
    code: str
    name: str
    people: int | None       # None: some, but fewer than the minimum group size (privacy)


def opt_out_counts(db: Database, actor_id: int, project_id: int) -> list[OptOutCount]:
    """For a lead staffing the project: how many people opted out of each category of its
    taxonomy (everyone's latest plan), never who. A count above zero but under the
    installation's minimum group size is withheld (None)."""
    floor = min_group_size(db)
    with db.read() as cur:
        require_role(cur, actor_id, "lead")
        row = cur.execute("SELECT taxonomy FROM projects WHERE id = ?", [project_id]).fetchone()
        if row is None:
            raise StoreError("no such project")
        counts = dict(cur.execute(
            # Each person's newest plan (a window, not arg_max: on PostgreSQL that takes
            # scalars only).
            "WITH plans AS (SELECT user_id, categories FROM opt_outs WHERE project_id = ?"
            " QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY set_at DESC) = 1)"
            " SELECT code, count(*) FROM (SELECT unnest(categories) AS code FROM plans)"
            " GROUP BY code", [project_id]).fetchall())
    taxonomy = taxonomy_from_json(row[0])
    return [OptOutCount(c.code, c.name, shown_count(int(counts.get(c.code, 0)), floor))
            for c in taxonomy.categories]


# -- informed start ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Briefing:
    """What a project holds, for the informed-start screen."""
    description: str                       # the lead's words ('' when none)
    items: int
    categories: list[tuple[str, int]]      # (hint category, items), most items first
    highest_severity: int | None           # the highest severity hint of any item
    items_by_severity: dict[int, int]


def project_briefing(db: Database, project_id: int) -> Briefing:
    """The lead's description and, from the items' hints (SQL aggregates): the categories
    named, and the highest severity present."""
    with db.read() as cur:
        row = cur.execute("SELECT settings FROM projects WHERE id = ?", [project_id]).fetchone()
        if row is None:
            raise StoreError("no such project")
        settings = json.loads(row[0]) if row[0] else {}
        by_severity = cur.execute(
            "SELECT hint_severity, count(*) FROM items WHERE project_id = ?"
            " GROUP BY hint_severity", [project_id]).fetchall()
        categories = cur.execute(
            f"SELECT category, count(*) AS n FROM (SELECT unnest({hint_parts_sql(none=None)})"
            " AS category FROM items WHERE project_id = ?)"
            " GROUP BY ALL ORDER BY n DESC, category", [project_id]).fetchall()
    severities = {int(s): int(n) for s, n in by_severity if s is not None}
    return Briefing(str(settings.get(CONTENT_DESCRIPTION_SETTING) or ""),
                    sum(int(n) for _, n in by_severity),
                    [(str(c), int(n)) for c, n in categories],
                    max(severities) if severities else None, severities)


def has_confirmed_start(db: Database, user_id: int, project_id: int) -> bool:
    """Whether the person confirmed the project's informed start (ever). Once true it stays
    true, so it is cached for the process."""
    key = ("informed_start", user_id, project_id)
    if db.access_cache.get(key):
        return True
    with db.read() as cur:
        found = cur.execute(
            "SELECT 1 FROM events WHERE kind = ? AND user_id = ? AND project_id = ? LIMIT 1",
            [INFORMED_START_EVENT, user_id, project_id]).fetchone() is not None
    if found:
        db.access_cache[key] = True
    return found


def confirm_informed_start(db: Database, user_id: int, project_id: int,
                           protections: Sequence[str] = ()) -> None:
    """The person read what the project holds and the protections on, and starts: an
    `informed_start` event (once; a second confirmation changes nothing)."""
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_worker(db, cur, user_id, project_id)
        done = cur.execute("SELECT 1 FROM events WHERE kind = ? AND user_id = ? AND project_id = ?"
                           " LIMIT 1", [INFORMED_START_EVENT, user_id, project_id]).fetchone()
        if done is None:
            log_event(cur, INFORMED_START_EVENT, user_id, project_id,
                      details={"protections": list(protections)} if protections else None)

    db.write(work)
    db.access_cache[("informed_start", user_id, project_id)] = True
