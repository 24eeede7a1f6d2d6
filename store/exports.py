"""Exports, written by DuckDB's COPY straight from SQL (no Python loop over rows).

The kinds (which project kinds each fits, which formats) are the registry in
core/export_kinds.py; this module holds the SQL behind each:
- `annotations`: every vote and every version, with annotator, timestamps, active time and
  the guidelines version it was made under;
- `items`: one row per item with the agreed answer: a lead's adjudication where there is
  one (`adjudicated` true, with `adjudication_reason`), else the majority of current votes
  (ties are reported as ties, never resolved silently);
- both say when an item is over-served: more people annotated it than the project's overlap
  (late work after a lapsed claim is kept, never dropped, and marked instead). That is the
  item's own state, counted over all its annotations whatever the export's filters;
- `feedback`: skips (with their reason, when one was given) and flags, one row each;
- `trl_preference` / `trl_preference_conversational`: TRL's `prompt`/`chosen`/`rejected`, one
  row per current judgment, ties dropped, decided by an axis, with a minimum strength and an
  optional `margin`;
- `trl_rewrite_preference` / `..._conversational` (label projects): the rewrite chosen over
  the original response, when the current annotation labeled the original unsafe;
- `sft_rewrites` / `sft_rewrites_conversational` (label projects): TRL's `prompt`/`completion`
  with the rewritten response, one row per current annotation that rewrote it;
- `trl_unpaired`: TRL's `prompt`/`completion`/`label` from labeling projects (label = safe);
- `label_studio`: Label Studio tasks with their annotations (JSON array); each annotation
  names its annotator by id (`completed_by`) and username (`created_username`), and
  store/annotation_imports.py reads the file back as the same votes.
Gold items are left out of every kind built on items (agreed answers, training data); their
votes are in `annotations`.

Every row names its item by `external_id` (the id the item was imported with).

Text ("standard") TRL files follow the Anthropic HH-RLHF convention that TRL's own HH
examples use: the prompt is the conversation so far as "\n\nHuman: ...\n\nAssistant: ..."
turns, ending with the marker of the answer to come, "\n\nAssistant:"; the answer
(`chosen`, `rejected`, `completion`) starts with a space, so `prompt + chosen` is the whole
dialogue exactly as HH writes it. Conversational files give the same conversation as
`{role, content}` messages and the answer as a list holding the assistant's message.

No export touches wellbeing data (check-ins, exposure, reveals, breaks): they are not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from core.csv_safety import neutralise_sql
from core.export_kinds import AXES, FORMATS, KINDS, check_kind
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.projects import _get as _get_project
from store.users import require_role


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
      AND ($everyone OR list_contains($annotators, a.user_id))
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

# What the training kinds read of an item, beside the vote (`i` is the items table). Gold
# items (checks with a lead's expected answer, store/gold.py) are no training data.
_ITEM_COLUMNS = ("i.id, i.external_id, i.prompt, i.response, i.response_a, i.response_b,"
                 " i.messages, i.metadata")
_TRAINING_ITEMS = "i.project_id = $project AND NOT coalesce(i.gold, false)"

# Where a shape reads its export's rows: the rows' SELECT as a subquery on DuckDB, the Arrow
# stream from PostgreSQL on PostgreSQL (see `_write`).
ROWS = "__export_rows__"


def _with_turns(source: str) -> str:
    """Rows of `source` (each with an item's prompt, response and messages) with `turns`, the
    conversation before the answer as {role, content} messages: the transcript (without a
    last assistant turn that is the response under review, as the labeling page shows it),
    then the prompt as a user turn when there is one."""
    return f"""
    SELECT i.*,
           CASE WHEN i.m IS NULL THEN []
                WHEN i.m[-1].role = 'assistant' AND i.m[-1].content IS NOT DISTINCT FROM i.response
                THEN i.m[:-2] ELSE i.m END
           || CASE WHEN i.prompt IS NULL THEN [] ELSE [{{'role': 'user', 'content': i.prompt}}] END
             AS turns
    FROM (SELECT *, from_json(messages, '[{{"role": "VARCHAR", "content": "VARCHAR"}}]') AS m
          FROM {source}) i
"""


# `turns` (of a `_with_turns` row `t`) as HH text: "\n\nHuman: ...\n\nAssistant: ..." (other
# roles by their own name: "\n\nSystem: ...").
_DIALOGUE = """array_to_string(list_transform(t.turns, lambda x: chr(10) || chr(10)
    || CASE coalesce(x.role, 'user') WHEN 'user' THEN 'Human' WHEN 'assistant' THEN 'Assistant'
       ELSE upper(left(x.role, 1)) || substr(x.role, 2) END
    || ': ' || coalesce(x.content, '')), '')"""

# The standard-format prompt: the dialogue, then the marker of the assistant's answer.
_PROMPT_TEXT = f"({_DIALOGUE} || chr(10) || chr(10) || 'Assistant:')"


@dataclass(frozen=True)
class ExportQuery:
    """An export as two steps. `rows` is plain relational SQL (the store's dialect: it runs
    in DuckDB, or translated in PostgreSQL) that selects and joins what the file holds;
    `shape` (DuckDB only, or None to write the rows as they are) turns those rows, read from
    `ROWS`, into the file's columns: JSON nesting, message lists, dialogue text. It reads
    `ROWS` once, so a stream can feed it."""
    rows: str
    shape: str | None = None

    def duckdb_sql(self) -> str:
        """The whole export as one DuckDB query."""
        return self.rows if self.shape is None else self.shape.replace(ROWS, f"({self.rows})")


def _answer_text(expr: str) -> str:
    """An answer in the standard format: a space after "Assistant:", as in HH; an empty
    answer stays empty (the prompt then ends the text)."""
    return f"(CASE WHEN {expr} = '' THEN '' ELSE ' ' || {expr} END)"


def _answer_messages(expr: str) -> str:
    return f"[{{'role': 'assistant', 'content': {expr}}}]"


def _annotations_sql() -> str:
    return f"""
    WITH votes AS ({_VOTES}), served AS ({_SERVED})
    SELECT v.id AS annotation_id, v.item_id, i.external_id, v.user_id AS annotator_id,
           v.annotator, v.version, v.supersedes, v.is_current, v.is_safe, v.categories,
           v.severity, v.note, v.edited_response, v.edit_distance, v.judgment,
           v.shown_at, v.submitted_at, v.active_ms, v.guideline_version,
           s.over_served AS item_over_served
    FROM votes v JOIN items i ON i.id = v.item_id JOIN served s ON s.item_id = v.item_id
    ORDER BY v.id"""


# Each item's latest adjudication (the highest id: adjudications are append-only).
_ADJUDICATED = """
    SELECT * FROM adjudications WHERE project_id = $project
    QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY id DESC) = 1
"""


def _items_sql(kind: str) -> str:
    # Where a lead adjudicated the item, the agreed values are the lead's (`adjudicated`
    # true, with the reason); otherwise they come from the current votes. The vote counts
    # and `tie` always describe the votes.
    if kind == "label":
        return f"""
    WITH votes AS ({_VOTES}), current AS (SELECT * FROM votes WHERE is_current),
    served AS ({_SERVED}), adjudicated AS ({_ADJUDICATED}),
    per_item AS (
        SELECT item_id, count(*) AS votes,
               count(*) FILTER (WHERE is_safe) AS safe_votes,
               count(*) FILTER (WHERE NOT is_safe) AS unsafe_votes,
               median(severity) AS median_severity
        FROM current GROUP BY item_id),
    category_votes AS (
        SELECT c.item_id, cat, count(*) AS n FROM current c, unnest(c.categories) AS t(cat)
        GROUP BY ALL),
    -- Categories more than half the item's votes chose (a join, not a subquery per item:
    -- PostgreSQL ran that one once per item over every vote).
    majority AS (
        SELECT cv.item_id, list(cv.cat ORDER BY cv.cat) AS categories
        FROM category_votes cv JOIN per_item p ON p.item_id = cv.item_id
        WHERE cv.n * 2 > p.votes GROUP BY cv.item_id)
    SELECT i.id AS item_id, i.external_id, i.prompt, i.response, p.votes, p.safe_votes,
           p.unsafe_votes,
           CASE WHEN j.id IS NOT NULL THEN j.is_safe
                WHEN p.safe_votes > p.unsafe_votes THEN true
                WHEN p.unsafe_votes > p.safe_votes THEN false END AS agreed_is_safe,
           p.safe_votes = p.unsafe_votes AS tie,
           CASE WHEN j.id IS NOT NULL THEN coalesce(j.categories, CAST([] AS VARCHAR[]))
                ELSE coalesce(m.categories, CAST([] AS VARCHAR[])) END AS agreed_categories,
           p.median_severity,
           CASE WHEN j.id IS NOT NULL THEN j.severity ELSE p.median_severity END
             AS agreed_severity,
           j.id IS NOT NULL AS adjudicated, j.reason AS adjudication_reason,
           s.annotators, s.overlap, s.over_served
    FROM per_item p JOIN items i ON i.id = p.item_id JOIN served s ON s.item_id = p.item_id
    LEFT JOIN adjudicated j ON j.item_id = p.item_id LEFT JOIN majority m ON m.item_id = p.item_id
    WHERE NOT coalesce(i.gold, false)
    ORDER BY i.id"""
    return f"""
    WITH votes AS ({_VOTES}), current AS (SELECT * FROM votes WHERE is_current),
    served AS ({_SERVED}), adjudicated AS ({_ADJUDICATED}),
    per_item AS (
        SELECT item_id, count(*) AS votes,
               count(*) FILTER (WHERE judgment->>'overall' = 'a') AS a_votes,
               count(*) FILTER (WHERE judgment->>'overall' = 'b') AS b_votes,
               count(*) FILTER (WHERE judgment->>'overall' = 'tie') AS tie_votes,
               median(TRY_CAST(judgment->>'harmlessness' AS INTEGER)) AS median_harmlessness,
               median(TRY_CAST(judgment->>'helpfulness' AS INTEGER)) AS median_helpfulness
        FROM current GROUP BY item_id)
    SELECT i.id AS item_id, i.external_id, i.prompt, i.response_a, i.response_b, p.votes,
           p.a_votes, p.b_votes, p.tie_votes,
           CASE WHEN j.id IS NOT NULL THEN j.judgment->>'overall'
                WHEN p.a_votes > greatest(p.b_votes, p.tie_votes) THEN 'a'
                WHEN p.b_votes > greatest(p.a_votes, p.tie_votes) THEN 'b'
                WHEN p.tie_votes > greatest(p.a_votes, p.b_votes) THEN 'tie' END AS agreed_overall,
           NOT (p.a_votes > greatest(p.b_votes, p.tie_votes)
                OR p.b_votes > greatest(p.a_votes, p.tie_votes)
                OR p.tie_votes > greatest(p.a_votes, p.b_votes)) AS tie,
           CASE WHEN j.id IS NOT NULL THEN TRY_CAST(j.judgment->>'harmlessness' AS DOUBLE)
                ELSE p.median_harmlessness END AS agreed_harmlessness,
           CASE WHEN j.id IS NOT NULL THEN TRY_CAST(j.judgment->>'helpfulness' AS DOUBLE)
                ELSE p.median_helpfulness END AS agreed_helpfulness,
           j.id IS NOT NULL AS adjudicated, j.reason AS adjudication_reason,
           s.annotators, s.overlap, s.over_served
    FROM per_item p JOIN items i ON i.id = p.item_id JOIN served s ON s.item_id = p.item_id
    LEFT JOIN adjudicated j ON j.item_id = p.item_id
    WHERE NOT coalesce(i.gold, false)
    ORDER BY i.id"""




def _feedback_sql() -> str:
    # Skips live in the audit log (their reason, when given, in the event's details), flags
    # in their own table. Only these two are read: no wellbeing table or event.
    return """
    WITH feedback AS (
        SELECT 'skip' AS kind, e.id AS source_id, e.item_id, e.user_id,
               nullif(e.details->>'reason', '') AS reason, e.happened_at AS at
        FROM events e WHERE e.kind = 'skip' AND e.project_id = $project AND e.item_id IS NOT NULL
        UNION ALL
        SELECT 'flag', f.id, f.item_id, f.user_id, f.reason, f.flagged_at
        FROM flags f WHERE f.project_id = $project)
    SELECT f.kind, i.external_id, f.item_id, f.user_id AS annotator_id, u.username AS annotator,
           f.reason, f.at
    FROM feedback f JOIN items i ON i.id = f.item_id JOIN users u ON u.id = f.user_id
    WHERE ($since IS NULL OR f.at >= $since)
      AND ($until IS NULL OR f.at < $until)
      AND ($everyone OR list_contains($annotators, f.user_id))
    ORDER BY f.at, f.kind, f.source_id"""


def _response_messages(side: str) -> str:
    """Response A or B as messages: its turns when the import kept several (an HH pair that
    diverged before the last reply: `metadata.response_turns`), else one assistant message."""
    return (f"coalesce(from_json(json_extract(t.metadata, '$.response_turns.{side}'),"
            f" '[{{\"role\": \"VARCHAR\", \"content\": \"VARCHAR\"}}]'),"
            f" {_answer_messages('t.response_' + side)})")



def _pair_columns(conversational: bool, chosen: str, rejected: str,
                  chosen_messages: str | None = None, rejected_messages: str | None = None) -> str:
    if conversational:
        return (f"t.turns AS prompt, {chosen_messages or _answer_messages(chosen)} AS chosen,"
                f" {rejected_messages or _answer_messages(rejected)} AS rejected")
    return (f"{_PROMPT_TEXT} AS prompt, {_answer_text(chosen)} AS chosen,"
            f" {_answer_text(rejected)} AS rejected")


def _preference_sql(conversational: bool, axis: str, margin: bool) -> ExportQuery:
    if axis == "overall":
        winner = "v.judgment->>'overall'"
        strength = ("greatest(abs(CAST(v.judgment->>'harmlessness' AS INTEGER)),"
                    " abs(CAST(v.judgment->>'helpfulness' AS INTEGER)))")
    else:
        score = f"CAST(v.judgment->>'{axis}' AS INTEGER)"
        winner = f"CASE WHEN {score} > 0 THEN 'a' WHEN {score} < 0 THEN 'b' ELSE 'tie' END"
        strength = f"abs({score})"
    rows = f"""
    WITH votes AS ({_VOTES}),
    decided AS (
        SELECT v.id, v.item_id, {winner} AS winner, {strength} AS strength
        FROM votes v WHERE v.is_current AND v.judgment IS NOT NULL)
    SELECT d.id AS vote_id, d.winner, d.strength, {_ITEM_COLUMNS}
    FROM decided d JOIN items i ON i.id = d.item_id
    WHERE {_TRAINING_ITEMS} AND d.winner IN ('a', 'b') AND d.strength >= $min_strength"""
    chosen = "CASE WHEN t.winner = 'a' THEN t.response_a ELSE t.response_b END"
    rejected = "CASE WHEN t.winner = 'a' THEN t.response_b ELSE t.response_a END"
    a_messages, b_messages = _response_messages("a"), _response_messages("b")
    messages = (f"CASE WHEN t.winner = 'a' THEN {a_messages} ELSE {b_messages} END",
                f"CASE WHEN t.winner = 'a' THEN {b_messages} ELSE {a_messages} END")
    shape = f"""
    SELECT {_pair_columns(conversational, chosen, rejected, *messages)}{', t.strength AS margin' if margin else ''},
           t.external_id
    FROM ({_with_turns(ROWS)}) t
    ORDER BY t.vote_id"""
    return ExportQuery(rows, shape)


def _rewrites_sql(conversational: bool, pairs: bool) -> ExportQuery:
    """Current annotations whose rewrite differs from the response: SFT prompt/completion
    rows, or (`pairs`) rewrite-chosen-over-original pairs where the original was labeled
    unsafe."""
    if pairs:
        columns = _pair_columns(conversational, "t.edited_response", "t.response")
        unsafe = "AND v.is_safe = false"
    elif conversational:
        columns = f"t.turns AS prompt, {_answer_messages('t.edited_response')} AS completion"
        unsafe = ""
    else:
        columns = (f"{_PROMPT_TEXT} AS prompt, {_answer_text('t.edited_response')}"
                   " AS completion")
        unsafe = ""
    rows = f"""
    WITH votes AS ({_VOTES})
    SELECT v.id AS vote_id, v.edited_response, v.annotator, {_ITEM_COLUMNS}
    FROM votes v JOIN items i ON i.id = v.item_id
    WHERE {_TRAINING_ITEMS} AND v.is_current AND v.edited_response IS NOT NULL
      AND v.edited_response IS DISTINCT FROM i.response {unsafe}"""
    shape = f"""
    SELECT {columns}, t.external_id, t.annotator
    FROM ({_with_turns(ROWS)}) t
    ORDER BY t.vote_id"""
    return ExportQuery(rows, shape)


def _unpaired_sql() -> ExportQuery:
    rows = f"""
    WITH votes AS ({_VOTES})
    SELECT v.id AS vote_id, v.is_safe, {_ITEM_COLUMNS}
    FROM votes v JOIN items i ON i.id = v.item_id
    WHERE {_TRAINING_ITEMS} AND v.is_current AND v.is_safe IS NOT NULL"""
    shape = f"""
    SELECT {_PROMPT_TEXT} AS prompt, {_answer_text('t.response')} AS completion,
           t.is_safe AS label, t.external_id
    FROM ({_with_turns(ROWS)}) t
    ORDER BY t.vote_id"""
    return ExportQuery(rows, shape)


def _label_studio_sql(kind: str) -> ExportQuery:
    # A plain prompt is shown as it is; a transcript as its turns ("Human: ...").
    prompt = f"CASE WHEN t.messages IS NULL THEN t.prompt ELSE ltrim({_DIALOGUE}, chr(10)) END"
    # Each result is a JSON object (their `value`s differ in shape); an answer that was not
    # given has no result. The import (store/annotation_imports.py) reads these back.
    def result(from_name: str, to_name: str, kind_: str, value: str, given: str) -> str:
        return (f"CASE WHEN {given} THEN json_object('from_name', '{from_name}', 'to_name',"
                f" '{to_name}', 'type', '{kind_}', 'value', {value}) END")

    if kind == "label":
        data = ("{'prompt': " + prompt + ", 'response': t.response,"
                " 'external_id': t.external_id}")
        results = [
            result("safety", "response", "choices", "json_object('choices', [CASE WHEN v.is_safe"
                   " THEN 'safe' ELSE 'unsafe' END])", "v.is_safe IS NOT NULL"),
            result("categories", "response", "choices",
                   "json_object('choices', coalesce(v.categories, []))", "true"),
            result("severity", "response", "choices",
                   "json_object('choices', [CAST(v.severity AS VARCHAR)])",
                   "v.severity IS NOT NULL"),
            result("note", "response", "textarea", "json_object('text', [v.note])",
                   "v.note IS NOT NULL")]
    else:
        data = ("{'prompt': " + prompt + ", 'response_a': t.response_a,"
                " 'response_b': t.response_b, 'external_id': t.external_id}")
        results = [
            result("preference", "pair", "choices",
                   "json_object('choices', [upper(v.judgment->>'overall')])",
                   "v.judgment->>'overall' IS NOT NULL")]
        for axis in ("harmlessness", "helpfulness"):
            # Canonical scores: positive = response A better (core/preference.py).
            results.append(result(axis, "pair", "number", "json_object('number',"
                                  f" TRY_CAST(v.judgment->>'{axis}' AS INTEGER))",
                                  f"TRY_CAST(v.judgment->>'{axis}' AS INTEGER) IS NOT NULL"))
        results.append(result("rationale", "pair", "textarea",
                              "json_object('text', [v.judgment->>'rationale'])",
                              "coalesce(v.judgment->>'rationale', '') <> ''"))
    result_list = f"list_filter([{', '.join(results)}], lambda r: r IS NOT NULL)"
    rows = f"""
    WITH votes AS ({_VOTES})
    SELECT v.id AS vote_id, v.user_id AS annotator_id, v.annotator, v.submitted_at, v.active_ms,
           v.is_safe, v.categories, v.severity, v.note, v.judgment, {_ITEM_COLUMNS}
    FROM votes v JOIN items i ON i.id = v.item_id
    WHERE {_TRAINING_ITEMS} AND v.is_current"""
    # Annotations are gathered per item id, the item's text taken once per group (grouping
    # by the item's text, a struct of long strings, cost more than the rest of the export
    # together). They are put in order by sorting each list on its first field, the
    # annotation id (an ordered aggregate took half as long again: 15 s instead of 10 s for
    # 1,000,000).
    shape = f"""
    WITH per_item AS (
        SELECT v.id, any_value(v.external_id) AS external_id, any_value(v.prompt) AS prompt,
               any_value(v.response) AS response, any_value(v.response_a) AS response_a,
               any_value(v.response_b) AS response_b, any_value(v.messages) AS messages,
               list_sort(list({{'id': v.vote_id, 'completed_by': v.annotator_id,
                      'created_username': v.annotator,
                      'created_at': strftime(v.submitted_at, '%Y-%m-%dT%H:%M:%S.%fZ'),
                      'lead_time': v.active_ms / 1000.0,
                      'result': {result_list}}})) AS annotations
        FROM {ROWS} v GROUP BY v.id)
    SELECT t.id AS id, {data} AS data, t.annotations
    FROM ({_with_turns('per_item')}) t
    ORDER BY t.id"""
    return ExportQuery(rows, shape)


def export_query(kind: str, project_kind: str, axis: str = "overall",
                 margin: bool = False) -> ExportQuery:
    """The SQL behind an export (parameters: project, since, until, everyone, annotators,
    min_strength; see `with_literals`)."""
    try:
        check_kind(kind, project_kind)
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    if axis not in AXES:
        raise StoreError(f"unknown axis {axis!r}: use {', '.join(AXES)}")
    conversational = kind.endswith("_conversational")
    if kind == "annotations":
        return ExportQuery(_annotations_sql())
    if kind == "items":
        return ExportQuery(_items_sql(project_kind))
    if kind == "feedback":
        return ExportQuery(_feedback_sql())
    if kind.startswith("trl_preference"):
        return _preference_sql(conversational, axis, margin)
    if kind.startswith("trl_rewrite_preference"):
        return _rewrites_sql(conversational, pairs=True)
    if kind.startswith("sft_rewrites"):
        return _rewrites_sql(conversational, pairs=False)
    if kind == "trl_unpaired":
        return _unpaired_sql()
    return _label_studio_sql(project_kind)


def export_sql(kind: str, project_kind: str, axis: str = "overall", margin: bool = False) -> str:
    """The SELECT behind an export, as one DuckDB query."""
    return export_query(kind, project_kind, axis, margin).duckdb_sql()


_PARAMETER = re.compile(r"\$(project|since|until|everyone|annotators|min_strength)\b")


def _literal(value: Any) -> str:
    """A parameter as SQL both stores read the same: whole numbers, timestamps and lists of
    whole numbers only, each built from its parsed value (never from text a person typed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return f"CAST('{value.strftime('%Y-%m-%d %H:%M:%S.%f')}' AS TIMESTAMP)"
    if value is None:
        return "CAST(NULL AS TIMESTAMP)"
    if isinstance(value, (list, tuple)):
        return f"CAST([{', '.join(str(int(v)) for v in value)}] AS INTEGER[])"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def with_literals(sql: str, params: dict[str, Any]) -> str:
    """`sql` with its parameters written in as literals: the same text then runs in DuckDB
    and, translated, in PostgreSQL (where an untyped NULL or list parameter has no type)."""
    return _PARAMETER.sub(lambda m: _literal(params[m.group(1)]), sql)


def _csv_safe(cur: Any, sql: str) -> str:
    """`sql` with every text column neutralised against spreadsheet formulas
    (core/csv_safety.py). Only VARCHAR columns: numbers stay numbers, and lists, structs and
    JSON are written starting with `[` or `{`, which no spreadsheet evaluates. `cur` is the
    DuckDB connection that runs `sql` (binding it reads no rows)."""
    columns = cur.execute(f"SELECT * FROM ({sql}) LIMIT 0").description
    select = []
    for name, column_type, *_ in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        select.append(f"{neutralise_sql(quoted)} AS {quoted}" if str(column_type) == "VARCHAR"
                      else quoted)
    # A projection keeps the inner query's row order.
    return f"SELECT {', '.join(select)} FROM ({sql})"


def _copy(duck: duckdb.DuckDBPyConnection, sql: str, out_path: Path, options: str,
          csv: bool) -> int:
    """DuckDB writes the result of `sql` to `out_path`; returns the number of rows."""
    if csv:
        sql = _csv_safe(duck, sql)
    path_literal = "'" + str(out_path).replace("'", "''") + "'"
    return int(duck.execute(f"COPY ({sql}) TO {path_literal} ({options})").fetchone()[0])


def _write(db: Database, cur: Any, query: ExportQuery, out_path: Path, options: str,
           csv: bool) -> int:
    """Write the export's file; the one place where the two stores differ. On DuckDB the whole
    query runs in the store. On PostgreSQL the rows' SELECT runs there and comes back as a
    stream of Arrow record batches, which an in-process DuckDB shapes and writes: no row
    passes through a Python loop."""
    if db.backend != "postgresql":
        return _copy(cur, query.duckdb_sql(), out_path, options, csv)
    from store.pg_arrow import record_batches, scratch_duckdb

    with record_batches(db, query.rows) as reader, scratch_duckdb() as duck:
        duck.register("export_rows", reader)
        shape = query.shape or f"SELECT * FROM {ROWS}"
        return _copy(duck, shape.replace(ROWS, "export_rows"), out_path, options, csv)


def default_format(kind: str) -> str:
    return KINDS[kind].default_format if kind in KINDS else "jsonl"


def export(db: Database, actor_id: int | None, project_id: int, kind: str, out_path: str | Path,
           fmt: str | None = None, filters: ExportFilter | None = None, axis: str = "overall",
           min_strength: int = 1, margin: bool = False) -> int:
    """Write an export to `out_path`; return the number of rows. Leads and admins only
    (`actor_id=None` is the server's own CLI). The export is an audit event."""
    if kind not in KINDS:
        raise StoreError(f"unknown export {kind!r}: use one of {', '.join(KINDS)}")
    fmt = fmt or default_format(kind)
    if fmt not in FORMATS:
        raise StoreError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    allowed = KINDS[kind].formats
    if fmt == "json" and fmt not in allowed:
        fmt = "jsonl"
    if fmt not in allowed:
        raise StoreError(f"{kind} is written as {' or '.join(allowed)}, not {fmt}")
    if not 0 <= int(min_strength) <= 3:
        raise StoreError("minimum strength is a whole number from 0 to 3")
    filters = filters or ExportFilter()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    options = {"jsonl": "FORMAT json", "json": "FORMAT json, ARRAY true", "csv": "FORMAT csv, HEADER",
               "parquet": "FORMAT parquet, COMPRESSION zstd"}[fmt]
    params: dict[str, Any] = {"project": int(project_id), "since": filters.since,
                              "until": filters.until, "everyone": not filters.annotator_ids,
                              "annotators": list(filters.annotator_ids),
                              "min_strength": int(min_strength)}
    with db.read() as cur:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        project = _get_project(cur, project_id)
        if project is None:
            raise StoreError("no such project")
        query = export_query(kind, project.kind, axis, margin)
        query = ExportQuery(with_literals(query.rows, params),
                            query.shape and with_literals(query.shape, params))
        rows = _write(db, cur, query, out_path, options, fmt == "csv")
    db.write(lambda wcur: log_event(wcur, "export", actor_id, project_id, details={
        "kind": kind, "format": fmt, "rows": int(rows), "axis": axis,
        "min_strength": min_strength, "since": str(filters.since) if filters.since else None,
        "until": str(filters.until) if filters.until else None,
        "annotators": list(filters.annotator_ids), "at": str(utcnow())}))
    return int(rows)
