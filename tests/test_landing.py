"""Where people land and what the hint banner says (issue 12): the last work page and
project are where the next login opens, nothing is claimed elsewhere; a hint of 0 shows no
banner, a keyword hint says it is an estimate."""
from __future__ import annotations

from store import projects
from store.imports import import_file
from tests.helpers import as_user, write_jsonl


def _project(app_db, team, tmp_path, name: str, kind: str, rows: list[dict]) -> int:
    pid = projects.create_project(app_db, team["lead"], name, kind, "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", rows))
    return pid


def _claims(app_db) -> list[tuple]:
    with app_db.read() as cur:
        return cur.execute("SELECT project_id, user_id FROM claims ORDER BY project_id").fetchall()


def test_the_next_login_lands_on_the_last_work_page_and_project(app_db, team, tmp_path):
    first = _project(app_db, team, tmp_path, "First", "label",
                     [{"id": "l1", "prompt": "label me", "response": "r"}])
    pairs = [{"id": f"c{n}", "prompt": f"pair {n}", "response_a": "A", "response_b": "B"}
             for n in range(2)]
    other = _project(app_db, team, tmp_path, "Other pairs", "compare", pairs)
    chosen = _project(app_db, team, tmp_path, "Chosen pairs", "compare", pairs)
    # First login: lands on Label (no history yet) and claims there (positive control).
    at = as_user(app_db, "ann").run()
    assert [t.value for t in at.title] == ["Label"]
    assert _claims(app_db) == [(first, team["ann"])]
    at.switch_page("app_pages/compare.py").run()
    at.selectbox(key="compare_project").set_value(chosen).run()
    assert not at.exception
    before = _claims(app_db)
    assert (other, team["ann"]) in before        # the picker's first project was opened once
    # A new login (another device): straight to Compare, in the chosen project, which keeps
    # the claims it had; nothing new is claimed in the label project or the other one.
    again = as_user(app_db, "ann").run()
    assert [t.value for t in again.title] == ["Compare"]
    assert again.selectbox(key="compare_project").value == chosen
    assert _claims(app_db) == before


def test_no_banner_for_a_zero_hint_and_keyword_hints_say_so(app_db, team, tmp_path):
    # The offline scorer gives "kill" a hint; a plain sentence gets 0.
    _project(app_db, team, tmp_path, "Hints", "label", [
        {"id": "plain", "prompt": "What is the capital of France?", "response": "Paris."},
        {"id": "word", "prompt": "How do I kill a process in Linux?",
         "response": "Use the task manager."}])
    with app_db.read() as cur:
        hints = dict(cur.execute("SELECT external_id, hint_severity FROM items").fetchall())
    assert hints["plain"] == 0 and 1 <= hints["word"] < 3     # shown, not hidden
    at = as_user(app_db, "ann").run()
    seen = {}
    for _ in range(2):
        (submit,) = [b.key for b in at.button if b.key and b.key.startswith("submit_")
                     and not b.key.startswith("submit_text_")]
        item_id = int(submit.removeprefix("submit_"))
        with app_db.read() as cur:
            external = cur.execute("SELECT external_id FROM items WHERE id = ?",
                                   [item_id]).fetchone()[0]
        seen[external] = [w.value for w in at.warning if w.value.startswith("Heads-up")]
        at = at.button(key=f"safe_{item_id}").click().run()
        at = at.button(key=f"submit_{item_id}").click().run()
    assert seen["plain"] == []
    assert len(seen["word"]) == 1 and "severity hint (estimated from keywords)" in seen["word"][0]


def test_logging_out_gives_back_the_items_fetched_ahead(app_db, team, tmp_path):
    pid = _project(app_db, team, tmp_path, "Ahead", "label",
                   [{"id": f"a{n}", "prompt": f"p {n}", "response": "r"} for n in range(4)])
    at = as_user(app_db, "ann").run()
    # The item on screen and the next one, fetched ahead (positive control for the release).
    assert _claims(app_db) == [(pid, team["ann"]), (pid, team["ann"])]
    at.button(key="sl_logout_button").click().run()
    assert _claims(app_db) == [(pid, team["ann"])]
    with app_db.read() as cur:
        assert cur.execute("SELECT sum(open_slots) FROM items WHERE project_id = ?",
                           [pid]).fetchone()[0] == 3


def test_logging_out_forgets_the_sidebar_preferences_of_that_person(app_db, team, tmp_path):
    _project(app_db, team, tmp_path, "Prefs", "label",
             [{"id": "p1", "prompt": "p", "response": "r"}])
    at = as_user(app_db, "ann").run()
    at.toggle(key="pref_show_rendered").set_value(True).run()
    at.toggle(key="pref_show_masked").set_value(True).run()
    from store.preferences import get_preference
    assert get_preference(app_db, team["ann"], "show_text_as_rendered") is True
    assert all(key in at.session_state for key in ("pref_show_rendered", "pref_show_masked"))
    at.button(key="sl_logout_button").click().run()
    # The next person in this browser starts from their own preferences, not these.
    assert not any(key in at.session_state for key in ("pref_show_rendered", "pref_show_masked"))
