"""Dashboard quality aggregates (store/quality.py): the SQL alpha per question equals the
`krippendorff` library's on the same current answers, disagreement rates count what they say,
and weeks and ranges select items by their latest answer."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from core.agreement import krippendorff_alpha
from core.labels import Label
from store import projects
from store.agreement_data import agreement_questions
from store.dashboard import DashboardFilter, last_days
from store.db import utcnow
from store.quality import agreement_by_question, agreement_by_week
from store.imports import import_file
from store.work import claim_next_item, save_annotation
from tests.conftest import make_project
from tests.helpers import write_jsonl

ANNOTATORS = ("ann1", "ann2", "ann3")


def _label_everything(db, accounts, project_id: int, answer, now=None) -> int:
    """Each annotator claims and answers until the queue is empty; `answer(user, item)` gives
    the Label. Returns the number of annotations."""
    count = 0
    for name in ANNOTATORS:
        while (item := claim_next_item(db, accounts[name], project_id, now=now)) is not None:
            save_annotation(db, accounts[name], item.id, answer(name, item), now=now)
            count += 1
    return count


def _seed_items(db, accounts, project_id: int, n: int) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        rows = [{"id": f"q-{k}", "prompt": f"p {k}", "response": f"r {k}"} for k in range(n)]
        import_file(db, accounts["lead"], project_id,
                    write_jsonl(Path(folder) / f"items-{project_id}.jsonl", rows))


@pytest.fixture
def label_project(db, accounts):
    pid = make_project(db, accounts, overlap=3)
    _seed_items(db, accounts, pid, 24)
    return pid


def test_sql_alpha_matches_the_library_per_question(db, accounts, label_project):
    rng = random.Random(7)
    codes = ["S1", "S2", "S10"]

    def answer(name, item):
        if rng.random() < 0.1:
            return Label(is_safe=None)            # undecided: answers no question
        unsafe = rng.random() < 0.5 or item.id % 3 == 0
        cats = tuple(c for c in codes if rng.random() < 0.4) or ("S1",) if unsafe else ()
        return Label(is_safe=not unsafe, categories=cats, severity=2 if unsafe else 0)

    _label_everything(db, accounts, label_project, answer)
    # A correction replaces the person's answer: the old version must not count.
    item = claim_next_item(db, accounts["ann1"], label_project)
    assert item is None
    with db.read() as cur:
        corrected = cur.execute("SELECT min(item_id) FROM annotations").fetchone()[0]
    save_annotation(db, accounts["ann1"], corrected, Label(is_safe=True))

    table = agreement_by_question(db, last_days(1))
    project = projects.get_project(db, label_project)
    expected = {}
    for q in agreement_questions(db, project):
        if q.level == "nominal":
            expected[q.name] = krippendorff_alpha(q.ratings, q.level)
    got = {row.question: row for row in table.itertuples()}
    compared = 0
    for name, library in expected.items():
        if library.units == 0:
            assert name not in got
            continue
        row = got[name]
        assert row.items == library.units, name
        if library.value is None:
            assert row.alpha != row.alpha or row.alpha is None, name   # NaN/None: no variation
        else:
            assert row.alpha == pytest.approx(library.value, abs=1e-9), name
            compared += 1
    # Positive control: the random answers gave real figures for several questions.
    assert compared >= 3
    assert "severity" not in got          # ordinal questions are the CLI's


def test_disagreement_rate_counts_items_with_any_difference(db, accounts):
    pid = make_project(db, accounts, overlap=2, members=("ann1", "ann2"))
    _seed_items(db, accounts, pid, 4)
    # Item order is the queue's: map by external id.
    verdicts = {"ann1": {"q-0": True, "q-1": True, "q-2": False, "q-3": False},
                "ann2": {"q-0": True, "q-1": False, "q-2": False, "q-3": True}}
    for name in ("ann1", "ann2"):
        while (item := claim_next_item(db, accounts[name], pid)) is not None:
            save_annotation(db, accounts[name], item.id,
                            Label(is_safe=verdicts[name][item.external_id],
                                  categories=() if verdicts[name][item.external_id] else ("S1",),
                                  severity=0 if verdicts[name][item.external_id] else 2))
    row = agreement_by_question(db, last_days(1)).set_index("question").loc["safe/unsafe"]
    assert row["items"] == 4
    assert row["disagreements"] == 2
    assert row["disagreement_rate"] == pytest.approx(0.5)
    # Two raters, 4 items, 2 agreeing: alpha from the library on the same matrix.
    matrix = [[verdicts["ann1"][f"q-{k}"], verdicts["ann2"][f"q-{k}"]] for k in range(4)]
    assert row["alpha"] == pytest.approx(krippendorff_alpha(matrix).value)


def test_items_count_in_the_week_of_their_last_answer(db, accounts):
    pid = make_project(db, accounts, overlap=2, members=("ann1", "ann2"))
    _seed_items(db, accounts, pid, 2)
    now = utcnow()
    old = now - timedelta(days=21)
    # Both items answered three weeks ago by ann1; ann2 answers one then and one now.
    for _ in range(2):
        item = claim_next_item(db, accounts["ann1"], pid, now=old)
        save_annotation(db, accounts["ann1"], item.id, Label(is_safe=True), now=old)
    item = claim_next_item(db, accounts["ann2"], pid, now=old)
    save_annotation(db, accounts["ann2"], item.id, Label(is_safe=True), now=old)
    item = claim_next_item(db, accounts["ann2"], pid, now=now)
    save_annotation(db, accounts["ann2"], item.id, Label(is_safe=False, categories=("S1",),
                                                           severity=1), now=now)
    whole = DashboardFilter(old.date(), now.date())
    weeks = agreement_by_week(db, whole)
    safe = weeks[weeks["question"] == "safe/unsafe"]
    assert len(safe) == 2
    assert safe["items"].tolist() == [1, 1]
    assert safe["disagreements"].tolist() == [0, 1]
    # The last two weeks hold only the item finished now.
    recent = agreement_by_question(db, last_days(14))
    assert recent.set_index("question").loc["safe/unsafe", "items"] == 1


def test_overall_choice_alpha_matches_the_library(db, accounts):
    pid = make_project(db, accounts, kind="compare", overlap=3)
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as folder:
        rows = [{"id": f"c-{k}", "prompt": f"p {k}", "response_a": "a", "response_b": "b"}
                for k in range(15)]
        import_file(db, accounts["lead"], pid, write_jsonl(Path(folder) / "pairs.jsonl", rows))
    rng = random.Random(3)
    for name in ANNOTATORS:
        while (item := claim_next_item(db, accounts[name], pid)) is not None:
            overall = rng.choice(["a", "a", "b", "tie"])
            save_annotation(db, accounts[name], item.id, judgment={
                "overall": overall, "harmlessness": 0, "helpfulness": 0, "left": "a",
                "rationale": "because"})
    project = projects.get_project(db, pid)
    library = next(q for q in agreement_questions(db, project) if q.name == "overall")
    expected = krippendorff_alpha(library.ratings, "nominal")
    row = agreement_by_question(db, last_days(1)).set_index("question").loc["overall"]
    assert row["items"] == expected.units == 15
    assert expected.value is not None
    assert row["alpha"] == pytest.approx(expected.value, abs=1e-9)
