"""Wellbeing records: exposures, breaks, caps and private mood check-ins.

Exposures are appended with every submit, correction, skip and flag (inside that write's
transaction). Breaks and caps are events. The rules themselves live in core.wellbeing; this
module only fetches one person's day and hands it over.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from core.wellbeing import (CHECKIN_MOMENTS, LOOKBACK, WEEK, Exposure, WellbeingPolicy,
                            break_due, caps_reached, day_start, last_break, minutes_by_severity,
                            minutes_until_break, mood_problems, policy_from_settings,
                            rested_breaks, since_last_break, trailing_run, wants_benign_item,
                            week_budgets_reached)
from store.db import Database, StoreError, utcnow
from store.events import log_event

SHARE_CHECKINS_PREF = "share_checkins"
BREAK_EVENTS = ("break_taken", "break_ended", "break_postponed", "break_due", "cap_reached",
                "week_budget_reached")


def record_exposure(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int, item_id: int,
                    severity: int | None, hint_category: str | None, outcome: str,
                    active_ms: int | None, started_at: datetime | None, ended_at: datetime) -> None:
    """Append inside the caller's transaction."""
    cur.execute(
        "INSERT INTO exposures (user_id, project_id, item_id, severity, hint_category, outcome,"
        " active_ms, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [user_id, project_id, item_id, severity, hint_category, outcome, int(active_ms or 0),
         started_at or ended_at, ended_at])


def project_policy(cur: duckdb.DuckDBPyConnection, project_id: int,
                   db: Database | None = None) -> WellbeingPolicy:
    """The project's wellbeing policy; with `db`, cached like permissions (project settings
    changes bump `Database.access_generation`)."""
    key = ("policy", project_id)
    if db is not None and key in db.access_cache:
        return db.access_cache[key]
    row = cur.execute("SELECT settings FROM projects WHERE id = ?", [project_id]).fetchone()
    policy = policy_from_settings(json.loads(row[0]) if row and row[0] else {})
    if db is not None:
        db.access_cache[key] = policy
    return policy


@dataclass(frozen=True)
class Day:
    """One person's day so far: exposures (every project) and break/cap events."""
    exposures: list[Exposure]
    events: list[tuple[str, datetime, dict[str, Any]]]
    start: datetime = datetime(1970, 1, 1)     # the UTC day's start (caps count from here)
    # Active minutes per severity over the 7 days up to now (the weekly budgets).
    week_minutes: dict[int | None, float] = field(default_factory=dict)

    def today(self) -> list[Exposure]:
        return [e for e in self.exposures if e.ended_at >= self.start]

    def times(self, kind: str) -> list[datetime]:
        return [at for k, at, _ in self.events if k == kind]

    def last(self, kind: str) -> tuple[datetime, dict[str, Any]] | None:
        found = [(at, details) for k, at, details in self.events if k == kind]
        return found[-1] if found else None


def person_day(cur: duckdb.DuckDBPyConnection, user_id: int, now: datetime) -> Day:
    """The person's recent exposures and break events: the UTC day so far (for caps) and at
    least the last LOOKBACK hours (breaks and runs do not restart at midnight)."""
    since = min(day_start(now), now - LOOKBACK)
    # Sorted here, not in SQL: a DuckDB ORDER BY costs more than the query on a day's rows.
    exposures = sorted((Exposure(*row) for row in cur.execute(
        "SELECT severity, active_ms, started_at, ended_at, project_id FROM exposures "
        "WHERE user_id = ? AND ended_at >= ?", [user_id, since]).fetchall()),
        key=lambda e: e.ended_at)
    events = sorted(((kind, at, json.loads(details) if details else {}) for kind, at, details in
                     cur.execute(
        "SELECT kind, happened_at, details FROM events WHERE user_id = ? AND happened_at >= ?"
        f" AND kind IN ({', '.join('?' * len(BREAK_EVENTS))})",
        [user_id, since, *BREAK_EVENTS]).fetchall()), key=lambda e: e[1])
    # The week is summed in SQL: a week's rows are many more than a day's.
    week = {severity: int(ms) / 60_000 for severity, ms in cur.execute(
        "SELECT severity, sum(active_ms) FROM exposures WHERE user_id = ? AND ended_at > ?"
        " GROUP BY severity", [user_id, now - WEEK]).fetchall()}
    return Day(exposures, events, day_start(now), week)


@dataclass(frozen=True)
class WellbeingStatus:
    """What the work page and the queue need to know about a person right now."""
    minutes_by_severity: dict[int | None, float]
    minutes_until_break: float
    run: int                         # items in a row at the run severity since the last break
    break_due: str | None            # 'exposure', 'run' or None
    benign_next: bool
    caps_reached: list[int]          # lowest severity of each daily cap or weekly budget reached
    ceiling: int | None              # highest severity still served today
    last_break_at: datetime | None
    on_break_until: datetime | None
    break_started_at: datetime | None = None
    daily_caps_reached: list[int] = field(default_factory=list)
    week_budgets_reached: list[int] = field(default_factory=list)
    week_minutes_by_severity: dict[int | None, float] = field(default_factory=dict)


def status_from_day(day: Day, policy: WellbeingPolicy, now: datetime) -> WellbeingStatus:
    taken = day.last("break_taken")
    ended = day.last("break_ended")
    breaks_at, cut_short = rested_breaks(day.times("break_taken"), day.times("break_ended"))
    recent = since_last_break(day.exposures, breaks_at, policy)
    postponed = max([*day.times("break_postponed"), *cut_short], default=None)
    on_break_until = None
    if taken and not (ended and ended[0] >= taken[0]):
        until = taken[0] + timedelta(minutes=int(taken[1].get("minutes", policy.break_minutes)))
        on_break_until = until if until > now else None
    today = day.today()
    daily = caps_reached(today, policy)
    weekly = week_budgets_reached(day.week_minutes, policy)
    reached = sorted(set(daily) | set(weekly), reverse=True)
    return WellbeingStatus(
        minutes_by_severity=minutes_by_severity(today),
        minutes_until_break=minutes_until_break(recent, policy),
        run=trailing_run([e.severity for e in recent], policy.run_severity),
        break_due=break_due(recent, policy, now, postponed),
        benign_next=wants_benign_item(recent, policy),
        caps_reached=reached,
        ceiling=min(reached) - 1 if reached else None,
        last_break_at=last_break(day.exposures, breaks_at, policy),
        on_break_until=on_break_until,
        break_started_at=taken[0] if on_break_until else None,
        daily_caps_reached=daily, week_budgets_reached=weekly,
        week_minutes_by_severity=dict(day.week_minutes))


def wellbeing_status(db: Database, user_id: int, project_id: int,
                     now: datetime | None = None) -> WellbeingStatus:
    now = now or utcnow()
    with db.read() as cur:
        return status_from_day(person_day(cur, user_id, now),
                               project_policy(cur, project_id, db), now)


def _break_event(db: Database, kind: str, user_id: int, project_id: int | None,
                 details: dict[str, Any]) -> None:
    db.write(lambda cur: log_event(cur, kind, user_id, project_id, details=details))


def take_break(db: Database, user_id: int, project_id: int | None, minutes: int,
               reason: str = "self") -> None:
    if not 1 <= int(minutes) <= 60:
        raise StoreError("a break is 1 to 60 minutes")
    _break_event(db, "break_taken", user_id, project_id, {"minutes": int(minutes), "reason": reason})


def end_break(db: Database, user_id: int, project_id: int | None, started_at: datetime) -> None:
    taken = (utcnow() - started_at).total_seconds() / 60
    _break_event(db, "break_ended", user_id, project_id, {"minutes_taken": round(taken, 1)})


def postpone_break(db: Database, user_id: int, project_id: int | None, reason: str) -> None:
    _break_event(db, "break_postponed", user_id, project_id, {"reason": reason})


def note_break_due(db: Database, user_id: int, project_id: int | None, reason: str) -> None:
    """The prompt was shown (for "breaks taken versus due")."""
    _break_event(db, "break_due", user_id, project_id, {"reason": reason})


def note_caps_reached(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int,
                      day: Day, reached: list[int], kind: str = "cap_reached") -> None:
    """Log each daily cap (or, with kind "week_budget_reached", weekly budget) the first time
    it is reached in a UTC day (inside the caller's transaction)."""
    logged = {details.get("severity") for k, at, details in day.events
              if k == kind and at >= day.start}
    for severity in reached:
        if severity not in logged:
            log_event(cur, kind, user_id, project_id, details={"severity": severity})


# -- check-ins ---------------------------------------------------------------------------------

def record_checkin(db: Database, user_id: int, valence: int, arousal: int, moment: str,
                   now: datetime | None = None) -> None:
    """A person records their own mood. Bad values change nothing."""
    problems = mood_problems(valence, arousal)
    if moment not in CHECKIN_MOMENTS:
        problems.append(f"moment must be one of {', '.join(CHECKIN_MOMENTS)}")
    if problems:
        raise StoreError("; ".join(problems))
    db.write(lambda cur: cur.execute(
        "INSERT INTO checkins (user_id, checked_at, valence, arousal, moment) VALUES (?, ?, ?, ?, ?)",
        [user_id, now or utcnow(), valence, arousal, moment]))


def last_checkin_at(db: Database, user_id: int) -> datetime | None:
    with db.read() as cur:
        return cur.execute("SELECT max(checked_at) FROM checkins WHERE user_id = ?",
                           [user_id]).fetchone()[0]
