"""The reliability data behind inter-annotator agreement (issue 11): for each question a
project asks, its items × annotators matrix of current answers, for core/agreement.py.

A person's current answer to an item is their latest version of it (corrections are new rows,
see store/schema.py); an older version never stands in for a current one that left the
question unanswered. Items removed with their import are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.db import Database
from store.projects import Project

# Current annotations of the project (parameter: project), with the annotator's username.
_CURRENT = """
    SELECT a.*, u.username
    FROM annotations a JOIN users u ON u.id = a.user_id JOIN items i ON i.id = a.item_id
    WHERE a.project_id = $project
    QUALIFY row_number() OVER (PARTITION BY a.item_id, a.user_id ORDER BY a.version DESC) = 1
"""

# Per question: (name, level of measurement, SQL value of one current annotation; NULL = the
# person did not answer it). Scales are ordinal: their steps are ordered but not known to be
# equally far apart.
_LABEL = (
    ("safe/unsafe", "nominal",
     "CASE WHEN is_safe THEN 'safe' WHEN NOT is_safe THEN 'unsafe' END"),
    ("severity", "ordinal", "severity"),
)
# A category is present or absent for everyone who decided safe/unsafe (a safe label has none).
_CATEGORY = ("CASE WHEN is_safe IS NOT NULL THEN "
             "list_contains(coalesce(categories, []::VARCHAR[]), $category::VARCHAR) END")
_COMPARE = (
    ("harmlessness", "ordinal", "TRY_CAST(judgment->>'harmlessness' AS INTEGER)"),
    ("helpfulness", "ordinal", "TRY_CAST(judgment->>'helpfulness' AS INTEGER)"),
    ("overall", "nominal", "judgment->>'overall'"),
)


@dataclass(frozen=True)
class Question:
    name: str
    level: str                          # "nominal" or "ordinal" (core.agreement.LEVELS)
    raters: list[str]                   # usernames, the matrix's columns
    item_ids: list[int]                 # the matrix's rows
    ratings: list[list[Any]]            # items × raters, None = not answered


def _question(db: Database, project_id: int, name: str, level: str, value: str,
              params: dict[str, Any] | None = None) -> Question:
    sql = (f"SELECT item_id, username, value FROM (SELECT item_id, username, {value} AS value "
           f"FROM ({_CURRENT})) WHERE value IS NOT NULL ORDER BY item_id, username")
    with db.read() as cur:
        rows = cur.execute(sql, {"project": project_id, **(params or {})}).fetchall()
    raters = sorted({r[1] for r in rows})
    item_ids = sorted({r[0] for r in rows})
    column = {u: j for j, u in enumerate(raters)}
    row_of = {i: k for k, i in enumerate(item_ids)}
    ratings: list[list[Any]] = [[None] * len(raters) for _ in item_ids]
    for item_id, username, answer in rows:
        ratings[row_of[item_id]][column[username]] = answer
    return Question(name, level, raters, item_ids, ratings)


def agreement_questions(db: Database, project: Project) -> list[Question]:
    """Every question of the project with its reliability data: label projects safe/unsafe,
    severity and each taxonomy category (present/absent); compare projects the two axis
    scores and the overall choice."""
    if project.kind == "compare":
        return [_question(db, project.id, *q) for q in _COMPARE]
    questions = [_question(db, project.id, *q) for q in _LABEL]
    for code in project.taxonomy.category_codes():
        questions.append(_question(db, project.id, f"category {code}", "nominal", _CATEGORY,
                                   {"category": code}))
    return questions
