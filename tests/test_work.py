"""Claims, annotations, skips and flags against a real DuckDB file."""
import threading
from datetime import timedelta

import pytest

from core.labels import Label
from store import work
from store.db import PermissionDenied, utcnow
from store.imports import import_file
from tests.conftest import make_project
from tests.helpers import label_rows, write_jsonl

UNSAFE = Label(False, ("S1",), 3, "threat")


@pytest.fixture
def project(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "items.jsonl", label_rows(40)))
    return pid


def test_claim_is_atomic_under_eight_threads(db, accounts, tmp_path):
    from store import users
    from tests.conftest import PASSWORD
    names = [f"worker{n}" for n in range(8)]
    for name in names:
        accounts[name] = users.create_user(db, accounts["admin"], name, name, PASSWORD, "annotator")
    pid = make_project(db, accounts, members=tuple(names), name="Race")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "race.jsonl", label_rows(100)))
    claimed: list[tuple[str, int]] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        try:
            for _ in range(15):
                item = work.claim_next_item(db, accounts[name], pid)
                if item is None:
                    return
                with lock:
                    claimed.append((name, item.id))
                work.save_annotation(db, accounts[name], item.id, UNSAFE)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    item_ids = [item_id for _, item_id in claimed]
    assert len(item_ids) == 100
    assert len(set(item_ids)) == 100, "an item was claimed twice"
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM annotations WHERE project_id = ?", [pid]).fetchone()[0] == 100
        assert cur.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    assert work.claim_next_item(db, accounts["worker0"], pid) is None


def test_a_reload_returns_the_claim_already_held(db, accounts, project):
    first = work.claim_next_item(db, accounts["ann1"], project)
    assert work.claim_next_item(db, accounts["ann1"], project).id == first.id
    assert work.claim_next_item(db, accounts["ann2"], project).id != first.id


def test_overlap_gives_each_item_to_distinct_people(db, accounts, tmp_path):
    pid = make_project(db, accounts, overlap=2, name="Overlap")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "o.jsonl", label_rows(3)))
    seen = {name: [] for name in ("ann1", "ann2", "ann3")}
    for _ in range(3):
        for name in seen:
            item = work.claim_next_item(db, accounts[name], pid)
            if item is not None:
                seen[name].append(item.id)
                work.save_annotation(db, accounts[name], item.id, UNSAFE)
    for ids in seen.values():
        assert len(ids) == len(set(ids)), "someone got the same item twice"
    assert sum(len(ids) for ids in seen.values()) == 6  # 3 items x overlap 2
    with db.read() as cur:
        assert cur.execute("SELECT min(done_count), max(done_count) FROM items WHERE project_id = ?",
                           [pid]).fetchone() == (2, 2)


def test_corrections_append_versions_and_keep_history(db, accounts, project):
    item = work.claim_next_item(db, accounts["ann1"], project)
    first = work.save_annotation(db, accounts["ann1"], item.id, UNSAFE)
    second = work.save_annotation(db, accounts["ann1"], item.id, Label(True, (), 0))
    history = work.annotation_history(db, item.id, accounts["ann1"])
    assert [(a.id, a.version, a.supersedes, a.is_safe) for a in history] == [
        (first, 1, None, False), (second, 2, first, True)]
    with db.read() as cur:
        assert cur.execute("SELECT done_count FROM items WHERE id = ?", [item.id]).fetchone()[0] == 1


def test_skip_returns_the_item_to_others_but_not_to_the_skipper(db, accounts, project):
    item = work.claim_next_item(db, accounts["ann1"], project)
    work.skip_item(db, accounts["ann1"], item.id, "not today")
    for _ in range(39):
        nxt = work.claim_next_item(db, accounts["ann1"], project)
        assert nxt is not None and nxt.id != item.id
        work.save_annotation(db, accounts["ann1"], nxt.id, UNSAFE)
    assert work.claim_next_item(db, accounts["ann1"], project) is None
    assert work.claim_next_item(db, accounts["ann2"], project).id == item.id
    with db.read() as cur:
        details = cur.execute("SELECT details FROM events WHERE kind = 'skip'").fetchone()[0]
    assert "not today" in details


def test_expired_claims_return_to_the_pool_and_late_submits_are_kept(db, accounts, tmp_path):
    project = make_project(db, accounts, name="One item")
    import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "one.jsonl", label_rows(1)))
    start = utcnow()
    held = work.claim_next_item(db, accounts["ann1"], project, now=start)
    assert work.claim_next_item(db, accounts["ann2"], project, now=start) is None
    later = start + timedelta(hours=2)
    other = work.claim_next_item(db, accounts["ann2"], project, now=later)
    assert other.id == held.id  # ann1's claim expired
    annotation = work.save_annotation(db, accounts["ann1"], held.id, UNSAFE, now=later)
    assert work.latest_annotation(db, held.id, accounts["ann1"]).id == annotation
    with db.read() as cur:
        kinds = [r[0] for r in cur.execute("SELECT kind FROM events ORDER BY id").fetchall()]
    assert "claim_expired" in kinds


def test_flag_needs_a_reason_and_records_it(db, accounts, project):
    item = work.claim_next_item(db, accounts["ann1"], project)
    from store.db import StoreError
    with pytest.raises(StoreError):
        work.flag_item(db, accounts["ann1"], item.id, "  ")
    work.flag_item(db, accounts["ann1"], item.id, "looks like real personal data")
    with db.read() as cur:
        assert cur.execute("SELECT reason FROM flags").fetchone()[0] == "looks like real personal data"


def test_people_outside_the_project_cannot_claim_or_save(db, accounts, tmp_path):
    pid = make_project(db, accounts, members=("ann1",), name="Private")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "p.jsonl", label_rows(2)))
    with pytest.raises(PermissionDenied):
        work.claim_next_item(db, accounts["ann2"], pid)
    item = work.claim_next_item(db, accounts["ann1"], pid)
    with pytest.raises(PermissionDenied):
        work.save_annotation(db, accounts["ann2"], item.id, UNSAFE)
    assert work.claim_next_item(db, accounts["lead"], pid) is not None  # leads may work anywhere


def test_edits_keep_the_original_and_store_the_distance(db, accounts, project):
    item = work.claim_next_item(db, accounts["ann1"], project)
    label = Label(False, ("S1",), 2, "", edited_response=item.response + "!!")
    work.save_annotation(db, accounts["ann1"], item.id, label)
    saved = work.latest_annotation(db, item.id, accounts["ann1"])
    assert saved.edited_response == item.response + "!!" and saved.edit_distance == 2
    assert work.get_item(db, item.id).response == item.response


def test_save_and_claim_next_is_one_step(db, accounts, project):
    item = work.claim_next_item(db, accounts["ann1"], project)
    annotation_id, following = work.save_and_claim_next(db, accounts["ann1"], item.id, UNSAFE)
    assert work.latest_annotation(db, item.id, accounts["ann1"]).id == annotation_id
    assert following is not None and following.id != item.id
    assert work.claim_next_item(db, accounts["ann1"], project).id == following.id  # it is held
