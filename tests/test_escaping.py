"""Text from leads and files shows literally wherever Streamlit renders Markdown: taxonomy names
and descriptions on buttons, tooltips and pills, the hint banner, item ids in notices, column
names and ids in import errors, project names and usernames in messages, the export button.
(tests/test_browser_escaping.py checks what Chromium draws from the same strings.)"""
from __future__ import annotations

import json
import os
import re

import pytest

from core.filenames import export_file_name
from core.text import markdown_literal
from store import projects
from store.imports import import_file
from tests.helpers import (HOSTILE, HOSTILE_COLUMN, HOSTILE_ID, as_user, assert_literal,
                           by_label, write_jsonl)

HOSTILE_DESCRIPTION = "See [the policy](http://evil/policy) ![i](http://127.0.0.1:9/d.png) :material/home:"
HOSTILE_SEVERITY = "mild __under__ :blue[y] www.evil.com"


def hostile_taxonomy() -> str:
    return json.dumps({
        "categories": [{"code": "S1", "name": HOSTILE, "description": HOSTILE_DESCRIPTION},
                       {"code": "P2", "name": "Plain hazard", "description": "Plain words"}],
        "severity": [{"level": 0, "name": "none"},
                     {"level": 1, "name": HOSTILE_SEVERITY, "description": HOSTILE},
                     {"level": 2, "name": "moderate", "description": "Plain level"}]})


# -- the helper itself ----------------------------------------------------------------------
@pytest.mark.parametrize("text", [HOSTILE, HOSTILE_ID, HOSTILE_COLUMN, HOSTILE_DESCRIPTION,
                                  "1. # > - + | table | ~~s~~ &lt; &#65; \\ {x} ^ % ; , ? '\"",
                                  "mailto:a@b.co https://x.org WWW.EVIL.COM"])
def test_markdown_literal_escapes_every_markdown_character_and_breaks_autolinks(text):
    assert_literal(markdown_literal(text), text)


def test_markdown_literal_leaves_plain_words_alone_and_flattens_line_breaks():
    assert markdown_literal("Violent crimes") == "Violent crimes"          # positive control
    assert markdown_literal("  two\n\n    lines\tand tabs ") == "two lines and tabs"


# -- label page -----------------------------------------------------------------------------
@pytest.fixture
def hostile_label_project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Hostile", "label", "", hostile_taxonomy(),
                                  1, [team["ann"]])
    rows = [{"id": HOSTILE_ID, "prompt": "first prompt", "response": "first response",
             "hint_category": "S1", "hint_severity": 1},
            {"id": "plain-2", "prompt": "second prompt", "response": "second response",
             "hint_category": HOSTILE_COLUMN, "hint_severity": 0}]
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "hostile.jsonl", rows))
    return pid


def current_item(at) -> int:
    key = next(b.key for b in at.button if b.key and re.fullmatch(r"submit_\d+", b.key))
    return int(key.split("_")[1])


def test_label_page_shows_taxonomy_hints_and_ids_literally(app_db, team, hostile_label_project):
    at = as_user(app_db, "ann").run()
    first = current_item(at)
    category = at.button(key=f"cat_S1_{first}")
    assert_literal(category.label, f"S1 {HOSTILE}")
    assert_literal(category.help, HOSTILE_DESCRIPTION)
    severity = at.button(key=f"sev_1_{first}")
    assert_literal(severity.label, f"1 {HOSTILE_SEVERITY}")
    assert_literal(severity.help, HOSTILE)
    # Positive control: plain taxonomy text is shown unchanged.
    assert at.button(key=f"cat_P2_{first}").label == "P2 Plain hazard"
    assert at.button(key=f"cat_P2_{first}").help == "Plain words"
    assert at.button(key=f"sev_2_{first}").label == "2 moderate"
    banner = [w.value for w in at.warning if w.value.startswith("Heads-up")]
    assert len(banner) == 1
    assert_literal(banner[0], f"S1 {HOSTILE}")
    assert_literal(banner[0], f"1 {HOSTILE_SEVERITY}")

    for key in (f"unsafe_{first}", f"cat_S1_{first}", f"sev_1_{first}", f"submit_{first}"):
        at = at.button(key=key).click().run()
    assert not at.error, [e.value for e in at.error]
    saved = [s.value for s in at.success if s.value.startswith("Saved item")]
    assert len(saved) == 1
    assert_literal(saved[0], HOSTILE_ID)
    # The next item's hint category is not a taxonomy code: the file's text, shown literally.
    banner = [w.value for w in at.warning if w.value.startswith("Heads-up")]
    assert len(banner) == 1
    assert_literal(banner[0], HOSTILE_COLUMN)


def test_compare_page_pills_show_taxonomy_literally(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Hostile pairs", "compare", "",
                                  hostile_taxonomy(), 1, [team["ann"]])
    projects.update_project_settings(app_db, team["lead"], pid, {"per_response_safety": True})
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": "p1", "prompt": "Pair prompt", "response_a": "Alpha", "response_b": "Beta"}]))
    at = as_user(app_db, "ann")
    at.session_state["compare_project"] = pid
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert len(at.pills) == 2
    for pills in at.pills:
        assert len(pills.options) == 2
        assert_literal(pills.options[0], f"S1 {HOSTILE}")
        assert pills.options[1] == "P2 Plain hazard"                    # positive control


# -- import page ----------------------------------------------------------------------------
def import_page(app_db, team, tmp_path):
    projects.create_project(app_db, team["lead"], "Target", "label")
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/import_data.py").run()
    return at


def test_import_errors_quote_column_names_literally(app_db, team, tmp_path):
    at = import_page(app_db, team, tmp_path)
    header = f'"{HOSTILE_COLUMN}","{HOSTILE_COLUMN}",prompt\n1,2,hello\n'
    at.file_uploader[0].set_value(("repeats.csv", header.encode(), "text/csv"))
    at.run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("This file cannot be imported")
    assert_literal(errors[0], HOSTILE_COLUMN)


def test_import_errors_quote_ids_literally(app_db, team, tmp_path):
    at = import_page(app_db, team, tmp_path)
    rows = [{"id": HOSTILE_ID, "prompt": "one"}, {"id": HOSTILE_ID, "prompt": "two"}]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    at.file_uploader[0].set_value(("dup.jsonl", body, "application/jsonl"))
    at.run()
    assert not at.error, [e.value for e in at.error]
    at = by_label(at.button, "Import").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Nothing was imported")
    assert_literal(errors[0], HOSTILE_ID)


# -- projects, users and export pages --------------------------------------------------------
def test_project_names_in_messages_are_literal(app_db, team):
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    by_label(at.text_input, "Name").input(HOSTILE)
    at = by_label(at.button, "Create project").click().run()
    assert not at.error, [e.value for e in at.error]
    assert len(at.success) == 1
    assert_literal(at.success[0].value, HOSTILE)
    by_label(at.text_input, "Name").input(HOSTILE)
    at = by_label(at.button, "Create project").click().run()      # the name is taken now
    assert len(at.error) == 1 and "already exists" in at.error[0].value
    assert_literal(at.error[0].value, HOSTILE)


def test_usernames_in_messages_are_literal(app_db, team):
    at = as_user(app_db, "admin").run()
    at.switch_page("app_pages/users.py").run()
    username = "x.__y__"    # a valid username; Markdown would draw "y" in bold
    by_label(at.text_input, "Username").input(username)
    by_label(at.text_input, "Display name").input("X")
    by_label(at.text_input, "Initial password").input("a-long-password")
    at = by_label(at.button, "Create account").click().run()
    assert not at.error, [e.value for e in at.error]
    assert len(at.success) == 1
    assert_literal(at.success[0].value, username)


def test_export_file_name_and_button_are_literal_and_stay_in_their_folder(app_db, team, tmp_path):
    hostile_name = "../../" + HOSTILE
    project_id = projects.create_project(app_db, team["lead"], hostile_name, "label")
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/export.py").run()
    at = by_label(at.button, "Prepare the export").click().run()
    assert not at.error, [e.value for e in at.error]
    assert len(at.download_button) == 1
    label = at.download_button[0].label
    assert label.startswith("Download ")
    name = export_file_name(hostile_name, project_id, "annotations", "jsonl")
    assert_literal(label, name)
    assert "/" not in name and os.sep not in name
