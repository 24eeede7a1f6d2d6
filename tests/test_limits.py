"""Length limits on what people type: notes, rewrites, rationales, skip and flag reasons.
The store refuses anything longer with a message naming it and writes nothing; the pages
show the limit on the text boxes."""
from __future__ import annotations

import pytest

from core.formats import MAX_TEXT_BYTES
from core.labels import Label
from core.limits import (MAX_NOTE_CHARS, MAX_RATIONALE_CHARS, MAX_REASON_CHARS,
                         MIN_REWRITE_CHARS, judgment_problem, max_rewrite_chars, rewrite_problem)
from store import projects, work
from store.db import StoreError
from store.imports import import_file
from tests.conftest import make_project, table_counts
from tests.helpers import as_user, by_label, label_rows, write_jsonl


def test_rewrite_limit_is_the_larger_of_a_floor_and_twice_the_original_up_to_the_import_cap():
    assert max_rewrite_chars(None) == max_rewrite_chars("short") == MIN_REWRITE_CHARS == 50_000
    assert max_rewrite_chars("x" * 40_000) == 80_000
    assert max_rewrite_chars("x" * MAX_TEXT_BYTES) == MAX_TEXT_BYTES
    assert rewrite_problem("y" * 80_000, "x" * 40_000) is None
    assert "80,000" in rewrite_problem("y" * 80_001, "x" * 40_000)
    # Characters of four UTF-8 bytes: the import's byte limit holds too.
    original = "x" * (MAX_TEXT_BYTES // 2)
    assert "bytes" in rewrite_problem("😀" * (MAX_TEXT_BYTES // 4 + 1), original)
    assert rewrite_problem("😀" * (MAX_TEXT_BYTES // 4), original) is None


def test_judgment_limits_cover_the_rationale_and_the_other_fields():
    assert judgment_problem({"overall": "a", "rationale": "r" * MAX_RATIONALE_CHARS}) is None
    assert "rationale" in judgment_problem({"overall": "a", "rationale": "r" * (MAX_RATIONALE_CHARS + 1)})
    assert "fields" in judgment_problem({"overall": "a", "junk": "j" * 20_000})
    assert judgment_problem(None) is None


@pytest.fixture
def item(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Limits")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "l.jsonl", label_rows(3)))
    return work.claim_next_item(db, accounts["ann1"], pid)


def refused(db, action, match: str) -> None:
    before = table_counts(db)
    with pytest.raises(StoreError, match=match):
        action()
    assert table_counts(db) == before


def test_a_note_over_the_limit_is_refused_and_one_at_it_is_saved(db, accounts, item):
    ann = accounts["ann1"]
    long_note = Label(True, (), 0, "n" * (MAX_NOTE_CHARS + 1))
    refused(db, lambda: work.save_annotation(db, ann, item.id, long_note),
            r"the note is 5,001 characters long; the limit is 5,000")
    refused(db, lambda: work.save_and_claim_next(db, ann, item.id, long_note), "the note")
    with db.read() as cur:      # the claim is still there: nothing moved
        assert cur.execute("SELECT count(*) FROM claims WHERE item_id = ?", [item.id]).fetchone()[0] == 1
    work.save_annotation(db, ann, item.id, Label(True, (), 0, "n" * MAX_NOTE_CHARS))
    assert len(work.latest_annotation(db, item.id, ann).note) == MAX_NOTE_CHARS


def test_a_rewrite_over_the_limit_is_refused_and_one_at_it_is_saved(db, accounts, item):
    ann = accounts["ann1"]
    limit = max_rewrite_chars(item.response)
    refused(db, lambda: work.save_annotation(
        db, ann, item.id, Label(True, (), 0, edited_response="e" * (limit + 1))),
        "the edited response is 50,001 characters long")
    # The finding's case: 50 MB.
    refused(db, lambda: work.save_annotation(
        db, ann, item.id, Label(True, (), 0, edited_response="e" * 50_000_000)),
        "the edited response")
    work.save_annotation(db, ann, item.id, Label(True, (), 0, edited_response="e" * limit))
    assert len(work.latest_annotation(db, item.id, ann).edited_response) == limit


def test_a_rationale_over_the_limit_is_refused_and_one_at_it_is_saved(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, kind="compare", name="Pairs")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": "p1", "prompt": "q", "response_a": "a", "response_b": "b"}]))
    pair = work.claim_next_item(db, ann, pid)
    judgment = {"left": "a", "harmlessness": 3, "helpfulness": 3, "overall": "a"}
    refused(db, lambda: work.save_annotation(
        db, ann, pair.id, judgment={**judgment, "rationale": "r" * (MAX_RATIONALE_CHARS + 1)}),
        "the rationale is 5,001 characters long")
    work.save_annotation(db, ann, pair.id, judgment={**judgment, "rationale": "r" * MAX_RATIONALE_CHARS})
    assert len(work.latest_annotation(db, pair.id, ann).judgment["rationale"]) == MAX_RATIONALE_CHARS


@pytest.mark.parametrize("action", ["skip", "flag"])
def test_a_reason_over_the_limit_is_refused_and_one_at_it_is_kept(db, accounts, item, action):
    ann = accounts["ann1"]
    release = work.skip_item if action == "skip" else work.flag_item
    refused(db, lambda: release(db, ann, item.id, "w" * (MAX_REASON_CHARS + 1)),
            "the reason is 2,001 characters long; the limit is 2,000")
    release(db, ann, item.id, "w" * MAX_REASON_CHARS)
    with db.read() as cur:
        details = cur.execute("SELECT details->>'reason' FROM events WHERE kind = ?",
                              [action]).fetchone()[0]
    assert len(details) == MAX_REASON_CHARS


# -- the pages show the limits --------------------------------------------------------------

def test_the_label_page_shows_the_note_rewrite_and_reason_limits(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Limits", "label", "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "l.jsonl", [
        {"id": "long", "prompt": "p", "response": "r" * 30_000}]))
    at = as_user(app_db, "ann").run()
    assert not at.exception
    assert by_label(at.text_input, "Note (optional)").max_chars == MAX_NOTE_CHARS
    assert by_label(at.text_input, "Reason (optional for skip, needed for flag)").max_chars == \
        MAX_REASON_CHARS
    assert by_label(at.text_area, "Edited response").max_chars == 60_000


def test_the_compare_page_shows_the_rationale_limit(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Pairs", "compare", "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": "p1", "prompt": "q", "response_a": "a", "response_b": "b"}]))
    at = as_user(app_db, "ann")
    at.session_state["compare_project"] = pid
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    (rationale,) = [t for t in at.text_area if t.label.startswith("Rationale")]
    assert rationale.max_chars == MAX_RATIONALE_CHARS
