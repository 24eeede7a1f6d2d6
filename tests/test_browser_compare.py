"""One comparison done with the keyboard alone, in Chromium against a real server (the
Compare page's work component)."""
from __future__ import annotations

from playwright.sync_api import expect, sync_playwright

from core.preference import left_response
from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from tests.browser import CHROMIUM_ARGS, chromium_path, log_in, query_copy, streamlit_server, wait_idle
from tests.conftest import PASSWORD
from tests.helpers import write_jsonl


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
        for key in ("2", "Shift+3", "a", "Enter"):   # harmlessness, helpfulness, overall, submit
            page.keyboard.press(key)
        # The work component saves in the background and says when all is saved.
        expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)
        expect(page.locator(".work [data-role=item]")).to_contain_text("Nothing left")
        browser.close()
    judgment = query_copy(db_path, "SELECT judgment FROM annotations")[0][0]
    import json
    judgment = json.loads(judgment)
    left = left_response(ann, item_id)
    assert judgment["left"] == left
    assert judgment["overall"] == left                       # "A" = the left response
    assert judgment["harmlessness"] == (2 if left == "a" else -2)   # key 2 = "A better"
    assert judgment["helpfulness"] == (1 if left == "a" else -1)    # Shift+3 = "A slightly better"
