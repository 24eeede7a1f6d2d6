"""The Import page with AppTest: the same import as the command line (HH-RLHF pairs included),
every problem listed, the valid rows taken on request, messages in the page's own words, and
no upload left on disk. Then the Compare page showing multi-turn and empty responses."""
from __future__ import annotations

import json
import stat
import tempfile
from pathlib import Path

import pytest

from store import projects
from tests.conftest import table_counts
from tests.hh_data import hh_row, hh_rows, write_hh
from tests.helpers import as_user, by_label, shown
from tests.test_imports import SEVERAL_BAD

SKIP_BAD = "Import the valid rows and set the rest aside"


def import_page(app_db, team, kind: str = "compare", name: str = "Pairs"):
    pid = projects.create_project(app_db, team["lead"], name, kind, "", None, 1, [team["ann"]])
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/import_data.py").run()
    return pid, at


def upload(at, name: str, data: bytes):
    at.file_uploader[0].set_value((name, data, "application/octet-stream"))
    return at.run()


def click_import(at):
    return by_label(at.button, "Import").click().run()


def item_rows(app_db, pid):
    with app_db.read() as cur:
        return cur.execute("SELECT messages, response_a, response_b, metadata FROM items "
                           "WHERE project_id = ? ORDER BY id", [pid]).fetchall()


def outcome(at):
    found = [v for k, v in at.session_state.items() if "_outcome_" in k]
    assert len(found) == 1
    return found[0]


def test_an_hh_rlhf_file_imports_through_the_page(app_db, team, tmp_path):
    pid, at = import_page(app_db, team)
    data = write_hh(tmp_path / "test.jsonl").read_bytes()
    at = upload(at, "harmless-base-test.jsonl", data)
    assert not at.error, [e.value for e in at.error]
    assert any("HH-RLHF" in i.value for i in at.info)
    # Every field is left to the import's defaults (nothing is sent as "(none)").
    assert {s.label: s.value for s in at.selectbox if s.label != "Into project"} == {
        f: "(automatic)" for f in ("id", "prompt", "response", "response_a", "response_b",
                                   "messages", "hint_category", "hint_severity")}
    at = click_import(at)
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [
        "Read 2,312 rows: added 2,312 items, skipped 0 already present."]
    rows = item_rows(app_db, pid)
    assert len(rows) == 2312
    expected = hh_rows()
    for n in (0, 57, 300, 1544, 2311):       # a plain row, an extra turn, an empty reply, ...
        messages, a, b, metadata = rows[n]
        assert json.loads(messages) == expected[n].shared
        assert "" not in (a, b) or n == 300


def test_the_page_lists_every_problem_and_offers_the_list(app_db, team):
    pid, at = import_page(app_db, team, "label", "Labels")
    at = upload(at, "several.jsonl", SEVERAL_BAD)
    assert not at.error, [e.value for e in at.error]
    before = table_counts(app_db)
    at = click_import(at)
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1
    assert errors[0].startswith("Nothing was imported: 'several.jsonl': 5 problems in 5 rows.")
    assert f"use the option \u201c{SKIP_BAD}\u201d" in errors[0]
    assert "--skip-bad" not in errors[0] and "--map" not in errors[0]
    table = at.dataframe[-1].value
    assert list(table["row"]) == [2, 3, 4, 5, 7]
    assert list(table["problem"])[3] == "has the same id '1' as row 1"
    assert [b.label for b in at.download_button] == ["Download the list of problems (CSV)"]
    assert table_counts(app_db) == before


def test_the_page_takes_the_valid_rows_when_asked(app_db, team):
    pid, at = import_page(app_db, team, "label", "Labels")
    at = upload(at, "several.jsonl", SEVERAL_BAD)
    by_label(at.checkbox, SKIP_BAD).check()
    at = at.run()
    before = table_counts(app_db)
    at = click_import(at)
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.success] == [
        "Read 7 rows: added 2 items, skipped 0 already present."]
    assert "Set aside 5 rows with problems" in shown(at.warning[0].value)
    assert [b.label for b in at.download_button] == ["Download the rows set aside (JSONL)",
                                                     "Download the list of problems (CSV)"]
    result, set_aside = outcome(at)
    lines = [json.loads(line) for line in set_aside.decode().splitlines()]
    assert [line["row"] for line in lines] == [2, 3, 4, 5, 7]
    assert lines[3]["record"] == {"id": 1, "prompt": "same id again", "hint_severity": None}
    after = table_counts(app_db)
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == {
        "items": 2, "imports": 1, "events": 1}
    with app_db.read() as cur:
        assert cur.execute("SELECT rows_read, items_added, rows_rejected FROM imports "
                           "WHERE project_id = ?", [pid]).fetchall() == [(7, 2, 5)]


def test_messages_name_the_file_the_record_and_the_mapping_form(app_db, team):
    pid, at = import_page(app_db, team, "label", "Labels")
    at = upload(at, "questions.jsonl", b'{"q": "a question"}\n')
    at = click_import(at)
    error = shown(at.error[0].value)
    assert error.startswith("Nothing was imported: 'questions.jsonl': the file needs a 'prompt'")
    assert "the mapping form" in error and "--map" not in error
    # A truncated file: its own name, the broken record's number (not the line after it).
    at = upload(at, "cut.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 3, "pro')
    assert not at.error, [e.value for e in at.error]          # the preview shows the rest
    at = click_import(at)
    error = shown(at.error[0].value)
    assert error.startswith("Nothing was imported: 'cut.jsonl': 1 problem in 1 row.")
    assert "row 3: not valid JSON: the file ends inside this record" in error
    assert "line 4" not in error and "safelabel-upload" not in error and "upload.jsonl" not in error


def test_an_upload_leaves_no_file_in_the_temp_folder(app_db, team, tmp_path, monkeypatch):
    import store.imports as imports

    folder = tmp_path / "tmp"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    seen = []

    def note(step: str, path) -> None:
        path = Path(path)
        seen.append((step, path, path.exists(), stat.S_IMODE(path.parent.stat().st_mode)))

    preview, run_import = imports.read_preview, imports.import_file

    def spy_preview(db, path, *args, **kwargs):
        note("read_preview", path)
        return preview(db, path, *args, **kwargs)

    def spy_import(db, actor, project_id, path, *args, **kwargs):
        note("import_file", path)
        return run_import(db, actor, project_id, path, *args, **kwargs)

    monkeypatch.setattr(imports, "read_preview", spy_preview)
    monkeypatch.setattr(imports, "import_file", spy_import)
    pid, at = import_page(app_db, team, "label", "Labels")
    at = upload(at, "items.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n')
    at = click_import(at)
    assert [s.value for s in at.success] == ["Read 2 rows: added 2 items, skipped 0 already present."]
    assert list(folder.iterdir()) == []
    # Positive control: preview and import each read a copy under that folder, in a folder
    # of their own that only this account can open.
    assert [(step, path.parent.parent == folder, existed, mode)
            for step, path, existed, mode in seen] == [
        ("read_preview", True, True, 0o700), ("import_file", True, True, 0o700)]


@pytest.fixture
def hh_pairs(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "HH", "compare", "", None, 1, [team["ann"]])
    from store.imports import import_file
    import_file(app_db, team["lead"], pid, write_hh(tmp_path / "hh.jsonl", [
        hh_row(3, "extra turn in chosen"), hh_row(4, "empty rejected reply")]))
    return pid


def test_compare_page_shows_a_multi_turn_response_turn_by_turn_and_an_empty_one(
        app_db, team, hh_pairs):
    at = as_user(app_db, "ann")
    at.session_state["compare_project"] = hh_pairs
    at.run()
    at.switch_page("app_pages/compare.py").run()
    seen = set()
    for _ in range(2):
        texts = [t.value for t in at.text]
        captions = [c.value for c in at.caption]
        item_id = next(int(b.key.split("_")[1]) for b in at.button
                       if b.key and b.key.startswith("submit_") and not b.key.startswith("submit_text"))
        if "RESPONSE A \u00b7 USER" in texts or "RESPONSE B \u00b7 USER" in texts:
            seen.add("turns")
            side = "A" if "RESPONSE A \u00b7 USER" in texts else "B"
            labels = [t for t in texts if t.startswith(f"RESPONSE {side}")]
            assert labels == [f"RESPONSE {side} \u00b7 ASSISTANT", f"RESPONSE {side} \u00b7 USER",
                              f"RESPONSE {side} \u00b7 ASSISTANT"]
            assert "(empty response)" not in captions                    # positive control
        else:
            seen.add("empty")
            assert "(empty response)" in captions
            assert {"RESPONSE A", "RESPONSE B"} <= set(texts)
        for key in (f"harmlessness_1_{item_id}", f"helpfulness_1_{item_id}",
                    f"overall_left_{item_id}", f"submit_{item_id}"):
            at = at.button(key=key).click().run()
    assert seen == {"turns", "empty"}
