"""Undo: removing an import nobody has worked on, and archiving a project."""
from __future__ import annotations

import pytest

from store import projects
from store.db import PermissionDenied, StoreError
from store.exports import export
from store.import_batches import list_import_batches, remove_import_batch
from store.imports import ImportProblem, import_file
from store.users import get_user
from store.work import claim_next_item, flag_item, save_annotation
from core.labels import Label
from tests.conftest import make_project, table_counts
from tests.helpers import as_user, by_label, label_rows, write_jsonl


def _events(db, kind):
    with db.read() as cur:
        return cur.execute("SELECT user_id, project_id, details FROM events WHERE kind = ?",
                           [kind]).fetchall()


def test_an_unworked_import_can_be_removed_and_imported_again(db, accounts, tmp_path):
    project = make_project(db, accounts)
    first = import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "a.jsonl", label_rows(3, "a")))
    wrong = import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "b.jsonl", label_rows(4, "b")))
    claim_next_item(db, accounts["ann1"], project)             # a claim alone is not work
    assert remove_import_batch(db, accounts["lead"], wrong.import_id) == 4
    with db.read() as cur:
        ids = sorted(r[0] for r in cur.execute("SELECT external_id FROM items").fetchall())
        claims = cur.execute("SELECT count(*) FROM claims c LEFT JOIN items i ON i.id = c.item_id "
                             "WHERE i.id IS NULL").fetchone()[0]
    assert ids == ["a-0", "a-1", "a-2"] and claims == 0
    batches = {b.id: b for b in list_import_batches(db, project)}
    assert batches[wrong.import_id].removed_at is not None and batches[wrong.import_id].items_now == 0
    assert batches[first.import_id].removed_at is None
    assert _events(db, "import_removed")[0][:2] == (accounts["lead"], project)
    with pytest.raises(StoreError, match="removed already"):
        remove_import_batch(db, accounts["lead"], wrong.import_id)
    again = import_file(db, accounts["lead"], project, tmp_path / "b.jsonl")
    assert again.items_added == 4                                # nothing left behind


@pytest.mark.parametrize("work", ["annotation", "flag"])
def test_an_import_someone_worked_on_cannot_be_removed(db, accounts, tmp_path, work):
    project = make_project(db, accounts)
    batch = import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "a.jsonl", label_rows(3)))
    item = claim_next_item(db, accounts["ann1"], project)
    if work == "annotation":
        save_annotation(db, accounts["ann1"], item.id, Label(is_safe=True, severity=0))
    else:
        flag_item(db, accounts["ann1"], item.id, "unclear")
    before = table_counts(db)
    with pytest.raises(StoreError, match="1 items of this import have annotations or flags"):
        remove_import_batch(db, accounts["lead"], batch.import_id)
    assert table_counts(db) == before
    with pytest.raises(PermissionDenied):
        remove_import_batch(db, accounts["ann1"], batch.import_id)


def test_an_archived_project_is_read_only_hidden_from_work_and_still_exported(db, accounts, tmp_path):
    project = make_project(db, accounts)
    import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "a.jsonl", label_rows(3)))
    other = make_project(db, accounts, name="Other")
    import_file(db, accounts["lead"], other, write_jsonl(tmp_path / "o.jsonl", label_rows(2, "o")))
    item = claim_next_item(db, accounts["ann1"], project)
    save_annotation(db, accounts["ann1"], item.id, Label(is_safe=True, severity=0))
    held = claim_next_item(db, accounts["ann1"], project)
    projects.set_archived(db, accounts["lead"], project, True)
    ann1 = get_user(db, accounts["ann1"])
    assert [p.id for p in projects.projects_for_user(db, ann1)] == [other]
    with pytest.raises(PermissionDenied, match="archived"):
        claim_next_item(db, accounts["ann2"], project)
    with pytest.raises(PermissionDenied, match="archived"):
        save_annotation(db, accounts["ann1"], held.id, Label(is_safe=True, severity=0))
    with pytest.raises(ImportProblem, match="archived"):
        import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "n.jsonl", label_rows(1, "n")))
    assert claim_next_item(db, accounts["ann2"], other) is not None   # control
    assert export(db, accounts["lead"], project, "annotations", tmp_path / "out.jsonl", "jsonl") == 1
    assert [e[:2] for e in _events(db, "project_archived")] == [(accounts["lead"], project)]
    projects.set_archived(db, accounts["lead"], project, False)
    assert claim_next_item(db, accounts["ann2"], project) is not None
    with pytest.raises(PermissionDenied):
        projects.set_archived(db, accounts["ann1"], project, True)


def test_lead_archives_and_removes_an_import_on_the_projects_page(app_db, team, tmp_path):
    project = projects.create_project(app_db, team["lead"], "Wrong", "label", "", None, 1, [], True)
    batch = import_file(app_db, team["lead"], project, write_jsonl(tmp_path / "w.jsonl", label_rows(2)))
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at = by_label(at.button, "Remove this import").click().run()
    assert any(f"Removed import #{batch.import_id}: 2 items." in s.value for s in at.success)
    at = by_label(at.button, "Archive this project").click().run()
    assert any("Project archived." in s.value for s in at.success)
    assert projects.get_project(app_db, project).archived
    assert projects.projects_for_user(app_db, get_user(app_db, team["ann"])) == []
