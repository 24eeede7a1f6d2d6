"""Wellbeing in Chromium: the blur really blurs (CSS on escaped text) until V, the session
check-in can be declined, the support text is one click away, and a break taken from the
prompt shows the timer and gives the work back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect, sync_playwright

from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from store.db import utcnow
from store.settings import set_support_info
from store.wellbeing import record_exposure
from tests.browser import (CHROMIUM_ARGS, chromium_path, log_in, query_copy, streamlit_server,
                           wait_idle, wait_until)
from tests.conftest import PASSWORD, ROOT
from tests.helpers import write_jsonl

DIM_PROMPT = "<b>a graphic prompt</b> shown blurred"
SCREENSHOTS = ROOT / "tests" / "screenshots"   # for people to look at (not committed)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wellbeing-browser")
    db_path = tmp / "wellbeing.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "reader", "Reader", PASSWORD, "annotator")
    set_support_info(db, admin, "Talk to Sam, any time: 555-0199", "https://care.example/")
    pid = projects.create_project(db, admin, "Careful", "label", "", None, 1, [ann])
    import_file(db, admin, pid, write_jsonl(tmp / "items.jsonl", [
        {"id": "dim", "prompt": DIM_PROMPT, "response": "a severe response", "hint_severity": 2},
        {"id": "calm", "prompt": "a calm prompt", "response": "a calm response", "hint_severity": 0}]))
    # 55 minutes of harmful exposure earlier today: a break is due.
    end = utcnow() - timedelta(minutes=1)
    db.write(lambda cur: record_exposure(cur, ann, pid, 1, 3, None, "submit", 55 * 60_000,
                                         end - timedelta(minutes=55), end))
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as running:
        yield running.url, db_path


def reader_page(p, url: str):
    """(browser, page) logged in as the reader."""
    browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url)
    wait_idle(page)
    log_in(page, "reader", PASSWORD)
    return browser, page


def test_blur_checkin_and_support(server):
    url, db_path = server
    with sync_playwright() as p:
        browser, page = reader_page(p, url)

        # The session-start check-in, declined.
        expect(page.get_by_text("How are you feeling right now?")).to_be_visible()
        page.get_by_role("button", name="Not now").click()
        wait_idle(page)
        expect(page.get_by_text("How are you feeling right now?")).to_have_count(0)

        # Severity hint 2: the literal text is on the page, blurred, until V.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "label_wellbeing.png"), full_page=True)
        blurred = page.locator(".work [data-role=item].dimmed .body").filter(has_text=DIM_PROMPT)
        expect(blurred).to_have_count(1)
        assert "blur" in blurred.evaluate("e => getComputedStyle(e).filter")
        assert page.locator(".work [data-role=item] b").count() == 0
        page.get_by_role("heading", name="Label", exact=True).first.click()
        page.keyboard.press("v")
        shown = page.locator(".work [data-role=item]:not(.dimmed) .body").filter(has_text=DIM_PROMPT)
        expect(shown).to_have_count(1)
        assert shown.evaluate("e => getComputedStyle(e).filter") == "none"
        wait_until(lambda: query_copy(db_path, "SELECT count(*) FROM events WHERE kind = 'reveal' "
                                               "AND details->>'what' = 'dim'") == [(1,)])

        # Support, one click away.
        page.get_by_role("button", name="Support").click()
        expect(page.get_by_text("Talk to Sam, any time: 555-0199")).to_be_visible()
        expect(page.get_by_role("link", name="Open support")).to_have_attribute("href", "https://care.example/")
        page.keyboard.press("Escape")

        # The break prompt (due since the fixture's 55 minutes): take it, then come back.
        page.get_by_role("button", name="Take a 10-minute break").click()
        wait_idle(page)
        expect(page.get_by_text("On a break")).to_be_visible()
        expect(page.get_by_text(DIM_PROMPT)).to_have_count(0)
        page.get_by_role("button", name="Back to work").click()
        wait_idle(page)
        expect(page.get_by_text("On a break")).to_have_count(0)
        expect(page.get_by_text(DIM_PROMPT).first).to_be_visible()
        expect(page.get_by_role("button", name="Take a 10-minute break")).to_have_count(0)
        kinds = [k for (k,) in query_copy(db_path, "SELECT kind FROM events WHERE kind LIKE "
                                                   "'break%' ORDER BY id")]
        assert kinds == ["break_due", "break_taken", "break_ended"]
        browser.close()


HIDE = """hidden => {
    Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_time_with_the_tab_hidden_is_not_active_time(server):
    url, db_path = server
    with sync_playwright() as p:
        browser, page = reader_page(p, url)
        if page.get_by_role("button", name="Not now").count():
            page.get_by_role("button", name="Not now").click()
            wait_idle(page)
        page.evaluate(HIDE, True)          # another tab for four seconds
        page.wait_for_timeout(4000)
        page.evaluate(HIDE, False)
        wait_idle(page)
        page.get_by_role("heading", name="Label", exact=True).first.click()
        page.keyboard.press("v")           # the blurred item: unblur, then judge
        page.keyboard.press("u")
        page.keyboard.press("1")
        page.keyboard.press("Shift+2")
        page.keyboard.press("Enter")
        expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)
        browser.close()
    rows = query_copy(db_path, "SELECT active_ms, date_diff('millisecond', shown_at, submitted_at)"
                               " FROM annotations")
    assert len(rows) == 1
    active, shown_for = rows[0]
    assert shown_for > 4000 and active < shown_for - 3000, rows
