"""Gold feedback on the label page, the per-person progress line, and the qualification's
message, through AppTest on a real DuckDB file."""
from __future__ import annotations

from core.labels import Label
from store import gold, projects
from store.imports import import_file
from tests.helpers import as_user, shown, write_jsonl

ROWS = [{"id": f"r{n}", "prompt": f"prompt {n}", "response": f"response {n}"} for n in range(3)]


def _project(app_db, team, tmp_path, settings):
    pid = projects.create_project(app_db, team["lead"], "Checks", "label", "Guide", None, 1,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "r.jsonl", ROWS))
    with app_db.read() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM items ORDER BY id").fetchall()]
    projects.update_project_settings(app_db, team["lead"], pid, settings)
    return pid, ids


def _submit_safe(at, item_id):
    at = at.button(key=f"safe_{item_id}").click().run()      # safe sets severity 0
    return at.button(key=f"submit_{item_id}").click().run()


def _infos(at) -> list[str]:
    return [shown(i.value) for i in at.info]


def _current_item(at) -> int:
    (submit,) = [b.key for b in at.button if b.key and b.key.startswith("submit_")
                 and not b.key.startswith("submit_text_")]
    return int(submit.removeprefix("submit_"))


def test_expected_answer_shows_after_a_gold_item_only(app_db, team, tmp_path):
    pid, ids = _project(app_db, team, tmp_path, {"gold_rate": 0.5})   # one in each 2 is gold
    gold.set_gold(app_db, team["lead"], ids[2], Label(False, ("S1",), 3), None,
                  "It threatens a **named** person.")
    at = as_user(app_db, "ann").run()
    assert "0 done today · 2 left for you · 0 of 2 items complete in Checks" in \
        " ".join(t.value for t in at.text)
    seen = []
    for _ in range(3):
        item_id = _current_item(at)
        seen.append(item_id)
        at = _submit_safe(at, item_id)
        feedback = [i for i in _infos(at) if "known answer" in i]
        if item_id != ids[2]:
            assert not feedback, _infos(at)      # an ordinary item: no feedback
            continue
        assert feedback, _infos(at)
        assert "Yours differs" in feedback[0]
        assert "Expected: unsafe · S1 Violent crimes · severity 3" in feedback[0]
        assert "It threatens a **named** person." in feedback[0]     # shown literally
        at = at.run()
        assert not any("known answer" in i for i in _infos(at)), "the feedback shows once"
    assert sorted(seen) == sorted(ids)        # the gold item came, and both ordinary ones


def test_failed_qualification_says_so(app_db, team, tmp_path):
    pid, ids = _project(app_db, team, tmp_path, {"gold_rate": 0})
    gold.set_gold(app_db, team["lead"], ids[0], Label(False, ("S1",), 3), None, "a threat",
                  qualification=True)
    projects.update_project_settings(app_db, team["lead"], pid, {
        "qualification_required": True, "qualification_threshold": 1.0})
    at = as_user(app_db, "ann").run()
    at = _submit_safe(at, ids[0])
    assert any("did not pass this project's qualification" in shown(w.value) for w in at.warning)
    # An assessment does not show its answers (a retake would know them); plain gold items
    # do (test_expected_answer_shows_after_a_gold_item_only).
    assert any("qualification is scored once you have answered" in i for i in _infos(at))
    assert not any("known answer" in i or "a threat" in i for i in _infos(at))
    assert all(f"submit_{i}" not in [b.key for b in at.button] for i in ids[1:])


def test_lead_chooses_serve_order_gold_rate_and_qualification(app_db, team):
    from tests.helpers import by_label
    pid = projects.create_project(app_db, team["lead"], "Queue", "label", "", None, 2, [])
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    assert by_label(at.selectbox, "Serve order").value == "depth_first"     # the default
    by_label(at.selectbox, "Serve order").set_value("breadth_first")
    by_label(at.number_input, "Gold items (share of each person's items)").set_value(0.1)
    by_label(at.checkbox, "Require a qualification").check()
    by_label(at.number_input, "Pass mark (share right)").set_value(0.75)
    at = by_label(at.button, "Save changes").click().run()
    assert not at.error, [e.value for e in at.error]
    settings = projects.get_project(app_db, pid).settings
    assert (settings["serve_order"], settings["gold_rate"], settings["qualification_required"],
            settings["qualification_threshold"]) == ("breadth_first", 0.1, True, 0.75)


def test_a_lead_sees_a_failed_qualification_and_allows_another_attempt(app_db, team, tmp_path):
    from store.qualification import qualification_status
    from tests.helpers import by_label
    pid, ids = _project(app_db, team, tmp_path, {"gold_rate": 0})
    gold.set_gold(app_db, team["lead"], ids[0], Label(False, ("S1",), 3), None, "a threat",
                  qualification=True)
    projects.update_project_settings(app_db, team["lead"], pid, {
        "qualification_required": True, "qualification_threshold": 1.0})
    _submit_safe(as_user(app_db, "ann").run(), ids[0])
    assert qualification_status(app_db, pid, team["ann"]).state == "failed"
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    table = [d.value for d in at.dataframe if "pass mark" in d.value.columns][0]
    states = dict(zip(table["person"], table["state"]))
    assert states == {"Ann (ann, annotator)": "failed: waiting for a lead",
                      "Ann Two (ann2, annotator)": "in progress"}
    assert list(table["last score"]) == ["0%", ""]
    # Without a reason nothing is recorded.
    at.selectbox(key=f"qual_person_{pid}").set_value(team["ann"])
    at = by_label(at.button, "Allow another attempt").click().run()
    assert any("give a reason" in e.value for e in at.error)
    assert qualification_status(app_db, pid, team["ann"]).state == "failed"
    at.selectbox(key=f"qual_person_{pid}").set_value(team["ann"])
    at.text_input(key=f"qual_reason_{pid}").input("guideline 3 was unclear")
    at = by_label(at.button, "Allow another attempt").click().run()
    assert not at.error, [e.value for e in at.error]
    assert qualification_status(app_db, pid, team["ann"]).state == "in_progress"
