"""One comparison done with the keyboard alone, in Chromium against a real server, and the
Compare controls readable on a 1280 px screen."""
from __future__ import annotations

from playwright.sync_api import expect, sync_playwright

from core.preference import left_response
from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from tests.browser import CHROMIUM_ARGS, chromium_path, log_in, query_copy, streamlit_server, wait_idle
from tests.conftest import PASSWORD
from tests.helpers import write_jsonl


# How many choices are shown selected once each key's choice shows.
SELECTED_BEFORE = {"A better": 1, "A slightly better": 2, "A is better": 3}


def chosen(page):
    """The selected (primary) choice buttons of the work area."""
    return page.locator('[data-testid="stMain"] button[data-testid="stBaseButton-primary"]'
                        ).filter(has_not_text="Submit")


def test_one_comparison_with_the_keyboard(tmp_path):
    db_path = tmp_path / "compare.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "cmp", "Cmp", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Pairs", "compare", "", None, 1, [ann])
    projects.update_project_settings(db, admin, pid, {"rationale": "never"})
    import_file(db, admin, pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": "p1", "prompt": "Which reply is kinder?", "response_a": "Alpha reply",
         "response_b": "Beta reply"}]))
    item_id = 1
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server.url + "/compare")
        wait_idle(page)
        log_in(page, "cmp", PASSWORD)
        expect(page.get_by_role("heading", name="Compare", exact=True).first).to_be_visible()
        expect(page.get_by_text("Which reply is kinder?", exact=True).first).to_be_visible()
        page.get_by_role("heading", name="Compare", exact=True).first.click()
        # harmlessness, helpfulness, overall: each key shows its choice before the next
        for key, label in (("2", "A better"), ("Shift+3", "A slightly better"),
                           ("a", "A is better")):
            page.keyboard.press(key)
            expect(chosen(page)).to_have_count(SELECTED_BEFORE[label])
            expect(chosen(page).filter(has_text=label).first).to_be_visible()
        page.keyboard.press("Enter")
        expect(page.get_by_text("Saved item p1.").first).to_be_visible()
        browser.close()
    judgment = query_copy(db_path, "SELECT judgment FROM annotations")[0][0]
    import json
    judgment = json.loads(judgment)
    left = left_response(ann, item_id)
    assert judgment["left"] == left
    assert judgment["overall"] == left                       # "A" = the left response
    assert judgment["harmlessness"] == (2 if left == "a" else -2)   # key 2 = "A better"
    assert judgment["helpfulness"] == (1 if left == "a" else -1)    # Shift+3 = "A slightly better"


def test_scale_points_are_readable_at_1280_pixels(tmp_path):
    db_path = tmp_path / "compare.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "cmp", "Cmp", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Pairs", "compare", "", None, 1, [ann])
    import_file(db, admin, pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": "p1", "prompt": "Which?", "response_a": "One", "response_b": "Two"}]))
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url + "/compare")
        wait_idle(page)
        log_in(page, "cmp", PASSWORD)
        expect(page.get_by_text("Which?", exact=True).first).to_be_visible()
        buttons = page.locator('[data-testid="stMain"] button:has-text("much better")')
        expect(buttons).to_have_count(4)      # A much / B much better, on both scales
        for n in range(4):
            button = buttons.nth(n)
            expect(button).to_be_visible()
            # A cut label ends in an ellipsis: some box inside is narrower than its text.
            cut = button.evaluate("b => [b, ...b.querySelectorAll('*')].filter("
                                  "e => e.scrollWidth > e.clientWidth + 1).length")
            assert cut == 0, button.inner_text()
        browser.close()
