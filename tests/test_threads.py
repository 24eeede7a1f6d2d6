"""Threads between an annotator and the leads: who may read and write, unread counts, markers."""
from __future__ import annotations

import pytest

from core.labels import Label
from core.limits import MAX_MESSAGE_CHARS
from store import projects, threads, users, work
from store.db import PermissionDenied, StoreError
from store.imports import import_file
from tests.conftest import PASSWORD, make_project, table_counts
from tests.helpers import label_rows, write_jsonl


@pytest.fixture
def project(db, accounts, tmp_path) -> int:
    pid = make_project(db, accounts, overlap=2)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "items.jsonl", label_rows(6)))
    return pid


def claim(db, accounts, name: str, project: int) -> int:
    return work.claim_next_item(db, accounts[name], project).id


def kinds_and_bodies(messages) -> list[tuple[str, str, int]]:
    return [(m.kind, m.body, m.author_id) for m in messages]


def test_question_and_reply_form_one_thread_seen_by_its_annotator_and_the_lead(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    threads.post_question(db, accounts["ann1"], item, "  Is satire in scope?  ")
    threads.post_reply(db, accounts["lead"], item, accounts["ann1"], "Yes, see section 2.")
    expected = [("question", "Is satire in scope?", accounts["ann1"]),
                ("reply", "Yes, see section 2.", accounts["lead"])]
    assert kinds_and_bodies(threads.thread(db, accounts["ann1"], item, accounts["ann1"])) == expected
    assert kinds_and_bodies(threads.thread(db, accounts["lead"], item, accounts["ann1"])) == expected
    assert kinds_and_bodies(threads.thread(db, accounts["admin"], item, accounts["ann1"])) == expected
    with db.read() as cur:
        events = cur.execute("SELECT kind, user_id, item_id FROM events WHERE kind = 'thread_message'"
                             " ORDER BY id").fetchall()
    assert events == [("thread_message", accounts["ann1"], item),
                      ("thread_message", accounts["lead"], item)]


def test_another_annotator_cannot_read_the_thread(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    # ann2 worked on this very item too: that gives no right to ann1's thread about it.
    work.save_annotation(db, accounts["ann2"], item, Label(is_safe=True, severity=0))
    threads.post_question(db, accounts["ann1"], item, "private question")
    before = table_counts(db)
    with pytest.raises(StoreError, match="another annotator"):
        threads.thread(db, accounts["ann2"], item, accounts["ann1"])
    with pytest.raises(StoreError):
        threads.mark_read(db, accounts["ann2"], item, accounts["ann1"])
    assert table_counts(db) == before
    assert threads.inbox(db, accounts["ann2"]) == []
    assert threads.unread_count(db, accounts["ann2"]) == 0
    # Positive control: the thread is there, for its annotator.
    assert [m.body for m in threads.thread(db, accounts["ann1"], item, accounts["ann1"])] == \
        ["private question"]


def test_an_annotator_asks_only_about_items_they_were_given(db, accounts, project):
    given = claim(db, accounts, "ann1", project)
    with db.read() as cur:
        other = cur.execute("SELECT id FROM items WHERE id <> ? ORDER BY id LIMIT 1",
                            [given]).fetchone()[0]
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="items you were given"):
        threads.post_question(db, accounts["ann1"], other, "what is this?")
    with pytest.raises(StoreError):   # nor read one about it (it would show the item)
        threads.thread(db, accounts["ann1"], other, accounts["ann1"])
    assert table_counts(db) == before
    threads.post_question(db, accounts["ann1"], given, "what is this?")
    assert table_counts(db)["messages"] == 1


def test_an_annotator_outside_the_project_cannot_ask(db, accounts, tmp_path):
    pid = make_project(db, accounts, members=("ann1",), name="Closed")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "c.jsonl", label_rows(2)))
    item = claim(db, accounts, "ann1", pid)
    projects.set_members(db, accounts["lead"], pid, [accounts["ann2"]])   # ann1 removed
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="not assigned"):
        threads.post_question(db, accounts["ann1"], item, "still there?")
    assert table_counts(db) == before


def test_bad_bodies_are_refused_and_nothing_changes(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    before = table_counts(db)
    for body in ("", "   \n ", "x" * (MAX_MESSAGE_CHARS + 1)):
        with pytest.raises(StoreError, match="empty|limit is 5,000"):
            threads.post_question(db, accounts["ann1"], item, body)
        with pytest.raises(StoreError, match="empty|limit is 5,000"):
            threads.post_reply(db, accounts["lead"], item, accounts["ann1"], body)
    assert table_counts(db) == before
    threads.post_question(db, accounts["ann1"], item, "x" * MAX_MESSAGE_CHARS)
    assert table_counts(db)["messages"] == 1


def test_only_leads_reply_and_only_to_people_who_worked_on_the_item(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    threads.post_question(db, accounts["ann1"], item, "question")
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="lead role"):
        threads.post_reply(db, accounts["ann2"], item, accounts["ann1"], "I know!")
    with pytest.raises(StoreError, match="has not worked on this item"):
        threads.post_reply(db, accounts["lead"], item, accounts["ann3"], "hello")
    assert table_counts(db) == before
    threads.post_reply(db, accounts["lead"], item, accounts["ann1"], "answer")
    assert table_counts(db)["messages"] == before["messages"] + 1


def test_feedback_on_an_answer_goes_to_its_authors_thread(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    annotation = work.save_annotation(db, accounts["ann1"], item, Label(is_safe=True, severity=0))
    before = table_counts(db)
    with pytest.raises(PermissionDenied):
        threads.post_feedback(db, accounts["ann2"], annotation, "nope")
    with pytest.raises(StoreError, match="no such answer"):
        threads.post_feedback(db, accounts["lead"], annotation + 999, "nope")
    assert table_counts(db) == before
    threads.post_feedback(db, accounts["lead"], annotation, "This one is unsafe: S2.")
    [message] = threads.thread(db, accounts["ann1"], item, accounts["ann1"])
    assert (message.kind, message.annotation_id, message.author_id) == \
        ("feedback", annotation, accounts["lead"])
    assert threads.unread_count(db, accounts["ann1"]) == 1


def test_unread_counts_and_mark_read(db, accounts, project):
    first = claim(db, accounts, "ann1", project)
    threads.post_question(db, accounts["ann1"], first, "q1")
    assert threads.unread_count(db, accounts["ann1"]) == 0   # one's own words are not unread
    assert threads.unread_count(db, accounts["lead"]) == 1
    assert threads.unread_count(db, accounts["admin"]) == 1
    threads.post_reply(db, accounts["lead"], first, accounts["ann1"], "r1")
    threads.post_reply(db, accounts["lead"], first, accounts["ann1"], "r2")
    assert threads.unread_count(db, accounts["ann1"]) == 2
    assert threads.unread_count(db, accounts["lead"]) == 0    # writing reads the thread
    # The admin never took part and the question is answered: not in their inbox any more.
    assert threads.unread_count(db, accounts["admin"]) == 0
    assert threads.inbox(db, accounts["admin"]) == []
    [entry] = threads.inbox(db, accounts["ann1"])
    assert (entry.unread, entry.messages, entry.last_preview, entry.last_author_name,
            entry.awaiting_lead) == (2, 3, "r2", "Lead", False)

    assert threads.mark_read(db, accounts["ann1"], first, accounts["ann1"]) == entry.last_message_id - 2
    assert threads.unread_count(db, accounts["ann1"]) == 0
    events = table_counts(db)["events"]
    threads.mark_read(db, accounts["ann1"], first, accounts["ann1"])   # nothing new: no write
    assert table_counts(db)["events"] == events
    # A follow-up question is unread for the lead who took part, with its message only.
    threads.post_question(db, accounts["ann1"], first, "q2")
    assert threads.unread_count(db, accounts["lead"]) == 1
    [lead_entry] = threads.inbox(db, accounts["lead"])
    assert (lead_entry.unread, lead_entry.awaiting_lead, lead_entry.annotator_name) == (1, True, "Ann1")


def test_open_questions_lists_threads_waiting_for_a_lead(db, accounts, project):
    first = claim(db, accounts, "ann1", project)
    second = claim(db, accounts, "ann2", project)
    threads.post_question(db, accounts["ann1"], first, "first asked")
    threads.post_question(db, accounts["ann2"], second, "second asked")
    assert [(e.item_id, e.annotator_id) for e in threads.open_questions(db, project)] == \
        [(first, accounts["ann1"]), (second, accounts["ann2"])]
    threads.post_reply(db, accounts["lead"], first, accounts["ann1"], "answered")
    assert [e.item_id for e in threads.open_questions(db, project)] == [second]
    other = make_project(db, accounts, name="Other")
    assert threads.open_questions(db, other) == []


def test_archived_projects_refuse_messages(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    threads.post_question(db, accounts["ann1"], item, "before archiving")
    projects.set_archived(db, accounts["lead"], project, True)
    before = table_counts(db)
    with pytest.raises(PermissionDenied, match="archived"):
        threads.post_reply(db, accounts["lead"], item, accounts["ann1"], "too late")
    assert table_counts(db) == before
    # Still readable; no longer an open question in the lead's inbox.
    assert len(threads.thread(db, accounts["lead"], item, accounts["ann1"])) == 1
    assert threads.inbox(db, accounts["lead"]) == []
    assert len(threads.inbox(db, accounts["ann1"])) == 1


def test_a_deactivated_lead_cannot_read_or_reply(db, accounts, project):
    item = claim(db, accounts, "ann1", project)
    threads.post_question(db, accounts["ann1"], item, "q")
    second_lead = users.create_user(db, accounts["admin"], "lead2", "Lead Two", PASSWORD, "lead")
    assert len(threads.thread(db, second_lead, item, accounts["ann1"])) == 1
    users.set_active(db, accounts["admin"], second_lead, False)
    with pytest.raises(PermissionDenied):
        threads.thread(db, second_lead, item, accounts["ann1"])
    with pytest.raises(PermissionDenied):
        threads.post_reply(db, second_lead, item, accounts["ann1"], "r")
