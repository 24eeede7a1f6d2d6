"""Wellbeing on the work pages, driven with AppTest on a real DuckDB file: caps, break
prompts and the break timer, dimming, check-ins and their privacy, support on every page."""
from __future__ import annotations

from datetime import timedelta

from components.navigation import page_specs_for
from store import projects, wellbeing
from store.db import utcnow
from store.imports import import_file
from store.preferences import set_preference
from store.settings import set_support_info
from tests.helpers import as_user, write_jsonl


def make(app_db, team, tmp_path, name, rows, kind="label"):
    pid = projects.create_project(app_db, team["lead"], name, kind, "Guide", None, 1,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", rows))
    return pid


def severe_rows(n4: int, n1: int) -> list[dict]:
    return ([{"id": f"grave-{n}", "prompt": f"grave prompt {n}", "response": "r", "hint_severity": 4}
             for n in range(n4)]
            + [{"id": f"light-{n}", "prompt": f"light prompt {n}", "response": "r", "hint_severity": 1}
               for n in range(n1)])


def expose(app_db, user_id, project_id, severity, minutes):
    end = utcnow() - timedelta(seconds=5)
    app_db.write(lambda cur: wellbeing.record_exposure(
        cur, user_id, project_id, 1, severity, None, "submit", int(minutes * 60_000),
        end - timedelta(minutes=minutes), end))


def all_text(at) -> str:
    parts = [e.value for kind in ("text", "markdown", "info", "warning", "success", "error",
                                  "subheader", "title", "caption")
             for e in getattr(at, kind)]
    parts += [str(e.label) for e in at.button]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(str(p) for p in parts)


def checked_in(at) -> None:
    """Close the session-start check-in (tests below are about other things)."""
    at.button(key="FormSubmitter:checkin_due-Not now").click().run()


def test_past_the_cap_severity_4_is_not_served(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Severe", severe_rows(5, 2))
    expose(app_db, team["ann"], pid, 4, 90)
    at = as_user(app_db, "ann").run()
    checked_in(at)
    body = all_text(at)
    assert "light prompt" in body and "grave prompt" not in body
    assert "You have reached today's limit (90 minutes at severity 4)" in body
    # The page holds the item shown and the next one (prefetch): both light.
    assert claimed_severities(app_db, team["ann"]) == [1, 1]
    # Someone under the cap still gets the severe items first (behind the hint gate).
    other = as_user(app_db, "ann2").run()
    checked_in(other)
    assert claimed_severities(app_db, team["ann2"]) == [4, 4]
    assert "The text is hidden until you choose to see it" in all_text(other)


def claimed_severities(app_db, user_id):
    with app_db.read() as cur:
        return [r[0] for r in cur.execute("SELECT i.hint_severity FROM claims c JOIN items i "
                                          "ON i.id = c.item_id WHERE c.user_id = ?",
                                          [user_id]).fetchall()]


def test_at_the_cap_with_nothing_lighter_the_stream_stops_kindly(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "OnlyGrave", severe_rows(3, 0))
    expose(app_db, team["ann"], pid, 4, 95)
    at = as_user(app_db, "ann").run()
    checked_in(at)
    body = all_text(at)
    assert "grave prompt" not in body
    assert "nothing lighter left for you in this project today" in body


def test_break_prompt_at_the_threshold_and_the_timer(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Work", severe_rows(0, 3))
    expose(app_db, team["ann"], pid, 3, 49)
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert "take_break" not in [b.key for b in at.button]
    expose(app_db, team["ann"], pid, 2, 1.5)
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert "Time for a 10-minute break" in all_text(at)
    at.button(key="take_break").click().run()
    assert "On a break" in all_text(at)
    assert "light prompt" not in all_text(at)            # the work area is replaced
    with app_db.read() as cur:
        kinds = [r[0] for r in cur.execute("SELECT kind FROM events WHERE kind LIKE 'break%' "
                                           "ORDER BY id").fetchall()]
    assert kinds == ["break_due", "break_taken"]
    at.button(key="end_break").click().run()
    assert "light prompt" in all_text(at) and "take_break" not in [b.key for b in at.button]
    with app_db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'break_ended'").fetchone()[0] == 1


def test_postponing_a_break_is_recorded_and_hides_the_prompt(app_db, team, tmp_path):
    pid = make(app_db, team, tmp_path, "Work", severe_rows(0, 3))
    expose(app_db, team["ann"], pid, 3, 55)
    at = as_user(app_db, "ann").run()
    checked_in(at)
    at.button(key="postpone_break").click().run()
    assert "take_break" not in [b.key for b in at.button]
    with app_db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'break_postponed'").fetchone()[0] == 1


def test_severe_text_is_dimmed_until_unblurred(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Dim", [{"id": "d", "prompt": "dim prompt", "response": "r",
                                          "hint_severity": 2}])
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert any(b.key.startswith("unblur_") for b in at.button)
    assert "filter: blur" in "".join(str(h.proto) for h in at.get("html"))
    next(b for b in at.button if b.key.startswith("unblur_")).click().run()
    assert not any(b.key.startswith("unblur_") for b in at.button)
    with app_db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'reveal' "
                           "AND details->>'what' = 'dim'").fetchone()[0] == 1


def test_session_start_checkin_is_saved_or_declined(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Work", severe_rows(0, 2))
    at = as_user(app_db, "ann").run()
    at.slider(key="valence_due").set_value(2)
    at.slider(key="arousal_due").set_value(8)
    at.button(key="FormSubmitter:checkin_due-Save check-in").click().run()
    with app_db.read() as cur:
        assert cur.execute("SELECT user_id, valence, arousal, moment FROM checkins").fetchall() == [
            (team["ann"], 2, 8, "start")]
    assert "valence_due" not in [s.key for s in at.slider]
    declined = as_user(app_db, "ann2").run()
    checked_in(declined)
    assert "valence_due" not in [s.key for s in declined.slider]
    with app_db.read() as cur:
        assert cur.execute("SELECT count(*) FROM checkins").fetchone()[0] == 1


def test_no_page_shows_another_annotators_unshared_checkins(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Work", severe_rows(1, 2))
    # Within the dashboard's default range, at a moment nothing else on the pages shows.
    secret = (utcnow() - timedelta(hours=2)).replace(second=37, microsecond=0)
    wellbeing.record_checkin(app_db, team["ann2"], 1, 9, "sidebar", now=secret)
    set_preference(app_db, team["ann2"], wellbeing.SHARE_CHECKINS_PREF, False)
    for spec in page_specs_for("annotator"):
        at = as_user(app_db, "ann")
        at.switch_page(spec.path).run()
        assert not at.exception, spec.path
        body = all_text(at)
        assert f"{secret:%H:%M:%S}" not in body, spec.path
        assert "Ann Two" not in body and "ann2" not in body, spec.path
    # The check (on the dashboard) can fail: ann2 herself sees that very check-in there.
    own = as_user(app_db, "ann2")
    own.switch_page("app_pages/dashboard.py").run()
    assert f"{secret:%H:%M:%S}" in all_text(own)


def test_support_is_on_every_page_and_admin_sets_it(app_db, team, tmp_path):
    set_support_info(app_db, team["admin"], "Call Dana on 555-0100", "https://support.example/help")
    for role, name in (("annotator", "ann"), ("lead", "lead"), ("admin", "admin")):
        for spec in page_specs_for(role):
            at = as_user(app_db, name)
            at.switch_page(spec.path).run()
            assert "Call Dana on 555-0100" in all_text(at), spec.path


def test_skipping_from_behind_the_warning_is_not_severe_exposure(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Gate", severe_rows(2, 0))
    at = as_user(app_db, "ann").run()
    checked_in(at)
    gate_skip = next(b for b in at.button if b.key.startswith("skip_gate_"))
    gate_skip.click().run()
    with app_db.read() as cur:
        assert cur.execute("SELECT outcome, severity FROM exposures").fetchall() == [("skip", None)]


def test_the_editor_waits_for_the_blur_to_be_lifted(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Dim", [{"id": "d", "prompt": "p", "response": "blurred reply",
                                          "hint_severity": 2}])
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert not [t for t in at.text_area if t.key.startswith("edit_")]
    assert "Unblur the text first (V): the editor holds the full text." in all_text(at)


def test_a_hint_category_from_the_file_is_shown_literally(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Odd", [{"id": "o", "prompt": "p", "response": "r",
                                          "hint_category": "**S1** :red[x]"}])
    at = as_user(app_db, "ann").run()
    checked_in(at)
    # The scorer found nothing (hint 0): no severity part, only the file's category, literal.
    assert [w.value for w in at.warning if "Heads-up" in w.value] == [
        r"Heads-up: category hint \*\*S1\*\* \:red\[x\]."]


def test_the_check_in_comes_back_after_an_hour(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Work", severe_rows(0, 2))
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert "valence_due" not in [s.key for s in at.slider]
    at.session_state["checkin_closed_at"] = utcnow() - timedelta(minutes=61)
    at.run()
    at.button(key="FormSubmitter:checkin_due-Save check-in").click().run()
    with app_db.read() as cur:
        assert cur.execute("SELECT moment FROM checkins").fetchall() == [("hourly",)]


def test_logging_out_forgets_the_persons_work_and_wellbeing_state(app_db, team, tmp_path):
    make(app_db, team, tmp_path, "Work", severe_rows(0, 2))
    at = as_user(app_db, "ann").run()
    checked_in(at)
    assert "label" in at.session_state and "checkin_closed_at" in at.session_state
    token = at.session_state["_sl_session"]
    at.button(key="sl_logout_button").click().run()
    assert any(s.value == "You have logged out." for s in at.success)
    assert "Username" in [t.label for t in at.text_input]         # the login form again
    from store.sessions import session_user_id
    assert session_user_id(app_db, token) is None                 # ended on the server
    for key in ("label", "checkin_closed_at", "checkin_last", "sl_user", "_sl_session",
                "authentication_status"):
        assert key not in at.session_state, key
