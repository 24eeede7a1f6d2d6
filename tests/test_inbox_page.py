"""Threads through the pages (AppTest): ask from the Label page, answer from the Inbox, see it."""
from __future__ import annotations

import pytest

from core.labels import Label
from store import projects, threads, work
from store.imports import import_file
from tests.helpers import as_user, shown, write_jsonl

ROWS = [{"id": f"t{n}", "prompt": f"thread prompt {n}", "response": f"thread response {n}"}
        for n in range(3)]
QUESTION = "Is **satire** in scope? [see](http://evil)"
ANSWER = "Yes: satire counts as S1 when it targets a group."


@pytest.fixture
def project(app_db, team, tmp_path) -> int:
    pid = projects.create_project(app_db, team["lead"], "Threads", "label", "Guide", None, 2,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "t.jsonl", ROWS))
    return pid


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def sidebar_texts(at) -> list[str]:
    return [t.value for t in at.sidebar.text]


def claimed_item(app_db, user_id: int) -> int:
    with app_db.read() as cur:
        return cur.execute("SELECT item_id FROM claims WHERE user_id = ?", [user_id]).fetchone()[0]


def open_inbox(app_db, username: str, params: dict[str, str] | None = None):
    at = as_user(app_db, username)
    at.switch_page("app_pages/inbox.py")
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def ask_from_label_page(app_db, username: str, user_id: int, body: str) -> int:
    at = as_user(app_db, username).run()
    item = claimed_item(app_db, user_id)
    at.text_area(key=f"ask_body_{item}").input(body)
    at = at.button(key=f"ask_send_{item}").click().run()
    assert not at.exception
    assert any("Their reply will be in your Inbox" in s.value for s in at.success)
    return item


def test_inbox_shows_a_leads_reply_to_a_question_asked_on_the_label_page(app_db, team, project):
    item = ask_from_label_page(app_db, "ann", team["ann"], QUESTION)

    # The lead sees the open question, opens it and replies from the inbox.
    lead = open_inbox(app_db, "lead")
    assert "Inbox: 1 unread" in sidebar_texts(lead)
    assert "Ann: " + QUESTION in texts(lead)
    lead = lead.button(key=f"inbox_open_{item}_{team['ann']}").click().run()
    assert "Inbox: 1 unread" not in sidebar_texts(lead)       # opening read it
    assert QUESTION in texts(lead) and "thread prompt 0" in " ".join(texts(lead))
    lead.text_area(key=f"thread_body_{item}_{team['ann']}").input(ANSWER)
    lead = lead.button(key=f"thread_send_{item}_{team['ann']}").click().run()
    assert not lead.exception and not lead.error
    assert ANSWER in texts(lead)

    # The annotator: an unread count in the sidebar, a marked entry, the answer once opened.
    ann = open_inbox(app_db, "ann")
    assert "Inbox: 1 unread" in sidebar_texts(ann)
    entry = texts(ann)
    assert "● t0 · Threads" in entry
    assert "Lead: " + ANSWER in entry
    assert any("1 unread" in t for t in entry)
    ann = ann.button(key=f"inbox_open_{item}_{team['ann']}").click().run()
    assert ANSWER in texts(ann) and QUESTION in texts(ann)
    assert any(t.startswith("Lead (lead) · replied") and t.endswith("· new") for t in texts(ann))
    assert not [t for t in sidebar_texts(ann) if t.startswith("Inbox:")]
    # The question was shown as typed, never as Markdown.
    assert not any("satire" in m.value for m in ann.markdown)


def test_an_annotator_cannot_open_another_persons_thread_by_address(app_db, team, project):
    item = ask_from_label_page(app_db, "ann", team["ann"], QUESTION)
    threads.post_reply(app_db, team["lead"], item, team["ann"], ANSWER)
    # ann2 worked on the same item too, so only the thread's owner makes the difference.
    work.save_annotation(app_db, team["ann2"], item, Label(is_safe=True, severity=0))
    params = {"item": str(item), "with": str(team["ann"])}
    other = open_inbox(app_db, "ann2", params)
    assert any("You cannot open this thread" in e.value for e in other.error)
    body = " ".join(texts(other))
    assert QUESTION not in body and ANSWER not in body and "thread prompt 0" not in body
    assert not [b for b in other.button if b.key and b.key.startswith("thread_send_")]
    # Nor by session state: the inbox list of ann2 does not list it.
    assert not [b for b in open_inbox(app_db, "ann2").button
                if b.key and b.key.startswith("inbox_open_")]
    # Positive control: the same address opens it for its annotator.
    own = open_inbox(app_db, "ann", params)
    assert not own.error
    assert QUESTION in texts(own) and ANSWER in texts(own)


def test_an_empty_question_is_refused_with_a_message(app_db, team, project):
    at = as_user(app_db, "ann").run()
    item = claimed_item(app_db, team["ann"])
    at.text_area(key=f"ask_body_{item}").input("   ")
    at = at.button(key=f"ask_send_{item}").click().run()
    assert any("Not sent: write a message first" in shown(e.value) for e in at.error)
    with app_db.read() as cur:
        assert cur.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
