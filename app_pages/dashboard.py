"""Dashboard: progress, throughput, labels, quality and wellbeing, filtered by project, person
and dates. Annotators see only their own figures; leads see the team. The numbers come from
store/dashboard.py (which also enforces who sees what); this page reads the filters, fetches
the aggregates (cached for 30 seconds; mood never) and draws them."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from components.auth import require_role
from components.charts import DAY_AXIS, NO_DATA, bars, chart_block, lines, privacy_hidden
from components.db import get_db
from core.roles import has_role
from core.wellbeing import DEFAULT_POLICY
from store import dashboard
from store.dashboard import DashboardFilter, visible_filter
from store.db import Database, utcnow
from store.projects import list_projects, projects_for_user
from store.settings import min_group_size
from store.users import list_users

DEFAULT_DAYS = 14
MOOD_RANGE = (0.5, 9.5)


@st.cache_data(ttl=30, show_spinner=False, max_entries=200)
def _aggregates(_db: Database, db_path: str, f: DashboardFilter,
                team: bool, min_group: int) -> dict[str, pd.DataFrame]:
    """Every aggregate for the filter, cached per database file and filter: all of them
    depend on the filter, so one entry holds them all (fetched side by side on a miss).
    Thirty seconds old at most: a dashboard, not a live feed. `min_group` (the installation's
    minimum group size) is part of the key: raising it must hide small groups at once."""
    return dashboard.all_aggregates(_db, f, team=team)


user = require_role("annotator")
db = get_db()
is_lead = has_role(user.role, "lead")

st.title("Dashboard")
st.caption("Days are UTC calendar days. "
           + ("You see the team; pick people to narrow it." if is_lead
              else "You see your own figures only; project progress counts everyone's work."))

# -- filters --------------------------------------------------------------------------------
projects = {p.id: p.name for p in (list_projects(db) if is_lead else projects_for_user(db, user))}
today = utcnow().date()
columns = st.columns([2, 2, 1.4] if is_lead else [3, 1.4])
chosen_projects = columns[0].multiselect("Projects (empty = all)", list(projects),
                                         format_func=projects.get, key="dash_projects")
chosen_people: list[int] = []
if is_lead:
    people = {u.id: u.username for u in list_users(db)}
    chosen_people = columns[1].multiselect("People (empty = everyone)", list(people),
                                           format_func=people.get, key="dash_people")
default_range = dashboard.last_days(DEFAULT_DAYS, today)
dates = columns[-1].date_input("Dates (UTC)", value=(default_range.start, default_range.end),
                               max_value=today, format="YYYY-MM-DD", key="dash_dates")
# While a range is being picked the widget holds only its first day.
start, end = (dates[0], dates[-1]) if dates else (today, today)
if chosen_projects:
    project_ids: tuple[int, ...] | None = tuple(chosen_projects)
else:
    # Everything for leads; an annotator's own projects (progress lists only those).
    project_ids = None if is_lead else tuple(projects)
f = visible_filter(user.id, user.role, DashboardFilter(
    start, end, project_ids, tuple(chosen_people) if chosen_people else None))
days = list(pd.date_range(f.start, f.end, freq="D"))
# Time axes of the mood charts: the whole range; days centred on their slot.
range_times = (f.since, f.until)
range_days = (f.since - timedelta(hours=12), f.until - timedelta(hours=12))

data = _aggregates(db, db.path, f, is_lead, min_group_size(db))

# -- tiles ----------------------------------------------------------------------------------
progress = data["progress_by_project"]
throughput = data["throughput_by_annotator"]
hours = throughput["active_hours"].sum() if not throughput.empty else 0
tiles = st.columns(4)
tiles[0].metric("Done / total (slots)",
                f"{int(progress['done'].sum()):,} / {int(progress['total'].sum()):,}"
                if not progress.empty else "—", border=True,
                help="First-version annotations against items × overlap, in the chosen projects.")
tiles[1].metric("Items per hour", f"{throughput['items'].sum() / hours:.1f}" if hours else "—",
                border=True, help="First-version annotations per active hour in the date range.")
gold = data["gold_accuracy_by_person"]
whole = gold[gold["question"] == "answer"]
tiles[2].metric("Gold accuracy",
                f"{whole['correct'].sum() / whole['items'].sum():.0%}" if whole["items"].sum()
                else "—", border=True,
                help="Share of first answers to gold items that were right (verdict and "
                     "categories, or the overall choice)"
                     + (", over the people in view." if is_lead else ", yours."))
safe_alpha = (data["agreement_by_question"].query("question == 'safe/unsafe'")
              if is_lead else None)
tiles[3].metric("Agreement (safe/unsafe)",
                f"{safe_alpha['alpha'].iloc[0]:.2f}" if safe_alpha is not None
                and len(safe_alpha) == 1 and pd.notna(safe_alpha["alpha"].iloc[0]) else "—",
                border=True, help="Krippendorff's alpha when one project is in view; the "
                "Quality section has every project and question. Leads only.")

# -- progress -------------------------------------------------------------------------------
st.header("Progress", divider="gray")
over_served = int(progress["over_served"].sum()) if not progress.empty else 0
left, right = st.columns(2)
with left:
    chart_block(progress, "progress", lambda df: bars(
        df.melt(id_vars="project", value_vars=["done", "remaining"], var_name="slots",
                value_name="count"),
        "project", "count", "Slots done and left per project", "project",
        "slots (items × overlap)", color="slots", stacked=True, horizontal=True),
        caption="As of now, everyone's work. ETA at the mean pace of the last "
                f"{dashboard.PACE_DAYS} days on which anything was done. "
                f"{over_served} item{'' if over_served == 1 else 's'} over-served (more people "
                "than the overlap: work submitted after its claim lapsed and went to someone "
                "else; kept, and each slot counted once).")
with right:
    chart_block(data["items_per_day"], "items_per_day", lambda df: bars(
        df, "day", "items", "Items done per day", DAY_AXIS, "items (first versions)",
        color="project", legend_title="project", stacked=True, days=days),
        caption="First-version annotations (corrections not counted).")

# -- throughput -----------------------------------------------------------------------------
st.header("Throughput", divider="gray")
left, right = st.columns(2)
with left:
    chart_block(throughput, "throughput", lambda df: bars(
        df, "username", "items_per_hour", "Items per active hour", "annotator",
        "items per hour", categorical_x=True),
        caption="Active time: the time between a person's actions on an item, each gap capped "
                "at 2 minutes, less any time the page was hidden. Corrections add time but no "
                "items.")
with right:
    chart_block(data["active_time_histogram"], "active_time", lambda df: bars(
        df, "active_time", "items", "Active time per item", "active time per item (seconds)",
        "items", categorical_x=True),
        caption=f"{dashboard.BIN_SECONDS}-second bins; the last holds everything from "
                f"{dashboard.OVERFLOW_SECONDS} s up.")
chart_block(data["skips_and_flags"], "skips_flags", lambda df: bars(
    df.melt(id_vars="username", value_vars=["skips", "flags"], var_name="action",
            value_name="count"),
    "username", "count", "Skips and flags per annotator", "annotator", "items",
    color="action", categorical_x=True),
    caption="Skipping is never counted against anyone; this shows where items are hard.")

# -- labels ---------------------------------------------------------------------------------
st.header("Labels", divider="gray")
st.caption("Each person's current answer (their latest version) in labeling projects.")
left, middle, right = st.columns(3)
with left:
    chart_block(data["verdict_distribution"], "verdicts", lambda df: bars(
        df, "project", "labels", "Safe and unsafe", "project", "labels", color="verdict",
        legend_title="verdict", stacked=True, categorical_x=True))
with middle:
    chart_block(data["category_distribution"], "categories", lambda df: bars(
        df, "category", "labels", "Hazard categories", "category", "labels", color="project",
        legend_title="project", stacked=True, categorical_x=True))
with right:
    chart_block(data["severity_distribution"], "severities", lambda df: bars(
        df, "severity", "labels", "Severity", "severity (0 none - 4 severe)", "labels",
        color="project", legend_title="project", stacked=True, categorical_x=True))

# -- quality --------------------------------------------------------------------------------
st.header("Quality", divider="gray")
gold_caption = ("First answers to gold items, all time: a correction after seeing the expected "
                "answer does not count. For feedback, not ranking: people are in name order.")
left, right = st.columns(2)
with left:
    chart_block(gold, "gold", lambda df: bars(
        df[df["question"] == "answer"].assign(percent=lambda d: 100 * d["accuracy"]),
        "username", "percent", "Gold accuracy per person" if is_lead else "Your gold accuracy",
        "person", "right (% of gold items)", color="project", legend_title="project",
        categorical_x=True), caption=gold_caption)
with right:
    per_category = (gold[gold["question"].str.startswith("category ")]
                    .groupby("question", as_index=False)[["items", "correct"]].sum())
    chart_block(per_category.assign(percent=100 * per_category["correct"]
                                    / per_category["items"].where(per_category["items"] > 0)),
                "gold_categories", lambda df: bars(
                    df, "question", "percent", "Gold accuracy per category", "category",
                    "right (% of gold items)", categorical_x=True),
                caption="Each category present or absent as the gold answer says"
                        + (", everyone in view." if is_lead else ", your answers."))
if is_lead:
    agreement = data["agreement_by_question"]
    st.caption("Krippendorff's alpha (nominal) over the items completed in the date range with "
               "two or more answers, each person's latest version; 1 is perfect agreement, 0 "
               "what chance gives. Severity and the preference scales (ordinal) are in "
               "`python cli.py agreement --project NAME`, with confidence intervals. The people "
               "filter does not apply: agreement is between people.")
    left, right = st.columns(2)
    with left:
        chart_block(agreement, "agreement", lambda df: bars(
            df, "question", "alpha", "Agreement per question", "question", "alpha",
            color="project", legend_title="project", categorical_x=True))
    with right:
        chart_block(agreement, "disagreement", lambda df: bars(
            df.assign(percent=100 * df["disagreement_rate"]), "question", "percent",
            "Disagreement rate per question", "question", "items with any disagreement (%)",
            color="project", legend_title="project", categorical_x=True), table=False)
    left, right = st.columns(2)
    with left:
        chart_block(data["agreement_by_week"], "agreement_weekly", lambda df: lines(
            df.assign(series=df["project"] + " · " + df["question"]), "week", ["alpha"],
            "Agreement per question over time", "week (items by their last answer)", "alpha",
            color="series", legend_title="project · question"))
    with right:
        chart_block(data["review_queue_sizes"], "review_queues", lambda df: bars(
            df, "queue", "items", "Review queues", "queue", "items waiting", color="project",
            legend_title="project", stacked=True, categorical_x=True),
            caption="As of now, open projects; the Review page lists them.")

# -- wellbeing ------------------------------------------------------------------------------
st.header("Wellbeing", divider="gray")
run_severity = DEFAULT_POLICY.run_severity
# Why a lead's panel is empty: for privacy (some people, fewer than the minimum group size)
# or for want of data. Panels that always have rows when anyone had exposure are empty only
# for privacy then; breaks and caps can be truly empty in a big enough team.
empty_always, empty_small = NO_DATA, NO_DATA
floor = min_group_size(db)
if is_lead:
    group = data["wellbeing_group"].iloc[0]
    exposed = int(group["exposed_people"])
    if exposed:
        empty_always = privacy_hidden(floor)
        if exposed < floor:
            empty_small = privacy_hidden(floor)
    mood_empty = privacy_hidden(floor) if int(group["checkin_people"]) else NO_DATA
if is_lead:
    # PRODUCT.md: per person to themselves, in aggregate to leads, never over fewer than the
    # minimum group size (store.dashboard.TEAM_WELLBEING applies the floor).
    st.caption(f"Team figures only, where at least {floor} people are behind each "
               "figure (day, severity, category); each person sees their own on this page. "
               "They ignore the people and project filters, so that nobody can be singled out. "
               "Exposure is active time with an item, at the label's severity or else the "
               "item's hint.")
else:
    st.caption("Exposure is active time with an item, at the label's severity or else the item's "
               "hint. Breaks, break prompts and caps are a person's whatever the project.")
left, right = st.columns(2)
with left:
    # Same columns for both: a lead's frame is the team's (store.dashboard.TEAM_WELLBEING).
    chart_block(data["exposure_by_day"], "exposure", lambda df: bars(
        df, "day", "minutes", "Team exposure minutes by severity" if is_lead
        else "Exposure minutes by severity", DAY_AXIS, "active minutes", color="severity",
        legend_title="severity", stacked=True, days=days), empty=empty_always)
if is_lead:
    with right:
        chart_block(data["longest_harmful_runs"], "runs", lambda df: bars(
            df, "day", "longest_run", f"Longest run of items at severity {run_severity}+",
            DAY_AXIS, "items in a row (anyone)", days=days),
            caption="The longest run anyone had that day; the table adds the mean of "
                    "people's longest runs.", empty=empty_always)
    left, right = st.columns(2)
    with left:
        chart_block(data["time_since_last_break"], "since_break", lambda df: bars(
            df, "since_last_break", "people", "Time since the last break", "last break taken",
            "people", categorical_x=True),
            caption="People in the filter (or with exposure in the range) by their last break.",
            empty=empty_always)
    with right:
        chart_block(data["breaks_taken_vs_due"], "breaks", lambda df: bars(
            df.melt(id_vars="day", value_vars=["taken", "due"], var_name="breaks",
                    value_name="count"),
            "day", "count", "Breaks taken and prompted", DAY_AXIS, "breaks", color="breaks",
            days=days),
            caption="Taken can exceed prompted: anyone may take a break at any time.",
            empty=empty_small)
    left, right = st.columns(2)
    with left:
        chart_block(data["caps_reached"], "caps", lambda df: bars(
            df.assign(cap=df["severity"].map(lambda s: f"severity {s}+")),
            "day", "people_at_cap", "Daily caps reached", DAY_AXIS, "people at the cap",
            color="cap", legend_title="cap", stacked=True, days=days), empty=empty_small)
    with right:
        chart_block(data["reveal_rate"], "reveals", lambda df: bars(
            df, "day", "reveal_rate", "Reveals per item seen", DAY_AXIS,
            "reveals per exposure", days=days),
            caption="Masked words, blurred or hidden text shown on request, per exposure.",
            empty=empty_always)
else:
    with right:
        chart_block(data["longest_harmful_runs"], "runs", lambda df: bars(
            df, "day", "longest_run", f"Longest run of items at severity {run_severity}+",
            DAY_AXIS, "items in a row", color="username", legend_title="person", days=days),
            caption=f"Consecutive items at severity {run_severity} or more, per person per day.")
    left, right = st.columns(2)
    with left:
        chart_block(data["time_since_last_break"], "since_break", lambda df: bars(
            df, "username", "minutes_since_break", "Time since the last break", "person",
            "minutes", categorical_x=True),
            caption="Breaks taken through the break prompt or the sidebar. No bar (and an empty "
                    "cell) means none yet.")
    with right:
        chart_block(data["breaks_taken_vs_due"], "breaks", lambda df: bars(
            df.melt(id_vars="username", value_vars=["taken", "due"], var_name="breaks",
                    value_name="count"),
            "username", "count", "Breaks taken and prompted", "person", "breaks", color="breaks",
            categorical_x=True),
            caption="Taken can exceed prompted: anyone may take a break at any time.")
    left, right = st.columns(2)
    with left:
        chart_block(data["caps_reached"], "caps", lambda df: bars(
            df.assign(cap=df["severity"].map(lambda s: f"severity {s}+")),
            "day", "times", "Daily caps reached", DAY_AXIS, "times reached", color="cap",
            legend_title="cap", stacked=True, days=days))
    with right:
        chart_block(data["reveal_rate"], "reveals", lambda df: bars(
            df, "username", "reveal_rate", "Reveals per item seen", "person",
            "reveals per exposure", categorical_x=True),
            caption="Masked words or hidden text shown on request, per exposure.")
chart_block(data["skip_rate_by_category"], "skip_rate", lambda df: bars(
    df.assign(percent=100 * df["skip_rate"]), "category", "percent",
    "Skip rate by hint category", "hazard hint category", "skipped (% of exposures)",
    categorical_x=True), empty=empty_always)

st.subheader("Mood")
# Never cached: the check-in table is small, and when someone stops sharing, that must hold
# from the next run on, not thirty seconds later.
if is_lead:
    st.caption(f"Check-ins are private. Team averages cover days when at least "
               f"{floor} people whose check-ins you cannot see individually checked in; "
               "they ignore the people and project filters so that nobody can be singled out.")
    left, right = st.columns(2)
    with left:
        chart_block(dashboard.team_mood_by_day(db, f, user.id), "team_mood", lambda df: lines(
            df, "day", ["mean_valence", "mean_arousal"], "Team mood (daily mean)", DAY_AXIS,
            "score (1-9)", names=["mood (pleasant)", "energy (agitated)"], y_range=MOOD_RANGE,
            x_range=range_days), download=False, empty=mood_empty)
    with right:
        # Shared to be seen, not to leave SafeLabel: check-ins are never exported
        # (PRODUCT.md), so this table has no download.
        chart_block(dashboard.visible_checkins(db, f, user.id), "shared_mood", lambda df: lines(
            df, "checked_at", ["valence"], "Individual check-ins: mood", "time (UTC)",
            "mood (1 unpleasant - 9 pleasant)", color="username", y_range=MOOD_RANGE,
            x_range=range_times, legend_title="person"),
            caption="Yours, and those of people who chose to share theirs with leads. "
                    "Shown here only, never downloaded.", download=False)
else:
    st.caption("Only you see your check-ins, unless you chose to share them with leads.")
    chart_block(dashboard.visible_checkins(db, f, user.id), "my_mood", lambda df: lines(
        df, "checked_at", ["valence", "arousal"], "Your check-ins", "time (UTC)", "score (1-9)",
        names=["mood (pleasant)", "energy (agitated)"], y_range=MOOD_RANGE, x_range=range_times),
        caption="Shown here only: check-ins are never downloaded or exported.", download=False)
