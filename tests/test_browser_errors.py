"""What a visitor's browser shows when the server cannot work: a plain message, never a
traceback, exception type or server path (the details go to the server console)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from store.db import open_database
from tests.browser import CHROMIUM_ARGS, chromium_path, streamlit_server, wait_idle
from tests.helpers import held_by_another_process

DETAILS = ("Traceback", 'File "', "IO Error", "IOException", "_duckdb", "DatabaseLockedError", "StoreError")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_app(browser, url: str):
    page = browser.new_page()
    page.goto(url)
    wait_idle(page)
    return page


def test_a_second_server_on_a_held_file_says_so_plainly(browser, tmp_path):
    db_path = tmp_path / "held.duckdb"
    open_database(db_path).close()
    with held_by_another_process(db_path), streamlit_server(db_path, {"SAFELABEL_DEMO": "0"}) as server:
        page = open_app(browser, server.url)
        alert = page.locator("[data-testid='stAlert']")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("Another SafeLabel process holds the database file held.duckdb.")
        assert page.locator("[data-testid='stException']").count() == 0
        body = page.locator("[data-testid='stApp']").inner_text()
        assert not [word for word in DETAILS if word in body]
        assert str(tmp_path) not in body
        page.close()
    assert f"cannot open {db_path}" in server.log.read_text()    # the console has the details


def test_an_unexpected_error_shows_no_details(browser, tmp_path):
    not_a_file = tmp_path / "a-folder"          # DuckDB cannot open a folder: an uncaught error
    not_a_file.mkdir()
    with streamlit_server(tmp_path / "unused.duckdb", {"SAFELABEL_DB": str(not_a_file)}) as server:
        page = open_app(browser, server.url)
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        alert = page.locator("[data-testid='stAlert']")
        expect(alert).to_contain_text("Something went wrong on this page.")  # reported plainly
        text = page.locator("[data-testid='stApp']").inner_text()
        assert not [word for word in DETAILS if word in text]     # ...without its details
        assert str(tmp_path) not in text
        page.close()
    assert "Traceback" in server.log.read_text()                 # the console has the details
