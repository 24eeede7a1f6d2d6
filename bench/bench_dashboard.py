"""Dashboard benchmark: every store aggregate, and the whole page rendered, at 1,000,000
annotations.

    .venv/bin/python bench/bench_dashboard.py [--annotations 1000000] [--days 100] [--runs 5]

Seeds (bulk SQL, INSERT ... SELECT FROM range) a team of 20 annotators working for `--days`
days: label projects with overlap 2, N first-version annotations plus 1% corrections, one
exposure per annotation and per skip, the claim/submit audit events a real run leaves (about
2N rows), skips, flags, reveals, breaks, caps, check-ins. The file is kept under /tmp and
reused by later runs on the same UTC day (the data is dated relative to today).

Prints (a) each aggregate's time on a freshly opened file (cold) and again (warm), for the
page's default filter (the last 14 days) and for the whole period; (b) the full dashboard
rendered through app.py with AppTest, logged in as a lead, each run a new session: the
process's first (aggregate cache and DuckDB buffers cold), the median of the following
`--runs - 1` (cache warm), and the median with the cache cleared before each run.
The seeded file also takes the app's login events from (b); nothing else is written.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from core.taxonomy import DEFAULT_TAXONOMY  # noqa: E402
from store import dashboard, users  # noqa: E402
from store.dashboard import DashboardFilter  # noqa: E402
from store.db import open_database, utcnow  # noqa: E402
from store.sessions import start_session  # noqa: E402
from store.projects import insert_project  # noqa: E402

CACHE_DIR = Path("/tmp/safelabel-bench-dashboard")
ANNOTATORS = 20
PROJECTS = 4
OVERLAP = 2
TARGET_S = 1.0
LEAD_CHARTS = 21   # every lead panel but the two gold ones (the seed has no gold items)


def seed(path: Path, n: int, days: int) -> None:
    """A database with `n` first-version annotations spread evenly over the last `days` days."""
    db = open_database(path)
    admin = users.create_user(db, None, "admin", "Admin", "bench-password", "admin")
    users.create_user(db, admin, "lead", "Lead", "bench-password", "lead")
    people = [users.create_user(db, admin, f"ann{k:02d}", f"Annotator {k}", "bench-password",
                                "annotator") for k in range(ANNOTATORS)]
    first, last = min(people), max(people)
    items = n // OVERLAP
    now = utcnow()
    span_s = days * 86_400

    def work(cur) -> None:
        pids = [insert_project(cur, f"Bench {k}", "label", "", DEFAULT_TAXONOMY, OVERLAP, True,
                               admin, {}) for k in range(PROJECTS)]
        cur.execute(
            "INSERT INTO items (project_id, external_id, prompt, response, hint_category,"
            " hint_severity, open_slots, done_count) "
            "SELECT ? + i % ?, 'b' || i, 'Prompt ' || i, 'Response ' || i,"
            " CASE WHEN i % 5 = 0 THEN NULL ELSE 'S' || (1 + i % 14) END, i % 5, 0, ?"
            " FROM range(?) t(i)", [pids[0], PROJECTS, OVERLAP, items])
        # Slot s of item i goes to a different person per slot; timestamps in the order the
        # work was done, evenly over the period, ending a few minutes ago.
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, is_safe, categories,"
            " severity, shown_at, submitted_at, active_ms) "
            "SELECT id, project_id, ? + (id * 7 + s * 10) % ?, 1, id % 3 = 0,"
            " CASE WHEN id % 3 = 0 THEN [] WHEN id % 7 = 0 THEN ['S1', 'S10']"
            "      ELSE ['S' || (1 + id % 14)] END,"
            " CASE WHEN id % 3 = 0 THEN 0 ELSE 1 + id % 4 END,"
            " ts - to_milliseconds(ms), ts, ms "
            "FROM (SELECT id, project_id, s, 2000 + (id * 7919 + s * 104729) % 90000 AS ms,"
            "      ? - to_seconds(CAST(? * (1 - (row_number() OVER (ORDER BY id, s)) / ?) AS BIGINT))"
            "        - INTERVAL 5 MINUTE AS ts"
            "      FROM items, range(?) r(s))",
            [first, ANNOTATORS, now, span_s, float(n), OVERLAP])
        # 1% corrections, a few minutes after the first version.
        cur.execute(
            "INSERT INTO annotations (item_id, project_id, user_id, version, supersedes, is_safe,"
            " categories, severity, shown_at, submitted_at, active_ms) "
            "SELECT item_id, project_id, user_id, 2, id, NOT is_safe, categories, severity,"
            " submitted_at + INTERVAL 1 MINUTE, submitted_at + INTERVAL 2 MINUTE, 20000"
            " FROM annotations WHERE id % 100 = 0")
        cur.execute(
            "INSERT INTO exposures (user_id, project_id, item_id, severity, hint_category, outcome,"
            " active_ms, started_at, ended_at) "
            "SELECT a.user_id, a.project_id, a.item_id, coalesce(a.severity, i.hint_severity),"
            " i.hint_category, CASE WHEN a.version = 1 THEN 'submit' ELSE 'correct' END,"
            " a.active_ms, a.shown_at, a.submitted_at "
            "FROM annotations a JOIN items i ON i.id = a.item_id ORDER BY a.submitted_at")
        # The audit trail a real run leaves: a claim and a submit per first version.
        cur.execute(
            "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details) "
            "SELECT happened_at, user_id, kind, project_id, item_id, details FROM ("
            " SELECT shown_at AS happened_at, user_id, 'claim' AS kind, project_id, item_id,"
            "        NULL AS details FROM annotations WHERE version = 1"
            " UNION ALL"
            " SELECT submitted_at, user_id, CASE WHEN version = 1 THEN 'submit' ELSE 'correct' END,"
            "        project_id, item_id,"
            "        '{\"annotation_id\": ' || id || ', \"version\": ' || version || '}'"
            " FROM annotations) ORDER BY happened_at")
        # Skips (2%) and flags (0.2%) of other items, with their exposures; reveals (5%).
        for kind, every, outcome in (("skip", 50, "skip"), ("flag", 500, "flag")):
            cur.execute(
                "INSERT INTO exposures (user_id, project_id, item_id, severity, hint_category,"
                " outcome, active_ms, started_at, ended_at) "
                "SELECT (a.user_id - ? + 1) % ? + ?, a.project_id, a.item_id, i.hint_severity,"
                " i.hint_category, ?, 4000, a.submitted_at - INTERVAL 4 SECOND, a.submitted_at"
                " FROM annotations a JOIN items i ON i.id = a.item_id"
                " WHERE a.version = 1 AND a.id % ? = 1",
                [first, ANNOTATORS, first, outcome, every])
            cur.execute(
                "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details) "
                "SELECT ended_at, user_id, ?, project_id, item_id, NULL FROM exposures"
                " WHERE outcome = ?", [kind, outcome])
        cur.execute(
            "INSERT INTO events (happened_at, user_id, kind, project_id, item_id, details) "
            "SELECT shown_at + INTERVAL 1 SECOND, user_id, 'reveal', project_id, item_id,"
            " '{\"what\": \"text\"}' FROM annotations WHERE version = 1 AND id % 20 = 3")
        # Per person per day: three break prompts, two breaks, now and then a cap; check-ins.
        cur.execute(
            "INSERT INTO events (happened_at, user_id, kind, project_id, details) "
            "SELECT CAST(current_date AS TIMESTAMP) - INTERVAL (d) DAY + INTERVAL (9 + h) HOUR,"
            " u, kind, ?, details FROM range(?) t(d), range(?, ? + 1) p(u),"
            " (VALUES ('break_due', 0, '{\"reason\": \"exposure\"}'),"
            "         ('break_taken', 1, '{\"minutes\": 10, \"reason\": \"prompt\"}'),"
            "         ('break_due', 3, '{\"reason\": \"run\"}'),"
            "         ('break_taken', 4, '{\"minutes\": 10, \"reason\": \"self\"}'),"
            "         ('break_due', 6, '{\"reason\": \"exposure\"}'),"
            "         ('cap_reached', 7, '{\"severity\": 4}')) e(kind, h, details)"
            " WHERE kind <> 'cap_reached' OR (d + u) % 9 = 0",
            [pids[0], days, first, last])
        cur.execute(
            "INSERT INTO checkins (user_id, checked_at, valence, arousal, moment) "
            "SELECT u, CAST(current_date AS TIMESTAMP) - INTERVAL (d) DAY + INTERVAL (8 + 2 * k) HOUR,"
            " 1 + (u * 3 + d + k) % 9, 1 + (u + d * 5 + k) % 9,"
            " CASE WHEN k = 0 THEN 'start' WHEN k = 4 THEN 'end' ELSE 'hourly' END"
            " FROM range(?) t(d), range(?, ? + 1) p(u), range(5) c(k)", [days, first, last])
        cur.execute("INSERT INTO preferences SELECT id, 'share_checkins', 'true', now()::TIMESTAMP"
                    " FROM users WHERE id BETWEEN ? AND ? AND id % 4 = 0", [first, last])

    db.write(work)
    db.close()


def cached_database(n: int, days: int) -> tuple[Path, float | None]:
    """The seeded file for today (seeding it first if needed) and the seconds seeding took."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"dashboard-{n}-{days}d-{utcnow().date()}.duckdb"
    if path.exists():
        return path, None
    for old in CACHE_DIR.glob(f"dashboard-{n}-{days}d-*.duckdb*"):
        old.unlink()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    seed(partial, n, days)
    partial.rename(path)
    return path, time.perf_counter() - started


MOOD = ("visible_checkins", "team_mood_by_day")


def time_aggregates(path: Path, filters: dict[str, DashboardFilter]) -> list[tuple]:
    """[(name, {filter label: (cold s, warm s, rows)})], each filter on a freshly opened file;
    last, `all_aggregates` (what the page runs on a cache miss: the same, side by side; for a
    lead with the team wellbeing aggregates), on a freshly opened file again."""
    team = [f.__name__ for f in (*dashboard.TEAM_WELLBEING.values(),
                                 *dashboard.TEAM_QUALITY.values())]
    names = list(dashboard.AGGREGATES) + team + list(MOOD)
    results: dict[str, dict] = {name: {} for name in names + ["all_aggregates",
                                                              "all_aggregates (lead)"]}
    for label, f in filters.items():
        db = open_database(path)
        lead = users.get_user_by_username(db, "lead").id
        for name in names:
            query = getattr(dashboard, name)
            args = (db, f, lead) if name in MOOD else (db, f)
            results[name][label] = timed(lambda: query(*args))
        db.close()
        db = open_database(path)
        results["all_aggregates"][label] = timed(lambda: dashboard.all_aggregates(db, f))
        db.close()
        db = open_database(path)
        results["all_aggregates (lead)"][label] = timed(
            lambda: dashboard.all_aggregates(db, f, team=True))
        db.close()
    return list(results.items())


def timed(run) -> tuple[float, float, int]:
    """(first call s, second call s, rows) of `run`."""
    t0 = time.perf_counter()
    result = run()
    t1 = time.perf_counter()
    run()
    t2 = time.perf_counter()
    rows = sum(len(df) for df in result.values()) if isinstance(result, dict) else len(result)
    return t1 - t0, t2 - t1, rows


def time_page(path: Path, runs: int) -> dict[str, list[float]]:
    """Seconds per full render of the dashboard through app.py, each in a new session:
    'first' (the process's first dashboard: aggregate cache and DuckDB buffers cold, plotly's
    figure classes not yet loaded), 'warm' (the next `runs - 1`, cache warm) and 'refetch'
    (cache cleared before each: what a viewer waits for after the cache's 30 seconds or with
    a new filter)."""
    os.environ["SAFELABEL_DB"] = str(path)
    os.environ["SAFELABEL_DEMO"] = "0"
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import components.charts  # noqa: F401  (plotly: imported once per process, not per render)

    # Seeding session state and clearing the cache outside a script run make Streamlit warn
    # each time (the script runner resets log levels on each run: silence the loggers).
    for name in ("scriptrunner_utils.script_run_context", "caching.cache_data_api"):
        logging.getLogger(f"streamlit.runtime.{name}").disabled = True

    def logged_in() -> AppTest:
        # A server-side login session, as tests/helpers.as_user makes (skips the form).
        db = open_database(path)
        token = start_session(db, users.get_user_by_username(db, "lead").id)
        db.close()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.session_state["_sl_session"] = token
        return at

    def render() -> float:
        at = logged_in()
        at.switch_page("app_pages/dashboard.py")
        t0 = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"the dashboard failed: {[e.value for e in at.exception]}")
        if len(at.get("plotly_chart")) != LEAD_CHARTS:
            raise RuntimeError(f"expected {LEAD_CHARTS} charts, got {len(at.get('plotly_chart'))}")
        return seconds

    # Warm the process (imports, the app's database handle) on a page that draws nothing of
    # the dashboard, so the first timed run measures the dashboard with its cache cold (and
    # DuckDB's buffers cold: the app opens the file afresh).
    warm_up = logged_in()
    warm_up.switch_page("app_pages/export.py").run()
    times = {"first": [render()], "warm": [render() for _ in range(runs - 1)], "refetch": []}
    for _ in range(max(1, runs - 1)):
        st.cache_data.clear()
        times["refetch"].append(render())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    path, seeded_s = cached_database(args.annotations, args.days)
    db = open_database(path)
    with db.read() as cur:
        counts = {t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("items", "annotations", "exposures", "events", "checkins")}
    db.close()
    print(f"\nSafeLabel dashboard benchmark: {path}"
          + (f" (seeded in {seeded_s:.1f} s)" if seeded_s is not None else " (reused)"))
    print("  " + ", ".join(f"{n:,} {t}" for t, n in counts.items()) + "\n")

    today = utcnow().date()
    filters = {"14 days": dashboard.last_days(14, today),
               f"all {args.days} days": DashboardFilter(today - timedelta(days=args.days), today)}
    header = f"{'aggregate':26}" + "".join(f"  {label + ' cold / warm ms':>30}  {'rows':>5}"
                                          for label in filters)
    print(header)
    print("-" * len(header))
    for name, by_filter in time_aggregates(path, filters):
        print(f"{name:26}" + "".join(f"  {cold * 1000:>13.1f} / {warm * 1000:>12.1f}  {rows:>5}"
                                    for cold, warm, rows in by_filter.values()))

    print(f"\nFull dashboard render (AppTest through app.py, lead, {LEAD_CHARTS} charts and tables, "
          "default filter: the last 14 days)")
    times = time_page(path, args.runs)
    rows = [("first (cache cold)", times["first"][0], "the process's first dashboard"),
            ("median of the rest (warm)", statistics.median(times["warm"]),
             f"<= {TARGET_S:.0f} s; runs: " + ", ".join(f"{s:.3f}" for s in times["warm"])),
            ("median, cache cleared", statistics.median(times["refetch"]),
             f"<= {TARGET_S:.0f} s; runs: " + ", ".join(f"{s:.3f}" for s in times["refetch"]))]
    print(f"{'render':26}  {'seconds':>8}  target / notes")
    for label, seconds, note in rows:
        print(f"{label:26}  {seconds:8.3f}  {note}")


if __name__ == "__main__":
    main()
