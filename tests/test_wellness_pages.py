"""Opt-outs, weekly budgets, the informed start and the small-team privacy wording on the
pages, driven with AppTest on a real DuckDB file."""
from __future__ import annotations

from datetime import timedelta

import pytest

from store import projects, users, wellbeing
from store.db import utcnow
from store.imports import import_file
from store.settings import set_min_group_size, set_support_info
from store.wellness import set_opt_outs
from tests.conftest import PASSWORD
from tests.helpers import as_user, write_jsonl
from tests.test_wellbeing_pages import all_text, checked_in

PRIVACY = "hidden: fewer than 3 people in this group (privacy)"


def make(app_db, team, tmp_path, name, rows, **kwargs):
    pid = projects.create_project(app_db, team["lead"], name, "label", "Guide", None, 1,
                                  kwargs.get("members", [team["ann"], team["ann2"]]),
                                  kwargs.get("open_to_all", False))
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", rows))
    return pid


def hinted(prefix, category, severity, n):
    return [{"id": f"{prefix}-{i}", "prompt": f"{prefix} prompt {i}", "response": "r",
             "hint_category": category, "hint_severity": severity} for i in range(n)]


def claims_of(app_db, user_id):
    with app_db.read() as cur:
        return cur.execute("SELECT i.hint_category, i.hint_severity FROM claims c JOIN items i"
                           " ON i.id = c.item_id WHERE c.user_id = ?", [user_id]).fetchall()


def test_opting_out_on_the_page_keeps_those_items_away(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Opt", hinted("alpha", "S11", 1, 4) + hinted("beta", "S1", 1, 4))
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert "alpha prompt" in all_text(at)          # the S11 items come first in this project
    at.multiselect(key=f"opt_outs_{pid}").set_value(["S11"]).run()
    at.button(key=f"save_opt_outs_{pid}").click().run()
    assert any("Saved." in t.value for t in at.text)
    shown = [c for c, _ in claims_of(app_db, team["ann"])]
    assert shown[0] == "S11"                         # the item on screen stays until answered
    item_key = [b.key for b in at.button if b.key and b.key.startswith("skip_")][0]
    at.button(key=item_key).click().run()
    body = all_text(at)
    assert "beta prompt" in body and "alpha prompt" not in body
    assert {c for c, _ in claims_of(app_db, team["ann"])} == {"S1"}
    # Positive control: someone who did not opt out is served the S11 items.
    other = as_user(app_db, "ann2").run()
    checked_in(other)
    assert "alpha prompt" in all_text(other)
    assert {c for c, _ in claims_of(app_db, team["ann2"])} == {"S11"}


def test_past_the_weekly_budget_only_lighter_items_and_my_day_says_this_week(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Week", hinted("grave", None, 4, 3) + hinted("light", None, 1, 3))
    projects.update_project_settings(app_db, team["lead"], pid, {"wellbeing": {
        "week_severity_4_minutes": 120}})
    now = utcnow()
    for days_ago in (2, 4):      # under the daily cap each day, over the weekly budget together
        end = now - timedelta(days=days_ago)
        app_db.write(lambda cur, end=end: wellbeing.record_exposure(
            cur, team["ann"], pid, 1, 4, None, "submit", 80 * 60_000,
            end - timedelta(minutes=80), end))
    at = as_user(app_db, "ann").run()
    checked_in(at)
    body = all_text(at)
    assert "light prompt" in body and "grave prompt" not in body
    assert "This week (last 7 days): severity 4 160 of 120 min" in body
    assert "You have used this week's budget (120 minutes at severity 4" in body
    assert "today's limit" not in body
    assert "until older days drop out of the 7-day window" in body
    assert "for the rest of today" not in body
    assert [s for _, s in claims_of(app_db, team["ann"])] == [1, 1]
    # Positive control: under budget, the severe items come first.
    other = as_user(app_db, "ann2").run()
    checked_in(other)
    assert [s for _, s in claims_of(app_db, team["ann2"])] == [4, 4]
    assert "This week (last 7 days): severity 4 0 of 120 min" in all_text(other)


@pytest.mark.informed_start
def test_informed_start_once_per_person_and_project(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Start", hinted("dark", "S11", 4, 2) + hinted("mild", "S1", 1, 2))
    projects.update_project_settings(app_db, team["lead"], pid, {
        "content_description": "Transcripts about self-harm **bold** [x](http://evil)"})
    set_support_info(app_db, team["admin"], "Call the care line.", "https://care.example")
    at = as_user(app_db, "ann").run()
    assert not at.exception
    body = all_text(at)
    assert "Before you start" in body
    # The lead's words as plain text, categories and the highest severity from the hints.
    assert "Transcripts about self-harm **bold** [x](http://evil)" in [t.value for t in at.text]
    assert "S11 Suicide and self-harm (2 items)" in body and "4 severe" in body
    assert "Daily caps: 90 minutes" in body and "Call the care line." in body
    assert claims_of(app_db, team["ann"]) == []      # nothing claimed before confirming
    assert "dark prompt" not in body and "mild prompt" not in body
    at.button(key=f"confirm_start_{pid}").click().run()
    checked_in(at)
    with app_db.read() as cur:
        events = cur.execute("SELECT count(*) FROM events WHERE kind = 'informed_start'"
                             " AND user_id = ? AND project_id = ?", [team["ann"], pid]).fetchone()[0]
    assert events == 1
    body = all_text(at)
    assert "Before you start" not in body and claims_of(app_db, team["ann"])
    assert "The text is hidden until you choose to see it" in body   # the first (severe) item
    # A second visit goes straight to work.
    again = as_user(app_db, "ann").run()
    checked_in(again)
    assert "Before you start" not in all_text(again)
    assert "The text is hidden until you choose to see it" in all_text(again)
    # Per person: someone else still sees it first.
    other = as_user(app_db, "ann2").run()
    assert "Before you start" in all_text(other) and claims_of(app_db, team["ann2"]) == []
    # Per project: a second project shows it to ann again.
    make(app_db, team, tmp_path, "Second", hinted("two", None, 0, 1))
    later = as_user(app_db, "ann").run()
    later.selectbox(key="label_project").set_value(
        projects.get_project_by_name(app_db, "Second").id).run()
    assert "Before you start" in all_text(later)


@pytest.mark.informed_start
def test_informed_start_can_set_opt_outs_before_the_first_item(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "StartOpt", hinted("alpha", "S11", 1, 2) + hinted("beta", "S1", 1, 2))
    at = as_user(app_db, "ann").run()
    at.multiselect(key=f"start_opt_outs_{pid}").set_value(["S11"]).run()
    at.button(key=f"confirm_start_{pid}").click().run()
    checked_in(at)
    assert "beta prompt" in all_text(at) and "alpha prompt" not in all_text(at)
    assert {c for c, _ in claims_of(app_db, team["ann"])} == {"S1"}


def expose_today(app_db, user_id, project_id, minutes=3):
    end = utcnow() - timedelta(seconds=5)
    app_db.write(lambda cur: wellbeing.record_exposure(
        cur, user_id, project_id, 1, 2, None, "submit", minutes * 60_000,
        end - timedelta(minutes=minutes), end))


def test_small_teams_see_the_privacy_wording_not_no_data(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Small", hinted("x", None, 2, 2))
    expose_today(app_db, team["ann"], pid)
    expose_today(app_db, team["ann2"], pid)
    at = as_user(app_db, "lead")
    at.switch_page("app_pages/dashboard.py").run()
    assert not at.exception
    infos = [i.value for i in at.info]
    assert PRIVACY in infos
    charts = [c for c in at.get("plotly_chart")]
    assert not any("Team exposure minutes" in c.proto.spec for c in charts)
    # Positive control: with the minimum group size at 2 the same two people are shown.
    set_min_group_size(app_db, team["admin"], 2)
    at = as_user(app_db, "lead")
    at.switch_page("app_pages/dashboard.py").run()
    assert not [i for i in at.info if i.value.startswith("hidden: fewer than")]
    assert any("Team exposure minutes" in c.proto.spec for c in at.get("plotly_chart"))


def test_an_admin_cannot_set_the_group_size_below_two(app_db, team):
    at = as_user(app_db, "admin")
    at.switch_page("app_pages/users.py").run()
    field = [n for n in at.number_input if n.label == "Minimum group size (people)"][0]
    field.set_value(1)
    at.button(key="FormSubmitter:min_group_size-Save group size").click().run()
    assert any("cannot be below 2" in e.value for e in at.error)
    field = [n for n in at.number_input if n.label == "Minimum group size (people)"][0]
    field.set_value(4)
    at.button(key="FormSubmitter:min_group_size-Save group size").click().run()
    assert not at.error and any("at least 4 people" in s.value for s in at.success)


def test_a_lead_sees_opt_out_counts_never_who(app_db, team, tmp_path):
    admin = team["admin"]
    people = {name: users.create_user(app_db, admin, name, f"Zelda {name.title()}", PASSWORD,
                                      "annotator") for name in ("zelda", "zora", "zoe")}
    pid = make(app_db, team, tmp_path, "Staffing", hinted("x", "S11", 1, 1), members=[],
               open_to_all=True)
    for uid in people.values():
        set_opt_outs(app_db, uid, pid, ["S11"])
    set_opt_outs(app_db, people["zelda"], pid, ["S11", "S4"])
    at = as_user(app_db, "lead")
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    assert not at.exception
    counts = [d.value for d in at.dataframe if "people opted out" in d.value.columns][0]
    by_category = dict(zip(counts["category"], counts["people opted out"]))
    assert by_category["S11 Suicide and self-harm"] == "3"          # positive control
    assert by_category["S4 Child sexual exploitation"] == "fewer than 3"
    rendered = all_text(at)
    for name, uid in people.items():
        assert name not in rendered and "Zelda" not in rendered


def test_a_lead_writes_the_description_and_weekly_budgets_on_the_projects_page(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Described", hinted("x", None, 1, 1))
    at = as_user(app_db, "lead")
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    [area] = [a for a in at.text_area if a.label.startswith("What this project contains")]
    area.input("Threats and self-harm in chat logs.")
    at.number_input(key=f"wb_week_severity_4_minutes_{pid}").set_value(200)
    at.button(key=f"FormSubmitter:edit_project_{pid}-Save changes").click().run()
    assert not at.exception and not at.error
    saved = projects.get_project(app_db, pid).settings
    assert saved["content_description"] == "Threats and self-harm in chat logs."
    assert saved["wellbeing"]["week_severity_4_minutes"] == 200
