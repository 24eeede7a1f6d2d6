"""My recent items (store/recent.py) and the store's refusal of a correction of an item the
person never annotated."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.labels import Label
from store import projects, work
from store.db import StoreError, utcnow
from store.imports import import_file
from store.recent import recent_items
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl

SAFE = Label(True, (), 0)
UNSAFE = Label(False, ("S1",), 3)


@pytest.fixture
def labels(db, accounts, tmp_path) -> int:
    pid = make_project(db, accounts, name="Labels")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "l.jsonl", [
        {"id": f"lab-{n}", "prompt": f"Prompt number {n} about Gardening", "response": f"r{n}"}
        for n in range(6)]))
    return pid


def do(db, user_id: int, project_id: int, label: Label = SAFE, days_ago: float = 0,
       judgment: dict | None = None) -> work.Item:
    """Claim the next item and annotate it as if `days_ago` days ago."""
    item = work.claim_next_item(db, user_id, project_id)
    assert item is not None
    work.save_annotation(db, user_id, item.id, label, judgment=judgment,
                         now=utcnow() - timedelta(days=days_ago))
    return item


def ids(rows) -> list[str]:
    return [r.external_id for r in rows]


def week_ago():
    return utcnow() - timedelta(days=7)


def test_newest_first_within_the_last_seven_days(db, accounts, labels):
    ann = accounts["ann1"]
    old = do(db, ann, labels, days_ago=8)
    middle = do(db, ann, labels, days_ago=3)
    newest = do(db, ann, labels, UNSAFE, days_ago=0.1)
    rows = recent_items(db, ann, week_ago())
    assert ids(rows) == [newest.external_id, middle.external_id]   # the 8-day-old one is out
    assert recent_items(db, ann, utcnow() - timedelta(days=9))[-1].external_id == old.external_id
    first = rows[0]
    assert (first.item_id, first.project_id, first.project_name, first.project_kind,
            first.version) == (newest.id, labels, "Labels", "label", 1)
    assert first.answer == "unsafe · S1 · severity 3"
    assert first.prompt_preview == newest.prompt
    assert rows[1].answer == "safe · severity 0"


def test_a_correction_shows_the_current_version_once(db, accounts, labels):
    ann = accounts["ann1"]
    item = do(db, ann, labels, SAFE, days_ago=1)
    other = do(db, ann, labels, SAFE, days_ago=0.5)
    work.save_annotation(db, ann, item.id, UNSAFE, correction=True)
    rows = recent_items(db, ann, week_ago())
    assert ids(rows) == [item.external_id, other.external_id]   # corrected just now: first
    assert (rows[0].version, rows[0].answer) == (2, "unsafe · S1 · severity 3")
    assert (rows[1].version, rows[1].answer) == (1, "safe · severity 0")


def test_a_correction_counts_as_recent_work_on_an_old_item(db, accounts, labels):
    ann = accounts["ann1"]
    item = do(db, ann, labels, SAFE, days_ago=20)
    assert ids(recent_items(db, ann, week_ago())) == []
    work.save_annotation(db, ann, item.id, UNSAFE, correction=True)
    rows = recent_items(db, ann, week_ago())
    assert [(r.external_id, r.version) for r in rows] == [(item.external_id, 2)]


def test_only_the_persons_own_items(db, accounts, labels):
    mine = do(db, accounts["ann1"], labels)
    theirs = do(db, accounts["ann2"], labels)
    assert ids(recent_items(db, accounts["ann1"], week_ago())) == [mine.external_id]
    assert ids(recent_items(db, accounts["ann2"], week_ago())) == [theirs.external_id]


def test_filters_project_search_answer_and_date_range(db, accounts, labels, tmp_path):
    ann = accounts["ann1"]
    other = make_project(db, accounts, name="Other")
    import_file(db, accounts["lead"], other, write_jsonl(tmp_path / "o.jsonl", [
        {"id": "oth-1", "prompt": "Something about cooking", "response": "r"}]))
    a = do(db, ann, labels, SAFE, days_ago=5)
    b = do(db, ann, labels, UNSAFE, days_ago=2)
    c = do(db, ann, other, UNSAFE, days_ago=1)
    since = week_ago()
    assert ids(recent_items(db, ann, since)) == [c.external_id, b.external_id, a.external_id]
    assert ids(recent_items(db, ann, since, project_id=other)) == [c.external_id]
    assert ids(recent_items(db, ann, since, project_id=labels)) == [b.external_id, a.external_id]
    assert ids(recent_items(db, ann, since, answer="unsafe")) == [c.external_id, b.external_id]
    assert ids(recent_items(db, ann, since, answer="safe")) == [a.external_id]
    # Search: the prompt, any case, and the external id.
    assert ids(recent_items(db, ann, since, search="COOKING")) == [c.external_id]
    assert ids(recent_items(db, ann, since, search=a.external_id.upper())) == [a.external_id]
    assert ids(recent_items(db, ann, since, search="gardening")) == [b.external_id, a.external_id]
    assert ids(recent_items(db, ann, since, search="100%")) == []
    # A date range: from 6 to 1.5 days ago.
    assert ids(recent_items(db, ann, utcnow() - timedelta(days=6),
                            until=utcnow() - timedelta(days=1.5))) == [b.external_id, a.external_id]
    assert ids(recent_items(db, ann, since, limit=1)) == [c.external_id]


def test_compare_answers_are_named_as_the_person_saw_them(db, accounts, tmp_path):
    ann = accounts["ann1"]
    pid = make_project(db, accounts, kind="compare", name="Pairs")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "c.jsonl", [
        {"id": f"pair-{n}", "messages": [{"role": "user", "content": f"Chat turn {n}"}],
         "response_a": "a", "response_b": "b"} for n in range(3)]))
    # Stored response "b" shown on the left: overall "b" is "A better" on that screen.
    left_b = do(db, ann, pid, Label(None), days_ago=3, judgment={
        "left": "b", "harmlessness": -2, "helpfulness": 0, "overall": "b", "rationale": None})
    left_a = do(db, ann, pid, Label(None), days_ago=2, judgment={
        "left": "a", "harmlessness": -2, "helpfulness": 1, "overall": "b", "rationale": None})
    tie = do(db, ann, pid, Label(None), days_ago=1, judgment={
        "left": "a", "harmlessness": 0, "helpfulness": 0, "overall": "tie", "rationale": None})
    since = week_ago()
    assert ids(recent_items(db, ann, since, answer="A better")) == [left_b.external_id]
    assert ids(recent_items(db, ann, since, answer="B better")) == [left_a.external_id]
    assert ids(recent_items(db, ann, since, answer="tie")) == [tie.external_id]
    assert ids(recent_items(db, ann, since, answer="safe")) == []
    rows = {r.external_id: r for r in recent_items(db, ann, since)}
    assert rows[left_b.external_id].answer == (
        "overall A better · harmlessness: A better · helpfulness: About the same")
    assert rows[left_a.external_id].answer == (
        "overall B better · harmlessness: B better · helpfulness: A slightly better")
    # A transcript item has no prompt: its turns are the preview and are searched.
    assert rows[tie.external_id].prompt_preview.startswith("Chat turn")
    assert ids(recent_items(db, ann, since, search="chat turn")) == ids(recent_items(db, ann, since))


def test_projects_the_person_may_no_longer_work_on_are_left_out(db, accounts, labels, tmp_path):
    ann = accounts["ann1"]
    gone = make_project(db, accounts, name="Gone")
    import_file(db, accounts["lead"], gone, write_jsonl(tmp_path / "g.jsonl", [
        {"id": "gone-1", "prompt": "p", "response": "r"}]))
    archived = make_project(db, accounts, name="Archived")
    import_file(db, accounts["lead"], archived, write_jsonl(tmp_path / "a.jsonl", [
        {"id": "arch-1", "prompt": "p", "response": "r"}]))
    kept = do(db, ann, labels)
    do(db, ann, gone)
    do(db, ann, archived)
    assert sorted(ids(recent_items(db, ann, week_ago()))) == sorted(
        [kept.external_id, "gone-1", "arch-1"])
    projects.set_members(db, accounts["lead"], gone, [accounts["ann2"]])
    projects.set_archived(db, accounts["lead"], archived, True)
    assert ids(recent_items(db, ann, week_ago())) == [kept.external_id]


def test_an_unknown_answer_filter_or_limit_is_refused(db, accounts, labels):
    with pytest.raises(StoreError, match="unknown answer filter"):
        recent_items(db, accounts["ann1"], week_ago(), answer="maybe")
    with pytest.raises(StoreError, match="limit"):
        recent_items(db, accounts["ann1"], week_ago(), limit=0)


def test_a_correction_of_an_item_never_annotated_is_refused(db, accounts, labels):
    ann = accounts["ann1"]
    done = do(db, ann, labels)
    with db.read() as cur:
        untouched = cur.execute("SELECT id FROM items WHERE project_id = ? AND done_count = 0"
                                " LIMIT 1", [labels]).fetchone()[0]
    before = table_counts(db)
    with pytest.raises(StoreError, match="nothing to correct"):
        work.save_annotation(db, ann, untouched, UNSAFE, correction=True)
    assert table_counts(db) == before
    assert work.latest_annotation(db, untouched, ann) is None
    # Someone else's annotation does not make it this person's to correct.
    theirs = do(db, accounts["ann2"], labels)
    before = table_counts(db)
    with pytest.raises(StoreError, match="nothing to correct"):
        work.save_annotation(db, ann, theirs.id, UNSAFE, correction=True)
    assert table_counts(db) == before
    # Positive control: a correction of their own item appends version 2.
    work.save_annotation(db, ann, done.id, UNSAFE, correction=True)
    assert [a.version for a in work.annotation_history(db, done.id, ann)] == [1, 2]


def test_a_correction_while_holding_a_claim_still_needs_an_earlier_annotation(db, accounts, labels):
    ann = accounts["ann1"]
    held = work.claim_next_item(db, ann, labels)
    before = table_counts(db)
    with pytest.raises(StoreError, match="nothing to correct"):
        work.save_annotation(db, ann, held.id, UNSAFE, correction=True)
    assert table_counts(db) == before
    work.save_annotation(db, ann, held.id, SAFE)   # the ordinary submit of the claim
    assert [a.version for a in work.annotation_history(db, held.id, ann)] == [1]
