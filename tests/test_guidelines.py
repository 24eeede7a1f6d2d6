"""Versioned guidelines (store/guidelines.py): version 1 at creation and by migration, a new
version and an event only when the text changes, and the version stamped on annotations."""
from __future__ import annotations

import pandas as pd
import pytest

from core.labels import Label
from store import projects, schema, work
from store.db import PermissionDenied, StoreError, open_database, utcnow
from store.exports import export
from store.guidelines import current_guidelines, guideline_history
from store.imports import import_file
from tests.conftest import make_project, table_counts
from tests.helpers import label_rows, write_jsonl

SAFE = Label(True, (), 0)


def guideline_events(db, project_id: int) -> list[str]:
    with db.read() as cur:
        return [r[0] for r in cur.execute(
            "SELECT details FROM events WHERE kind = 'guidelines_changed' AND project_id = ? "
            "ORDER BY id", [project_id]).fetchall()]


def edit(db, accounts, project_id: int, text: str) -> None:
    project = projects.get_project(db, project_id)
    projects.update_project(db, accounts["lead"], project_id, text, project.taxonomy,
                            project.overlap, project.open_to_all)


@pytest.fixture
def project(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "items.jsonl", label_rows(6)))
    return pid


def test_a_new_project_has_version_one(db, accounts, project):
    current = current_guidelines(db, project)
    assert (current.version, current.text, current.created_by) == (1, "Be careful.", accounts["lead"])
    assert current.created_by_name == "lead"
    assert [v.version for v in guideline_history(db, project)] == [1]
    assert guideline_events(db, project) == []


def test_changing_the_text_appends_a_version_and_logs_it(db, accounts, project):
    edit(db, accounts, project, "Be careful.\n\n- new rule")
    current = current_guidelines(db, project)
    assert (current.version, current.text) == (2, "Be careful.\n\n- new rule")
    assert projects.get_project(db, project).guidelines == "Be careful.\n\n- new rule"
    history = guideline_history(db, project)
    assert [(v.version, v.text) for v in history] == [(2, "Be careful.\n\n- new rule"),
                                                      (1, "Be careful.")]
    events = guideline_events(db, project)
    assert len(events) == 1 and '"version": 2' in events[0]


def test_saving_the_same_text_adds_no_version_and_no_event(db, accounts, project):
    edit(db, accounts, project, "Be careful.\n\n- new rule")     # positive control: one event
    before = table_counts(db)
    edit(db, accounts, project, "Be careful.\n\n- new rule")     # overlap etc. unchanged too
    assert current_guidelines(db, project).version == 2
    assert len(guideline_events(db, project)) == 1
    after = table_counts(db)
    assert after["guideline_versions"] == before["guideline_versions"]


def test_an_annotator_cannot_change_guidelines(db, accounts, project):
    before = table_counts(db)
    taxonomy = projects.get_project(db, project).taxonomy
    with pytest.raises(PermissionDenied):
        projects.update_project(db, accounts["ann1"], project, "mine now", taxonomy, 1, False)
    assert table_counts(db) == before
    assert current_guidelines(db, project).text == "Be careful."


def test_history_limit_and_unknown_project(db, accounts, project):
    for n in range(2, 6):
        edit(db, accounts, project, f"text {n}")
    assert [v.version for v in guideline_history(db, project, limit=3)] == [5, 4, 3]
    with pytest.raises(StoreError):
        current_guidelines(db, 999)
    assert guideline_history(db, 999) == []


def test_annotations_carry_the_version_they_were_made_under(db, accounts, project):
    ann = accounts["ann1"]
    first = work.claim_next_item(db, ann, project)
    work.save_annotation(db, ann, first.id, SAFE)
    _, second = work.save_and_claim_next(db, accounts["ann2"], work.claim_next_item(
        db, accounts["ann2"], project).id, SAFE)
    edit(db, accounts, project, "Version two: stricter.")
    later = work.claim_next_item(db, ann, project)
    work.save_annotation(db, ann, later.id, SAFE)
    work.save_annotation(db, accounts["ann2"], second.id, SAFE)   # claimed under v1, saved under v2
    # A correction of the first item, made now, is made under version 2; the original keeps 1.
    work.save_annotation(db, ann, first.id, Label(False, ("S1",), 2))

    first_history = work.annotation_history(db, first.id, ann)
    assert [(a.version, a.guideline_version) for a in first_history] == [(1, 1), (2, 2)]
    assert work.latest_annotation(db, later.id, ann).guideline_version == 2
    assert work.latest_annotation(db, second.id, accounts["ann2"]).guideline_version == 2
    with db.read() as cur:
        stamped = cur.execute("SELECT guideline_version, count(*) FROM annotations "
                              "WHERE project_id = ? GROUP BY 1 ORDER BY 1", [project]).fetchall()
    assert stamped == [(1, 2), (2, 3)]


def test_the_annotations_export_has_the_guideline_version(db, accounts, project, tmp_path):
    ann = accounts["ann1"]
    item = work.claim_next_item(db, ann, project)
    work.save_annotation(db, ann, item.id, SAFE)
    edit(db, accounts, project, "Version two.")
    item = work.claim_next_item(db, ann, project)
    work.save_annotation(db, ann, item.id, SAFE)
    out = tmp_path / "annotations.csv"
    assert export(db, accounts["lead"], project, "annotations", out, "csv") == 2
    frame = pd.read_csv(out)
    assert list(frame["guideline_version"]) == [1, 2]


def test_migration_backfills_version_one_from_the_current_text(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    older = [m for m in schema.MIGRATIONS if m[0] < 10]
    monkeypatch.setattr(schema, "MIGRATIONS", older)
    db = open_database(path)
    db.write(lambda cur: cur.execute(
        "INSERT INTO projects (name, kind, guidelines, taxonomy, created_by, created_at) "
        "VALUES ('Old', 'label', 'Old **rules**', '{}', 7, ?)", [utcnow()]))
    db.write(lambda cur: cur.execute(
        "INSERT INTO annotations (item_id, project_id, user_id, version, submitted_at) "
        "VALUES (1, 1, 7, 1, ?)", [utcnow()]))
    db.close()
    monkeypatch.undo()
    db = open_database(path)
    try:
        current = current_guidelines(db, 1)
        assert (current.version, current.text, current.created_by) == (1, "Old **rules**", 7)
        with db.read() as cur:
            # Work from before versioning: which text it was made under is not known.
            assert cur.execute("SELECT guideline_version FROM annotations").fetchall() == [(None,)]
    finally:
        db.close()
