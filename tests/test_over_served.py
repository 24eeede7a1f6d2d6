"""Late work after a claim expired: kept, counted honestly (over-served in exports and on the
dashboard), and avoided where possible (an expired claim goes back to its holder first)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.labels import Label
from store import dashboard as dash
from store import work
from store.exports import export
from store.imports import import_file
from store.users import create_user
from tests.conftest import PASSWORD, make_project
from tests.helpers import label_rows, write_jsonl

SAFE = Label(True, (), 0)


def events(db, kind: str) -> list[tuple[int, int, dict]]:
    with db.read() as cur:
        return [(user, item, json.loads(details) if details else {}) for user, item, details in
                cur.execute("SELECT user_id, item_id, details FROM events WHERE kind = ? ORDER BY id",
                            [kind]).fetchall()]


def late_overlap_two(db, accounts, tmp_path) -> tuple[int, int]:
    """The finding's case: an overlap-2 item claimed by ann1 and ann2, whose claims lapse; ann3
    and ann4 take it over and submit; then ann1 and ann2 submit late. Returns (project, item)."""
    if "ann4" not in accounts:
        accounts["ann4"] = create_user(db, accounts["admin"], "ann4", "Ann4", PASSWORD, "annotator")
    pid = make_project(db, accounts, overlap=2, name="Late",
                       members=("ann1", "ann2", "ann3", "ann4"))
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "one.jsonl", label_rows(1)))
    start = work.utcnow() - timedelta(hours=3)
    first = work.claim_next_item(db, accounts["ann1"], pid, now=start)
    assert work.claim_next_item(db, accounts["ann2"], pid, now=start).id == first.id
    later = start + timedelta(hours=1)              # both claims lapsed (30 minutes)
    for name in ("ann3", "ann4"):
        taken = work.claim_next_item(db, accounts[name], pid, now=later)
        assert taken is not None and taken.id == first.id
        work.save_annotation(db, accounts[name], first.id, SAFE, now=later)
    for name in ("ann1", "ann2"):                   # the late submits
        work.save_annotation(db, accounts[name], first.id, SAFE, now=later + timedelta(minutes=5))
    return pid, first.id


@pytest.fixture
def project_of_five(db, accounts, tmp_path) -> int:
    pid = make_project(db, accounts, overlap=1, name="Five", members=("ann1", "ann2"))
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "five.jsonl", label_rows(5)))
    return pid


def test_late_work_is_kept_and_marked_over_served_in_exports(db, accounts, tmp_path):
    pid, item_id = late_overlap_two(db, accounts, tmp_path)
    history = work.annotation_history(db, item_id)
    assert sorted(a.user_id for a in history) == sorted(
        accounts[n] for n in ("ann1", "ann2", "ann3", "ann4"))      # nothing dropped
    late = [user for user, _, details in events(db, "submit") if details.get("late")]
    assert sorted(late) == sorted([accounts["ann1"], accounts["ann2"]])
    expired = [user for user, _, _ in events(db, "claim_expired")]
    assert sorted(expired) == sorted([accounts["ann1"], accounts["ann2"]])

    out = tmp_path / "items.jsonl"
    assert export(db, accounts["lead"], pid, "items", out) == 1
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["votes"], row["annotators"], row["overlap"], row["over_served"]) == (4, 4, 2, True)
    out = tmp_path / "annotations.jsonl"
    assert export(db, accounts["lead"], pid, "annotations", out) == 4
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["item_over_served"] for r in rows] == [True] * 4
    # The flag is the item's, whatever the export's filters: one person's votes still say so.
    from store.exports import ExportFilter
    assert export(db, accounts["lead"], pid, "items", out,
                  filters=ExportFilter(annotator_ids=(accounts["ann3"],))) == 1
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["votes"], row["annotators"], row["over_served"]) == (1, 4, True)


def test_an_item_within_its_overlap_is_not_over_served(db, accounts, tmp_path):
    pid = make_project(db, accounts, overlap=2, name="Fine")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "one.jsonl", label_rows(1)))
    for name in ("ann1", "ann2"):
        item = work.claim_next_item(db, accounts[name], pid)
        work.save_annotation(db, accounts[name], item.id, SAFE)
    out = tmp_path / "items.jsonl"
    export(db, accounts["lead"], pid, "items", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["annotators"], r["over_served"]) for r in rows] == [(2, False)]
    progress = dash.progress_by_project(db, dash.last_days(14))
    assert progress[["done", "over_served"]].values.tolist() == [[2, 0]]


def test_the_dashboard_counts_over_served_items_and_slots_honestly(db, accounts, tmp_path):
    pid, _ = late_overlap_two(db, accounts, tmp_path)
    row = dash.progress_by_project(db, dash.last_days(14)).iloc[0]
    # Four annotations on one overlap-2 item fill its two slots, not four.
    assert (row["total"], row["done"], row["remaining"]) == (2, 2, 0)
    assert (row["over_served"], row["extra_annotations"]) == (1, 2)


def test_an_expired_claim_goes_back_to_its_holder_first(db, accounts, project_of_five):
    pid = project_of_five
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    start = work.utcnow() - timedelta(hours=3)
    done = work.claim_next_item(db, ann1, pid, now=start)
    work.save_annotation(db, ann1, done.id, SAFE, now=start)
    held = work.claim_next_item(db, ann1, pid, now=start)
    later = start + timedelta(hours=1)              # ann1's claim lapsed while away
    other = work.claim_next_item(db, ann2, pid, now=later)
    assert other.id not in (done.id, held.id)       # someone else gets fresh work
    again = work.claim_next_item(db, ann1, pid, now=later + timedelta(minutes=1))
    assert again.id == held.id                      # and the holder their own item back
    work.save_annotation(db, ann1, held.id, SAFE, now=later + timedelta(minutes=2))
    assert not [d for _, _, d in events(db, "submit") if d.get("late")]
    assert not events(db, "claim_expired")
    with db.read() as cur:
        assert cur.execute("SELECT max(done_count) FROM items WHERE project_id = ?",
                           [pid]).fetchone()[0] == 1
    out = work.claim_next_item(db, ann1, pid, now=later + timedelta(minutes=3))
    assert out is not None and out.id not in (done.id, held.id, other.id)


def test_an_expired_claim_is_given_to_someone_else_only_when_nothing_fresh_is_left(
        db, accounts, project_of_five):
    pid = project_of_five
    ann1, ann2 = accounts["ann1"], accounts["ann2"]
    start = work.utcnow() - timedelta(hours=3)
    held = work.claim_next_item(db, ann1, pid, now=start)
    later = start + timedelta(hours=1)
    served = []
    while (item := work.claim_next_item(db, ann2, pid, now=later)) is not None:
        served.append(item.id)
        work.save_annotation(db, ann2, item.id, SAFE, now=later)
    # ann2 had the four fresh items first, then the lapsed claim, last.
    assert len(served) == 5 and served[-1] == held.id and held.id not in served[:-1]
    assert [(user, item) for user, item, _ in events(db, "claim_expired")] == [(ann1, held.id)]
    # ann1 comes back: the item is gone to ann2; the late submit is kept, over-served.
    assert work.claim_next_item(db, ann1, pid, now=later) is None
    work.save_annotation(db, ann1, held.id, SAFE, now=later)
    assert [d.get("late") for u, _, d in events(db, "submit") if u == ann1] == [True]
    progress = dash.progress_by_project(db, dash.last_days(14)).iloc[0]
    assert (progress["done"], progress["total"], progress["over_served"]) == (5, 5, 1)


def test_the_dashboard_page_shows_the_over_served_count(app_db, tmp_path):
    from tests.test_dashboard import make_team, open_dashboard
    team = make_team(app_db)
    late_overlap_two(app_db, team, tmp_path)
    at = open_dashboard(app_db, "lead")
    progress = [f.value for f in at.dataframe if "over_served" in f.value.columns]
    assert len(progress) == 1 and progress[0]["over_served"].tolist() == [1]
    captions = [c.value for c in at.caption if "over-served" in c.value.lower()]
    assert captions and "1 item over-served" in captions[0], captions
