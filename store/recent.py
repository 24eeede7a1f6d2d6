"""One person's recent work: the items they annotated, with their current answer, so they can
reopen any of them and correct it (a correction appends a version, see store/work.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.answers import ALL_ANSWERS, answer_summary
from store.access import workable_project_sql
from store.db import Database, StoreError

PREVIEW_CHARS = 200
MAX_LIMIT = 1000

# The answer filters over the current version `m` (compare answers as the person saw them:
# "A better" is the response shown on their left, which the judgment records).
_OVERALL = "json_extract_string(m.judgment, '$.overall')"
_LEFT = "coalesce(json_extract_string(m.judgment, '$.left'), 'a')"
_ANSWER_SQL = {
    "safe": "m.is_safe",
    "unsafe": "NOT m.is_safe",
    "A better": f"{_OVERALL} = {_LEFT}",
    "B better": f"{_OVERALL} IN ('a', 'b') AND {_OVERALL} <> {_LEFT}",
    "tie": f"{_OVERALL} = 'tie'",
}
assert set(_ANSWER_SQL) == set(ALL_ANSWERS)

# A transcript item may have no prompt: its turns stand in for it (preview and search).
_PROMPT_TEXT = ("coalesce(i.prompt, array_to_string("
                "json_extract_string(i.messages, '$[*].content'), ' '), '')")


@dataclass(frozen=True)
class RecentItem:
    item_id: int
    project_id: int
    project_name: str
    project_kind: str
    external_id: str
    prompt_preview: str
    answer: str                   # the current version in words (core/answers.py)
    version: int
    submitted_at: datetime        # of the current version (UTC)
    severity: int | None = None   # the person's own severity, when they gave one
    hint_severity: int | None = None


def recent_items(db: Database, user_id: int, since: datetime, project_id: int | None = None,
                 search: str | None = None, answer: str | None = None, limit: int = 200,
                 until: datetime | None = None) -> list[RecentItem]:
    """The items this person annotated whose current version (their latest) was submitted
    in [since, until), newest first, at most `limit`, each with that version's answer.

    Only projects the person may still work on (active account, not archived, assigned or
    open, or a lead): what is listed can be corrected. `search` matches the external id or
    the prompt (a transcript's turns), case-insensitive; `answer` is one of
    core.answers.ALL_ANSWERS. One query: the person's rows since `since` (annotations are
    appended in time order, so DuckDB's per-row-group min/max skips older ones), their
    latest version per item, the page of those (`limit`), then the item rows of that page.
    An index on annotations(user_id) did not help (bench/bench_recent.py): one person's
    rows are too many for DuckDB to use it, and the time filter already skips most rows.
    """
    if answer is not None and answer not in _ANSWER_SQL:
        raise StoreError(f"unknown answer filter {answer!r}: choose one of {', '.join(ALL_ANSWERS)}")
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise StoreError(f"the limit must be between 1 and {MAX_LIMIT}")
    clauses = [workable_project_sql("p", "u")]
    # In text order: the person and `since` (in `m`), the person again (`u`), the filters.
    params: list[Any] = [user_id, since, user_id]
    if until is not None:
        clauses.append("m.submitted_at < ?")
        params.append(until)
    if project_id is not None:
        clauses.append("m.project_id = ?")
        params.append(int(project_id))
    if answer is not None:
        clauses.append(f"coalesce({_ANSWER_SQL[answer]}, false)")
    needle = (search or "").strip().lower()
    if needle:
        clauses.append("EXISTS (SELECT 1 FROM items i WHERE i.id = m.item_id AND"
                       f" (contains(lower(i.external_id), ?) OR contains(lower({_PROMPT_TEXT}), ?)))")
        params += [needle, needle]
    params.append(int(limit))
    sql = (
        "WITH m AS ("
        " SELECT item_id, project_id, version, is_safe, categories, severity, judgment, submitted_at"
        " FROM annotations WHERE user_id = ? AND submitted_at >= ?"
        " QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY version DESC) = 1),"
        # The page first, then the item rows of that page only (their text is the bulk).
        " listed AS (SELECT m.*, p.name, p.kind FROM m JOIN projects p ON p.id = m.project_id"
        " JOIN users u ON u.id = ?"
        f" WHERE {' AND '.join(clauses)}"
        " ORDER BY m.submitted_at DESC, m.item_id DESC LIMIT ?)"
        " SELECT m.item_id, m.project_id, m.name, m.kind, i.external_id,"
        f" left({_PROMPT_TEXT}, {PREVIEW_CHARS}), m.is_safe, m.categories, m.severity,"
        " m.judgment, m.version, m.submitted_at, i.hint_severity"
        " FROM listed m JOIN items i ON i.id = m.item_id"
        " ORDER BY m.submitted_at DESC, m.item_id DESC")
    with db.read() as cur:
        rows = cur.execute(sql, params).fetchall()
    return [_recent(row) for row in rows]


def _recent(row: tuple) -> RecentItem:
    (item_id, project_id, name, kind, external_id, preview, is_safe, categories, severity,
     judgment, version, submitted_at, hint_severity) = row
    judgment = json.loads(judgment) if judgment else None
    return RecentItem(int(item_id), int(project_id), name, kind, external_id,
                      " ".join((preview or "").split()),
                      answer_summary(is_safe, categories, severity, judgment), int(version),
                      submitted_at, severity, hint_severity)
