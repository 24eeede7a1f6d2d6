"""The labeling page in Chromium (its work component): keyboard only, literal text, reload
keeps the session."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from tests.browser import CHROMIUM_ARGS, chromium_path, log_in, query_copy, streamlit_server, wait_idle
from tests.conftest import PASSWORD
from tests.helpers import write_jsonl

XSS_PROMPT = "<img src=x onerror=alert(1)> **not bold** <script>alert(2)</script>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("label-browser")
    db_path = tmp / "label.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "keys", "Keys", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Keyboard", "label", "", None, 1, [ann])
    rows = [{"id": "xss", "prompt": XSS_PROMPT, "response": "[link](javascript:alert(3)) :red[x]"}]
    rows += [{"id": f"k{n:02d}", "prompt": f"Keyboard prompt {n}", "response": f"Keyboard response {n}"}
             for n in range(12)]
    import_file(db, admin, pid, write_jsonl(tmp / "items.jsonl", rows))
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as running:
        yield running.url, db_path


@pytest.fixture(scope="module")
def page(server):
    url, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        page.goto(url)
        wait_idle(page)
        log_in(page, "keys", PASSWORD)
        yield page
        browser.close()


def item_box(page):
    return page.locator(".work [data-role=item]")


def all_saved(page):
    expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)


def test_item_markup_is_shown_literally_and_runs_nothing(page):
    expect(item_box(page).get_by_text(XSS_PROMPT, exact=True).first).to_be_visible()
    expect(item_box(page).get_by_text("[link](javascript:alert(3)) :red[x]", exact=True).first).to_be_visible()
    assert item_box(page).locator("a, img, script, strong").count() == 0
    assert page.locator("main img[src='x']").count() == 0
    assert page.dialogs == []


def test_reload_keeps_the_person_logged_in_on_the_same_item(page):
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Label", exact=True).first).to_be_visible()
    expect(page.get_by_role("heading", name="Log in to SafeLabel")).to_have_count(0)
    expect(item_box(page).get_by_text(XSS_PROMPT, exact=True).first).to_be_visible()


def test_label_ten_items_with_the_keyboard_alone(page, server):
    # Just after a load the cookie component may still trigger one rerun; let it settle.
    page.wait_for_timeout(1500)
    wait_idle(page)
    page.get_by_role("heading", name="Label", exact=True).click()  # focus the page, not a field
    page.keyboard.press("g")          # the XSS item: safe
    page.keyboard.press("Enter")
    expected = [("xss", True, [], 0)]
    for n in range(9):
        expect(item_box(page).get_by_text(f"Keyboard prompt {n}", exact=True).first).to_be_visible()
        if n % 3 == 0:
            presses, label = ["g"], (True, [], 0)
        elif n % 3 == 1:
            presses, label = ["u", "1", "Shift+3"], (False, ["S1"], 3)
        else:
            presses, label = ["2", "y", "Shift+2"], (False, ["S2", "X1"], 2)
        for key in presses:
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        expected.append((f"k{n:02d}", *label))
    expect(item_box(page).get_by_text("Keyboard prompt 9", exact=True).first).to_be_visible()
    page.keyboard.press("s")  # skip the tenth by key: counted as handled, not labeled
    expect(item_box(page).get_by_text("Keyboard prompt 10", exact=True).first).to_be_visible()
    all_saved(page)
    assert page.dialogs == []

    _, db_path = server
    rows = query_copy(db_path, "SELECT i.external_id, a.is_safe, a.categories, a.severity "
                               "FROM annotations a JOIN items i ON i.id = a.item_id ORDER BY a.id")
    skipped = query_copy(db_path, "SELECT count(*) FROM events WHERE kind = 'skip'")[0][0]
    assert [(r[0], r[1], sorted(r[2]), r[3]) for r in rows] == expected
    assert len(rows) == 10 and skipped == 1


def read_annotations(db_path):
    return query_copy(db_path, "SELECT i.external_id, a.note, a.is_safe FROM annotations a "
                               "JOIN items i ON i.id = a.item_id ORDER BY a.id")


def test_ctrl_enter_submits_from_the_note_field_with_the_note(page, server):
    expect(item_box(page).get_by_text("Keyboard prompt 10", exact=True).first).to_be_visible()
    page.keyboard.press("g")
    page.locator(".work [data-role=note]").click()
    page.keyboard.type("typed then Ctrl+Enter")
    page.keyboard.press("Control+Enter")
    expect(item_box(page).get_by_text("Keyboard prompt 11", exact=True).first).to_be_visible()
    all_saved(page)
    assert read_annotations(server[1])[-1] == ("k10", "typed then Ctrl+Enter", True)
