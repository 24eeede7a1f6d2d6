"""Exports, written by DuckDB's COPY straight from SQL (no Python loop over rows).

Kinds:
- `annotations`: every vote and every version, with annotator, timestamps and active time;
- `items`: one row per item with the agreed answer (majority of current votes; ties are
  reported as ties, never resolved silently);
- both say when an item is over-served: more people annotated it than the project's overlap
  (late work after a lapsed claim is kept, never dropped, and marked instead). That is the
  item's own state, counted over all its annotations whatever the export's filters;
- `trl_preference` / `trl_preference_conversational`: TRL's `prompt`/`chosen`/`rejected`, one
  row per current judgment, ties dropped, decided by an axis, with a minimum strength and an
  optional `margin`;
- `trl_unpaired`: TRL's `prompt`/`completion`/`label` from labeling projects (label = safe);
- `label_studio`: Label Studio tasks with their annotations (JSON array).

No export touches wellbeing data (check-ins, exposure, reveals, breaks): they are not read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from core.csv_safety import neutralise_sql
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.projects import _get as _get_project
from store.users import require_role

KINDS = ("annotations", "items", "trl_preference", "trl_preference_conversational",
         "trl_unpaired", "label_studio")
FORMATS = ("jsonl", "csv", "parquet", "json")
AXES = ("overall", "harmlessness", "helpfulness")
COMPARE_ONLY = {"trl_preference", "trl_preference_conversational"}
LABEL_ONLY = {"trl_unpaired"}


@dataclass(frozen=True)
class ExportFilter:
    since: datetime | None = None
    until: datetime | None = None
    annotator_ids: tuple[int, ...] = field(default_factory=tuple)


# The votes in scope: the project's annotations, filtered by date and annotator.
_VOTES = """
    SELECT a.*, u.username AS annotator,
           row_number() OVER (PARTITION BY a.item_id, a.user_id ORDER BY a.version DESC) = 1
             AS is_current
    FROM annotations a JOIN users u ON u.id = a.user_id
    WHERE a.project_id = $project
      AND ($since IS NULL OR a.submitted_at >= $since)
      AND ($until IS NULL OR a.submitted_at < $until)
      AND (len($annotators) = 0 OR list_contains($annotators, a.user_id))
"""

# Per item of the project: how many people annotated it (each person's first version is
# theirs alone), and whether that is more than the overlap asked for (parameter: project).
_SERVED = """
    SELECT item_id, count(*) AS annotators,
           (SELECT overlap FROM projects WHERE id = $project) AS overlap,
           count(*) > (SELECT overlap FROM projects WHERE id = $project) AS over_served
    FROM annotations
    WHERE project_id = $project AND version = 1
    GROUP BY item_id
"""

# Item text for plain-text formats: a transcript is written as "User: ...\n\nAssistant: ...".
_PROMPT_TEXT = """coalesce(
    CASE WHEN i.messages IS NOT NULL THEN array_to_string(list_transform(
        json_extract(i.messages, '$[*]'),
        lambda m: CASE json_extract_string(m, '$.role') WHEN 'user' THEN 'User'
                  WHEN 'assistant' THEN 'Assistant' ELSE json_extract_string(m, '$.role') END
                  || ': ' || json_extract_string(m, '$.content')), chr(10) || chr(10)) END,
    i.prompt)"""

_PROMPT_MESSAGES = """CASE WHEN i.messages IS NOT NULL
    THEN from_json(i.messages, '[{"role": "VARCHAR", "content": "VARCHAR"}]')
    ELSE [{'role': 'user', 'content': i.prompt}] END"""


def _annotations_sql() -> str:
    return f"""
    WITH votes AS ({_VOTES}), served AS ({_SERVED})
    SELECT v.id AS annotation_id, v.item_id, i.external_id, v.user_id AS annotator_id,
           v.annotator, v.version, v.supersedes, v.is_current, v.is_safe, v.categories,
           v.severity, v.note, v.edited_response, v.edit_distance, v.judgment,
           v.shown_at, v.submitted_at, v.active_ms, s.over_served AS item_over_served
    FROM votes v JOIN items i ON i.id = v.item_id JOIN served s ON s.item_id = v.item_id
    ORDER BY v.id"""


def _items_sql(kind: str) -> str:
    if kind == "label":
        return f"""
    WITH votes AS ({_VOTES}), current AS (SELECT * FROM votes WHERE is_current),
    served AS ({_SERVED}),
    per_item AS (
        SELECT item_id, count(*) AS votes,
               count(*) FILTER (WHERE is_safe) AS safe_votes,
               count(*) FILTER (WHERE NOT is_safe) AS unsafe_votes,
               median(severity) AS median_severity
        FROM current GROUP BY item_id),
    category_votes AS (
        SELECT c.item_id, cat, count(*) AS n FROM current c, unnest(c.categories) AS t(cat)
        GROUP BY ALL)
    SELECT i.id AS item_id, i.external_id, i.prompt, i.response, p.votes, p.safe_votes,
           p.unsafe_votes,
           CASE WHEN p.safe_votes > p.unsafe_votes THEN true
                WHEN p.unsafe_votes > p.safe_votes THEN false END AS agreed_is_safe,
           p.safe_votes = p.unsafe_votes AS tie,
           coalesce((SELECT list(cat ORDER BY cat) FROM category_votes cv
                     WHERE cv.item_id = i.id AND cv.n * 2 > p.votes), []) AS agreed_categories,
           p.median_severity, false AS adjudicated, s.annotators, s.overlap, s.over_served
    FROM per_item p JOIN items i ON i.id = p.item_id JOIN served s ON s.item_id = p.item_id
    ORDER BY i.id"""
    return f"""
    WITH votes AS ({_VOTES}), current AS (SELECT * FROM votes WHERE is_current),
    served AS ({_SERVED}),
    per_item AS (
        SELECT item_id, count(*) AS votes,
               count(*) FILTER (WHERE judgment->>'overall' = 'a') AS a_votes,
               count(*) FILTER (WHERE judgment->>'overall' = 'b') AS b_votes,
               count(*) FILTER (WHERE judgment->>'overall' = 'tie') AS tie_votes
        FROM current GROUP BY item_id)
    SELECT i.id AS item_id, i.external_id, i.prompt, i.response_a, i.response_b, p.votes,
           p.a_votes, p.b_votes, p.tie_votes,
           CASE WHEN p.a_votes > greatest(p.b_votes, p.tie_votes) THEN 'a'
                WHEN p.b_votes > greatest(p.a_votes, p.tie_votes) THEN 'b'
                WHEN p.tie_votes > greatest(p.a_votes, p.b_votes) THEN 'tie' END AS agreed_overall,
           NOT (p.a_votes > greatest(p.b_votes, p.tie_votes)
                OR p.b_votes > greatest(p.a_votes, p.tie_votes)
                OR p.tie_votes > greatest(p.a_votes, p.b_votes)) AS tie,
           false AS adjudicated, s.annotators, s.overlap, s.over_served
    FROM per_item p JOIN items i ON i.id = p.item_id JOIN served s ON s.item_id = p.item_id
    ORDER BY i.id"""


def _preference_sql(conversational: bool, axis: str, margin: bool) -> str:
    if axis == "overall":
        winner = "v.judgment->>'overall'"
        strength = ("greatest(abs(CAST(v.judgment->>'harmlessness' AS INTEGER)),"
                    " abs(CAST(v.judgment->>'helpfulness' AS INTEGER)))")
    else:
        score = f"CAST(v.judgment->>'{axis}' AS INTEGER)"
        winner = f"CASE WHEN {score} > 0 THEN 'a' WHEN {score} < 0 THEN 'b' ELSE 'tie' END"
        strength = f"abs({score})"
    chosen = "CASE WHEN d.winner = 'a' THEN i.response_a ELSE i.response_b END"
    rejected = "CASE WHEN d.winner = 'a' THEN i.response_b ELSE i.response_a END"
    if conversational:
        columns = (f"{_PROMPT_MESSAGES} AS prompt, [{{'role': 'assistant', 'content': {chosen}}}] AS chosen,"
                   f" [{{'role': 'assistant', 'content': {rejected}}}] AS rejected")
    else:
        columns = f"{_PROMPT_TEXT} AS prompt, {chosen} AS chosen, {rejected} AS rejected"
    return f"""
    WITH votes AS ({_VOTES}),
    decided AS (
        SELECT v.id, v.item_id, {winner} AS winner, {strength} AS strength
        FROM votes v WHERE v.is_current AND v.judgment IS NOT NULL)
    SELECT {columns}{', d.strength AS margin' if margin else ''}
    FROM decided d JOIN items i ON i.id = d.item_id
    WHERE d.winner IN ('a', 'b') AND d.strength >= $min_strength
    ORDER BY d.id"""


def _unpaired_sql() -> str:
    return f"""
    WITH votes AS ({_VOTES})
    SELECT {_PROMPT_TEXT} AS prompt, i.response AS completion, v.is_safe AS label
    FROM votes v JOIN items i ON i.id = v.item_id
    WHERE v.is_current AND v.is_safe IS NOT NULL
    ORDER BY v.id"""


def _label_studio_sql(kind: str) -> str:
    if kind == "label":
        data = "{'prompt': " + _PROMPT_TEXT + ", 'response': i.response}"
        result = """[
            {'from_name': 'safety', 'to_name': 'response', 'type': 'choices',
             'value': {'choices': [CASE WHEN v.is_safe THEN 'safe' ELSE 'unsafe' END]}},
            {'from_name': 'categories', 'to_name': 'response', 'type': 'choices',
             'value': {'choices': coalesce(v.categories, [])}},
            {'from_name': 'severity', 'to_name': 'response', 'type': 'choices',
             'value': {'choices': [CAST(v.severity AS VARCHAR)]}}]"""
    else:
        data = ("{'prompt': " + _PROMPT_TEXT + ", 'response_a': i.response_a,"
                " 'response_b': i.response_b}")
        result = """[
            {'from_name': 'preference', 'to_name': 'pair', 'type': 'choices',
             'value': {'choices': [upper(v.judgment->>'overall')]}}]"""
    return f"""
    WITH votes AS ({_VOTES})
    SELECT i.id AS id, {data} AS data,
           list({{'completed_by': v.user_id,
                  'created_at': strftime(v.submitted_at, '%Y-%m-%dT%H:%M:%S.%fZ'),
                  'lead_time': v.active_ms / 1000.0,
                  'result': {result}}} ORDER BY v.id) AS annotations
    FROM votes v JOIN items i ON i.id = v.item_id
    WHERE v.is_current
    GROUP BY ALL
    ORDER BY i.id"""


def export_sql(kind: str, project_kind: str, axis: str = "overall", margin: bool = False) -> str:
    """The SELECT behind an export (parameters: project, since, until, annotators,
    min_strength)."""
    if kind not in KINDS:
        raise StoreError(f"unknown export {kind!r}: use one of {', '.join(KINDS)}")
    if kind in COMPARE_ONLY and project_kind != "compare":
        raise StoreError(f"{kind} needs a compare project")
    if kind in LABEL_ONLY and project_kind != "label":
        raise StoreError(f"{kind} needs a label project")
    if axis not in AXES:
        raise StoreError(f"unknown axis {axis!r}: use overall, harmlessness or helpfulness")
    if kind == "annotations":
        return _annotations_sql()
    if kind == "items":
        return _items_sql(project_kind)
    if kind in COMPARE_ONLY:
        return _preference_sql(kind.endswith("conversational"), axis, margin)
    if kind == "trl_unpaired":
        return _unpaired_sql()
    return _label_studio_sql(project_kind)


def _csv_safe(cur: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> str:
    """`sql` with every text column neutralised against spreadsheet formulas
    (core/csv_safety.py). Only VARCHAR columns: numbers stay numbers, and lists, structs and
    JSON are written starting with `[` or `{`, which no spreadsheet evaluates."""
    columns = cur.execute(f"SELECT * FROM ({sql}) LIMIT 0", params).description
    select = []
    for name, column_type, *_ in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        select.append(f"{neutralise_sql(quoted)} AS {quoted}" if str(column_type) == "VARCHAR"
                      else quoted)
    # A projection keeps the inner query's row order.
    return f"SELECT {', '.join(select)} FROM ({sql})"


def default_format(kind: str) -> str:
    return "json" if kind == "label_studio" else "jsonl"


def export(db: Database, actor_id: int | None, project_id: int, kind: str, out_path: str | Path,
           fmt: str | None = None, filters: ExportFilter | None = None, axis: str = "overall",
           min_strength: int = 1, margin: bool = False) -> int:
    """Write an export to `out_path`; return the number of rows. Leads and admins only
    (`actor_id=None` is the server's own CLI). The export is an audit event."""
    fmt = fmt or default_format(kind)
    if fmt not in FORMATS:
        raise StoreError(f"unknown format {fmt!r}: use jsonl, csv, parquet or json")
    if fmt == "json" and kind != "label_studio":
        fmt = "jsonl"
    if kind == "label_studio" and fmt != "json":
        raise StoreError("Label Studio exports are a JSON array: use format json")
    if not 0 <= int(min_strength) <= 3:
        raise StoreError("minimum strength is a whole number from 0 to 3")
    filters = filters or ExportFilter()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    options = {"jsonl": "FORMAT json", "json": "FORMAT json, ARRAY true", "csv": "FORMAT csv, HEADER",
               "parquet": "FORMAT parquet, COMPRESSION zstd"}[fmt]
    params: dict[str, Any] = {"project": project_id, "since": filters.since, "until": filters.until,
                              "annotators": list(filters.annotator_ids)}
    with db.read() as cur:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        project = _get_project(cur, project_id)
        if project is None:
            raise StoreError("no such project")
        sql = export_sql(kind, project.kind, axis, margin)
        if "$min_strength" in sql:
            params["min_strength"] = int(min_strength)
        if fmt == "csv":
            sql = _csv_safe(cur, sql, params)
        path_literal = "'" + str(out_path).replace("'", "''") + "'"
        rows = cur.execute(f"COPY ({sql}) TO {path_literal} ({options})", params).fetchone()[0]
    db.write(lambda wcur: log_event(wcur, "export", actor_id, project_id, details={
        "kind": kind, "format": fmt, "rows": int(rows), "axis": axis,
        "min_strength": min_strength, "since": str(filters.since) if filters.since else None,
        "until": str(filters.until) if filters.until else None,
        "annotators": list(filters.annotator_ids), "at": str(utcnow())}))
    return int(rows)
