"""Review queues, adjudication and item history, at the store level."""
from __future__ import annotations

import pytest

from core.labels import Label
from core.limits import MAX_NOTE_CHARS
from store import history, projects, work
from store.adjudication import adjudicate, current_adjudication
from store.db import PermissionDenied, StoreError
from store.events import record_event
from store.imports import import_file
from store.review import REVIEW_QUEUES, disagreements, flags, item_answers, queue_takes
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl

SAFE = Label(True, (), 0)
UNSAFE = Label(False, ("S1",), 3)


def items_of(db, accounts, tmp_path, kind="label", n=4, name="P") -> tuple[int, list[int]]:
    pid = make_project(db, accounts, kind=kind, overlap=3, name=name)
    rows = ([{"id": f"e{i}", "prompt": f"p{i}", "response": f"r{i}"} for i in range(n)]
            if kind == "label" else
            [{"id": f"e{i}", "prompt": f"p{i}", "response_a": "a", "response_b": "b"}
             for i in range(n)])
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", rows))
    with db.read() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM items WHERE project_id = ? ORDER BY id",
                                         [pid]).fetchall()]
    return pid, ids


def vote(db, accounts, item_id, **labels):
    for user, label in labels.items():
        work.save_annotation(db, accounts[user], item_id, label)


def listed(rows) -> list[str]:
    return [r.external_id for r in rows]


def test_disagreements_any_and_below_a_threshold(db, accounts, tmp_path):
    pid, (split, two_thirds, unanimous, single) = items_of(db, accounts, tmp_path)
    vote(db, accounts, split, ann1=SAFE, ann2=UNSAFE)
    vote(db, accounts, two_thirds, ann1=SAFE, ann2=SAFE, ann3=Label(True, (), 1))
    vote(db, accounts, unanimous, ann1=UNSAFE, ann2=UNSAFE)
    vote(db, accounts, single, ann1=SAFE)
    rows = disagreements(db, pid)
    assert listed(rows) == ["e0", "e1"]          # least agreement first
    first, second = rows
    assert first.counts == {"votes": 2, "majority": 1, "answers": 2}
    assert "differ on safe/unsafe, categories, severity" in first.summary
    assert second.counts == {"votes": 3, "majority": 2, "answers": 2}
    assert "differ on severity" in second.summary and "safe/unsafe" not in second.summary
    assert listed(disagreements(db, pid, threshold=0.7)) == ["e0", "e1"]   # 67% < 70%
    assert listed(disagreements(db, pid, threshold=0.6)) == ["e0"]         # 67% is not < 60%
    # Compared on safe/unsafe only, a severity difference is no disagreement.
    assert listed(disagreements(db, pid, questions=("safe/unsafe",))) == ["e0"]
    assert listed(disagreements(db, pid, limit=1)) == ["e0"]


def test_a_correction_counts_as_the_current_vote(db, accounts, tmp_path):
    pid, (item, *_) = items_of(db, accounts, tmp_path)
    vote(db, accounts, item, ann1=SAFE, ann2=UNSAFE)
    assert listed(disagreements(db, pid)) == ["e0"]
    work.save_annotation(db, accounts["ann1"], item, UNSAFE)      # version 2 agrees
    assert disagreements(db, pid) == []


def test_compare_projects_disagree_on_the_overall_choice_and_the_axes(db, accounts, tmp_path):
    pid, (overall, axis, same) = items_of(db, accounts, tmp_path, "compare", 3, "C")

    def judge(item, user, overall_choice, harm):
        work.save_annotation(db, accounts[user], item, judgment={
            "left": "a", "harmlessness": harm, "helpfulness": 0, "overall": overall_choice})
    judge(overall, "ann1", "a", 1)
    judge(overall, "ann2", "b", 1)
    judge(axis, "ann1", "a", 1)
    judge(axis, "ann2", "a", 2)
    judge(same, "ann1", "tie", 0)
    judge(same, "ann2", "tie", 0)
    rows = {r.external_id: r for r in disagreements(db, pid)}
    assert set(rows) == {"e0", "e1"}
    assert rows["e0"].summary.endswith("differ on overall")
    assert rows["e1"].summary.endswith("differ on harmlessness")
    assert listed(disagreements(db, pid, questions=("overall",))) == ["e0"]


def test_adjudicated_items_leave_the_queues_until_new_work_arrives(db, accounts, tmp_path):
    pid, (item, other, flagged, *_) = items_of(db, accounts, tmp_path)
    vote(db, accounts, item, ann1=SAFE, ann2=UNSAFE)
    vote(db, accounts, other, ann1=SAFE, ann2=UNSAFE)
    work.flag_item(db, accounts["ann3"], flagged, "is this even English?")
    adjudicate(db, accounts["lead"], item, UNSAFE, None, "annotator error", "")
    adjudicate(db, accounts["lead"], flagged, SAFE, None, "ambiguous item", "")
    assert listed(disagreements(db, pid)) == ["e1"]       # positive control: e1 still there
    assert flags(db, pid) == []
    work.save_annotation(db, accounts["ann1"], item, Label(True, (), 1))   # a later correction
    reopened = {r.external_id: r for r in disagreements(db, pid)}
    assert set(reopened) == {"e0", "e1"} and "re-opened" in reopened["e0"].summary
    work.flag_item(db, accounts["ann2"], flagged, "still odd")
    (row,) = flags(db, pid)
    assert row.summary == '1 flag: "still odd"'      # only the flag after the decision


def test_flags_queue_lists_reasons_newest_first(db, accounts, tmp_path):
    pid, (a, b, *_) = items_of(db, accounts, tmp_path)
    work.flag_item(db, accounts["ann1"], a, "first **reason**")
    work.flag_item(db, accounts["ann2"], a, "second reason")
    work.flag_item(db, accounts["ann1"], b, "other item")
    rows = flags(db, pid)
    assert listed(rows) == ["e1", "e0"]
    assert rows[1].summary == '2 flags: "second reason" · "first **reason**"'
    assert rows[1].counts == {"flags": 2, "people": 2}
    assert set(REVIEW_QUEUES) >= {"disagreements", "flags"}
    assert queue_takes("disagreements", "threshold") and not queue_takes("flags", "threshold")


def test_item_answers_show_each_persons_current_answer_with_their_name(db, accounts, tmp_path):
    pid, (item, *_) = items_of(db, accounts, tmp_path)
    vote(db, accounts, item, ann1=SAFE, ann2=UNSAFE)
    work.save_annotation(db, accounts["ann1"], item, Label(True, (), 1, note="on reflection"))
    answers = item_answers(db, item)
    assert [(a.username, a.name, a.version, a.severity, a.note) for a in answers] == [
        ("ann1", "Ann1", 2, 1, "on reflection"), ("ann2", "Ann2", 1, 3, None)]


def test_a_lead_adjudicates_and_the_latest_wins(db, accounts, tmp_path):
    pid, (item, *_) = items_of(db, accounts, tmp_path)
    assert current_adjudication(db, item) is None
    first = adjudicate(db, accounts["lead"], item, UNSAFE, None, "guideline gap", " see S1 ")
    second = adjudicate(db, accounts["admin"], item, Label(False, ("S2", "S1"), 2), None, "other", "")
    decided = current_adjudication(db, item)
    assert decided.id == second != first
    assert (decided.lead, decided.is_safe, decided.categories, decided.severity, decided.reason,
            decided.note) == ("admin", False, ["S2", "S1"], 2, "other", None)
    with db.read() as cur:
        events = cur.execute("SELECT user_id, item_id, details->>'reason' FROM events"
                             " WHERE kind = 'adjudicate' ORDER BY id").fetchall()
        assert cur.execute("SELECT count(*) FROM adjudications").fetchone()[0] == 2
    assert events == [(accounts["lead"], item, "guideline gap"), (accounts["admin"], item, "other")]


def test_compare_adjudication_keeps_the_overall_choice_and_the_axes(db, accounts, tmp_path):
    pid, (item, *_) = items_of(db, accounts, tmp_path, "compare", 1, "C")
    adjudicate(db, accounts["lead"], item, None,
               {"overall": "b", "harmlessness": -2, "helpfulness": 1, "left": "b"}, "other", "")
    assert current_adjudication(db, item).judgment == {"overall": "b", "harmlessness": -2,
                                                       "helpfulness": 1}


@pytest.mark.parametrize("actor, label, judgment, reason, note, message", [
    ("ann1", UNSAFE, None, "other", "", "needs the lead role"),
    ("lead", UNSAFE, None, "because I said so", "", "choose a reason"),
    ("lead", UNSAFE, None, "", "", "choose a reason"),
    ("lead", Label(False, (), 3), None, "other", "", "at least one hazard category"),
    ("lead", Label(False, ("S99",), 3), None, "other", "", "unknown categories: S99"),
    ("lead", Label(None, (), 0), None, "other", "", "choose safe or unsafe"),
    ("lead", UNSAFE, None, "other", "x" * (MAX_NOTE_CHARS + 1), "the note is"),
    ("lead", None, None, "other", "", "needs safe/unsafe"),
    ("lead", UNSAFE, {"overall": "a", "harmlessness": 0, "helpfulness": 0}, "other", "",
     "no preference judgment"),
])
def test_a_bad_adjudication_is_refused_and_changes_nothing(db, accounts, tmp_path, actor, label,
                                                           judgment, reason, note, message):
    pid, (item, *_) = items_of(db, accounts, tmp_path)
    before = table_counts(db)
    with pytest.raises(StoreError, match=message) as refused:
        adjudicate(db, accounts[actor], item, label, judgment, reason, note)
    assert isinstance(refused.value, PermissionDenied) == (actor == "ann1")
    assert table_counts(db) == before
    adjudicate(db, accounts["lead"], item, UNSAFE, None, "other", "")      # positive control
    assert table_counts(db)["adjudications"] == before["adjudications"] + 1


@pytest.mark.parametrize("judgment, message", [
    ({"overall": "c", "harmlessness": 0, "helpfulness": 0}, "overall"),
    ({"overall": "a", "harmlessness": 4, "helpfulness": 0}, "harmlessness"),
    ({"overall": "a", "harmlessness": 0, "helpfulness": "1"}, "helpfulness"),
    ({"overall": "a", "harmlessness": True, "helpfulness": 0}, "harmlessness"),
    (None, "needs the overall choice"),
])
def test_a_bad_compare_adjudication_is_refused(db, accounts, tmp_path, judgment, message):
    pid, (item, *_) = items_of(db, accounts, tmp_path, "compare", 1, "C")
    before = table_counts(db)
    with pytest.raises(StoreError, match=message):
        adjudicate(db, accounts["lead"], item, None, judgment, "other", "")
    assert table_counts(db) == before


def test_an_archived_project_takes_no_adjudication(db, accounts, tmp_path):
    pid, (item, *_) = items_of(db, accounts, tmp_path)
    projects.set_archived(db, accounts["lead"], pid, True)
    before = table_counts(db)
    with pytest.raises(StoreError, match="archived"):
        adjudicate(db, accounts["lead"], item, UNSAFE, None, "other", "")
    assert table_counts(db) == before


def test_item_history_in_time_order_with_values(db, accounts, tmp_path):
    pid, (item,) = items_of(db, accounts, tmp_path, n=1)
    _, (other,) = items_of(db, accounts, tmp_path, n=1, name="Q")
    claimed = work.claim_next_item(db, accounts["ann1"], pid)
    assert claimed.id == item
    record_event(db, "reveal", accounts["ann1"], pid, item, {"what": "terms", "terms": 2})
    work.save_annotation(db, accounts["ann1"], item, Label(False, ("S1", "S10"), 3, note="nasty"))
    work.save_annotation(db, accounts["ann1"], item, Label(True, (), 0))
    assert work.claim_next_item(db, accounts["ann2"], pid).id == item
    work.skip_item(db, accounts["ann2"], item, "not today")
    work.flag_item(db, accounts["ann3"], item, "odd <b>text</b>")
    adjudicate(db, accounts["lead"], item, UNSAFE, None, "guideline gap", "S1 it is")
    entries = history.item_history(db, item)
    assert [(e.who, e.what) for e in entries] == [
        ("lead", "imported"), ("ann1", "claimed"), ("ann1", "revealed"), ("ann1", "answered"),
        ("ann1", "corrected (version 2)"), ("ann2", "claimed"), ("ann2", "skipped"),
        ("ann3", "flagged"), ("lead", "adjudicated")]
    assert [e.when for e in entries] == sorted(e.when for e in entries)
    details = [e.details for e in entries]
    assert details[0] == "as 'e0' from P.jsonl (import #1, 1 item added)"
    assert details[2] == "masked words, 2 terms"
    assert details[3] == "unsafe · S1, S10 · severity 3 · note: nasty"
    assert details[4] == "safe · severity 0"
    assert details[6] == "reason: not today"
    assert details[7] == "reason: odd <b>text</b>"
    assert details[8] == "unsafe · S1 · severity 3 · reason: guideline gap · note: S1 it is"
    # Another item's history holds none of this (positive control above).
    assert [e.what for e in history.item_history(db, other)] == ["imported"]


def test_a_compare_item_history_shows_the_judgment(db, accounts, tmp_path):
    pid, (item,) = items_of(db, accounts, tmp_path, "compare", 1, "C")
    work.save_annotation(db, accounts["ann1"], item, judgment={
        "left": "b", "harmlessness": 2, "helpfulness": -1, "overall": "a", "rationale": "why"})
    (_, answered) = history.item_history(db, item)
    assert answered.details == "overall a · harmlessness +2 · helpfulness -1 · rationale: why"


def test_a_history_source_can_be_added(db, accounts, tmp_path, monkeypatch):
    pid, (item, *_) = items_of(db, accounts, tmp_path)
    when = history.item_history(db, item)[0].when

    def threads(cur, item_id):
        return [history.HistoryEntry(when, "ann1", "asked", "what is S1?")]
    monkeypatch.setattr(history, "HISTORY_SOURCES", history.HISTORY_SOURCES + [threads])
    assert [e.what for e in history.item_history(db, item)] == ["imported", "asked"]


def test_history_includes_the_thread_and_gold_answers_once_each(db, accounts, tmp_path):
    from store import gold, threads

    pid, (item, *_) = items_of(db, accounts, tmp_path)
    assert work.claim_next_item(db, accounts["ann1"], pid).id == item
    threads.post_question(db, accounts["ann1"], item, "is sarcasm <b>harassment</b>?")
    threads.mark_read(db, accounts["lead"], item, accounts["ann1"])
    threads.post_reply(db, accounts["lead"], item, accounts["ann1"], "only when targeted")
    gold.set_gold(db, accounts["lead"], item, UNSAFE, None, "a threat")
    gold.remove_gold(db, accounts["lead"], item)
    entries = [(e.who, e.what, e.details) for e in history.item_history(db, item)]
    assert entries[-4:] == [
        ("ann1", "asked", "thread with ann1: is sarcasm <b>harassment</b>?"),
        ("lead", "replied", "thread with ann1: only when targeted"),
        ("lead", "gold answer set", "unsafe · S1 · severity 3 · explanation: a threat"),
        ("lead", "gold removed", "")]
    # Their audit events are not listed a second time, nor who read the thread.
    whats = [what for _, what, _ in entries]
    assert not {"thread message", "thread read", "gold set"} & set(whats)
    assert ("ann1", "claimed") in [(who, what) for who, what, _ in entries]   # events still come


def test_the_asked_about_queue_lists_open_questions_until_a_lead_replies(db, accounts, tmp_path):
    from store import threads

    pid, (item, other, *_) = items_of(db, accounts, tmp_path)
    assert work.claim_next_item(db, accounts["ann1"], pid).id == item
    threads.post_question(db, accounts["ann1"], item, "which category?")
    rows = REVIEW_QUEUES["asked about"](db, pid)
    assert [(r.item_id, r.summary) for r in rows] == [(item, "Ann1 wrote: which category?")]
    threads.post_reply(db, accounts["lead"], item, accounts["ann1"], "S10")
    assert REVIEW_QUEUES["asked about"](db, pid) == []
