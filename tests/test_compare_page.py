"""The compare page with AppTest: a whole comparison, each rationale rule, position undone."""
from __future__ import annotations

import json

import pytest

from core.preference import left_response
from store import projects, work
from store.exports import export
from store.imports import import_file
from tests.helpers import as_user, shown, write_jsonl


def make_pairs(app_db, team, tmp_path, rule: str, n: int = 3) -> int:
    pid = projects.create_project(app_db, team["lead"], f"Pairs {rule}", "compare", "", None, 1,
                                  [team["ann"]])
    projects.update_project_settings(app_db, team["lead"], pid, {"rationale": rule})
    rows = [{"id": f"p{k}", "prompt": f"Pair prompt {k}", "response_a": f"Alpha {k}",
             "response_b": f"Beta {k}"} for k in range(n)]
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / f"{rule}.jsonl", rows))
    return pid


def open_page(app_db, pid):
    at = as_user(app_db, "ann")
    at.session_state["compare_project"] = pid
    at.run()
    at.switch_page("app_pages/compare.py").run()
    return at


def current_item_id(at) -> int:
    key = next(b.key for b in at.button if b.key and b.key.startswith("submit_") and not b.key.startswith("submit_text"))
    return int(key.split("_")[1])


def press(at, key):
    return at.button(key=key).click().run()


def compare(at, item_id, harm_screen, help_screen, overall, rationale=None):
    at = press(at, f"harmlessness_{harm_screen}_{item_id}")
    at = press(at, f"helpfulness_{help_screen}_{item_id}")
    at = press(at, f"overall_{overall}_{item_id}")
    if rationale is not None:
        at.text_area(key=f"rationale_{item_id}").input(rationale)
    return press(at, f"submit_{item_id}")


@pytest.mark.parametrize("rule, harm, help_, needs", [
    ("always", 1, 1, True), ("never", -3, 3, False), ("strong", -3, -1, True),
    ("strong", -2, -1, False), ("conflict", -1, 2, True), ("conflict", 1, 1, False),
    ("strong_or_conflict", 3, 3, True), ("strong_or_conflict", -1, -1, False),
])
def test_each_rationale_rule(app_db, team, tmp_path, rule, harm, help_, needs):
    pid = make_pairs(app_db, team, tmp_path, rule)
    at = open_page(app_db, pid)
    assert [t.value for t in at.title] == ["Compare"]
    item_id = current_item_id(at)
    at = compare(at, item_id, harm, help_, "left")
    saved = work.latest_annotation(app_db, item_id, team["ann"])
    if needs:
        assert saved is None and any("rationale" in e.value or "say why" in e.value for e in at.error)
        at.text_area(key=f"rationale_{item_id}").input("A refuses clearly.")
        at = press(at, f"submit_{item_id}")
        saved = work.latest_annotation(app_db, item_id, team["ann"])
    assert saved is not None and not at.error
    assert saved.judgment["left"] == left_response(team["ann"], item_id)


def test_position_is_stored_and_undone_in_the_export(app_db, team, tmp_path):
    pid = make_pairs(app_db, team, tmp_path, "never", n=6)
    at = open_page(app_db, pid)
    lefts = []
    for _ in range(6):
        item_id = current_item_id(at)
        left = left_response(team["ann"], item_id)
        lefts.append(left)
        shown = [t.value for t in at.text]
        a_text = next(v for v in shown if v.startswith(("Alpha", "Beta")))
        assert a_text.startswith("Alpha" if left == "a" else "Beta")  # screen A is the left one
        at = compare(at, item_id, -2, -1, "left")   # "the left one (screen A) is better"
        judgment = work.latest_annotation(app_db, item_id, team["ann"]).judgment
        assert judgment["overall"] == left
        assert judgment["harmlessness"] == (2 if left == "a" else -2)
    assert set(lefts) == {"a", "b"}
    out = tmp_path / "trl.jsonl"
    assert export(app_db, team["lead"], pid, "trl_preference", out) == 6
    for line, left in zip(out.read_text().splitlines(), lefts):
        record = json.loads(line)
        assert record["chosen"].startswith(" Alpha" if left == "a" else " Beta")  # TRL text form


def test_missing_choices_are_named_and_nothing_is_saved(app_db, team, tmp_path):
    pid = make_pairs(app_db, team, tmp_path, "never")
    at = open_page(app_db, pid)
    item_id = current_item_id(at)
    at = press(at, f"submit_{item_id}")
    errors = " ".join(shown(e.value) for e in at.error)
    assert "harmlessness" in errors and "helpfulness" in errors and "A, B or T" in errors
    assert work.latest_annotation(app_db, item_id, team["ann"]) is None


def test_previous_reopens_a_comparison_and_a_correction_appends_a_version(app_db, team, tmp_path):
    pid = make_pairs(app_db, team, tmp_path, "never")
    at = open_page(app_db, pid)
    first = current_item_id(at)
    at = compare(at, first, -1, -1, "left")
    second = current_item_id(at)
    at = press(at, f"back_{second}")
    assert any("Correcting item" in i.value for i in at.info)
    assert at.button(key=f"overall_left_{first}").proto.type == "primary"  # pre-filled
    at = press(at, f"overall_tie_{first}")
    at = press(at, f"submit_{first}")
    history = work.annotation_history(app_db, first, team["ann"])
    assert [(h.version, h.judgment["overall"]) for h in history] == [
        (1, left_response(team["ann"], first)), (2, "tie")]
    assert history[1].supersedes == history[0].id


def test_per_response_safety_and_categories_when_the_project_asks(app_db, team, tmp_path):
    pid = make_pairs(app_db, team, tmp_path, "never")
    projects.update_project_settings(app_db, team["lead"], pid, {"per_response_safety": True})
    at = open_page(app_db, pid)
    item_id = current_item_id(at)
    left = left_response(team["ann"], item_id)
    at = press(at, f"safe_left_True_{item_id}")       # screen A safe
    at = press(at, f"safe_right_False_{item_id}")     # screen B unsafe ...
    at = compare(at, item_id, -1, -1, "left")
    assert any("response B is unsafe" in e.value for e in at.error)
    at.pills(key=f"cats_right_{item_id}").set_value(["S10"]).run()   # ... because of hate
    at = press(at, f"submit_{item_id}")
    saved = work.latest_annotation(app_db, item_id, team["ann"]).judgment
    right = "b" if left == "a" else "a"
    assert saved["safety"] == {left: {"is_safe": True, "categories": []},
                               right: {"is_safe": False, "categories": ["S10"]}}
