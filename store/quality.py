"""Quality aggregates for the dashboard: agreement and disagreement per question, per project,
over time, computed in SQL so they stay cheap at a million annotations; gold accuracy per
person (store/gold.py) and the sizes of the review queues (store/review.py).

The questions are the nominal ones of store/agreement_data.py: safe/unsafe, each taxonomy
category present/absent (label projects), and the overall choice (compare projects). Their
Krippendorff's alpha is computed here from counts, with the nominal formula (Krippendorff
2011, "Computing Krippendorff's alpha-reliability", section C):

    alpha = 1 - (n - 1) * sum_u D_u / (n^2 - sum_c n_c^2)
    D_u   = (m_u^2 - sum_c n_uc^2) / (m_u - 1)

over the pairable items u (at least two answers), where n_uc is the number of answers c to
item u, m_u = sum_c n_uc, n_c = sum_u n_uc and n = sum_c n_c. tests/test_quality.py checks it
against the `krippendorff` library on the same data. Ordinal questions (severity, the
preference scales) need the full matrices: `cli.py agreement` gives those.

An item counts in the week (or range) of its latest current answer: agreement "over time"
is the agreement among the items completed that week. A person's current answer is their
latest version. The people filter does not apply: agreement is between people.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from store.dashboard_filter import DashboardFilter, in_clause, query_frame
from store.db import Database
from store.gold import gold_accuracy
from store.review import REVIEW_QUEUES

# Queue sizes on the dashboard are counted up to this many items.
QUEUE_COUNT_LIMIT = 1000

# A label vote answers a category question only when it decided safe/unsafe (a safe label
# has no categories); an undecided vote answers nothing. Binary questions need only how many
# answers an item has (m) and how many said yes (n1): D_u = 2 * n1 * (m - n1) / (m - 1) and
# the expected term is 2 * n1 * n0 over the totals. Category counts come from the categories
# people chose (one row per mention), never from a row per item and taxonomy code, so memory
# stays near the size of the answers at a million annotations.
_ANSWERS = """
    current AS (
        SELECT a.project_id, a.item_id, a.is_safe, a.categories, a.judgment->>'overall' AS overall,
               a.submitted_at
        FROM annotations a
        -- Only items answered in the range can have their latest answer there; a person's
        -- current answer is the version nobody superseded (the anti-join builds on the few
        -- corrections only).
        WHERE {projects} AND a.item_id IN (
            SELECT item_id FROM annotations WHERE submitted_at >= ? AND submitted_at < ?)
          AND NOT EXISTS (
            SELECT 1 FROM annotations b WHERE b.supersedes IS NOT NULL AND b.supersedes = a.id)
    ),
    per_item AS (
        SELECT project_id, item_id, {bucket} AS period,
               count(is_safe) AS m, count(*) FILTER (WHERE NOT is_safe) AS unsafe,
               count(overall) AS m_overall,
               count(*) FILTER (WHERE overall = 'a') AS n_a,
               count(*) FILTER (WHERE overall = 'b') AS n_b,
               count(*) FILTER (WHERE overall = 'tie') AS n_tie
        FROM current GROUP BY project_id, item_id
        HAVING max(submitted_at) >= ? AND max(submitted_at) < ?
    ),
    labelled AS (SELECT * FROM per_item WHERE m >= 2),
    mentions AS (
        SELECT c.item_id, t.code, count(*) AS n1
        FROM current c, unnest(c.categories) AS t(code)
        WHERE c.is_safe IS NOT NULL GROUP BY ALL
    ),
    codes AS (
        SELECT p.id AS project_id,
               unnest(json_extract_string(p.taxonomy, '$.categories[*].code')) AS code
        FROM projects p WHERE p.kind = 'label'
    ),
    label_totals AS (
        SELECT project_id, period, count(*) AS items, sum(m) AS n FROM labelled GROUP BY ALL
    ),
    category_sums AS (
        SELECT l.project_id, l.period, x.code, sum(x.n1) AS n1,
               count(*) FILTER (WHERE x.n1 < l.m) AS disagreements,
               sum(2.0 * x.n1 * (l.m - x.n1) / (l.m - 1)) AS d
        FROM labelled l JOIN mentions x ON x.item_id = l.item_id GROUP BY ALL
    ),
    two_valued AS (
        SELECT project_id, period, 'safe/unsafe' AS question, count(*) AS items,
               count(*) FILTER (WHERE unsafe > 0 AND unsafe < m) AS disagreements,
               sum(m) AS n, sum(2.0 * unsafe * (m - unsafe) / (m - 1)) AS d,
               2.0 * sum(unsafe) * (sum(m) - sum(unsafe)) AS expected
        FROM labelled GROUP BY ALL
        UNION ALL
        SELECT t.project_id, t.period, 'category ' || k.code, t.items,
               coalesce(s.disagreements, 0), t.n, coalesce(s.d, 0),
               2.0 * coalesce(s.n1, 0) * (t.n - coalesce(s.n1, 0))
        FROM label_totals t JOIN codes k ON k.project_id = t.project_id
        LEFT JOIN category_sums s
          ON s.project_id = t.project_id AND s.period = t.period AND s.code = k.code
    ),
    overall AS (
        SELECT project_id, period, 'overall' AS question, count(*) AS items,
               count(*) FILTER (WHERE greatest(n_a, n_b, n_tie) < m_overall) AS disagreements,
               sum(m_overall) AS n,
               sum((m_overall * m_overall - n_a * n_a - n_b * n_b - n_tie * n_tie)
                   / (m_overall - 1)) AS d,
               sum(m_overall) * sum(m_overall)
                 - sum(n_a) * sum(n_a) - sum(n_b) * sum(n_b) - sum(n_tie) * sum(n_tie)
                 AS expected
        FROM per_item WHERE m_overall >= 2 GROUP BY ALL
    ),
    questions AS (SELECT * FROM two_valued UNION ALL SELECT * FROM overall)
    SELECT p.name AS project, q.question, q.period, q.items, q.disagreements,
           q.disagreements / q.items AS disagreement_rate,
           CASE WHEN q.expected > 0 THEN 1 - (q.n - 1) * q.d / q.expected END AS alpha
    FROM questions q JOIN projects p ON p.id = q.project_id
    ORDER BY project, question, period
"""


def _agreement(db: Database, f: DashboardFilter, bucket: str) -> pd.DataFrame:
    params: list[Any] = []
    projects = in_clause("a.project_id", f.project_ids, params) or "TRUE"
    params.extend([f.since, f.until, f.since, f.until])
    sql = "WITH " + _ANSWERS.format(projects=projects, bucket=bucket)
    return query_frame(db, sql, params)


def agreement_by_question(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per project and nominal question, over the items completed in the range: items with
    two or more answers, how many of them had any disagreement, and Krippendorff's alpha
    (empty when there is no variation to measure against)."""
    df = _agreement(db, f, "'range'")
    return df.drop(columns="period")


def agreement_by_week(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """The same per week (Monday, UTC) in which the items were completed."""
    df = _agreement(db, f, "date_trunc('week', max(submitted_at))")
    return df.rename(columns={"period": "week"})



def _projects_in(db: Database, f: DashboardFilter, extra: str = "") -> list[tuple[int, str]]:
    params: list[Any] = []
    chosen = in_clause("id", f.project_ids, params) or "TRUE"
    with db.read() as cur:
        return cur.execute(f"SELECT id, name FROM projects WHERE {chosen} {extra} ORDER BY name",
                           params).fetchall()


def gold_accuracy_by_person(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per project, person and question, their first answers to gold items and how many were
    right (store/gold.py: `answer` is the answer as a whole, `category X` each category
    present/absent). All time: a gold item is a check whenever it was answered. People in
    the filter only (an annotator's filter is pinned to themselves)."""
    one = f.user_ids[0] if f.user_ids is not None and len(f.user_ids) == 1 else None
    rows = []
    with_gold = "AND id IN (SELECT DISTINCT project_id FROM gold_answers)"
    for project_id, name in _projects_in(db, f, with_gold):
        for figure in gold_accuracy(db, project_id, user_id=one):
            if f.user_ids is not None and figure.user_id not in f.user_ids:
                continue
            rows.append({"project": name, "username": figure.username,
                         "question": figure.question, "items": figure.items,
                         "correct": figure.correct, "accuracy": figure.accuracy})
    return pd.DataFrame(rows, columns=["project", "username", "question", "items", "correct",
                                       "accuracy"])


def review_queue_sizes(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per open project and review queue (store/review.py), how many items wait there now
    (counted up to QUEUE_COUNT_LIMIT). Leads only: it is about the team's answers."""
    rows = []
    for project_id, name in _projects_in(db, f, "AND archived_at IS NULL"):
        for queue, list_items in REVIEW_QUEUES.items():
            rows.append({"project": name, "queue": queue,
                         "items": len(list_items(db, project_id, limit=QUEUE_COUNT_LIMIT))})
    return pd.DataFrame(rows, columns=["project", "queue", "items"])
