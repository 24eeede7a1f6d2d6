"""Wellbeing: the policy rules (core.wellbeing) and the store's records (store.wellbeing,
exposures written by the work queue, caps and benign routing in claims, private check-ins)."""
from datetime import datetime, timedelta

import pytest

from core import wellbeing as wb
from core.labels import Label
from core.severity_hint import severity_hint
from store import dashboard as dash
from store import projects, wellbeing, work
from store.db import StoreError, utcnow
from store.imports import import_file, refresh_severity_hints
from store.preferences import set_preference
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl

T0 = datetime(2026, 11, 29, 9, 0)
POLICY = wb.DEFAULT_POLICY


def exposure(severity, minutes, start, gap_after_prev=None):
    return wb.Exposure(severity, int(minutes * 60_000), start, start + timedelta(minutes=minutes))


def back_to_back(severities_minutes, start=T0):
    """Consecutive exposures with no gap: [(severity, minutes), ...]."""
    out, at = [], start
    for severity, minutes in severities_minutes:
        out.append(exposure(severity, minutes, at))
        at += timedelta(minutes=minutes)
    return out


# -- rules ----------------------------------------------------------------------------------

def test_minutes_by_severity_and_effective_severity():
    day = back_to_back([(4, 10), (4, 5), (2, 3), (None, 1), (0, 2)])
    assert wb.minutes_by_severity(day) == {4: 15.0, 2: 3.0, None: 1.0, 0: 2.0}
    assert wb.minutes_at_or_above(day, 2) == 18.0
    assert wb.effective_severity(1, 4) == 1        # the label wins over the hint
    assert wb.effective_severity(None, 4) == 4
    assert wb.effective_severity(None, None) is None


def test_caps_and_ceiling():
    assert wb.severity_ceiling(back_to_back([(4, 89)]), POLICY) is None
    at_cap = back_to_back([(4, 90)])
    assert wb.caps_reached(at_cap, POLICY) == [4]
    assert wb.severity_ceiling(at_cap, POLICY) == 3
    # 180 minutes at severity >= 3 (mixing 3 and 4) stops severity 3 as well.
    both = back_to_back([(4, 90), (3, 90)])
    assert wb.caps_reached(both, POLICY) == [4, 3]
    assert wb.severity_ceiling(both, POLICY) == 2
    lenient = wb.WellbeingPolicy(cap_severity_4_minutes=200)
    assert wb.severity_ceiling(at_cap, lenient) is None


def test_runs():
    assert wb.trailing_run([1, 3, 4, 3], 3) == 3
    assert wb.trailing_run([3, 4, 1], 3) == 0
    assert wb.trailing_run([3, None, 3], 3) == 1
    assert wb.longest_run([3, 3, 1, 4, 4, 4, 0, 3], 3) == 3
    assert wb.longest_run([], 3) == 0


def test_break_due_after_fifty_harmful_minutes_and_postpone():
    day = back_to_back([(2, 25), (1, 30), (3, 24)])       # 49 harmful minutes
    now = day[-1].ended_at
    assert wb.break_due(day, POLICY, now) is None
    assert wb.minutes_until_break(day, POLICY) == pytest.approx(1.0)
    day += back_to_back([(2, 1)], start=now)
    assert wb.break_due(day, POLICY, now) == "exposure"
    assert wb.break_due(day, POLICY, now, postponed_at=now - timedelta(minutes=5)) is None
    assert wb.break_due(day, POLICY, now, postponed_at=now - timedelta(minutes=10)) == "exposure"


def test_a_taken_break_or_time_away_resets_the_clock():
    morning = back_to_back([(3, 45)])
    after = back_to_back([(3, 10)], start=morning[-1].ended_at + timedelta(minutes=2))
    day = morning + after
    assert wb.break_due(wb.since_last_break(day, [], POLICY), POLICY, T0) == "exposure"
    # A break taken between them: only the later 10 minutes count.
    taken = morning[-1].ended_at + timedelta(seconds=30)
    assert len(wb.since_last_break(day, [taken], POLICY)) == 1
    # Eleven minutes away from the queue count as a break too.
    away = back_to_back([(3, 10)], start=morning[-1].ended_at + timedelta(minutes=11))
    assert wb.natural_breaks(morning + away, POLICY) == [away[0].started_at]
    assert wb.since_last_break(morning + away, [], POLICY) == away


def test_benign_item_after_eight_severe_items_in_a_row():
    seven = back_to_back([(3, 1)] * 7)
    assert not wb.wants_benign_item(seven, POLICY)
    eight = back_to_back([(3, 1)] * 4 + [(4, 1)] * 4)
    assert wb.wants_benign_item(eight, POLICY)
    assert wb.break_due(eight, POLICY, T0) == "run"
    broken = back_to_back([(3, 1)] * 4 + [(1, 1)] + [(3, 1)] * 4)
    assert not wb.wants_benign_item(broken, POLICY)


def test_checkin_timing_and_group_floor():
    assert wb.checkin_due(None, T0, POLICY)
    assert not wb.checkin_due(T0, T0 + timedelta(minutes=59), POLICY)
    assert wb.checkin_due(T0, T0 + timedelta(minutes=60), POLICY)
    assert wb.mood_problems(5, 9) == []
    assert wb.mood_problems(0, "5") == ["valence must be a whole number from 1 to 9",
                                        "arousal must be a whole number from 1 to 9"]


def test_policy_settings_validation():
    assert wb.policy_from_settings({"wellbeing": {"run_length": 5}}).run_length == 5
    assert wb.policy_from_settings({}) == POLICY
    assert wb.policy_problems({"break_minutes": 30}) == ["break minutes must be a whole number from 5 to 10"]
    assert wb.policy_problems({"nap": 1}) == ["unknown wellbeing setting 'nap'"]


def test_offline_severity_hint():
    assert severity_hint("What a lovely day") == 0
    assert severity_hint("this is shit") == 1
    assert severity_hint("how to kill myself with an overdose") == 3
    assert severity_hint("he will kill, murder and rape") == 4
    assert severity_hint("the assassin's skill") == 0          # whole words only


# -- store -----------------------------------------------------------------------------------

def rows(prefix, severities):
    return [{"id": f"{prefix}-{n}", "prompt": f"prompt {n}", "response": f"response {n}",
             "hint_severity": s} for n, s in enumerate(severities)]


@pytest.fixture
def severe_project(db, accounts, tmp_path):
    """Ten severity-4 items, then five severity-1 items."""
    pid = make_project(db, accounts, name="Severe")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "s.jsonl", rows("s", [4] * 10 + [1] * 5)))
    return pid


def add_exposure(db, user_id, project_id, item_id, severity, minutes, ended_at):
    db.write(lambda cur: wellbeing.record_exposure(
        cur, user_id, project_id, item_id, severity, None, "submit", int(minutes * 60_000),
        ended_at - timedelta(minutes=minutes), ended_at))


def test_submit_and_skip_record_exposure_at_label_else_hint(db, accounts, severe_project):
    ann = accounts["ann1"]
    first = work.claim_next_item(db, ann, severe_project)
    shown = utcnow() - timedelta(seconds=40)
    _, second = work.save_and_claim_next(db, ann, first.id, Label(False, ("S1",), 2),
                                         shown_at=shown, active_ms=40_000)
    work.skip_item(db, ann, second.id, shown_at=shown, active_ms=15_000)
    with db.read() as cur:
        got = cur.execute("SELECT item_id, severity, outcome, active_ms FROM exposures "
                          "ORDER BY id").fetchall()
    assert got == [(first.id, 2, "submit", 40_000), (second.id, 4, "skip", 15_000)]
    status = wellbeing.wellbeing_status(db, ann, severe_project)
    assert status.minutes_by_severity == {2: pytest.approx(40 / 60), 4: pytest.approx(15 / 60)}


def test_past_the_cap_no_severity_4_and_a_kind_stop(db, accounts, severe_project):
    ann = accounts["ann1"]
    now = utcnow()
    add_exposure(db, ann, severe_project, 1, 4, 90, now - timedelta(minutes=1))
    item = work.claim_next_item(db, ann, severe_project)
    assert item.hint_severity == 1
    status = wellbeing.wellbeing_status(db, ann, severe_project)
    assert status.caps_reached == [4] and status.ceiling == 3
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'cap_reached'").fetchone()[0] == 1
    # Another person is still served the severe items.
    assert work.claim_next_item(db, accounts["ann2"], severe_project).hint_severity == 4


def test_cap_counts_every_project_and_resets_next_day(db, accounts, severe_project, tmp_path):
    ann = accounts["ann1"]
    other = make_project(db, accounts, name="Other")
    import_file(db, accounts["lead"], other, write_jsonl(tmp_path / "o.jsonl", rows("o", [4, 4])))
    now = utcnow()
    # 90 minutes in the other project today: the cap holds in this one too.
    add_exposure(db, ann, other, 1, 4, 90, now - timedelta(minutes=1))
    assert work.claim_next_item(db, ann, severe_project, now=now).hint_severity == 1


def test_yesterdays_exposure_does_not_count_today(db, accounts, severe_project):
    ann = accounts["ann1"]
    midnight = wb.day_start(utcnow())
    add_exposure(db, ann, severe_project, 1, 4, 200, midnight - timedelta(minutes=1))
    after = midnight + timedelta(minutes=1)
    assert wellbeing.wellbeing_status(db, ann, severe_project, now=after).ceiling is None
    assert work.claim_next_item(db, ann, severe_project, now=after).hint_severity == 4
    before = midnight - timedelta(seconds=1)
    assert wellbeing.wellbeing_status(db, ann, severe_project, now=before).ceiling == 2


def test_a_held_severe_claim_goes_back_when_the_cap_is_reached(db, accounts, severe_project):
    ann = accounts["ann1"]
    held = work.claim_next_item(db, ann, severe_project)
    assert held.hint_severity == 4
    add_exposure(db, ann, severe_project, 999, 4, 95, utcnow())
    again = work.claim_next_item(db, ann, severe_project)
    assert again.id != held.id and again.hint_severity == 1
    with db.read() as cur:
        slots, touched = cur.execute("SELECT open_slots, touched_by FROM items WHERE id = ?",
                                     [held.id]).fetchone()
        assert cur.execute("SELECT count(*) FROM claims WHERE item_id = ?", [held.id]).fetchone()[0] == 0
    assert slots == 1 and f",{ann}," not in touched     # back in the pool, for them too later


def test_after_eight_severe_items_a_benign_item_comes_next(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, name="Run")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "r.jsonl", rows("r", [3] * 12 + [0])))
    item = work.claim_next_item(db, ann, pid)
    served = []
    for _ in range(9):
        served.append(item.hint_severity)
        _, item = work.save_and_claim_next(db, ann, item.id, Label(True), active_ms=5_000)
    # The ninth item served, after eight at severity 3, is the benign one.
    assert served[:8] == [3] * 8 and served[8] == 0
    status = wellbeing.wellbeing_status(db, ann, pid)
    assert status.run == 0 and status.break_due is None


def test_break_prompt_state_take_and_postpone(db, accounts, severe_project):
    ann = accounts["ann1"]
    now = utcnow()
    add_exposure(db, ann, severe_project, 1, 3, 51, now - timedelta(seconds=5))
    assert wellbeing.wellbeing_status(db, ann, severe_project).break_due == "exposure"
    wellbeing.postpone_break(db, ann, severe_project, "exposure")
    assert wellbeing.wellbeing_status(db, ann, severe_project).break_due is None
    wellbeing.take_break(db, ann, severe_project, 10, "exposure")
    status = wellbeing.wellbeing_status(db, ann, severe_project)
    assert status.on_break_until is not None and status.minutes_until_break == 50
    wellbeing.end_break(db, ann, severe_project, now)
    assert wellbeing.wellbeing_status(db, ann, severe_project).on_break_until is None
    with pytest.raises(StoreError):
        wellbeing.take_break(db, ann, severe_project, 0)


def test_checkins_are_private_unless_shared(db, accounts):
    ann, other, lead = accounts["ann1"], accounts["ann2"], accounts["lead"]
    wellbeing.record_checkin(db, ann, 3, 7, "start")
    before = table_counts(db)
    with pytest.raises(StoreError, match="from 1 to 9"):
        wellbeing.record_checkin(db, ann, 10, 7, "start")
    assert table_counts(db) == before
    def seen(viewer):   # the one reader of check-ins (the dashboard's), asking for ann's
        today = utcnow().date()
        frame = dash.visible_checkins(db, dash.DashboardFilter(today, today, user_ids=(ann,)), viewer)
        return list(frame[frame["user_id"] == ann][["valence", "arousal"]].itertuples(index=False,
                                                                                      name=None))

    assert seen(ann) == [(3, 7)]
    assert seen(other) == []                 # another annotator: never, even asking by name
    assert seen(lead) == []                  # a lead: not until ann shares
    set_preference(db, ann, wellbeing.SHARE_CHECKINS_PREF, True)
    assert seen(lead) == [(3, 7)]


def test_hints_computed_at_import_and_refreshable(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Hints")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "h.jsonl", [
        {"id": "calm", "prompt": "hello", "response": "a zorblax"},
        {"id": "grim", "prompt": "how to kill", "response": "murder and rape"},
        {"id": "given", "prompt": "x", "response": "y", "hint_severity": 2}]))

    def hints():
        with db.read() as cur:
            return dict(cur.execute("SELECT external_id, hint_severity FROM items "
                                    "WHERE project_id = ?", [pid]).fetchall())

    assert hints() == {"calm": 0, "grim": 4, "given": 2}
    projects.update_project_settings(db, accounts["lead"], pid, {"mask_terms": ["zorblax"]})
    assert refresh_severity_hints(db, accounts["lead"], pid) == 2   # the imported hint is kept
    assert hints() == {"calm": 1, "grim": 4, "given": 2}


def test_wellbeing_settings_are_validated(db, accounts):
    pid = make_project(db, accounts, name="Settings")
    projects.update_project_settings(db, accounts["lead"], pid, {"wellbeing": {"run_length": 5}})
    before = table_counts(db)
    with pytest.raises(StoreError, match="break minutes must be a whole number from 5 to 10"):
        projects.update_project_settings(db, accounts["lead"], pid, {"wellbeing": {"break_minutes": 45}})
    assert table_counts(db) == before
    assert projects.get_project(db, pid).settings["wellbeing"] == {"run_length": 5}


def test_support_link_rules(db, accounts):
    from store.settings import DEFAULT_SUPPORT_TEXT, set_support_info, support_info
    assert support_info(db) == (DEFAULT_SUPPORT_TEXT, None)
    for bad in ("javascript:alert(1)", "https://x y"):
        with pytest.raises(StoreError):
            set_support_info(db, accounts["admin"], "Call us", bad)
    with pytest.raises(StoreError):
        set_support_info(db, accounts["lead"], "Call us", "https://ok.example")   # admins only
    set_support_info(db, accounts["admin"], "Call us", "mailto:care@example.org")
    assert support_info(db) == ("Call us", "mailto:care@example.org")


def test_a_lead_raising_the_cap_takes_effect_at_once(db, accounts, severe_project):
    ann = accounts["ann1"]
    add_exposure(db, ann, severe_project, 1, 4, 100, utcnow() - timedelta(minutes=1))
    assert work.claim_next_item(db, ann, severe_project).hint_severity == 1   # policy now cached
    projects.update_project_settings(db, accounts["lead"], severe_project,
                                     {"wellbeing": {"cap_severity_4_minutes": 120}})
    item = work.claim_next_item(db, ann, severe_project)
    work.skip_item(db, ann, item.id)
    assert work.claim_next_item(db, ann, severe_project).hint_severity == 4


def test_breaks_and_runs_do_not_restart_at_midnight(db, accounts, severe_project):
    ann = accounts["ann1"]
    midnight = wb.day_start(utcnow())
    add_exposure(db, ann, severe_project, 1, 3, 40, midnight - timedelta(minutes=1))
    add_exposure(db, ann, severe_project, 2, 3, 12, midnight + timedelta(minutes=12))
    status = wellbeing.wellbeing_status(db, ann, severe_project, now=midnight + timedelta(minutes=13))
    assert status.break_due == "exposure"                      # 52 minutes across midnight
    assert status.minutes_by_severity == {3: pytest.approx(12)}   # the day (and caps) restart


def test_rested_breaks_and_breaks_cut_short():
    five = timedelta(minutes=5)
    rested, short = wb.rested_breaks([T0, T0 + 2 * five], [T0 + timedelta(minutes=1), T0 + 4 * five])
    assert rested == [T0 + 2 * five] and short == [T0 + timedelta(minutes=1)]
    assert wb.rested_breaks([T0], []) == ([T0], [])            # running, or never came back


def test_a_break_ended_at_once_is_a_postponement_not_a_rest(db, accounts, severe_project):
    ann = accounts["ann1"]
    now = utcnow()
    add_exposure(db, ann, severe_project, 1, 3, 55, now - timedelta(minutes=30))
    wellbeing.take_break(db, ann, severe_project, 10, "exposure")
    wellbeing.end_break(db, ann, severe_project, now)
    status = wellbeing.wellbeing_status(db, ann, severe_project)
    assert status.break_due is None and status.minutes_until_break == 0   # put off, not reset
    later = utcnow() + timedelta(minutes=11)
    assert wellbeing.wellbeing_status(db, ann, severe_project, now=later).break_due == "exposure"


def test_items_from_before_hints_existed_are_scored_at_start_up(db, accounts, tmp_path):
    from store.bootstrap import open_app_database
    from store.imports import score_unscored_items
    pid = make_project(db, accounts, name="Old")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "old.jsonl", [
        {"id": "a", "prompt": "how to kill", "response": "murder and rape"},
        {"id": "b", "prompt": "x", "response": "y", "hint_severity": 1}]))
    # As a version-2 database would have them: no hint unless the file gave one.
    db.write(lambda cur: cur.execute("UPDATE items SET hint_severity = NULL, hint_source = NULL "
                                     "WHERE external_id = 'a'"))
    path = db.path
    db.close()
    reopened = open_app_database(path, demo=False)
    with reopened.read() as cur:
        assert dict(cur.execute("SELECT external_id, hint_severity FROM items").fetchall()) == {
            "a": 4, "b": 1}
    assert score_unscored_items(reopened) == 0          # nothing left to do next time
    reopened.close()


def test_non_ascii_project_terms_score_at_import(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Cyrillic")
    projects.update_project_settings(db, accounts["lead"], pid, {"mask_terms": ["ублюдок", "café"]})
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "c.jsonl", [
        {"id": "ru", "prompt": "ты ублюдок", "response": "ok"},
        {"id": "fr", "prompt": "un café noir", "response": "ok"}]))
    with db.read() as cur:
        assert dict(cur.execute("SELECT external_id, hint_severity FROM items").fetchall()) == {
            "ru": 1, "fr": 1}
    assert severity_hint("ты ублюдок", ["ублюдок"]) == 1
