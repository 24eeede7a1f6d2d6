"""The labeling page, driven with AppTest on a real DuckDB file."""
from __future__ import annotations

import json

import pytest

from store import projects, users, work
from store.imports import import_file
from tests.conftest import PASSWORD
from tests.helpers import as_user, shown, write_jsonl


ROWS = [
    {"id": "x1", "prompt": "<script>alert(1)</script> **bold** :red[x]",
     "response": "<img src=x onerror=alert(1)>"},
    {"id": "x2", "prompt": "Why is he such a FUCKING idiot?", "response": "Because shit happens."},
    {"id": "x3", "prompt": "third prompt", "response": "third response"},
    {"id": "x4", "prompt": "graphic prompt", "response": "graphic response", "hint_category": "S1",
     "hint_severity": 4},
]


@pytest.fixture
def project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Safety", "label", "Guide", None, 1,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "l.jsonl", ROWS))
    return pid


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def press(at, key: str):
    return at.button(key=key).click().run()


def item_id(app_db, external_id: str, project_id: int | None = None) -> int:
    with app_db.read() as cur:
        return cur.execute("SELECT id FROM items WHERE external_id = ? AND project_id = "
                           "coalesce(?, project_id) ORDER BY id LIMIT 1",
                           [external_id, project_id]).fetchone()[0]


def annotations(app_db) -> list[tuple]:
    with app_db.read() as cur:
        return cur.execute("SELECT i.external_id, a.version, a.is_safe, a.categories, a.severity, a.supersedes "
                           "FROM annotations a JOIN items i ON i.id = a.item_id ORDER BY a.id").fetchall()


def test_item_text_is_shown_literally(app_db, team, project):
    at = as_user(app_db, "ann").run()
    assert "<script>alert(1)</script> **bold** :red[x]" in texts(at)
    assert "<img src=x onerror=alert(1)>" in texts(at)
    assert not any("script" in m.value for m in at.markdown)


def test_each_validation_rule_blocks_the_submit_with_its_message(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = item_id(app_db, "x1")
    at = press(at, f"submit_{first}")
    assert any("choose safe or unsafe" in e.value for e in at.error)
    at = press(at, f"unsafe_{first}")
    at = press(at, f"sev_3_{first}")
    at = press(at, f"submit_{first}")
    assert any("at least one hazard category" in e.value for e in at.error)
    at = press(at, f"cat_S1_{first}")
    at = press(at, f"sev_0_{first}")
    at = press(at, f"submit_{first}")
    assert any("severity 0 (none) goes only with safe" in shown(e.value) for e in at.error)
    assert annotations(app_db) == []
    at = press(at, f"sev_3_{first}")
    at = press(at, f"cat_X1_{first}")
    at = press(at, f"submit_{first}")
    assert not at.error
    assert annotations(app_db) == [("x1", 1, False, ["S1", "X1"], 3, None)]
    assert any("Saved item x1" in s.value for s in at.success)
    assert "Why is he such a F****** idiot?" in texts(at)  # the next item, masked


def test_safe_needs_no_category_and_clears_them(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = item_id(app_db, "x1")
    at = press(at, f"cat_S2_{first}")
    at = press(at, f"safe_{first}")
    at = press(at, f"submit_{first}")
    assert annotations(app_db) == [("x1", 1, True, [], 0, None)]


def test_skip_serves_the_next_item_and_never_the_skipped_one_again(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = item_id(app_db, "x1")
    at.text_input(key=f"reason_{first}").input("too tired for this one")
    at = press(at, f"skip_{first}")
    assert any("never counted against you" in s.value for s in at.success)
    assert "<script>alert(1)</script> **bold** :red[x]" not in texts(at)
    seen = []
    for _ in range(5):
        current = [i for i in (item_id(app_db, x) for x in ("x2", "x3", "x4"))
                   if any(b.key == f"skip_{i}" or b.key == f"skip_gate_{i}" for b in at.button)]
        if not current:
            break
        seen.append(current[0])
        key = f"skip_{current[0]}" if any(b.key == f"skip_{current[0]}" for b in at.button) else f"skip_gate_{current[0]}"
        at = press(at, key)
    assert first not in seen and len(seen) == 3
    assert any("Nothing left for you" in s.value for s in at.success)
    with app_db.read() as cur:
        reason = cur.execute("SELECT details FROM events WHERE kind = 'skip' ORDER BY id LIMIT 1").fetchone()[0]
    assert json.loads(reason) == {"reason": "too tired for this one"}
    other = work.claim_next_item(app_db, team["ann2"], project)
    assert other is not None  # skipped items went back to the pool for others


def test_previous_reopens_an_item_and_a_correction_appends_a_version(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = item_id(app_db, "x1")
    at = press(at, f"safe_{first}")
    at = press(at, f"submit_{first}")
    second = item_id(app_db, "x2")
    at = press(at, f"back_{second}")
    assert any("Correcting item x1" in i.value for i in at.info)
    assert at.button(key=f"safe_{first}").proto.type == "primary"  # pre-filled from the saved label
    at = press(at, f"unsafe_{first}")
    at = press(at, f"cat_S5_{first}")
    at = press(at, f"sev_2_{first}")
    at = press(at, f"submit_{first}")
    assert any("Correction saved" in s.value for s in at.success)
    rows = annotations(app_db)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("x1", 1, True, []), ("x1", 2, False, ["S5"])]
    with app_db.read() as cur:
        first_id = cur.execute("SELECT id FROM annotations WHERE version = 1").fetchone()[0]
    assert rows[1][5] == first_id
    assert "Why is he such a F****** idiot?" in texts(at)  # back on the current item


def test_masked_terms_stay_hidden_until_revealed_and_the_reveal_is_an_event(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = item_id(app_db, "x1")
    at = press(at, f"safe_{first}")
    at = press(at, f"submit_{first}")
    second = item_id(app_db, "x2")
    shown = " ".join(texts(at))
    assert "FUCKING" not in shown and "shit" not in shown
    assert "Because s*** happens." in texts(at)
    assert not [t for t in at.text_area if t.key == f"edit_{second}"]  # no unmasked editor yet
    at = press(at, f"reveal_{second}")
    assert "Why is he such a FUCKING idiot?" in texts(at)
    with app_db.read() as cur:
        event = cur.execute("SELECT user_id, item_id, details FROM events WHERE kind = 'reveal'").fetchall()
    assert event == [(team["ann"], second, json.dumps({"what": "terms", "terms": 2}))]


def test_high_severity_hint_hides_the_text_until_asked(app_db, team, project, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Hinted", "label", "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "h.jsonl", [ROWS[3]]))
    at = as_user(app_db, "ann")
    at.session_state["label_project"] = pid
    at.run()
    hinted = item_id(app_db, "x4", pid)
    assert any("S1 Violent crimes" in w.value
               and "severity hint (from the imported file) 4" in w.value for w in at.warning)
    assert "graphic prompt" not in texts(at)
    at = press(at, f"show_{hinted}")
    assert "graphic prompt" in texts(at)


def test_preference_to_show_masked_words_is_kept_and_each_reveal_recorded(app_db, team, project):
    from store.preferences import get_preference
    at = as_user(app_db, "ann").run()
    at.toggle(key="pref_show_masked").set_value(True).run()
    assert get_preference(app_db, team["ann"], "show_masked_terms") is True
    first = item_id(app_db, "x1")
    at = press(at, f"safe_{first}")
    at = press(at, f"submit_{first}")
    assert "Why is he such a FUCKING idiot?" in texts(at)
    with app_db.read() as cur:
        details = cur.execute("SELECT details FROM events WHERE kind = 'reveal'").fetchone()[0]
    assert json.loads(details)["by"] == "preference"


def test_edit_is_stored_beside_the_original(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = item_id(app_db, "x1")
    at.text_area(key=f"edit_{first}").input("<img src=x> fixed")
    at = press(at, f"safe_{first}")
    at = press(at, f"submit_{first}")
    saved = work.latest_annotation(app_db, first, team["ann"])
    assert saved.edited_response == "<img src=x> fixed"
    assert saved.edit_distance > 0
    assert work.get_item(app_db, first).response == "<img src=x onerror=alert(1)>"


def test_no_project_and_finished_project_states(app_db, team, project):
    lonely = users.create_user(app_db, team["admin"], "lonely", "Lonely", PASSWORD, "annotator")
    at = as_user(app_db, "lonely").run()
    assert any("No labeling project is assigned to you" in i.value for i in at.info)
    assert lonely


def test_a_megabyte_item_is_cut_with_show_all(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Huge", "label", "", None, 1, [team["ann"]])
    big = "word " * 210_000
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "big.jsonl", [{"id": "big", "prompt": big}]))
    at = as_user(app_db, "ann")
    at.session_state["label_project"] = pid
    at.run()
    longest = max(len(t) for t in texts(at))
    assert longest < 25_000
    toggle = [t for t in at.toggle if t.label.startswith("Show all")][0]
    toggle.set_value(True).run()
    assert max(len(t) for t in texts(at)) == len(big.rstrip())
