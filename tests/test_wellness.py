"""Wellness plans (private opt-outs), weekly exposure budgets, the informed start and the
minimum group size, in the store: each refusal beside a positive control."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import wellness as core_wellness
from core.wellbeing import WellbeingPolicy, week_budgets_reached
from store import projects, wellbeing, wellness, work
from store.db import PermissionDenied, StoreError, utcnow
from store.imports import import_file
from store.settings import min_group_size, set_min_group_size
from store.work_queue import WorkQueue
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl


def rows(prefix, hints):
    """Items with (category, severity) hints, in order."""
    return [{"id": f"{prefix}-{n}", "prompt": f"{prefix} prompt {n}", "response": "r",
             "hint_category": category, "hint_severity": severity}
            for n, (category, severity) in enumerate(hints)]


def project_with(db, accounts, tmp_path, name, hints, overlap=1):
    pid = make_project(db, accounts, name=name, overlap=overlap)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", rows(name, hints)))
    return pid


def claimed_categories(db, user_id, project_id):
    with db.read() as cur:
        return sorted(r[0] for r in cur.execute(
            "SELECT i.hint_category FROM claims c JOIN items i ON i.id = c.item_id"
            " WHERE c.user_id = ? AND c.project_id = ?", [user_id, project_id]).fetchall())


def add_exposure(db, user_id, project_id, severity, minutes, ended_at):
    db.write(lambda cur: wellbeing.record_exposure(
        cur, user_id, project_id, 1, severity, None, "submit", int(minutes * 60_000),
        ended_at - timedelta(minutes=minutes), ended_at))


# -- opt-outs ---------------------------------------------------------------------------------

def test_the_hint_test_is_one_function():
    class Item:
        def __init__(self, hint):
            self.hint_category = hint
    assert core_wellness.hint_names_category(Item("S11"), "S11")
    assert core_wellness.hint_names_category(Item(" s11 "), "S11")
    assert not core_wellness.hint_names_category(Item("S1"), "S11")
    assert not core_wellness.hint_names_category(Item(None), "S11")
    assert core_wellness.opt_out_problems(["S1", "S2", "S3", "S4"], ["S1", "S2", "S3", "S4"])
    assert core_wellness.opt_out_problems(["nope"], ["S1"])
    assert core_wellness.opt_out_problems(["S1", "S1"], ["S1"])
    assert not core_wellness.opt_out_problems(["S1", "S4"], ["S1", "S4"])


def test_an_opted_out_category_is_not_served_but_is_to_others(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Opt", [("S11", 2)] * 3 + [("S1", 2)] * 3)
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    wellness.set_opt_outs(db, ann1, pid, ["S11"])
    first = work.claim_next_item(db, ann1, pid)
    # Everything ann1 could ever get: skip until nothing is left (one claim at a time).
    queue = WorkQueue(db, ann1, pid, prefetch=1)
    seen = []
    item = queue.claim().current
    while item is not None:
        seen.append(item.hint_category)
        item = queue.skip(item.id).current
    assert first.hint_category == "S1"
    assert seen and set(seen) == {"S1"}
    # Positive control: the same items go to someone who did not opt out.
    assert work.claim_next_item(db, ann2, pid).hint_category == "S11"


def test_a_hint_naming_several_categories_keeps_each_of_them_away(db, accounts, tmp_path):
    """The model writes every likely category ("S12,S4"); files write "S4, S12", "S4|S12",
    "S4: Child sexual exploitation" or the category's name."""
    pid = project_with(db, accounts, tmp_path, "Multi", [
        ("S12,S4", 4), ("S4; S12", 4), ("S11|S4", 4), ("s4: anything the file says", 4),
        ("Child Sexual Exploitation", 4), ("S1", 4), ("S14", 4)])
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    wellness.set_opt_outs(db, ann1, pid, ["S4"])
    assert projects.items_left_for(db, pid, ann1) == 2
    queue = WorkQueue(db, ann1, pid, prefetch=1)
    seen, item = [], queue.claim().current
    while item is not None:
        seen.append(item.hint_category)
        item = queue.skip(item.id).current
    assert sorted(seen) == ["S1", "S14"]                   # "S14" is not "S4"
    # Positive control: someone who did not opt out is served all seven.
    queue = WorkQueue(db, ann2, pid, prefetch=1)
    seen, item = [], queue.claim().current
    while item is not None:
        seen.append(item.hint_category)
        item = queue.skip(item.id).current
    assert len(seen) == 7
    # The Python rule says the same as the SQL one.
    class Item:
        def __init__(self, hint):
            self.hint_category = hint
    named = [h for h, _ in [("S12,S4", 0), ("S4; S12", 0), ("S11|S4", 0), ("s4: x", 0),
                            ("S1", 0), ("S14", 0)] if core_wellness.hint_names_category(Item(h), "S4")]
    assert named == ["S12,S4", "S4; S12", "S11|S4", "s4: x"]


def test_the_history_a_lead_sees_does_not_tell_who_opted_out(db, accounts, tmp_path):
    from store.history import item_history
    pid = project_with(db, accounts, tmp_path, "Quiet", [("S4", 1)] * 2 + [("S2", 1)] * 2)
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    held = WorkQueue(db, ann1, pid, prefetch=2).claim().items
    wellness.set_opt_outs(db, ann1, pid, ["S4"])
    WorkQueue(db, ann1, pid, prefetch=2).claim()          # the S4 claims go back
    # An ordinary release: ann2 held two, then works with one held (no opt-out, no cap).
    trimmed = WorkQueue(db, ann2, pid, prefetch=2).claim().items[-1]
    WorkQueue(db, ann2, pid, prefetch=1).claim()

    def releases(item_id):
        return [(e.who, e.details) for e in item_history(db, item_id) if e.what == "claim released"]
    opted = [r for item in held for r in releases(item.id) if r[0] == "ann1"]
    ordinary = [r for r in releases(trimmed.id) if r[0] == "ann2"]
    assert [w for w, _ in opted] == ["ann1", "ann1"] and ordinary == [("ann2", "given back unseen")]
    # The opt-out's releases read exactly like the ordinary one.
    assert {d for _, d in opted} == {d for _, d in ordinary}


def test_undoing_a_skip_does_not_bring_back_an_opted_out_item(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Undo", [("S4", 1), ("S2", 1), ("S2", 1)])
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, pid, prefetch=1)
    first = queue.claim().current
    assert first.hint_category == "S4"
    second = queue.skip(first.id).current
    wellness.set_opt_outs(db, ann, pid, ["S4"])
    before = table_counts(db)
    with pytest.raises(StoreError, match="cannot come back to you"):
        queue.undo_last()
    assert table_counts(db) == before
    assert first.id not in [i.id for i in queue.claim().items]
    # Positive control: a skip of an item not opted out is undone.
    queue.skip(second.id)
    assert queue.undo_last().current.id == second.id


def test_items_left_for_a_person_leave_out_their_opt_outs(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Left", [("S11", 2)] * 3 + [("S1", 2)] * 2)
    wellness.set_opt_outs(db, accounts["ann1"], pid, ["S11"])
    assert projects.items_left_for(db, pid, accounts["ann1"]) == 2
    assert projects.items_left_for(db, pid, accounts["ann2"]) == 5


def test_opting_out_sends_held_claims_back_and_opting_in_serves_again(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Held", [("S4", 1)] * 2 + [("S2", 1)] * 2)
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, pid, prefetch=2)
    assert [i.hint_category for i in queue.claim().items] == ["S4", "S4"]
    wellness.set_opt_outs(db, ann, pid, ["S4"])
    assert [i.hint_category for i in queue.claim().items] == ["S2", "S2"]
    with db.read() as cur:
        # Back in the pool, and the log does not say why (the plan is private).
        whys = [r[0] for r in cur.execute(
            "SELECT details FROM events WHERE kind = 'claim_released' AND user_id = ?",
            [ann]).fetchall()]
    assert len(whys) == 2 and all("S4" not in w and "opt" not in w for w in whys)
    wellness.set_opt_outs(db, ann, pid, [])
    # Opted back in: S4 items are served to them again (after the ones they hold).
    queue.release_prefetched()
    item = queue.claim().current
    queue.skip(item.id)
    assert queue.claim().current.hint_category == "S4"


def test_opt_outs_apply_to_lapsed_claims_and_gold(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Lapse", [("S9", 1)])
    ann1, ann2, ann3 = accounts["ann1"], accounts["ann2"], accounts["ann3"]
    now = utcnow()
    assert work.claim_next_item(db, ann1, pid, now=now - timedelta(hours=5)).hint_category == "S9"
    wellness.set_opt_outs(db, ann2, pid, ["S9"])
    assert work.claim_next_item(db, ann2, pid, now=now) is None
    # Positive control: someone without the opt-out takes the lapsed claim over.
    assert work.claim_next_item(db, ann3, pid, now=now).hint_category == "S9"


def test_bad_opt_outs_change_nothing(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Bad", [("S1", 1)])
    ann = accounts["ann1"]
    outsider = projects.create_project(db, accounts["lead"], "Closed", "label", "", None, 1, [])
    before = table_counts(db)
    for codes in (["S1", "S2", "S3", "S4"], ["NOPE"], ["S1", "S1"]):
        with pytest.raises(StoreError):
            wellness.set_opt_outs(db, ann, pid, codes)
    with pytest.raises(PermissionDenied):
        wellness.set_opt_outs(db, ann, outsider, ["S1"])
    assert table_counts(db) == before
    wellness.set_opt_outs(db, ann, pid, ["S1", "S2", "S3"])      # three: the limit
    assert wellness.my_opt_outs(db, ann, pid) == ("S1", "S2", "S3")


def test_leads_see_counts_per_category_never_names_and_not_under_the_floor(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Counts", [("S1", 1)])
    for name in ("ann1", "ann2", "ann3"):
        wellness.set_opt_outs(db, accounts[name], pid, ["S11"])
    wellness.set_opt_outs(db, accounts["ann1"], pid, ["S11", "S4"])   # the latest plan counts
    counts = {c.code: c.people for c in wellness.opt_out_counts(db, accounts["lead"], pid)}
    assert counts["S11"] == 3 and counts["S1"] == 0
    assert counts["S4"] is None              # one person: withheld (minimum group size 3)
    set_min_group_size(db, accounts["admin"], 2)
    wellness.set_opt_outs(db, accounts["ann2"], pid, ["S11", "S4"])
    counts = {c.code: c.people for c in wellness.opt_out_counts(db, accounts["lead"], pid)}
    assert counts["S4"] == 2
    with pytest.raises(PermissionDenied):
        wellness.opt_out_counts(db, accounts["ann1"], pid)
    # The change events name nobody's categories.
    with db.read() as cur:
        details = cur.execute("SELECT details FROM events WHERE kind = ?",
                              [wellness.OPT_OUT_EVENT]).fetchall()
    assert len(details) == 5 and all(d[0] is None for d in details)


# -- weekly budget ----------------------------------------------------------------------------

def test_week_budget_rule():
    policy = WellbeingPolicy(week_severity_4_minutes=100, week_severity_3_minutes=200)
    assert week_budgets_reached({4: 99, 3: 50}, policy) == []
    assert week_budgets_reached({4: 100}, policy) == [4]
    assert week_budgets_reached({4: 60, 3: 140, None: 999}, policy) == [3]


def test_the_weekly_budget_holds_across_days_and_rolls_off(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Week", [(None, 4)] * 4 + [(None, 1)] * 4)
    projects.update_project_settings(db, accounts["lead"], pid, {"wellbeing": {
        "week_severity_4_minutes": 120}})
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    now = utcnow()
    # 80 minutes on each of two earlier days: under the daily cap (90) every day, over the
    # weekly budget (120) together.
    add_exposure(db, ann1, pid, 4, 80, now - timedelta(days=2))
    add_exposure(db, ann1, pid, 4, 80, now - timedelta(days=4))
    status = wellbeing.wellbeing_status(db, ann1, pid, now=now)
    assert status.daily_caps_reached == [] and status.week_budgets_reached == [4]
    assert status.ceiling == 3 and status.week_minutes_by_severity[4] == pytest.approx(160)
    assert work.claim_next_item(db, ann1, pid, now=now).hint_severity == 1
    # Positive control: the same severe items go to someone under budget.
    assert work.claim_next_item(db, ann2, pid, now=now).hint_severity == 4
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'week_budget_reached'"
                           " AND user_id = ?", [ann1]).fetchone()[0] == 1
    # Rolling: five days later the older 80 minutes are out of the window.
    later = now + timedelta(days=3, hours=1)
    assert wellbeing.wellbeing_status(db, ann1, pid, now=later).week_budgets_reached == []


def test_weekly_budget_settings_are_validated(db, accounts):
    pid = make_project(db, accounts)
    before = table_counts(db)
    for bad in (0, 10081, "60"):
        with pytest.raises(StoreError):
            projects.update_project_settings(db, accounts["lead"], pid, {"wellbeing": {
                "week_severity_3_minutes": bad}})
    assert table_counts(db) == before


# -- informed start ---------------------------------------------------------------------------

def test_briefing_and_confirmation_once(db, accounts, tmp_path):
    pid = project_with(db, accounts, tmp_path, "Brief",
                       [("S11", 3), ("S11", 4), ("S1", 2), (None, 0)])
    projects.update_project_settings(db, accounts["lead"], pid, {
        "content_description": "Chats about self-harm."})
    briefing = wellness.project_briefing(db, pid)
    assert briefing.description == "Chats about self-harm."
    assert briefing.categories == [("S11", 2), ("S1", 1)]
    assert briefing.highest_severity == 4 and briefing.items == 4
    ann = accounts["ann1"]
    assert not wellness.has_confirmed_start(db, ann, pid)
    wellness.confirm_informed_start(db, ann, pid, ["a protection"])
    wellness.confirm_informed_start(db, ann, pid)
    assert wellness.has_confirmed_start(db, ann, pid)
    assert not wellness.has_confirmed_start(db, accounts["ann2"], pid)
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'informed_start'"
                           " AND user_id = ? AND project_id = ?", [ann, pid]).fetchone()[0] == 1
    with pytest.raises(StoreError):
        projects.update_project_settings(db, accounts["lead"], pid, {
            "content_description": "x" * 5000})


# -- minimum group size -----------------------------------------------------------------------

def test_min_group_size_is_an_installation_setting_never_below_two(db, accounts):
    assert min_group_size(db) == 3
    before = table_counts(db)
    for bad in (1, 0, -3, 51):
        with pytest.raises(StoreError):
            set_min_group_size(db, accounts["admin"], bad)
    with pytest.raises(StoreError, match="cannot be below 2"):
        set_min_group_size(db, accounts["admin"], 1)
    with pytest.raises(PermissionDenied):
        set_min_group_size(db, accounts["lead"], 4)
    assert table_counts(db) == before and min_group_size(db) == 3
    set_min_group_size(db, accounts["admin"], 2)
    assert min_group_size(db) == 2
