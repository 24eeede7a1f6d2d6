"""Dashboard aggregates: progress, throughput, labels and wellbeing, each one SQL query.

Plain functions over a Database that take a `DashboardFilter` and return a pandas DataFrame,
so the page only draws. Days are UTC calendar days of the row's own timestamp
(submitted_at, ended_at, happened_at, checked_at). Time ranges are written as
`ts >= since AND ts < until` (never `CAST(ts AS DATE) BETWEEN ...`) so DuckDB can skip row
groups by their min/max statistics.

Who sees what is decided here too, not only on the page: `visible_filter` pins an
annotator's filter to themselves, and the mood queries take the viewer, because check-ins are
private (PRODUCT.md, "Wellbeing"): a person's own always; a lead sees someone else's only when
that person shares, and team averages only over groups of at least the minimum group size
(an installation setting, store.settings.min_group_size) of people whose check-ins the lead
cannot otherwise see. Mood is never joined with throughput.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from core.roles import has_role
from core.wellbeing import DEFAULT_POLICY
from store.dashboard_filter import (DashboardFilter, in_clause, last_days, query_frame,
                                    scope_clause, visible_filter)
from store.db import Database, utcnow
from store.quality import (agreement_by_question, agreement_by_week, gold_accuracy_by_person,
                           review_queue_sizes)
from store.settings import min_group_size
from store.users import get_user
from store.wellbeing import SHARE_CHECKINS_PREF
from store.wellness import hint_parts_sql

# Active time per item histogram: bins this wide, everything from OVERFLOW_SECONDS up in one.
BIN_SECONDS = 10
OVERFLOW_SECONDS = 300
# ETA pace: the mean of this many most recent days on which anything was done.
PACE_DAYS = 7


# -- progress ---------------------------------------------------------------------------------

def progress_by_project(db: Database, f: DashboardFilter, today: date | None = None) -> pd.DataFrame:
    """Per project, as of now: slots (items x overlap), slots done, what is left, the pace
    (mean first-version annotations per day over the last PACE_DAYS days on which anything
    was done) and the ETA at that pace.

    A slot is done when a person annotated the item, up to the item's overlap: late work
    after a lapsed claim (kept, never dropped) can give an item more people than its
    overlap. Such items are counted as `over_served` and their surplus first versions as
    `extra_annotations`, which fill no other item's slot. Both come from the item's
    `done_count` (its first-version annotations, kept by the work queue), so this stays one
    scan of the items, not a grouping of every annotation by item.

    A project's progress is everyone's work, so neither the date range nor the people filter
    applies here; the work pages already show every annotator how much is left."""
    today = today or utcnow().date()
    # Parameters in the order their placeholders appear in the text.
    params: list[Any] = []
    items = in_clause("i.project_id", f.project_ids, params) or "TRUE"
    done = in_clause("project_id", f.project_ids, params) or "TRUE"
    params.append(PACE_DAYS)
    projects = in_clause("p.id", f.project_ids, params) or "TRUE"
    params += [today, today]
    return query_frame(db, f"""
        WITH item_counts AS (
            SELECT i.project_id, count(*) AS items,
                   count(*) FILTER (WHERE i.done_count > p.overlap) AS over_served,
                   sum(greatest(i.done_count - p.overlap, 0)) AS extra
            FROM items i JOIN projects p ON p.id = i.project_id
            -- Gold items are checks, not work: not part of progress (as on the work pages).
            WHERE {items} AND NOT coalesce(i.gold, false) GROUP BY i.project_id
        ), daily AS (
            SELECT project_id, CAST(submitted_at AS DATE) AS day, count(*) AS done
            FROM annotations WHERE version = 1 AND {done}
              AND item_id NOT IN (SELECT id FROM items WHERE gold) GROUP BY ALL
        ), paced AS (
            SELECT project_id, sum(done) AS done,
                   avg(done) FILTER (WHERE recent <= ?) AS pace_per_day
            FROM (SELECT *, row_number() OVER (PARTITION BY project_id ORDER BY day DESC) AS recent
                  FROM daily)
            GROUP BY project_id
        ), progress AS (
            SELECT p.id AS project_id, p.name AS project, p.kind, coalesce(i.items, 0) AS items,
                   p.overlap, coalesce(i.items, 0) * p.overlap AS total,
                   CAST(least(coalesce(d.done, 0) - coalesce(i.extra, 0),
                              coalesce(i.items, 0) * p.overlap) AS BIGINT) AS done,
                   coalesce(i.over_served, 0) AS over_served,
                   CAST(coalesce(i.extra, 0) AS BIGINT) AS extra_annotations,
                   d.pace_per_day AS pace
            FROM projects p LEFT JOIN item_counts i ON i.project_id = p.id
            LEFT JOIN paced d ON d.project_id = p.id
            WHERE {projects}
        )
        SELECT project_id, project, kind, items, overlap, total, done, total - done AS remaining,
               round(100.0 * done / nullif(total, 0), 1) AS percent_done,
               round(pace, 1) AS pace_per_day,
               CASE WHEN total - done = 0 THEN 0.0
                    ELSE round((total - done) / pace, 1) END AS eta_days,
               CASE WHEN total - done = 0 THEN CAST(? AS DATE)
                    WHEN pace > 0
                    THEN CAST(? AS DATE) + CAST(ceil((total - done) / pace) AS INTEGER)
               END AS eta_date,
               over_served, extra_annotations
        FROM progress ORDER BY project_id""", params)


def items_per_day(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """First-version annotations per day and project."""
    params: list[Any] = []
    where = scope_clause(f, "a.submitted_at", params, project="a.project_id", user="a.user_id")
    return query_frame(db, f"""
        SELECT CAST(a.submitted_at AS DATE) AS day, p.name AS project, count(*) AS items
        FROM annotations a JOIN projects p ON p.id = a.project_id
        WHERE a.version = 1 AND {where}
        GROUP BY ALL ORDER BY day, project""", params)


# -- throughput -------------------------------------------------------------------------------

def throughput_by_annotator(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Items (first-version annotations) per active hour. Active hours count every saved
    version, corrections included: that is time the person spent on the work."""
    params: list[Any] = []
    where = scope_clause(f, "a.submitted_at", params, project="a.project_id", user="a.user_id")
    return query_frame(db, f"""
        SELECT a.user_id, u.username, count(*) FILTER (WHERE a.version = 1) AS items,
               round(sum(coalesce(a.active_ms, 0)) / 3600000.0, 3) AS active_hours,
               round(count(*) FILTER (WHERE a.version = 1)
                     / nullif(sum(coalesce(a.active_ms, 0)) / 3600000.0, 0), 1) AS items_per_hour
        FROM annotations a JOIN users u ON u.id = a.user_id
        WHERE {where}
        GROUP BY ALL ORDER BY u.username""", params)


def active_time_histogram(db: Database, f: DashboardFilter, bin_seconds: int = BIN_SECONDS,
                          overflow_seconds: int = OVERFLOW_SECONDS) -> pd.DataFrame:
    """Active time per item (first versions with a timing), in `bin_seconds` bins; the last
    bin holds everything from `overflow_seconds` up."""
    params: list[Any] = [bin_seconds, overflow_seconds // bin_seconds]
    where = scope_clause(f, "a.submitted_at", params, project="a.project_id", user="a.user_id")
    return query_frame(db, f"""
        WITH bins AS (SELECT ? AS width, ? AS last_bin),
        binned AS (
            SELECT least(CAST(floor(a.active_ms / 1000.0 / width) AS INTEGER), last_bin) AS bin,
                   count(*) AS items
            FROM annotations a, bins
            WHERE a.version = 1 AND a.active_ms IS NOT NULL AND {where}
            GROUP BY bin
        )
        SELECT bin * width AS from_seconds,
               CASE WHEN bin < last_bin THEN (bin + 1) * width END AS to_seconds,
               CASE WHEN bin < last_bin THEN format('{{}}-{{}} s', bin * width, (bin + 1) * width)
                    ELSE format('{{}} s or more', bin * width) END AS active_time,
               items
        FROM binned, bins ORDER BY bin""", params)


def skips_and_flags(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Skips and flags per annotator (events)."""
    params: list[Any] = []
    where = scope_clause(f, "e.happened_at", params, project="e.project_id", user="e.user_id")
    return query_frame(db, f"""
        SELECT e.user_id, u.username, count(*) FILTER (WHERE e.kind = 'skip') AS skips,
               count(*) FILTER (WHERE e.kind = 'flag') AS flags
        FROM events e JOIN users u ON u.id = e.user_id
        WHERE e.kind IN ('skip', 'flag') AND {where}
        GROUP BY ALL ORDER BY u.username""", params)


# -- labels (current versions of label projects) ---------------------------------------------

def _current_labels(f: DashboardFilter, params: list[Any]) -> str:
    """Each person's current answer per item (the version nobody superseded) in label
    projects, last saved in the range. The anti-join builds on the few corrections only."""
    where = scope_clause(f, "a.submitted_at", params, project="a.project_id", user="a.user_id")
    return f"""
        current_labels AS (
            SELECT p.name AS project, a.is_safe, a.categories, a.severity
            FROM annotations a JOIN projects p ON p.id = a.project_id AND p.kind = 'label'
            WHERE {where} AND NOT EXISTS (
                SELECT 1 FROM annotations b
                WHERE b.supersedes IS NOT NULL AND b.supersedes = a.id)
        )"""


def verdict_distribution(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Safe / unsafe / not set per project."""
    params: list[Any] = []
    return query_frame(db, f"""
        WITH {_current_labels(f, params)}
        SELECT project, CASE WHEN is_safe THEN 'safe' WHEN NOT is_safe THEN 'unsafe'
                             ELSE 'not set' END AS verdict, count(*) AS labels
        FROM current_labels GROUP BY ALL ORDER BY project, verdict""", params)


def category_distribution(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Hazard categories per project (a label with two categories counts in both)."""
    params: list[Any] = []
    return query_frame(db, f"""
        WITH {_current_labels(f, params)}
        SELECT project, category, count(*) AS labels
        FROM (SELECT project, unnest(categories) AS category FROM current_labels)
        GROUP BY ALL ORDER BY project, category""", params)


def severity_distribution(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Severity per project ('not set' when the label has none)."""
    params: list[Any] = []
    return query_frame(db, f"""
        WITH {_current_labels(f, params)}
        SELECT project, coalesce(CAST(severity AS VARCHAR), 'not set') AS severity,
               count(*) AS labels
        FROM current_labels GROUP BY ALL ORDER BY project, severity""", params)


# -- wellbeing --------------------------------------------------------------------------------
# Breaks, break prompts and caps are a person's, whatever the project (a break may carry no
# project at all), so the project filter does not apply to them.

def exposure_by_day(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Active exposure minutes per day and severity ('unknown' when neither label nor hint
    gave one)."""
    params: list[Any] = []
    where = scope_clause(f, "ended_at", params)
    return query_frame(db, f"""
        SELECT CAST(ended_at AS DATE) AS day,
               coalesce(CAST(severity AS VARCHAR), 'unknown') AS severity,
               round(sum(active_ms) / 60000.0, 2) AS minutes, count(*) AS items
        FROM exposures WHERE {where}
        GROUP BY ALL ORDER BY day, severity""", params)


def longest_harmful_runs(db: Database, f: DashboardFilter,
                         min_severity: int = DEFAULT_POLICY.run_severity) -> pd.DataFrame:
    """Per person and day: items seen, harmful ones (severity >= min_severity) and the longest
    run of harmful items in a row (gaps and islands: within a run, position among all items
    minus position among harmful items is constant)."""
    params: list[Any] = []
    return query_frame(db, _longest_runs_sql(f, params, min_severity), params)


def _longest_runs_sql(f: DashboardFilter, params: list[Any], min_severity: int) -> str:
    params.append(min_severity)
    where = scope_clause(f, "ended_at", params)
    return f"""
        WITH ordered AS (
            SELECT user_id, CAST(ended_at AS DATE) AS day,
                   coalesce(severity >= ?, FALSE) AS harmful,
                   row_number() OVER (PARTITION BY user_id, CAST(ended_at AS DATE)
                                      ORDER BY ended_at, id) AS position
            FROM exposures WHERE {where}
        ), islands AS (
            SELECT user_id, day,
                   position - row_number() OVER (PARTITION BY user_id, day ORDER BY position)
                       AS island
            FROM ordered WHERE harmful
        ), longest AS (
            SELECT user_id, day, max(run) AS longest_run
            FROM (SELECT user_id, day, island, count(*) AS run FROM islands GROUP BY ALL)
            GROUP BY ALL
        ), days AS (
            SELECT user_id, day, count(*) AS items, count(*) FILTER (WHERE harmful) AS harmful_items
            FROM ordered GROUP BY ALL
        )
        SELECT d.day, d.user_id, u.username, d.items, d.harmful_items,
               coalesce(l.longest_run, 0) AS longest_run
        FROM days d LEFT JOIN longest l ON l.user_id = d.user_id AND l.day = d.day
        JOIN users u ON u.id = d.user_id
        ORDER BY d.day, u.username"""


def time_since_last_break(db: Database, f: DashboardFilter,
                          now: datetime | None = None) -> pd.DataFrame:
    """Per person, the last break taken (any time up to now) and the minutes since; NULL when
    they never took one. The people are the filter's, or else everyone with exposure in the
    range."""
    params: list[Any] = []
    return query_frame(db, _since_break_sql(f, params, now or utcnow()), params)


def _since_break_sql(f: DashboardFilter, params: list[Any], now: datetime) -> str:
    if f.user_ids is not None:
        people = f"SELECT id AS user_id FROM users WHERE {in_clause('id', f.user_ids, params)}"
    else:
        people = f"SELECT DISTINCT user_id FROM exposures WHERE {scope_clause(f, 'ended_at', params)}"
    params += [now, now]
    return f"""
        WITH people AS ({people}),
        last_breaks AS (
            SELECT user_id, max(happened_at) AS last_break_at FROM events
            WHERE kind = 'break_taken' AND happened_at <= ?
              AND user_id IN (SELECT user_id FROM people)
            GROUP BY user_id
        )
        SELECT p.user_id, u.username, b.last_break_at,
               round(date_diff('second', b.last_break_at, CAST(? AS TIMESTAMP)) / 60.0, 1)
                   AS minutes_since_break
        FROM people p JOIN users u ON u.id = p.user_id
        LEFT JOIN last_breaks b ON b.user_id = p.user_id
        ORDER BY u.username"""


def breaks_taken_vs_due(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per person: breaks taken and break prompts shown ('due') in the range. Taken can exceed
    due: anyone may take a break without a prompt."""
    params: list[Any] = []
    where = scope_clause(f, "e.happened_at", params, project=None, user="e.user_id")
    return query_frame(db, f"""
        SELECT e.user_id, u.username, count(*) FILTER (WHERE e.kind = 'break_taken') AS taken,
               count(*) FILTER (WHERE e.kind = 'break_due') AS due
        FROM events e JOIN users u ON u.id = e.user_id
        WHERE e.kind IN ('break_taken', 'break_due') AND {where}
        GROUP BY ALL ORDER BY u.username""", params)


def caps_reached(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Daily caps reached, per day, person and the cap's severity. The kind and range filter
    run before the JSON is read, so only cap events are parsed."""
    params: list[Any] = []
    where = scope_clause(f, "e.happened_at", params, project=None, user="e.user_id")
    return query_frame(db, f"""
        SELECT CAST(e.happened_at AS DATE) AS day, e.user_id, u.username,
               CAST(json_extract_string(e.details, '$.severity') AS INTEGER) AS severity,
               count(*) AS times
        FROM events e JOIN users u ON u.id = e.user_id
        WHERE e.kind = 'cap_reached' AND {where}
        GROUP BY ALL ORDER BY day, u.username, severity""", params)


def reveal_rate(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per person: reveal events (masked words or hidden text shown) per exposure."""
    params: list[Any] = []
    reveals = scope_clause(f, "happened_at", params)
    exposures = scope_clause(f, "ended_at", params)
    return query_frame(db, f"""
        WITH reveals AS (
            SELECT user_id, count(*) AS reveals FROM events
            WHERE kind = 'reveal' AND {reveals} GROUP BY user_id
        ), seen AS (
            SELECT user_id, count(*) AS exposures FROM exposures WHERE {exposures} GROUP BY user_id
        )
        SELECT user_id, u.username, coalesce(r.reveals, 0) AS reveals,
               coalesce(s.exposures, 0) AS exposures,
               round(coalesce(r.reveals, 0) / nullif(s.exposures, 0), 3) AS reveal_rate
        FROM seen s FULL JOIN reveals r USING (user_id) JOIN users u ON u.id = user_id
        ORDER BY u.username""", params)


def skip_rate_by_category(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per hazard hint category ('none' without a hint): exposures, skips, skip rate."""
    params: list[Any] = []
    where = scope_clause(f, "ended_at", params)
    return query_frame(db, f"""
        SELECT category, count(*) AS exposures,
               count(*) FILTER (WHERE outcome = 'skip') AS skips,
               round(count(*) FILTER (WHERE outcome = 'skip') / count(*), 3) AS skip_rate
        FROM (SELECT outcome, unnest({hint_parts_sql()}) AS category FROM exposures WHERE {where})
        GROUP BY ALL ORDER BY category""", params)


# -- wellbeing for leads: team aggregates, never over fewer than the minimum group size ---------
# PRODUCT.md: the wellbeing panel is per person to themselves and in aggregate to leads. A day
# (or category, or severity) is shown only when at least the minimum group size of people had
# exposure in it, so no figure is one or two identifiable people's. Like team mood, these
# ignore the people and project filters: two narrowed views that differ by one person could be subtracted.


def _whole_team(f: DashboardFilter) -> DashboardFilter:
    return replace(f, project_ids=None, user_ids=None)

def _group_days(db: Database, f: DashboardFilter, params: list[Any]) -> str:
    """A CTE `group_days(day, people)`: days in the filter with enough people at work."""
    where = scope_clause(f, "ended_at", params)
    params.append(min_group_size(db))
    return f"""group_days AS (
            SELECT CAST(ended_at AS DATE) AS day, count(DISTINCT user_id) AS people
            FROM exposures WHERE {where} GROUP BY ALL HAVING count(DISTINCT user_id) >= ?)"""


def team_exposure_by_day(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Team exposure minutes per day and severity, where enough people saw that severity."""
    f = _whole_team(f)
    params: list[Any] = []
    days = _group_days(db, f, params)
    where = scope_clause(f, "e.ended_at", params, project="e.project_id", user="e.user_id")
    return query_frame(db, f"""
        WITH {days}
        SELECT CAST(e.ended_at AS DATE) AS day,
               coalesce(CAST(e.severity AS VARCHAR), 'unknown') AS severity,
               round(sum(e.active_ms) / 60000.0, 2) AS minutes, count(*) AS items,
               any_value(g.people) AS people
        FROM exposures e JOIN group_days g ON g.day = CAST(e.ended_at AS DATE)
        WHERE {where}
        GROUP BY ALL HAVING count(DISTINCT e.user_id) >= ? ORDER BY day, severity""",
        [*params, min_group_size(db)])


def team_longest_runs(db: Database, f: DashboardFilter,
                      min_severity: int = DEFAULT_POLICY.run_severity) -> pd.DataFrame:
    """Per day: the longest run of harmful items anyone had, and the mean of people's longest
    runs, on days with enough people."""
    f = _whole_team(f)
    params: list[Any] = []
    per_person = _longest_runs_sql(f, params, min_severity)
    params.append(min_group_size(db))
    return query_frame(db, f"""
        SELECT day, count(*) AS people, max(longest_run) AS longest_run,
               round(avg(longest_run), 1) AS mean_longest_run
        FROM ({per_person}) GROUP BY day HAVING count(*) >= ? ORDER BY day""", params)


SINCE_BREAK_BUCKETS = ("under 1 hour", "1-2 hours", "over 2 hours", "no break yet")


def team_time_since_break(db: Database, f: DashboardFilter,
                          now: datetime | None = None) -> pd.DataFrame:
    """How many people last took a break under an hour ago, 1-2 hours ago, longer ago, or
    never; nothing when the group is smaller than the minimum group size."""
    f = _whole_team(f)
    params: list[Any] = []
    per_person = _since_break_sql(f, params, now or utcnow())
    params.append(min_group_size(db))
    return query_frame(db, f"""
        WITH per_person AS ({per_person})
        SELECT since_last_break, count(*) AS people FROM (
            SELECT CASE WHEN minutes_since_break IS NULL THEN 'no break yet'
                        WHEN minutes_since_break < 60 THEN 'under 1 hour'
                        WHEN minutes_since_break < 120 THEN '1-2 hours'
                        ELSE 'over 2 hours' END AS since_last_break
            FROM per_person WHERE (SELECT count(*) FROM per_person) >= ?)
        GROUP BY since_last_break
        ORDER BY list_position({list(SINCE_BREAK_BUCKETS)}, since_last_break)""",
        params)


def team_breaks_taken_vs_due(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per day: breaks taken and prompted across the team, on days with enough people."""
    f = _whole_team(f)
    params: list[Any] = []
    days = _group_days(db, f, params)
    where = scope_clause(f, "e.happened_at", params, project=None, user="e.user_id")
    return query_frame(db, f"""
        WITH {days}
        SELECT g.day, any_value(g.people) AS people,
               count(*) FILTER (WHERE e.kind = 'break_taken') AS taken,
               count(*) FILTER (WHERE e.kind = 'break_due') AS due
        FROM events e JOIN group_days g ON g.day = CAST(e.happened_at AS DATE)
        WHERE e.kind IN ('break_taken', 'break_due') AND {where}
        GROUP BY g.day ORDER BY g.day""", params)


def team_caps_reached(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per day and cap: how many people reached it, on days with enough people."""
    f = _whole_team(f)
    params: list[Any] = []
    days = _group_days(db, f, params)
    where = scope_clause(f, "e.happened_at", params, project=None, user="e.user_id")
    return query_frame(db, f"""
        WITH {days}
        SELECT g.day, CAST(json_extract_string(e.details, '$.severity') AS INTEGER) AS severity,
               count(DISTINCT e.user_id) AS people_at_cap, any_value(g.people) AS people
        FROM events e JOIN group_days g ON g.day = CAST(e.happened_at AS DATE)
        WHERE e.kind = 'cap_reached' AND {where}
        GROUP BY ALL ORDER BY g.day, severity""", params)


def team_reveal_rate(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """Per day: the team's reveals per exposure, on days with enough people."""
    f = _whole_team(f)
    params: list[Any] = []
    days = _group_days(db, f, params)
    reveals = scope_clause(f, "happened_at", params)
    exposures = scope_clause(f, "ended_at", params)
    return query_frame(db, f"""
        WITH {days}, reveals AS (
            SELECT CAST(happened_at AS DATE) AS day, count(*) AS reveals FROM events
            WHERE kind = 'reveal' AND {reveals} GROUP BY ALL
        ), seen AS (
            SELECT CAST(ended_at AS DATE) AS day, count(*) AS exposures FROM exposures
            WHERE {exposures} GROUP BY ALL
        )
        SELECT g.day, g.people, coalesce(r.reveals, 0) AS reveals, s.exposures,
               round(coalesce(r.reveals, 0) / s.exposures, 3) AS reveal_rate
        FROM group_days g JOIN seen s USING (day) LEFT JOIN reveals r USING (day)
        ORDER BY g.day""", params)


def team_skip_rate_by_category(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """`skip_rate_by_category`, only for categories that enough people met."""
    f = _whole_team(f)
    params: list[Any] = []
    where = scope_clause(f, "ended_at", params)
    params.append(min_group_size(db))
    return query_frame(db, f"""
        SELECT category, count(DISTINCT user_id) AS people,
               count(*) AS exposures, count(*) FILTER (WHERE outcome = 'skip') AS skips,
               round(count(*) FILTER (WHERE outcome = 'skip') / count(*), 3) AS skip_rate
        FROM (SELECT user_id, outcome, unnest({hint_parts_sql()}) AS category
              FROM exposures WHERE {where})
        GROUP BY ALL HAVING count(DISTINCT user_id) >= ? ORDER BY category""", params)


def team_wellbeing_group(db: Database, f: DashboardFilter) -> pd.DataFrame:
    """One row: how many people had exposure and how many checked in within the date range
    (the whole team, like the panels), and the minimum group size. With some people but
    fewer than the minimum, the lead's wellbeing panels are empty for privacy, not for want
    of data, and the page says so. No names."""
    f = _whole_team(f)
    params: list[Any] = []
    exposed = scope_clause(f, "ended_at", params, project=None, user=None)
    params += [f.since, f.until]
    frame = query_frame(db, f"""
        SELECT (SELECT count(DISTINCT user_id) FROM exposures WHERE {exposed}) AS exposed_people,
               (SELECT count(DISTINCT user_id) FROM checkins
                WHERE checked_at >= ? AND checked_at < ?) AS checkin_people""", params)
    return frame.assign(min_group_size=min_group_size(db))


# Not a panel: what the page needs to say why the lead's wellbeing panels are empty.
TEAM_PRIVACY: dict[str, Callable[[Database, DashboardFilter], pd.DataFrame]] = {
    "wellbeing_group": team_wellbeing_group}


# A lead's wellbeing panel: the same names, team aggregates instead of per-person rows.
TEAM_WELLBEING: dict[str, Callable[[Database, DashboardFilter], pd.DataFrame]] = {
    "exposure_by_day": team_exposure_by_day, "longest_harmful_runs": team_longest_runs,
    "time_since_last_break": team_time_since_break,
    "breaks_taken_vs_due": team_breaks_taken_vs_due, "caps_reached": team_caps_reached,
    "reveal_rate": team_reveal_rate, "skip_rate_by_category": team_skip_rate_by_category}


# -- everything at once -----------------------------------------------------------------------

Aggregate = Callable[[Database, DashboardFilter], pd.DataFrame]
# Agreement is between people, and the review queues are about everyone's answers: a lead's
# view only (an annotator sees their own gold accuracy).
TEAM_QUALITY: dict[str, Aggregate] = {
    "agreement_by_question": agreement_by_question, "agreement_by_week": agreement_by_week,
    "review_queue_sizes": review_queue_sizes}
# What the dashboard draws for a filter, whoever looks (mood, which depends on the viewer, is
# fetched on its own).
AGGREGATES: dict[str, Aggregate] = {query.__name__: query for query in (
    progress_by_project, items_per_day, throughput_by_annotator, active_time_histogram,
    skips_and_flags, verdict_distribution, category_distribution, severity_distribution,
    exposure_by_day, longest_harmful_runs, time_since_last_break, breaks_taken_vs_due,
    caps_reached, reveal_rate, skip_rate_by_category, gold_accuracy_by_person)}


def all_aggregates(db: Database, f: DashboardFilter, workers: int | None = None,
                   team: bool = False) -> dict[str, pd.DataFrame]:
    """Every aggregate in AGGREGATES for one filter, by name. They run side by side, each on
    its own cursor: most are short queries wrapped in Python work (planning, building the
    DataFrame), so at a million annotations on two cores this takes about two thirds of the
    time of running them one after another (bench/bench_dashboard.py). With `team` (a lead's
    view) the wellbeing ones are TEAM_WELLBEING's aggregates instead of per-person rows, and
    TEAM_QUALITY's are added."""
    workers = workers or min(4, max(2, os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dashboard") as pool:
        queries = {**AGGREGATES,
                   **({**TEAM_WELLBEING, **TEAM_QUALITY, **TEAM_PRIVACY} if team else {})}
        futures = {name: pool.submit(query, db, f) for name, query in queries.items()}
        return {name: future.result() for name, future in futures.items()}


# -- mood (private) ---------------------------------------------------------------------------

def _is_lead(db: Database, user_id: int) -> bool:
    user = get_user(db, user_id)
    return user is not None and user.active and has_role(user.role, "lead")


# The people who chose to share their check-ins (one parameter: the preference key).
_SHARING = ("SELECT user_id FROM preferences WHERE key = ? AND CAST(value AS VARCHAR) = 'true'")


def visible_checkins(db: Database, f: DashboardFilter, viewer_id: int) -> pd.DataFrame:
    """Individual check-ins the viewer may see: their own always; a lead's also those of
    people who share them (within the filter's people). Never anyone else's."""
    params: list[Any] = [f.since, f.until, viewer_id]
    others = "FALSE"
    if _is_lead(db, viewer_id):
        params.append(SHARE_CHECKINS_PREF)
        others = f"c.user_id IN ({_SHARING})"
        people = in_clause("c.user_id", f.user_ids, params)
        if people:
            others += f" AND {people}"
    return query_frame(db, f"""
        SELECT c.checked_at, CAST(c.checked_at AS DATE) AS day, c.user_id, u.username,
               c.valence, c.arousal, c.moment
        FROM checkins c JOIN users u ON u.id = c.user_id
        WHERE c.checked_at >= ? AND c.checked_at < ? AND (c.user_id = ? OR ({others}))
        ORDER BY c.checked_at, u.username""", params)


def team_mood_by_day(db: Database, f: DashboardFilter, viewer_id: int) -> pd.DataFrame:
    """Mean mood per day over everyone who checked in (each person's day averaged first, so
    nobody weighs more for checking in often), for leads only.

    A day is shown only when at least the minimum group size of its people are ones whose
    check-ins the viewer cannot see otherwise (not the viewer, not sharing): else the viewer could
    subtract what they know and recover one person's mood. For the same reason the people
    and project filters do not apply: narrowing the group to chosen people would let two
    filtered views be subtracted from each other."""
    if not _is_lead(db, viewer_id):
        return pd.DataFrame({"day": pd.Series(dtype="datetime64[us]"), "people": [],
                             "checkins": [], "mean_valence": [], "mean_arousal": []})
    return query_frame(db, f"""
        WITH person_days AS (
            SELECT CAST(checked_at AS DATE) AS day, user_id, count(*) AS checkins,
                   avg(valence) AS valence, avg(arousal) AS arousal
            FROM checkins WHERE checked_at >= ? AND checked_at < ?
            GROUP BY ALL
        ), known AS (
            SELECT ? AS user_id UNION {_SHARING}
        )
        SELECT d.day, count(DISTINCT d.user_id) AS people, sum(d.checkins) AS checkins,
               round(avg(d.valence), 2) AS mean_valence, round(avg(d.arousal), 2) AS mean_arousal
        FROM person_days d LEFT JOIN known k ON k.user_id = d.user_id
        GROUP BY d.day
        HAVING count(DISTINCT d.user_id) >= ?
           AND count(DISTINCT d.user_id) FILTER (WHERE k.user_id IS NULL) >= ?
        ORDER BY d.day""",
        [f.since, f.until, viewer_id, SHARE_CHECKINS_PREF, min_group_size(db), min_group_size(db)])
