"""The Review page (leads): queues, every answer with its annotator, adjudication through the
form (and in the agreed-answer export), history, look-up; closed to annotators."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.labels import Label
from store import projects, users, work
from store.imports import import_file
from tests.conftest import PASSWORD, ROOT, table_counts
from tests.helpers import HOSTILE, as_user, by_label, write_jsonl
from tests.test_export_page import prepare, temp_root, written  # noqa: F401  (fixtures)

REVIEW = "app_pages/review.py"


@pytest.fixture
def reviewed(app_db, team, tmp_path) -> dict[str, int]:
    """A label project: ann and ann2 answer e1 differently, ann3 flags e2 (through the store)."""
    team = dict(team, ann3=users.create_user(app_db, team["admin"], "ann3", "Ann Three",
                                             PASSWORD, "annotator"))
    pid = projects.create_project(app_db, team["lead"], "Pilot", "label", "", None, 2,
                                  [team["ann"], team["ann2"], team["ann3"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "items.jsonl", [
        {"id": "e1", "prompt": "first prompt", "response": "first response"},
        {"id": "e2", "prompt": "second prompt", "response": "second response"},
        {"id": "e3", "prompt": "third prompt", "response": "third response"}]))
    with app_db.read() as cur:
        ids = dict(cur.execute("SELECT external_id, id FROM items").fetchall())
    work.save_annotation(app_db, team["ann"], ids["e1"], Label(True, (), 0, note="fine to me"))
    work.save_annotation(app_db, team["ann2"], ids["e1"], Label(False, ("S1",), 2))
    # e3: both agree (positive control: never in the disagreement queue).
    work.save_annotation(app_db, team["ann"], ids["e3"], Label(True, (), 0))
    work.save_annotation(app_db, team["ann2"], ids["e3"], Label(True, (), 0))
    work.flag_item(app_db, team["ann3"], ids["e2"], HOSTILE)
    return {"project": pid, **ids, **team}


def review_page(app_db) -> AppTest:
    at = as_user(app_db, "lead").run()
    at.switch_page(REVIEW).run()
    assert not at.exception, at.exception
    return at


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def frame(at, column: str):
    """The dataframe that has `column` (queue: "why", answers: "annotator", history: "what")."""
    (found,) = [f for f in frames(at) if column in f.columns]
    return found


def markdown_text(at) -> str:
    return " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.warning,
                                           *at.error, *at.success])


def test_review_lists_a_disagreement_and_a_flag(app_db, reviewed):
    at = review_page(app_db)
    assert [t.value for t in at.title] == ["Review"]
    queue = frame(at, "why")
    assert list(queue["external id"]) == ["e1"]                 # e3 agreed: not listed
    assert "differ on safe/unsafe, categories, severity" in queue["why"][0]
    # The chosen item's text and every annotator's answer, with their names.
    assert "first prompt" in [t.value for t in at.text]
    answers = frame(at, "annotator")
    assert list(answers["annotator"]) == ["Ann (ann)", "Ann Two (ann2)"]
    assert list(answers["verdict"]) == ["safe", "unsafe"]
    assert list(answers["note"]) == ["fine to me", ""]
    assert list(answers["guidelines"]) == [1, 1]       # the guidelines version answered under
    by_label(at.radio, "Queue").set_value("flags").run()
    flagged = frame(at, "why")
    assert list(flagged["external id"]) == ["e2"]
    assert HOSTILE in flagged["why"][0]                         # as typed, in a dataframe
    assert "second prompt" in [t.value for t in at.text]
    assert "127.0.0.1:9" not in markdown_text(at)               # never as Markdown


def test_a_lead_adjudicates_on_the_page_and_the_export_says_so(app_db, reviewed, temp_root,
                                                               written):
    at = review_page(app_db)
    by_label(at.radio, "Verdict").set_value("unsafe")
    by_label(at.multiselect, "Categories").set_value(["S1", "S10"])
    by_label(at.selectbox, "Severity").set_value(3)
    by_label(at.selectbox, "Reason").set_value("guideline gap")
    by_label(at.text_area, "Note").input("S10 applies too")
    at = by_label(at.button, "Record the adjudication").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Adjudication recorded."]
    assert any(i.value == "Nothing in this queue." for i in at.info)   # e1 left the queue
    at = prepare(app_db, "items")
    assert not at.error, [e.value for e in at.error]
    rows = {r["external_id"]: r for r in map(json.loads, written[-1]["bytes"].splitlines())}
    decided = rows["e1"]
    assert (decided["adjudicated"], decided["adjudication_reason"], decided["agreed_is_safe"],
            decided["agreed_categories"], decided["agreed_severity"]) \
        == (True, "guideline gap", False, ["S1", "S10"], 3)
    assert (rows["e3"]["adjudicated"], rows["e3"]["agreed_is_safe"]) == (False, True)


def test_a_bad_adjudication_on_the_page_says_why_and_changes_nothing(app_db, reviewed):
    at = review_page(app_db)
    by_label(at.radio, "Verdict").set_value("unsafe")
    before = table_counts(app_db)
    at = by_label(at.button, "Record the adjudication").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Not recorded" in errors[0]
    assert "hazard category" in errors[0] and "reason" in errors[0]
    assert table_counts(app_db) == before


def test_compare_projects_adjudicate_overall_and_both_axes(app_db, reviewed, tmp_path):
    pid = projects.create_project(app_db, reviewed["lead"], "Pairs", "compare", "", None, 2,
                                  [reviewed["ann"], reviewed["ann2"]])
    import_file(app_db, reviewed["lead"], pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": "c1", "prompt": "which?", "response_a": "answer A", "response_b": "answer B"}]))
    with app_db.read() as cur:
        item = cur.execute("SELECT id FROM items WHERE project_id = ?", [pid]).fetchone()[0]
    for user, overall in (("ann", "a"), ("ann2", "b")):
        work.save_annotation(app_db, reviewed[user], item, judgment={
            "left": "a", "harmlessness": 1 if overall == "a" else -1, "helpfulness": 0,
            "overall": overall})
    at = review_page(app_db)
    by_label(at.selectbox, "Project").set_value(pid).run()
    assert list(frame(at, "why")["external id"]) == ["c1"]
    assert list(frame(at, "annotator")["overall"]) == ["a", "b"]
    by_label(at.radio, "Overall").set_value("b")
    at.select_slider[0].set_value(-2)
    at.select_slider[1].set_value(1)
    by_label(at.selectbox, "Reason").set_value("ambiguous item")
    at = by_label(at.button, "Record the adjudication").click().run()
    assert not at.error, [e.value for e in at.error]
    from store.adjudication import current_adjudication
    assert current_adjudication(app_db, item).judgment == {
        "overall": "b", "harmlessness": -2, "helpfulness": 1}


def test_look_up_any_item_by_its_id_and_read_its_history(app_db, reviewed):
    at = review_page(app_db)
    by_label(at.text_input, "Open an item by its id (the external id it was imported with)") \
        .input("e2").run()
    assert "second prompt" in [t.value for t in at.text]
    history = frame(at, "what")
    # (The lead's own Label page, where the login lands, may have claimed the item.)
    history = history[~((history["who"] == "lead") & (history["what"] == "claimed"))]
    assert list(history["what"]) == ["imported", "flagged"]
    assert list(history["who"]) == ["lead", "ann3"]
    assert list(history["details"])[1] == f"reason: {HOSTILE}"
    by_label(at.text_input, "Open an item by its id (the external id it was imported with)") \
        .input("nope").run()
    assert any("No item with the id" in w.value for w in at.warning)
    assert "second prompt" not in [t.value for t in at.text]


def test_an_annotator_cannot_open_the_review_page(app_db, reviewed):
    at = as_user(app_db, "ann").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(REVIEW)        # not registered for this person's role
    # Positive control: the lead's navigation has it (review_page checks the title).
    review_page(app_db)
    # Run directly (as a URL would reach it if navigation let it through): the page's own check.
    page = AppTest.from_file(str(ROOT / REVIEW), default_timeout=60)
    page.session_state["sl_user"] = users.get_user(app_db, reviewed["ann"])
    page.run()
    assert [e.value for e in page.error] == ["This page needs the lead role."]
    assert not page.title and not page.dataframe and not page.text and not page.selectbox
    lead_page = AppTest.from_file(str(ROOT / REVIEW), default_timeout=60)
    lead_page.session_state["sl_user"] = users.get_user(app_db, reviewed["lead"])
    lead_page.run()
    assert [t.value for t in lead_page.title] == ["Review"] and lead_page.dataframe


def test_masked_words_stay_masked_until_the_lead_reveals_them(app_db, reviewed, tmp_path):
    pid = projects.create_project(app_db, reviewed["lead"], "Rough", "label", "", None, 1,
                                  [reviewed["ann"]])
    import_file(app_db, reviewed["lead"], pid, write_jsonl(tmp_path / "rough.jsonl", [
        {"id": "r1", "prompt": "what the fuck", "response": "calm down"}]))
    at = review_page(app_db)
    by_label(at.selectbox, "Project").set_value(pid).run()
    by_label(at.text_input, "Open an item by its id (the external id it was imported with)") \
        .input("r1").run()
    texts = [t.value for t in at.text]
    assert "what the f***" in texts and "what the fuck" not in texts
    at.toggle[0].set_value(True).run()
    assert "what the fuck" in [t.value for t in at.text]
    with app_db.read() as cur:
        assert cur.execute("SELECT user_id, details->>'where' FROM events WHERE kind = 'reveal'"
                           ).fetchall() == [(reviewed["lead"], "review")]


def test_a_lead_makes_an_item_gold_and_the_misses_queue_lists_it(app_db, reviewed):
    at = review_page(app_db)
    lookup = "Open an item by its id (the external id it was imported with)"
    by_label(at.text_input, lookup).input("e3").run()
    assert "third prompt" in [t.value for t in at.text]
    # The gold form's fields carry their own keys (the adjudication form has the same labels).
    key = f"gold_{reviewed['e3']}"
    at.radio(key=f"verdict_{key}").set_value("unsafe")
    at.multiselect(key=f"categories_{key}").set_value(["S1"])
    at.selectbox(key=f"severity_{key}").set_value(2)
    at.text_area(key=f"explanation_{key}").input("a veiled threat")
    at = by_label(at.button, "Make it a gold item").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == ["Gold answer saved."]
    from store.gold import gold_answer
    saved = gold_answer(app_db, reviewed["e3"])
    assert (saved.is_safe, saved.categories, saved.severity, saved.explanation) \
        == (False, ("S1",), 2, "a veiled threat")
    # Both answered e3 "safe": two misses. e1 (not gold) is not listed.
    by_label(at.text_input, lookup).input("").run()
    by_label(at.radio, "Queue").set_value("gold misses").run()
    misses = frame(at, "why")
    assert list(misses["external id"]) == ["e3"]
    assert "2 misses" in misses["why"][0] and "ann, ann2" in misses["why"][0]
    # A gold item's own disagreements are the gold queue's, not the disagreement queue's.
    by_label(at.radio, "Queue").set_value("disagreements").run()
    assert list(frame(at, "why")["external id"]) == ["e1"]
