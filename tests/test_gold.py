"""Gold items: set and removed by leads only (history kept), served as every n-th item,
scored per person and question, misses listed, imported from gold_* columns; qualification."""
from __future__ import annotations

import json

import pytest

from core.labels import Label
from store import gold, projects, qualification, work
from store.db import PermissionDenied, StoreError
from store.imports import ImportProblem, import_file
from tests.conftest import make_project, table_counts
from tests.helpers import label_rows, write_jsonl

SAFE = Label(True, (), 0)
UNSAFE_S1 = Label(False, ("S1",), 3)


def _items(db, pid) -> list[int]:
    with db.read() as cur:
        return [r[0] for r in cur.execute("SELECT id FROM items WHERE project_id = ? ORDER BY id",
                                          [pid]).fetchall()]


@pytest.fixture
def project(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Gold")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "g.jsonl", label_rows(130)))
    return pid


def test_one_in_twenty_items_is_gold(db, accounts, project):
    ids = _items(db, project)
    gold_ids = set(ids[:10])
    for item_id in gold_ids:
        gold.set_gold(db, accounts["lead"], item_id, UNSAFE_S1, None, "threat of violence")
    served = []
    for n in range(100):
        item = work.claim_next_item(db, accounts["ann1"], project)
        served.append(item.id)
        work.save_annotation(db, accounts["ann1"], item.id, SAFE)
    positions = [n for n, item_id in enumerate(served) if item_id in gold_ids]
    # One gold item in each block of 20, at a position drawn per block (not every 20th).
    assert [p // 20 for p in positions] == [0, 1, 2, 3, 4]
    assert len({p % 20 for p in positions}) > 1
    assert len(set(served)) == 100
    # Gold items are not part of the project's progress.
    assert projects.project_progress(db, project).items == 120
    assert projects.project_progress(db, project).annotations == 95


def test_gold_items_are_not_served_as_ordinary_items(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="OnlyGold")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "o.jsonl", label_rows(3)))
    first, *rest = _items(db, pid)
    projects.update_project_settings(db, accounts["lead"], pid, {"gold_rate": 0})
    gold.set_gold(db, accounts["lead"], first, SAFE, None, "")
    got = []
    while (item := work.claim_next_item(db, accounts["ann1"], pid)) is not None:
        got.append(item.id)
        work.skip_item(db, accounts["ann1"], item.id)     # a skip gives no slot to gold
    assert got == rest
    gold.remove_gold(db, accounts["lead"], first)
    assert work.claim_next_item(db, accounts["ann2"], pid).id in (first, *rest)
    assert gold.gold_answer(db, first) is None
    with db.read() as cur:
        history = cur.execute("SELECT is_safe, removed_at IS NOT NULL FROM gold_answers"
                              " WHERE item_id = ? ORDER BY id", [first]).fetchall()
    assert history == [(True, False), (None, True)]


def test_only_a_lead_sets_gold_and_bad_answers_change_nothing(db, accounts, project):
    item_id = _items(db, project)[0]
    before = table_counts(db)
    with pytest.raises(PermissionDenied):
        gold.set_gold(db, accounts["ann1"], item_id, UNSAFE_S1, None, "")
    with pytest.raises(StoreError, match="unknown categories"):
        gold.set_gold(db, accounts["lead"], item_id, Label(False, ("S99",), 3), None, "")
    with pytest.raises(StoreError, match="hazard category"):
        gold.set_gold(db, accounts["lead"], item_id, Label(False, (), 3), None, "")
    with pytest.raises(PermissionDenied):
        gold.remove_gold(db, accounts["ann1"], item_id)
    assert table_counts(db) == before
    gold_id = gold.set_gold(db, accounts["lead"], item_id, UNSAFE_S1, None, "why")
    answer = gold.gold_answer(db, item_id)
    assert (answer.id, answer.is_safe, answer.categories, answer.set_by) == (
        gold_id, False, ("S1",), accounts["lead"])


def test_accuracy_per_person_and_question_and_misses(db, accounts, project):
    g1, g2 = _items(db, project)[:2]
    gold.set_gold(db, accounts["lead"], g1, UNSAFE_S1, None, "a threat")
    gold.set_gold(db, accounts["lead"], g2, SAFE, None, "")
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    work.save_annotation(db, ann1, g1, Label(False, ("S1", "S2"), 3))
    work.save_annotation(db, ann1, g2, SAFE)
    work.save_annotation(db, ann2, g1, SAFE)
    work.save_annotation(db, ann2, g1, UNSAFE_S1)      # a correction after feedback: not counted
    figures = {(a.user_id, a.question): (a.items, a.correct)
               for a in gold.gold_accuracy(db, project)}
    assert figures[(ann1, "safe")] == (2, 2)
    assert figures[(ann1, "categories")] == (2, 1)
    assert figures[(ann1, "severity")] == (2, 2)
    assert figures[(ann1, "category S1")] == (2, 2)
    assert figures[(ann1, "category S2")] == (2, 1)
    assert figures[(ann1, "answer")] == (2, 1)
    assert figures[(ann2, "safe")] == (1, 0)
    assert figures[(ann2, "severity")] == (1, 0)
    assert figures[(ann2, "category S1")] == (1, 0)
    assert figures[(ann2, "category S2")] == (1, 1)
    mine = gold.gold_accuracy(db, project, user_id=ann2)
    assert {a.user_id for a in mine} == {ann2}
    misses = {(m.user_id, m.item_id): m.missed for m in gold.gold_misses(db, project)}
    assert misses == {(ann1, g1): ("categories",), (ann2, g1): ("safe", "categories")}


def test_compare_gold_checks_the_overall_choice(db, accounts, tmp_path):
    pid = make_project(db, accounts, kind="compare", name="Pairs")
    rows = [{"id": f"c{n}", "prompt": "p", "response_a": f"a{n}", "response_b": f"b{n}"}
            for n in range(3)]
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "c.jsonl", rows))
    g = _items(db, pid)[0]
    with pytest.raises(StoreError, match="overall"):
        gold.set_gold(db, accounts["lead"], g, None, {"overall": "left"}, "")
    gold.set_gold(db, accounts["lead"], g, None, {"overall": "a"}, "A refuses")
    judged = {"left": "a", "harmlessness": 2, "helpfulness": 1, "overall": "a", "rationale": None}
    work.save_annotation(db, accounts["ann1"], g, judgment=judged)
    work.save_annotation(db, accounts["ann2"], g, judgment={**judged, "overall": "b"})
    figures = {(a.user_id, a.question): a.correct for a in gold.gold_accuracy(db, pid)}
    assert figures == {(accounts["ann1"], "overall"): 1, (accounts["ann1"], "answer"): 1,
                       (accounts["ann2"], "overall"): 0, (accounts["ann2"], "answer"): 0}
    assert [m.user_id for m in gold.gold_misses(db, pid)] == [accounts["ann2"]]


def test_gold_columns_at_import(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Imported")
    rows = label_rows(4)
    rows[0].update(gold_is_safe="unsafe", gold_categories="S1, S10", gold_severity=3,
                   gold_explanation="targets a group")
    rows[1].update(gold_is_safe="safe", gold_severity=0, gold_qualification="true")
    before = table_counts(db)
    bad = [dict(r) for r in rows]
    bad[2].update(gold_is_safe="unsafe", gold_categories="S99", gold_severity=3)
    with pytest.raises(ImportProblem) as caught:
        import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "bad.jsonl", bad))
    assert any(p.column == "gold_categories" and p.row == 3 for p in caught.value.problems)
    assert table_counts(db) == before
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "good.jsonl", rows))
    ids = _items(db, pid)
    first, second = gold.gold_answer(db, ids[0]), gold.gold_answer(db, ids[1])
    assert (first.is_safe, first.categories, first.severity, first.explanation, first.set_by) == (
        False, ("S1", "S10"), 3, "targets a group", accounts["lead"])
    assert (second.is_safe, second.qualification) == (True, True)
    assert gold.gold_answer(db, ids[2]) is None
    item = work.get_item(db, ids[0])
    assert not any(k.startswith("gold_") for k in item.metadata), item.metadata
    assert projects.project_progress(db, pid).items == 2


def _qualification_project(db, accounts, tmp_path, threshold=0.5):
    pid = make_project(db, accounts, name="Qualified")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "q.jsonl", label_rows(6)))
    q1, q2, *real = _items(db, pid)
    gold.set_gold(db, accounts["lead"], q1, UNSAFE_S1, None, "threat", qualification=True)
    gold.set_gold(db, accounts["lead"], q2, SAFE, None, "harmless", qualification=True)
    projects.update_project_settings(db, accounts["lead"], pid, {
        "qualification_required": True, "qualification_threshold": threshold, "gold_rate": 0})
    return pid, (q1, q2), real


def _answer_qualification(db, user_id, pid, labels) -> list[int]:
    served = []
    for label in labels:
        item = work.claim_next_item(db, user_id, pid)
        served.append(item.id)
        work.save_annotation(db, user_id, item.id, label)
    return served


def test_qualification_pass_then_real_items(db, accounts, tmp_path):
    pid, quals, real = _qualification_project(db, accounts, tmp_path)
    ann1 = accounts["ann1"]
    assert qualification.qualification_status(db, pid, ann1).state == "in_progress"
    assert _answer_qualification(db, ann1, pid, [UNSAFE_S1, UNSAFE_S1]) == list(quals)
    assert work.claim_next_item(db, ann1, pid).id in real
    status = qualification.qualification_status(db, pid, ann1)
    assert status.state == "passed"
    assert [(a.attempt, a.score, a.passed, a.items) for a in status.attempts] == [(1, 0.5, True, 2)]


def test_qualification_fail_retake_and_waive(db, accounts, tmp_path):
    pid, quals, real = _qualification_project(db, accounts, tmp_path, threshold=0.8)
    ann2, ann3, lead = accounts["ann2"], accounts["ann3"], accounts["lead"]
    _answer_qualification(db, ann2, pid, [SAFE, SAFE])
    assert work.claim_next_item(db, ann2, pid) is None
    status = qualification.qualification_status(db, pid, ann2)
    assert status.state == "failed" and status.attempts[-1].score == 0.5
    assert work.claim_next_item(db, ann2, pid) is None
    before = table_counts(db)
    with pytest.raises(PermissionDenied):
        qualification.allow_retake(db, ann2, pid, ann2, "let me")
    with pytest.raises(StoreError, match="reason"):
        qualification.allow_retake(db, lead, pid, ann2, "  ")
    assert table_counts(db) == before
    qualification.allow_retake(db, lead, pid, ann2, "read the guidelines again")
    assert _answer_qualification(db, ann2, pid, [UNSAFE_S1, SAFE]) == list(quals)
    assert work.claim_next_item(db, ann2, pid).id in real
    status = qualification.qualification_status(db, pid, ann2)
    assert [(a.attempt, a.passed) for a in status.attempts] == [(1, False), (2, True)]
    with db.read() as cur:   # the second answers are new versions; the first ones are kept
        versions = cur.execute("SELECT version FROM annotations WHERE user_id = ? AND item_id = ?",
                               [ann2, quals[1]]).fetchall()
    assert sorted(versions) == [(1,), (2,)]
    # Waived: real items straight away, the decision kept with its reason.
    assert work.claim_next_item(db, ann3, pid).id in quals
    qualification.waive_qualification(db, lead, pid, ann3, "ran the pilot's training")
    assert qualification.qualification_status(db, pid, ann3).state == "waived"
    with db.read() as cur:
        assert cur.execute("SELECT decision, reason FROM qualification_decisions WHERE user_id = ?",
                           [ann3]).fetchall() == [("waive", "ran the pilot's training")]
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'qualification_waive'"
                           ).fetchone()[0] == 1
    # The held qualification claim comes back first (a reload), then real items.
    held = work.claim_next_item(db, ann3, pid)
    work.save_annotation(db, ann3, held.id, SAFE)
    assert work.claim_next_item(db, ann3, pid).id in real
    # Qualification items are not part of the project's progress.
    assert projects.project_progress(db, pid).items == len(real)
    assert json.loads(json.dumps(status.attempts[0].score)) == 0.5


def test_gold_items_are_left_out_of_agreed_answers(db, accounts, project, tmp_path):
    from store.exports import export
    g, ordinary = _items(db, project)[:2]
    gold.set_gold(db, accounts["lead"], g, UNSAFE_S1, None, "")
    for item_id in (g, ordinary):
        work.save_annotation(db, accounts["ann1"], item_id, SAFE)
    out = tmp_path / "items.jsonl"
    assert export(db, accounts["lead"], project, "items", out) == 1
    assert [json.loads(line)["item_id"] for line in out.read_text().splitlines()] == [ordinary]
    assert export(db, accounts["lead"], project, "annotations", tmp_path / "all.jsonl") == 2


def test_a_skipped_qualification_item_comes_back_after_the_others(db, accounts, tmp_path):
    pid, quals, real = _qualification_project(db, accounts, tmp_path)
    ann1 = accounts["ann1"]
    first = work.claim_next_item(db, ann1, pid)
    assert first.id == quals[0]
    work.skip_item(db, ann1, first.id)
    assert _answer_qualification(db, ann1, pid, [SAFE, UNSAFE_S1]) == [quals[1], quals[0]]
    assert qualification.qualification_status(db, pid, ann1).state == "in_progress"
    assert work.claim_next_item(db, ann1, pid).id in real     # the attempt is scored here
    assert qualification.qualification_status(db, pid, ann1).state == "passed"


def test_skipping_a_gold_item_does_not_bring_another_one(db, accounts, project):
    ids = _items(db, project)
    gold_ids = set(ids[:10])
    for item_id in gold_ids:
        gold.set_gold(db, accounts["lead"], item_id, UNSAFE_S1, None, "")
    kinds = []
    for _ in range(60):
        item = work.claim_next_item(db, accounts["ann1"], project)
        kinds.append(item.id in gold_ids)
        if item.id in gold_ids:
            work.skip_item(db, accounts["ann1"], item.id)     # never penalised, never gamed
        else:
            work.save_annotation(db, accounts["ann1"], item.id, SAFE)
    assert kinds.count(True) == 3                 # one per block of 20, skipped or not
    assert not any(a and b for a, b in zip(kinds, kinds[1:]))


def test_a_qualification_is_scored_on_first_answers_not_corrections(db, accounts, tmp_path):
    """A correction after the item (the page's Previous, or My items) must not turn a wrong
    answer into a pass."""
    pid = make_project(db, accounts, name="Q")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "q.jsonl", label_rows(14)))
    quals = _items(db, pid)[:10]
    for item_id in quals:
        gold.set_gold(db, accounts["lead"], item_id, UNSAFE_S1, None, "threat", qualification=True)
    projects.update_project_settings(db, accounts["lead"], pid, {
        "qualification_required": True, "qualification_threshold": 0.8, "gold_rate": 0})
    ann = accounts["ann1"]
    item = work.claim_next_item(db, ann, pid)
    for n in range(10):
        assert item.id in quals
        # The first eight wrong, then corrected; the last two right at once.
        _, following = work.save_and_claim_next(db, ann, item.id, SAFE if n < 8 else UNSAFE_S1)
        if n < 8:
            work.save_annotation(db, ann, item.id, UNSAFE_S1, correction=True)
        item = following
    status = qualification.qualification_status(db, pid, ann)
    assert status.state == "failed"
    assert [(a.score, a.passed) for a in status.attempts] == [(0.2, False)]


def test_qualification_decisions_are_refused_on_an_archived_project(db, accounts, tmp_path):
    from store.db import StoreError
    from tests.conftest import table_counts
    pid = make_project(db, accounts, name="Q")
    projects.update_project_settings(db, accounts["lead"], pid, {"qualification_required": True})
    projects.set_archived(db, accounts["lead"], pid, True)
    before = table_counts(db)
    with pytest.raises(StoreError, match="archived"):
        qualification.waive_qualification(db, accounts["lead"], pid, accounts["ann1"], "ok")
    assert table_counts(db) == before
    projects.set_archived(db, accounts["lead"], pid, False)          # positive control
    qualification.waive_qualification(db, accounts["lead"], pid, accounts["ann1"], "ok")
    assert qualification.qualification_status(db, pid, accounts["ann1"]).state == "waived"
