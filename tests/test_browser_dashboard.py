"""The dashboard in Chromium: a lead opens /dashboard and every chart renders (plotly SVG), and
a full-page screenshot is kept in tests/screenshots/dashboard.png for people to look at."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from store.bootstrap import open_app_database
from tests.browser import CHROMIUM_ARGS, chromium_path, log_in, streamlit_server, wait_idle
from tests.conftest import PASSWORD, ROOT
from tests.test_dashboard import CHARTS_FOR_LEAD, make_team, seed_every_panel

SCREENSHOT = ROOT / "tests" / "screenshots" / "dashboard.png"
CHART = '[data-testid="stPlotlyChart"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard-browser")
    db_path = tmp / "dashboard.duckdb"
    db = open_app_database(db_path, demo=False)
    seed_every_panel(db, make_team(db), tmp)
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as running:
        yield running.url


def test_lead_dashboard_renders_every_chart(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{server}/dashboard")      # a deep link: opens after the login
            wait_idle(page)
            log_in(page, "lead", PASSWORD)
            expect(page.get_by_role("heading", name="Dashboard", exact=True).first).to_be_visible(
                timeout=30_000)
            # Every chart container holds a plotly plot whose main SVG has drawn its traces.
            page.wait_for_function(
                """([selector, expected]) => {
                    const charts = document.querySelectorAll(selector);
                    return charts.length === expected && [...charts].every(
                        c => c.querySelector('.js-plotly-plot svg.main-svg .cartesianlayer .trace'));
                }""", arg=[CHART, CHARTS_FOR_LEAD], timeout=60_000)
            wait_idle(page)
            assert page.locator(CHART).count() == CHARTS_FOR_LEAD
            assert page.locator(f"{CHART} .js-plotly-plot").count() == CHARTS_FOR_LEAD
            expect(page.get_by_text("No data for these filters yet.")).to_have_count(0)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            assert errors == []

            # Streamlit scrolls inside its own container, not the document: make the window
            # as tall as the content so a full-page screenshot holds the whole dashboard.
            height = page.evaluate(
                "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            page.set_viewport_size({"width": 1400, "height": max(1100, int(height) + 100)})
            page.wait_for_timeout(500)
            wait_idle(page)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            SCREENSHOT.unlink(missing_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 50_000
