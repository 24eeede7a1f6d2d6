"""Undo on the work pages (AppTest): after a submit the item comes back as a correction with
its answer filled in; after a skip it comes back as the current item."""
from __future__ import annotations

import pytest

from store import projects
from store.imports import import_file
from tests.helpers import as_user, label_rows, write_jsonl


@pytest.fixture
def project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Undo", "label", "Guide", None, 1,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "u.jsonl", label_rows(4)))
    return pid


def ids(app_db) -> dict[str, int]:
    with app_db.read() as cur:
        return dict(cur.execute("SELECT external_id, id FROM items").fetchall())


def annotations(app_db) -> list[tuple]:
    with app_db.read() as cur:
        return cur.execute("SELECT i.external_id, a.version, a.is_safe, a.severity, a.supersedes"
                           " FROM annotations a JOIN items i ON i.id = a.item_id"
                           " ORDER BY a.id").fetchall()


def press(at, key: str):
    return at.button(key=key).click().run()


def current_prompt(at) -> str:
    return next(t.value for t in at.text if t.value.startswith("prompt "))


def test_undo_after_a_submit_reopens_the_item_for_correction(app_db, team, project):
    at = as_user(app_db, "ann").run()
    first = ids(app_db)[f"item-{current_prompt(at).split()[1]}"]
    at = press(at, f"safe_{first}")
    at = press(at, f"submit_{first}")
    assert not at.error, [e.value for e in at.error]
    assert f"submit_{first}" not in [b.key for b in at.button]     # moved on
    assert at.button(key="undo_last").label == "Undo submit"
    at = press(at, "undo_last")
    assert not at.error
    assert any("Correcting item" in i.value for i in at.info)
    # The answer given is filled in, and saving makes version 2 of it.
    draft = at.session_state[f"draft_{first}"]
    assert (draft.is_safe, draft.severity) == (True, 0)
    assert at.button(key=f"submit_{first}").label == "Save correction"
    at = press(at, f"sev_1_{first}")
    at = press(at, f"submit_{first}")
    assert not at.error
    saved = annotations(app_db)
    assert [(v, s, sev) for _, v, s, sev, _ in saved] == [(1, True, 0), (2, True, 1)]
    assert saved[1][4] is not None                                # supersedes version 1
    assert any("Correction saved" in s.value for s in at.success)
    # No undo offered after a correction; the item after the first one is current again.
    assert not [b for b in at.button if b.key == "undo_last"]
    assert f"submit_{first}" not in [b.key for b in at.button]


def test_undo_after_a_skip_brings_the_item_back(app_db, team, project):
    at = as_user(app_db, "ann").run()
    skipped_prompt = current_prompt(at)
    external = f"item-{skipped_prompt.split()[1]}"
    skipped = ids(app_db)[external]
    at = press(at, f"skip_{skipped}")
    assert current_prompt(at) != skipped_prompt                   # moved on
    assert at.button(key="undo_last").label == "Undo skip"
    at = press(at, "undo_last")
    assert not at.error
    assert current_prompt(at) == skipped_prompt                   # back as the current item
    assert any("is back" in s.value for s in at.success)
    at = press(at, f"safe_{skipped}")
    at = press(at, f"submit_{skipped}")
    assert annotations(app_db)[0][:2] == (external, 1)


def test_undo_is_refused_with_a_message_when_someone_else_took_the_skipped_item(
        app_db, team, project):
    from store import work
    at = as_user(app_db, "ann").run()
    skipped = ids(app_db)[f"item-{current_prompt(at).split()[1]}"]
    at = press(at, f"skip_{skipped}")
    for _ in range(4):                                           # ann2 works until they hold it
        item = work.claim_next_item(app_db, team["ann2"], project)
        if item.id == skipped:
            break
        work.save_annotation(app_db, team["ann2"], item.id)
    assert item.id == skipped
    at = press(at, "undo_last")
    assert any("Someone else has taken this item" in e.value for e in at.error)
    assert f"submit_{skipped}" not in [b.key for b in at.button]
