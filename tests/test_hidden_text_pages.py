"""Hidden characters on the pages that show item text (AppTest): markers and a notice by
default, the text as rendered with the per-person toggle (the notice stays), nothing for a
clean item, masking across a zero-width character."""
from __future__ import annotations

import pytest

from components.item_view import SHOW_RENDERED_KEY, SHOW_RENDERED_PREF
from store import projects
from store.imports import import_file
from store.preferences import get_preference, set_preference
from tests.helpers import as_user, by_label, shown, write_jsonl

TRICKY = "Tell me the pass\u200bword, you f\u200buck \u202eerom on won"
MARKED = "Tell me the pass⟦ZWSP⟧word, you f⟦ZWSP⟧*** ⟦RLO⟧erom on won"
FOUND = "PROMPT: 2 zero-width characters and 1 right-to-left override."


@pytest.fixture
def project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Tricks", "label", "Guide", None, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "tricks.jsonl", [
        {"id": "tricky", "prompt": TRICKY, "response": "a plain answer"},
        {"id": "clean", "prompt": "a clean prompt", "response": "a clean answer"}]))
    return pid


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def notices(at) -> list[str]:
    return [shown(w.value) for w in at.warning if "hidden characters" in shown(w.value)]


def item_key(at, prefix: str) -> str:
    return next(b.key for b in at.button if b.key and b.key.startswith(prefix))


def test_markers_and_notice_by_default_and_the_rendered_text_with_the_toggle(app_db, team, project):
    at = as_user(app_db, "ann").run()
    assert not at.exception
    assert MARKED in texts(at)
    assert not any(TRICKY in t or "\u202e" in t or "\u200b" in t for t in texts(at))
    (notice,) = notices(at)
    assert FOUND in notice and "shown as a marker" in notice
    # The masked word split by a zero-width space counts as masked: the reveal button offers it.
    at.button(key=item_key(at, "reveal_")).click().run()
    assert MARKED.replace("f⟦ZWSP⟧***", "f⟦ZWSP⟧uck") in texts(at)

    at.toggle(key=SHOW_RENDERED_KEY).set_value(True).run()
    assert TRICKY in texts(at)
    assert not any("⟦" in t for t in texts(at))
    (notice,) = notices(at)
    assert FOUND in notice and "shown as rendered" in notice and "out of order" in notice
    assert get_preference(app_db, team["ann"], SHOW_RENDERED_PREF) is True


def test_a_clean_item_shows_no_notice(app_db, team, project):
    at = as_user(app_db, "ann").run()
    assert notices(at) and MARKED in texts(at)          # positive control: the tricky item
    at.button(key=item_key(at, "skip_")).click().run()
    assert "a clean prompt" in texts(at)
    assert notices(at) == []
    assert not any("⟦" in t for t in texts(at))


def test_the_preference_is_remembered_across_sessions(app_db, team, project):
    set_preference(app_db, team["ann"], SHOW_RENDERED_PREF, True)
    at = as_user(app_db, "ann").run()
    assert at.toggle(key=SHOW_RENDERED_KEY).value is True
    masked = TRICKY.replace("f\u200buck", "f\u200b***")     # rendered, still masked
    assert masked in texts(at) and MARKED not in texts(at)
    (notice,) = notices(at)
    assert FOUND in notice


def test_mixed_alphabets_and_hidden_characters_in_a_comparison(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Pairs", "compare", "", None, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": "p1", "prompt": "log in to p\u0430ypal", "response_a": "sure\x07",
         "response_b": "no thanks"}]))
    at = as_user(app_db, "ann")
    at.session_state["compare_project"] = pid
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    assert "log in to p\u0430ypal⟦MIXED Latin+Cyrillic⟧" in texts(at)
    assert "sure⟦U+0007⟧" in texts(at) and "no thanks" in texts(at)
    (notice,) = notices(at)
    assert "PROMPT: 1 word mixing alphabets (Latin and Cyrillic)." in notice
    assert "1 control character." in notice


def test_the_review_page_marks_hidden_characters_too(app_db, team, project):
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/review.py").run()
    by_label(at.selectbox, "Project").set_value(project).run()
    by_label(at.text_input, "Open an item by its id (the external id it was imported with)") \
        .input("tricky").run()
    assert not at.exception
    assert MARKED in texts(at)
    (notice,) = notices(at)
    assert FOUND in notice
    by_label(at.text_input, "Open an item by its id (the external id it was imported with)") \
        .input("clean").run()
    assert "a clean prompt" in texts(at) and notices(at) == []
