"""End to end in Chromium against a real `streamlit run`: set up, import, label, check the file."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from store.db import open_database
from tests.browser import session_cookies, streamlit_server, wait_idle, wait_until
from tests.browser import log_in as submit_login
from tests.conftest import PASSWORD, SETUP_TOKEN
from tests.helpers import write_jsonl


def fill(page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def log_in(page, url: str, username: str) -> None:
    page.goto(url)
    wait_idle(page)
    submit_login(page, username, PASSWORD)


def go_to(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    wait_idle(page)


def test_setup_import_and_label_three_items(browser, tmp_path):
    db_path = tmp_path / "e2e.duckdb"
    data = write_jsonl(tmp_path / "upload.jsonl", [
        {"id": f"e2e-{n}", "prompt": f"Browser prompt {n}", "response": f"Browser response {n}"}
        for n in range(5)])
    env = {"SAFELABEL_SETUP_TOKEN": SETUP_TOKEN, "SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}
    with streamlit_server(db_path, env) as server:
        url = server.url
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda dialog: pytest.fail(f"unexpected dialog: {dialog.message}"))
        page.goto(url)
        wait_idle(page)
        expect(page.get_by_role("heading", name="Set up SafeLabel")).to_be_visible()
        fill(page, "Setup token", SETUP_TOKEN)
        fill(page, "Admin username", "boss")
        fill(page, "Display name", "Boss")
        fill(page, "Password", PASSWORD)
        fill(page, "Repeat password", PASSWORD)
        page.get_by_role("button", name="Create admin account").click()
        wait_idle(page)
        expect(page.get_by_text("Admin account created")).to_be_visible()

        log_in(page, url, "boss")
        cookie, = session_cookies(page.context)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.evaluate("document.cookie").find("safelabel_session") == -1
        go_to(page, "Users")
        fill(page, "Username", "annie")
        fill(page, "Display name", "Annie")
        fill(page, "Initial password", PASSWORD)
        page.get_by_role("button", name="Create account").click()
        wait_idle(page)
        expect(page.get_by_text("Account 'annie' created")).to_be_visible()

        go_to(page, "Projects")
        fill(page, "Name", "Browser pilot")
        page.get_by_text("Open to every annotator").first.click()
        page.get_by_role("button", name="Create project").click()
        wait_idle(page)
        expect(page.get_by_text("Project 'Browser pilot' created")).to_be_visible()

        go_to(page, "Import")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(data))
        wait_idle(page)
        expect(page.get_by_text("Preview")).to_be_visible()
        page.get_by_role("button", name="Import", exact=True).click()
        wait_idle(page)
        expect(page.get_by_text("Read 5 rows: added 5 items")).to_be_visible()

        page.get_by_role("button", name="Log out").click()
        wait_idle(page)
        expect(page.get_by_text("You have logged out.")).to_be_visible()
        expect(page.get_by_role("link", name="Users")).to_have_count(0)
        # The page asks the server to delete the HttpOnly cookie (scripts cannot see it).
        wait_until(lambda: not session_cookies(page.context))
        log_in(page, url, "annie")
        expect(page.get_by_role("heading", name="Label", exact=True).first).to_be_visible()
        expect(page.get_by_role("heading", name="Log in to SafeLabel")).to_have_count(0)
        for n in range(3):
            expect(page.get_by_text(f"Browser prompt {n}", exact=True).first).to_be_visible()
            # Clicked, not typed: the keys have their own tests (test_browser_work_surface.py).
            page.locator(".work [data-role=safe]").click()   # severity 0 comes with it
            page.locator(".work [data-role=submit]").click()
        # The work component saves in the background and says when all is saved.
        expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)
        page.close()

    db = open_database(db_path)
    with db.read() as cur:
        rows = cur.execute(
            "SELECT i.external_id, a.is_safe, a.severity, u.username FROM annotations a "
            "JOIN items i ON i.id = a.item_id JOIN users u ON u.id = a.user_id ORDER BY a.id").fetchall()
    db.close()
    assert rows == [(f"e2e-{n}", True, 0, "annie") for n in range(3)]
