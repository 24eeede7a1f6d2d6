"""The dashboard's filter and the small SQL builders its aggregate modules share
(store/dashboard.py, store/quality.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd

from core.roles import has_role
from store.db import Database, utcnow


@dataclass(frozen=True)
class DashboardFilter:
    """What the dashboard shows: a date range (UTC days, both ends included), and optionally
    only some projects and people (None = all; an empty tuple matches nothing)."""
    start: date
    end: date
    project_ids: tuple[int, ...] | None = None
    user_ids: tuple[int, ...] | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min)

    @property
    def until(self) -> datetime:
        """The first moment after the range (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time.min)


def last_days(days: int, today: date | None = None) -> DashboardFilter:
    """The last `days` UTC days, today included."""
    today = today or utcnow().date()
    return DashboardFilter(today - timedelta(days=days - 1), today)


def visible_filter(viewer_id: int, viewer_role: str, f: DashboardFilter) -> DashboardFilter:
    """An annotator sees only their own figures, whatever the filter asked for."""
    if has_role(viewer_role, "lead"):
        return f
    return replace(f, user_ids=(viewer_id,))


# -- SQL building -----------------------------------------------------------------------------

def in_clause(column: str, values: Sequence[int] | None, params: list[Any]) -> str | None:
    if values is None:
        return None
    if not values:
        return "FALSE"
    params.extend(int(v) for v in values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def scope_clause(f: DashboardFilter, ts: str, params: list[Any], *, project: str | None = "project_id",
           user: str | None = "user_id") -> str:
    """The WHERE conditions for the filter's range (on column `ts`), projects and people;
    pass project=None / user=None to leave that part out. Appends to `params`."""
    params.extend([f.since, f.until])
    clauses = [f"{ts} >= ?", f"{ts} < ?"]
    for column, values in ((project, f.project_ids), (user, f.user_ids)):
        if column:
            clause = in_clause(column, values, params)
            if clause:
                clauses.append(clause)
    return " AND ".join(clauses)


def query_frame(db: Database, sql: str, params: list[Any]) -> pd.DataFrame:
    with db.read() as cur:
        return cur.execute(sql, params).df()
