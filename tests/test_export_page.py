"""The export page leaves no file behind (a private folder per export, removed in the same
run, on error too) and names its download with a safe slug of the project name."""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import pytest

from core.text import markdown_literal

import store.exports
from core.labels import Label
from store import projects, work
from store.db import StoreError
from store.imports import import_file
from tests.helpers import as_user, by_label, write_jsonl
from tests.test_csv_safety import media  # noqa: F401  (fixture: the downloads of a run)


@pytest.fixture
def temp_root(tmp_path, monkeypatch) -> Path:
    """The system temp folder, for this test: <tmp>/outside/tmp. A file that escaped its
    folder by `../..` would land in <tmp>/outside, still inside the test's own folder."""
    root = tmp_path / "outside" / "tmp"
    root.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def written(monkeypatch) -> list[dict]:
    """Each export the page made: where it wrote, what, and the folder's mode then."""
    calls: list[dict] = []
    real = store.exports.export

    def recording(db, actor_id, project_id, kind, out_path, *args, **kwargs):
        rows = real(db, actor_id, project_id, kind, out_path, *args, **kwargs)
        out = Path(out_path)
        calls.append({"path": out, "bytes": out.read_bytes(), "rows": rows,
                      "folder_mode": stat.S_IMODE(out.parent.stat().st_mode)})
        return rows

    monkeypatch.setattr(store.exports, "export", recording)
    return calls


def labeled_project(app_db, team, tmp_path, name: str) -> int:
    pid = projects.create_project(app_db, team["lead"], name, "label", "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "items.jsonl", [
        {"id": "e1", "prompt": "first prompt", "response": "first response"},
        {"id": "e2", "prompt": "second prompt", "response": "second response"}]))
    while (item := work.claim_next_item(app_db, team["ann"], pid)) is not None:
        work.save_annotation(app_db, team["ann"], item.id, Label(True, (), 0))
    return pid


def prepare(app_db, kind: str = "annotations"):
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/export.py").run()
    by_label(at.radio, "What").set_value(kind)
    by_label(at.radio, "Format").set_value("jsonl")
    return by_label(at.button, "Prepare the export").click().run()


def downloaded(stores, at):
    (button,) = at.download_button
    return stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1])


def test_an_export_leaves_nothing_in_the_temp_folder(app_db, team, tmp_path, temp_root,
                                                     written, media):
    labeled_project(app_db, team, tmp_path, "Pilot")
    assert os.listdir(temp_root) == []
    at = prepare(app_db)
    assert not at.exception and not at.error, [e.value for e in at.error]
    # Positive control: the export was written, in a private folder inside the temp folder.
    (call,) = written
    assert call["path"].parent.parent == temp_root and call["rows"] == 2
    assert call["folder_mode"] == 0o700
    file = downloaded(media, at)
    assert file.content == call["bytes"]
    assert [json.loads(x)["external_id"] for x in file.content.decode().splitlines()] == ["e1", "e2"]
    # ... and nothing of it is left once the page has its bytes.
    assert not call["path"].exists() and not call["path"].parent.exists()
    assert os.listdir(temp_root) == []


def test_a_failed_export_leaves_nothing_either(app_db, team, tmp_path, temp_root, monkeypatch):
    labeled_project(app_db, team, tmp_path, "Pilot")
    started = []

    def half_written(db, actor_id, project_id, kind, out_path, *args, **kwargs):
        Path(out_path).write_text("harmful text, half written")
        started.append(Path(out_path))
        raise StoreError("the disk is full")

    monkeypatch.setattr(store.exports, "export", half_written)
    at = prepare(app_db)
    assert [e.value for e in at.error] == ["Not exported: the disk is full"]
    assert not at.download_button
    (path,) = started
    assert path.parent.parent == temp_root         # it was written where we look
    assert os.listdir(temp_root) == []

    def crashing(db, actor_id, project_id, kind, out_path, *args, **kwargs):
        Path(out_path).write_text("harmful text, half written")
        started.append(Path(out_path))
        raise RuntimeError("unexpected")

    monkeypatch.setattr(store.exports, "export", crashing)
    at = prepare(app_db)
    assert at.exception and len(started) == 2 and started[1].parent.parent == temp_root
    assert os.listdir(temp_root) == []


def test_a_project_named_with_path_characters_exports_to_a_safe_name(app_db, team, tmp_path,
                                                                    temp_root, written, media):
    labeled_project(app_db, team, tmp_path, "../../x")
    at = prepare(app_db)
    assert not at.exception and not at.error, [e.value for e in at.error]
    (call,) = written
    assert call["path"].name == "x-annotations.jsonl"
    assert call["path"].resolve().parent.parent == temp_root.resolve()   # inside its folder
    assert downloaded(media, at).filename == "x-annotations.jsonl"
    # The label goes through the Markdown-literal helper (it renders Markdown).
    assert by_label(at.download_button, "Download " + markdown_literal("x-annotations.jsonl"))
    # Nothing was written beside the temp folder (where `../../x` would have gone).
    assert os.listdir(temp_root.parent) == ["tmp"]
    assert os.listdir(temp_root) == []
