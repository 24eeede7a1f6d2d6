"""Dashboard: every aggregate of store/dashboard.py on known data in a real DuckDB file, who
sees what (annotators only themselves, mood private, the group floor), and the page itself
with AppTest."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from core.labels import Label
from store import gold, dashboard as dash
from store import projects, wellbeing, work
from store.dashboard import last_days, DashboardFilter
from store.db import utcnow
from store.events import record_event
from store.imports import import_file
from store.preferences import set_preference
from store.users import create_user
from tests.conftest import PASSWORD, make_project
from tests.helpers import as_user, label_rows, write_jsonl

TODAY = utcnow().date()
D0, D1 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)


@pytest.fixture(autouse=True)
def _today():
    """TODAY is the day each test runs, not the day the module was imported: a suite that
    crosses UTC midnight seeded today's rows after a stale TODAY and missed them."""
    global TODAY, D0, D1
    TODAY = utcnow().date()
    D0, D1 = TODAY - timedelta(days=2), TODAY - timedelta(days=1)


def seed_now() -> datetime:
    """The "now" seeded rows count back from: the real time, but never before 03:00 UTC, so
    rows seeded a few hours before now stay on today's date in a run just after midnight."""
    return max(utcnow(), at(TODAY, 3))


def at(day: date, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second)


def everything(**kwargs) -> DashboardFilter:
    return DashboardFilter(TODAY - timedelta(days=13), TODAY, **kwargs)


def item_ids(db, project_id: int) -> list[int]:
    with db.read() as cur:
        return [r[0] for r in cur.execute("SELECT id FROM items WHERE project_id = ? ORDER BY id",
                                          [project_id]).fetchall()]


def rows(df: pd.DataFrame, *columns: str) -> list[tuple]:
    """The frame's rows as plain tuples (dates as date, numbers as int/float, NaN as None)."""
    def plain(value):
        if value is None or value is pd.NA or value is pd.NaT or (
                isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.date() if value == value.normalize() else value.to_pydatetime()
        if hasattr(value, "item"):
            return value.item()
        return value
    return [tuple(plain(v) for v in row) for row in df[list(columns)].itertuples(index=False)]


def insert_event(db, kind: str, user_id: int, happened_at: datetime, project_id: int | None = None,
                 item_id: int | None = None, details: dict | None = None) -> None:
    db.write(lambda cur: cur.execute(
        "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [happened_at, user_id, kind, project_id, item_id, json.dumps(details) if details else None]))


def expose(db, user_id: int, project_id: int, severity: int | None, ended_at: datetime,
           seconds: int = 60, outcome: str = "submit", category: str | None = None,
           item_id: int = 1) -> None:
    db.write(lambda cur: wellbeing.record_exposure(
        cur, user_id, project_id, item_id, severity, category, outcome, seconds * 1000,
        ended_at - timedelta(seconds=seconds), ended_at))


# -- work and labels ------------------------------------------------------------------------

@pytest.fixture
def labeled(db, accounts, tmp_path):
    """Project P (6 items, overlap 2) and Q (2 items, overlap 1), labeled on three days:

    D0  ann1: P1 safe/0 (30 s), P2 unsafe S1/3 (45 s), P3 unsafe S1+S10/4 (400 s)
    D1  ann2: P1 unsafe S2/2 (12 s), P2 safe/0 (8 s)
    now ann1: corrects P1 to unsafe S2/2 (20 s); Q1 safe/0 (5 s)
    """
    p = make_project(db, accounts, overlap=2, name="P")
    q = make_project(db, accounts, overlap=1, name="Q", members=("ann1",))
    import_file(db, accounts["lead"], p, write_jsonl(tmp_path / "p.jsonl", label_rows(6, "p")))
    import_file(db, accounts["lead"], q, write_jsonl(tmp_path / "q.jsonl", label_rows(2, "q")))
    p_items, q_items = item_ids(db, p), item_ids(db, q)
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    save = work.save_annotation
    save(db, ann1, p_items[0], Label(True, (), 0), active_ms=30_000, now=at(D0, 10))
    save(db, ann1, p_items[1], Label(False, ("S1",), 3), active_ms=45_000, now=at(D0, 10, 5))
    save(db, ann1, p_items[2], Label(False, ("S1", "S10"), 4), active_ms=400_000, now=at(D0, 10, 20))
    save(db, ann2, p_items[0], Label(False, ("S2",), 2), active_ms=12_000, now=at(D1, 9))
    save(db, ann2, p_items[1], Label(True, (), 0), active_ms=8_000, now=at(D1, 9, 1))
    save(db, ann1, p_items[0], Label(False, ("S2",), 2), active_ms=20_000)   # a correction
    save(db, ann1, q_items[0], Label(True, (), 0), active_ms=5_000)
    return {"P": p, "Q": q, "p_items": p_items, "q_items": q_items}


def test_progress_counts_overlap_slots_and_gives_an_eta(db, accounts, labeled):
    df = dash.progress_by_project(db, everything(), today=TODAY)
    assert rows(df, "project", "items", "overlap", "total", "done", "remaining", "percent_done") == [
        ("P", 6, 2, 12, 5, 7, 41.7), ("Q", 2, 1, 2, 1, 1, 50.0)]
    # P: 3 done on D0 and 2 on D1 -> 2.5 a day -> 7 / 2.5 = 2.8 days, so done in 3 days.
    assert rows(df, "pace_per_day", "eta_days", "eta_date") == [
        (2.5, 2.8, TODAY + timedelta(days=3)), (1.0, 1.0, TODAY + timedelta(days=1))]
    only_q = dash.progress_by_project(db, everything(project_ids=(labeled["Q"],)), today=TODAY)
    assert list(only_q["project"]) == ["Q"]


def test_pace_uses_only_the_last_seven_active_days(db, accounts, labeled):
    # Eight more active days long ago, 10 items each: the pace is the last 7 active days only.
    def old_work(cur):
        for n in range(8):
            cur.execute(
                "INSERT INTO annotations (item_id, project_id, user_id, version, submitted_at)"
                " SELECT 0, ?, ?, 1, ? FROM range(10)",
                [labeled["Q"], accounts["ann3"], at(TODAY - timedelta(days=40 + n))])
    db.write(old_work)
    df = dash.progress_by_project(db, everything(project_ids=(labeled["Q"],)), today=TODAY)
    # Active days: today (1), then 8 days of 10: the last 7 are today + 6 x 10 -> 61 / 7.
    assert rows(df, "done", "pace_per_day") == [(2, round(61 / 7, 1))]


def test_items_per_day_counts_first_versions_in_the_range(db, accounts, labeled):
    df = dash.items_per_day(db, everything())
    assert rows(df, "day", "project", "items") == [(D0, "P", 3), (D1, "P", 2), (TODAY, "Q", 1)]
    one_day = DashboardFilter(D1, D1)
    assert rows(dash.items_per_day(db, one_day), "day", "items") == [(D1, 2)]
    assert dash.items_per_day(db, everything(project_ids=())).empty


def test_throughput_is_items_per_active_hour(db, accounts, labeled):
    df = dash.throughput_by_annotator(db, everything())
    # ann1: 4 first versions; 30+45+400+20+5 = 500 s active (the correction's time counts).
    assert rows(df, "username", "items", "items_per_hour") == [
        ("ann1", 4, round(4 / (500 / 3600), 1)), ("ann2", 2, round(2 / (20 / 3600), 1))]
    only_ann2 = dash.throughput_by_annotator(db, everything(user_ids=(accounts["ann2"],)))
    assert list(only_ann2["username"]) == ["ann2"]


def test_active_time_histogram_bins_in_sql(db, accounts, labeled):
    df = dash.active_time_histogram(db, everything())
    # First versions: 30, 45, 400, 12, 8, 5 seconds.
    assert rows(df, "active_time", "from_seconds", "to_seconds", "items") == [
        ("0-10 s", 0, 10, 2), ("10-20 s", 10, 20, 1), ("30-40 s", 30, 40, 1),
        ("40-50 s", 40, 50, 1), ("300 s or more", 300, None, 1)]
    wide = dash.active_time_histogram(db, everything(), bin_seconds=60, overflow_seconds=120)
    assert rows(wide, "active_time", "items") == [("0-60 s", 5), ("120 s or more", 1)]


def test_skips_and_flags_per_annotator(db, accounts, labeled):
    p_items = labeled["p_items"]
    work.skip_item(db, accounts["ann2"], p_items[3], "not today")
    work.skip_item(db, accounts["ann2"], p_items[4])
    work.flag_item(db, accounts["ann1"], p_items[5], "garbled text")
    insert_event(db, "skip", accounts["ann1"], at(TODAY - timedelta(days=30)), labeled["P"])
    df = dash.skips_and_flags(db, everything())
    assert rows(df, "username", "skips", "flags") == [("ann1", 0, 1), ("ann2", 2, 0)]


def test_label_distributions_use_current_versions_of_label_projects(db, accounts, labeled):
    compare = make_project(db, accounts, kind="compare", name="C")
    db.write(lambda cur: cur.execute(
        "INSERT INTO annotations (item_id, project_id, user_id, version, submitted_at) "
        "VALUES (0, ?, ?, 1, ?)", [compare, accounts["ann3"], utcnow()]))
    verdicts = dash.verdict_distribution(db, everything())
    # ann1's P1 was corrected from safe to unsafe: only the correction counts.
    assert rows(verdicts, "project", "verdict", "labels") == [
        ("P", "safe", 1), ("P", "unsafe", 4), ("Q", "safe", 1)]
    categories = dash.category_distribution(db, everything())
    assert rows(categories, "project", "category", "labels") == [
        ("P", "S1", 2), ("P", "S10", 1), ("P", "S2", 2)]
    severities = dash.severity_distribution(db, everything())
    assert rows(severities, "project", "severity", "labels") == [
        ("P", "0", 1), ("P", "2", 2), ("P", "3", 1), ("P", "4", 1), ("Q", "0", 1)]
    mine = dash.verdict_distribution(db, everything(user_ids=(accounts["ann2"],)))
    assert rows(mine, "verdict", "labels") == [("safe", 1), ("unsafe", 1)]


def test_all_aggregates_side_by_side_equal_each_on_its_own(db, accounts, labeled):
    work.skip_item(db, accounts["ann2"], labeled["p_items"][3])
    f = everything()
    together = dash.all_aggregates(db, f, workers=4)
    assert list(together) == list(dash.AGGREGATES)
    for name, query in dash.AGGREGATES.items():
        alone = query(db, f)
        if name == "time_since_last_break":      # minutes since: measured at call time
            alone, together[name] = (d.drop(columns="minutes_since_break")
                                     for d in (alone, together[name]))
        pd.testing.assert_frame_equal(together[name], alone, obj=name)


# -- wellbeing ------------------------------------------------------------------------------

def test_exposure_minutes_by_severity_per_day(db, accounts):
    p = make_project(db, accounts)
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    expose(db, ann1, p, 4, at(D0, 9), seconds=600)
    expose(db, ann2, p, 4, at(D0, 9), seconds=300)
    expose(db, ann1, p, None, at(D0, 10), seconds=90)
    expose(db, ann1, p, 1, at(D1, 23, 59, 59), seconds=120)
    expose(db, ann1, p, 1, at(TODAY - timedelta(days=20)), seconds=60)   # outside the range
    df = dash.exposure_by_day(db, everything())
    assert rows(df, "day", "severity", "minutes", "items") == [
        (D0, "4", 15.0, 2), (D0, "unknown", 1.5, 1), (D1, "1", 2.0, 1)]
    assert rows(dash.exposure_by_day(db, everything(user_ids=(ann2,))), "minutes") == [(5.0,)]


def test_longest_harmful_run_per_person_per_day(db, accounts):
    p = make_project(db, accounts)
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    # ann1 on D0: 3 3 1 | 4 4 4 | None 3  -> longest run 3 (None breaks a run).
    for n, severity in enumerate([3, 3, 1, 4, 4, 4, None, 3]):
        expose(db, ann1, p, severity, at(D0, 9, n))
    # D1: two items end at the same moment; the id breaks the tie: 3, 0, 3 -> longest 1
    # (ordered the other way round it would be 0, 3, 3 -> 2).
    expose(db, ann1, p, 3, at(D1, 9))
    expose(db, ann1, p, 0, at(D1, 9))
    expose(db, ann1, p, 3, at(D1, 9, 1))
    # ann2 on D0 interleaved in time with ann1: runs are per person.
    for n, severity in enumerate([4, 4]):
        expose(db, ann2, p, severity, at(D0, 9, n, 30))
    expose(db, ann2, p, 2, at(D1, 9))
    df = dash.longest_harmful_runs(db, everything())
    assert rows(df, "day", "username", "items", "harmful_items", "longest_run") == [
        (D0, "ann1", 8, 6, 3), (D0, "ann2", 2, 2, 2), (D1, "ann1", 3, 2, 1), (D1, "ann2", 1, 0, 0)]
    # A run spanning midnight counts on each day separately.
    expose(db, accounts["ann3"], p, 4, at(D1, 23, 59))
    expose(db, accounts["ann3"], p, 4, at(TODAY, 0, 1))
    ann3 = dash.longest_harmful_runs(db, everything(user_ids=(accounts["ann3"],)))
    assert rows(ann3, "day", "longest_run") == [(D1, 1), (TODAY, 1)]
    assert rows(dash.longest_harmful_runs(db, everything(user_ids=(ann1,)), min_severity=4),
                "day", "longest_run") == [(D0, 3), (D1, 0)]


def test_time_since_last_break(db, accounts):
    p = make_project(db, accounts)
    ann1, ann2, ann3 = accounts["ann1"], accounts["ann2"], accounts["ann3"]
    now = seed_now()
    insert_event(db, "break_taken", ann1, now - timedelta(hours=3))
    insert_event(db, "break_taken", ann1, now - timedelta(minutes=30))
    insert_event(db, "break_due", ann2, now - timedelta(minutes=5))
    expose(db, ann1, p, 2, now - timedelta(minutes=10))
    expose(db, ann2, p, 2, now - timedelta(minutes=10))
    df = dash.time_since_last_break(db, everything(), now=now)
    # Everyone with exposure in the range: ann2 never took a break.
    assert rows(df, "username", "minutes_since_break") == [("ann1", 30.0), ("ann2", None)]
    chosen = dash.time_since_last_break(db, everything(user_ids=(ann3,)), now=now)
    assert rows(chosen, "username", "minutes_since_break") == [("ann3", None)]


def test_breaks_taken_versus_due_and_caps(db, accounts):
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    p = make_project(db, accounts)
    wellbeing.note_break_due(db, ann1, p, "exposure")
    wellbeing.note_break_due(db, ann1, p, "run")
    wellbeing.take_break(db, ann1, p, 10)
    wellbeing.take_break(db, ann2, None, 5)          # self-initiated, no project
    insert_event(db, "break_due", ann2, at(TODAY - timedelta(days=30)))   # outside the range
    df = dash.breaks_taken_vs_due(db, everything())
    assert rows(df, "username", "taken", "due") == [("ann1", 1, 2), ("ann2", 1, 0)]
    # The project filter does not hide a break taken outside any project.
    other = make_project(db, accounts, name="Other")
    assert rows(dash.breaks_taken_vs_due(db, everything(project_ids=(other,))),
                "username", "taken") == [("ann1", 1), ("ann2", 1)]

    insert_event(db, "cap_reached", ann1, at(D0, 14), p, details={"severity": 4})
    insert_event(db, "cap_reached", ann1, at(D0, 16), p, details={"severity": 3})
    insert_event(db, "cap_reached", ann2, at(D1, 15), p, details={"severity": 4})
    caps = dash.caps_reached(db, everything())
    assert rows(caps, "day", "username", "severity", "times") == [
        (D0, "ann1", 3, 1), (D0, "ann1", 4, 1), (D1, "ann2", 4, 1)]


def test_reveal_rate_and_skip_rate_by_category(db, accounts):
    p = make_project(db, accounts)
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    for outcome, category in [("submit", "S1"), ("skip", "S1"), ("skip", "S1"), ("submit", "S10"),
                              ("skip", None)]:
        expose(db, ann1, p, 2, at(D0, 9), outcome=outcome, category=category)
    expose(db, ann2, p, 2, at(D0, 9))
    record_event(db, "reveal", ann1, p, 1, {"what": "terms", "terms": 2})
    record_event(db, "reveal", ann1, p, 2, {"what": "text"})
    reveals = dash.reveal_rate(db, everything())
    assert rows(reveals, "username", "reveals", "exposures", "reveal_rate") == [
        ("ann1", 2, 5, 0.4), ("ann2", 0, 1, 0.0)]
    skips = dash.skip_rate_by_category(db, everything())
    assert rows(skips, "category", "exposures", "skips", "skip_rate") == [
        ("S1", 3, 2, 0.667), ("S10", 1, 0, 0.0), ("none", 2, 1, 0.5)]


def test_team_wellbeing_for_leads_needs_three_people(db, accounts):
    """A lead's wellbeing panel: team aggregates only, and only over 3 or more people."""
    p = make_project(db, accounts)
    ann1, ann2, ann3 = accounts["ann1"], accounts["ann2"], accounts["ann3"]
    now = seed_now()
    for n, severity in enumerate([3, 3, 3, 1]):
        expose(db, ann1, p, severity, at(D0, 9, n), outcome="skip" if n == 0 else "submit",
               category="S1")
    expose(db, ann2, p, 4, at(D0, 9), seconds=120, category="S1")
    insert_event(db, "break_taken", ann1, at(D0, 12), details={"minutes": 10})
    insert_event(db, "break_due", ann2, at(D0, 12))
    insert_event(db, "cap_reached", ann2, at(D0, 13), p, details={"severity": 4})
    insert_event(db, "reveal", ann1, at(D0, 9), p)
    insert_event(db, "break_taken", ann2, now - timedelta(minutes=30))
    expose(db, ann1, p, 2, now - timedelta(minutes=5))
    expose(db, ann2, p, 2, now - timedelta(minutes=5))
    f = everything()
    team = {name: query(db, f) for name, query in dash.TEAM_WELLBEING.items()}
    assert all(frame.empty for frame in team.values()), {k: len(v) for k, v in team.items()}

    expose(db, ann3, p, 0, at(D0, 10), category="S1")
    expose(db, ann3, p, 0, now - timedelta(minutes=5))
    # Per severity too: only severities that 3 people met (today's severity 2 met 2 of them).
    assert rows(dash.team_exposure_by_day(db, f), "day", "severity", "minutes", "people") == []
    expose(db, accounts["ann3"], p, 2, now - timedelta(minutes=4))
    assert rows(dash.team_exposure_by_day(db, f), "day", "severity", "minutes", "people") == [
        (TODAY, "2", 3.0, 3)]
    assert rows(dash.team_longest_runs(db, f), "day", "people", "longest_run",
                "mean_longest_run") == [(D0, 3, 3, 1.3), (TODAY, 3, 0, 0.0)]
    assert rows(dash.team_breaks_taken_vs_due(db, f), "day", "taken", "due") == [
        (D0, 1, 1), (TODAY, 1, 0)]
    assert rows(dash.team_caps_reached(db, f), "day", "severity", "people_at_cap") == [(D0, 4, 1)]
    assert rows(dash.team_reveal_rate(db, f), "day", "reveals", "exposures",
                "reveal_rate") == [(D0, 1, 6, 0.167), (TODAY, 0, 4, 0.0)]
    assert rows(dash.team_skip_rate_by_category(db, f), "category", "people", "skips") == [
        ("S1", 3, 1), ("none", 3, 0)]
    assert rows(dash.team_time_since_break(db, f, now=now), "since_last_break", "people") == [
        ("under 1 hour", 1), ("over 2 hours", 1), ("no break yet", 1)]
    # No names anywhere in a lead's wellbeing frames.
    assert all("username" not in frame.columns and "user_id" not in frame.columns
               for frame in (q(db, f) for q in dash.TEAM_WELLBEING.values()))
    # The people and project filters do not narrow the group (no differencing two views).
    two = everything(user_ids=(ann1, ann2), project_ids=(p,))
    for query in dash.TEAM_WELLBEING.values():
        pd.testing.assert_frame_equal(query(db, two), query(db, f))


def test_chart_labels_from_people_are_shown_literally():
    from components.charts import bars
    df = pd.DataFrame({"project": ["<b>bold</b> & co", "plain"], "items": [1, 2]})
    fig = bars(df, "project", "items", "t", "x", "y", color="project")
    assert [t.name for t in fig.data] == ["&lt;b&gt;bold&lt;/b&gt; &amp; co", "plain"]
    assert list(bars(df, "project", "items", "t", "x", "y").data[0].x) == [
        "&lt;b&gt;bold&lt;/b&gt; &amp; co", "plain"]


# -- who sees what --------------------------------------------------------------------------

def test_an_annotator_filter_is_pinned_to_themselves(accounts):
    asked = everything(user_ids=(accounts["ann2"], accounts["ann3"]))
    assert dash.visible_filter(accounts["ann1"], "annotator", asked).user_ids == (accounts["ann1"],)
    unfiltered = dash.visible_filter(accounts["ann1"], "annotator", everything())
    assert unfiltered.user_ids == (accounts["ann1"],)
    assert dash.visible_filter(accounts["lead"], "lead", asked) == asked


def checkin(db, user_id: int, valence: int, arousal: int, day: date = D0, hour: int = 10) -> None:
    wellbeing.record_checkin(db, user_id, valence, arousal, "hourly", now=at(day, hour))


def test_team_mood_needs_three_people(db, accounts):
    lead, ann1, ann2, ann3 = (accounts[n] for n in ("lead", "ann1", "ann2", "ann3"))
    checkin(db, ann1, 2, 8)
    checkin(db, ann1, 4, 6, hour=11)      # one person's day is averaged first: (3, 7)
    checkin(db, ann2, 6, 4)
    assert dash.team_mood_by_day(db, everything(), lead).empty
    checkin(db, ann3, 9, 1)
    df = dash.team_mood_by_day(db, everything(), lead)
    assert rows(df, "day", "people", "checkins", "mean_valence", "mean_arousal") == [
        (D0, 3, 4, 6.0, 4.0)]
    # The people filter does not narrow the group (no differencing two filtered views).
    assert rows(dash.team_mood_by_day(db, everything(user_ids=(ann1,)), lead), "people") == [(3,)]
    # Annotators never get team mood.
    assert dash.team_mood_by_day(db, everything(), ann1).empty


def test_team_mood_counts_only_people_the_lead_cannot_see_otherwise(db, accounts):
    lead, ann1, ann2, ann3 = (accounts[n] for n in ("lead", "ann1", "ann2", "ann3"))
    for person in (ann1, ann2, ann3):
        checkin(db, person, 5, 5)
    set_preference(db, ann3, wellbeing.SHARE_CHECKINS_PREF, True)
    # ann3 shares: the team mean minus ann3's shown check-in would reveal a pair. Hidden.
    assert dash.team_mood_by_day(db, everything(), lead).empty
    ann4 = create_user(db, accounts["admin"], "ann4", "Ann Four", PASSWORD, "annotator")
    checkin(db, ann4, 5, 5)
    assert rows(dash.team_mood_by_day(db, everything(), lead), "people") == [(4,)]
    # The lead's own check-in is known to the lead: it does not count toward the floor.
    set_preference(db, ann3, wellbeing.SHARE_CHECKINS_PREF, False)
    checkin(db, lead, 5, 5, day=D1)
    for person in (ann1, ann2):
        checkin(db, person, 5, 5, day=D1)
    assert [r[0] for r in rows(dash.team_mood_by_day(db, everything(), lead), "day")] == [D0]


def test_individual_check_ins_are_private_unless_shared(db, accounts):
    lead, ann1, ann2 = accounts["lead"], accounts["ann1"], accounts["ann2"]
    checkin(db, ann1, 3, 3)
    checkin(db, ann2, 1, 9)
    checkin(db, lead, 7, 2)

    def seen(viewer, **kwargs):
        return sorted(dash.visible_checkins(db, everything(**kwargs), viewer)["username"])

    assert seen(ann1) == ["ann1"]
    assert seen(lead) == ["lead"]                       # ann1 and ann2 keep theirs private
    set_preference(db, ann2, wellbeing.SHARE_CHECKINS_PREF, True)
    assert seen(lead) == ["ann2", "lead"]
    assert seen(ann1) == ["ann1"]                       # sharing is with leads, not peers
    assert seen(lead, user_ids=(ann1,)) == ["lead"]     # people filter narrows the shared ones
    set_preference(db, ann2, wellbeing.SHARE_CHECKINS_PREF, False)
    assert seen(lead) == ["lead"]


# -- the page -------------------------------------------------------------------------------

CHARTS_FOR_LEAD = 23   # every panel of the page, with data in each
# The disagreement chart shares the agreement panel's table; mood tables have no download.
TABLES_FOR_LEAD = CHARTS_FOR_LEAD - 1
# A column that only each wellbeing table has (AppTest does not expose a table's key).
WELLBEING_COLUMNS = ("minutes", "longest_run", "since_last_break", "taken", "people_at_cap",
                     "reveal_rate", "skip_rate")


def seed_everything(db, ids: dict[str, int], tmp_path) -> int:
    """Data for every panel: labels, skips, flags, exposures, breaks, caps, reveals and
    check-ins of three people (one of them sharing)."""
    ann1, ann2, ann3 = ids["ann1"], ids["ann2"], ids["ann3"]
    pid = projects.create_project(db, ids["lead"], "Pilot", "label", "", None, 2, [ann1, ann2, ann3])
    import_file(db, ids["lead"], pid, write_jsonl(tmp_path / "pilot.jsonl", label_rows(12, "pilot")))
    items = item_ids(db, pid)
    now = seed_now()
    for n, (user, item) in enumerate([(ann1, items[0]), (ann1, items[1]), (ann2, items[0]),
                                      (ann2, items[2]), (ann3, items[3])]):
        work.save_annotation(db, user, item, Label(False, ("S1",), 3 + n % 2),
                             active_ms=15_000 * (n + 1), now=now - timedelta(days=n % 3, minutes=5))
    work.save_annotation(db, ann1, items[4], Label(True, (), 0), active_ms=9_000)
    work.skip_item(db, ann2, items[5], "later", active_ms=3_000)
    work.flag_item(db, ann3, items[6], "broken item", active_ms=2_000)
    db.write(lambda cur: cur.execute(
        "UPDATE exposures SET hint_category = 'S1' WHERE outcome = 'skip'"))
    wellbeing.note_break_due(db, ann1, pid, "exposure")
    wellbeing.take_break(db, ann1, pid, 10)
    insert_event(db, "cap_reached", ann2, now - timedelta(hours=1), pid, details={"severity": 4})
    record_event(db, "reveal", ann1, pid, items[0], {"what": "text"})
    for person, valence in ((ann1, 3), (ann2, 2), (ann3, 7)):
        wellbeing.record_checkin(db, person, valence, 5, "hourly", now=now - timedelta(minutes=20))
    wellbeing.record_checkin(db, ann2, 1, 9, "sidebar", now=now - timedelta(minutes=10))
    return pid


def seed_every_panel(db, ids: dict[str, int], tmp_path) -> int:
    """`seed_everything`, plus what the lead's two mood panels need: ann3 shares check-ins,
    and ann4 checks in privately, so three people the lead cannot see count for the floor."""
    pid = seed_everything(db, ids, tmp_path)
    # Gold: items[0] (both answered unsafe S1) expects that; items[4] (ann1: safe) did not.
    items = item_ids(db, pid)
    gold.set_gold(db, ids["lead"], items[0], Label(False, ("S1",), 3), None, "a threat")
    gold.set_gold(db, ids["lead"], items[4], Label(False, ("S2",), 2), None, "fraud")
    set_preference(db, ids["ann3"], wellbeing.SHARE_CHECKINS_PREF, True)
    wellbeing.record_checkin(db, ids["ann4"], 6, 4, "start", now=seed_now() - timedelta(minutes=30))
    return pid


def make_team(db) -> dict[str, int]:
    """An admin, a lead and four annotators; returns {username: id}."""
    admin = create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ids = {"admin": admin, "lead": create_user(db, admin, "lead", "Lead", PASSWORD, "lead")}
    for name in ("ann1", "ann2", "ann3", "ann4"):
        ids[name] = create_user(db, admin, name, name.title(), PASSWORD, "annotator")
    return ids


@pytest.fixture
def team(app_db):
    return make_team(app_db)


def open_dashboard(db, username: str):
    at = as_user(db, username)
    at.switch_page("app_pages/dashboard.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def plotly_charts(at) -> list:
    return list(at.get("plotly_chart"))


def table_text(at) -> str:
    return "\n".join(frame.value.to_csv() for frame in at.dataframe)


def test_lead_sees_every_panel_with_charts_tables_and_downloads(app_db, team, tmp_path):
    seed_every_panel(app_db, team, tmp_path)
    at = open_dashboard(app_db, "lead")
    assert [t.value for t in at.title] == ["Dashboard"]
    assert [h.value for h in at.header] == ["Progress", "Throughput", "Labels", "Quality", "Wellbeing"]
    charts = plotly_charts(at)
    assert len(charts) == CHARTS_FOR_LEAD
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts]
    assert "Team exposure minutes by severity" in titles and "Team mood (daily mean)" in titles
    # The lead's wellbeing tables are team aggregates: nobody is named in them.
    wellbeing_tables = [t for t in at.dataframe
                        if set(WELLBEING_COLUMNS) & set(t.value.columns)]
    assert len(wellbeing_tables) == len(WELLBEING_COLUMNS)
    assert all("username" not in t.value.columns for t in wellbeing_tables)
    for chart in charts:
        layout = json.loads(chart.proto.spec)["layout"]
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
    assert len(at.dataframe) == TABLES_FOR_LEAD
    # Every table has its CSV except mood (check-ins are never exported, PRODUCT.md).
    downloads = {b.key for b in at.download_button}
    assert len(downloads) == TABLES_FOR_LEAD - 2
    assert not downloads & {"csv_shared_mood", "csv_team_mood"}
    assert not [i for i in at.info if i.value == "No data for these filters yet."]
    metrics = {m.label: m.value for m in at.metric}
    # Gold items (items[0] and items[4]) are checks, not work: 10 items x 2 slots, 3 done.
    assert metrics["Done / total (slots)"] == "3 / 20"
    # Three first answers to gold items, two right (ann1 and ann2 on items[0]).
    assert metrics["Gold accuracy"] == "67%"
    queues = [f.value for f in at.dataframe if "queue" in f.value.columns][0]
    assert dict(zip(queues["queue"], queues["items"])) == {
        "disagreements": 0, "flags": 1, "gold misses": 1, "asked about": 0}
    # One item has two answers, both unsafe: no variation to measure alpha against, so the
    # tile is empty while the agreement table lists the item (tests/test_quality.py checks
    # the figures themselves against the krippendorff library).
    assert metrics["Agreement (safe/unsafe)"] == "—"
    agreement = [f.value for f in at.dataframe if "alpha" in f.value.columns][0]
    safe = agreement.set_index("question").loc["safe/unsafe"]
    assert safe["items"] == 1 and safe["disagreements"] == 0
    text = table_text(at)
    assert "ann3" in text            # ann3 shares check-ins
    shared = [f.value for f in at.dataframe if "valence" in f.value.columns][-1]
    assert set(shared["username"]) == {"ann3"}


def test_the_people_filter_narrows_the_lead_view(app_db, team, tmp_path):
    seed_everything(app_db, team, tmp_path)
    at = open_dashboard(app_db, "lead")
    at.multiselect(key="dash_people").set_value([team["ann3"]]).run()
    assert not at.exception
    throughput = [f.value for f in at.dataframe if "items_per_hour" in f.value.columns][0]
    assert list(throughput["username"]) == ["ann3"]


def test_an_annotator_sees_only_their_own_data(app_db, team, tmp_path):
    seed_everything(app_db, team, tmp_path)
    at = open_dashboard(app_db, "ann1")
    assert not [m for m in at.multiselect if m.key == "dash_people"]
    assert plotly_charts(at)
    text = table_text(at)
    assert "ann1" in text
    for other in ("ann2", "ann3", "ann4", "lead"):
        assert other not in text, other
    # ann2's distinctive check-in (valence 1, arousal 9) is nowhere: only ann1's own mood.
    mood = [f.value for f in at.dataframe if "valence" in f.value.columns]
    assert len(mood) == 1 and set(mood[0]["username"]) == {"ann1"}
    assert set(mood[0]["valence"]) == {3}


def test_lead_sees_unshared_check_ins_only_once_shared(app_db, team, tmp_path):
    seed_everything(app_db, team, tmp_path)
    at = open_dashboard(app_db, "lead")
    individual = [f.value for f in at.dataframe if "valence" in f.value.columns]
    assert all("ann2" not in set(df.get("username", [])) for df in individual)
    assert not any((df.get("valence") == 1).any() for df in individual if "valence" in df)
    set_preference(app_db, team["ann2"], wellbeing.SHARE_CHECKINS_PREF, True)
    at = open_dashboard(app_db, "lead")      # mood is never cached: the change shows at once
    shared = [f.value for f in at.dataframe if "valence" in f.value.columns]
    seen = shared[-1]
    assert ("ann2", 1, 9) in set(zip(seen["username"], seen["valence"], seen["arousal"]))


def test_an_empty_database_shows_kind_messages_not_errors(app_db, team):
    at = open_dashboard(app_db, "lead")
    assert not plotly_charts(at)
    assert [i for i in at.info if i.value == "No data for these filters yet."]
    assert not at.error


def test_an_annotator_sees_their_own_gold_accuracy_and_no_team_quality(app_db, team, tmp_path):
    seed_every_panel(app_db, team, tmp_path)
    at = open_dashboard(app_db, "ann1")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Gold accuracy"] == "50%"          # items[0] right, items[4] wrong
    gold_table = [f.value for f in at.dataframe if "accuracy" in f.value.columns][0]
    assert set(gold_table["username"]) == {"ann1"}
    # Agreement and review queues are the lead's (positive control: the lead test sees them).
    assert not [f for f in at.dataframe if {"alpha"} & set(f.value.columns)
                or {"queue"} & set(f.value.columns)]
