"""What Chromium draws from a lead's taxonomy and a file's ids and hints: the literal text, and
no image, link, icon or colour made from it (the project guidelines, Markdown by design, are
the positive control: their link is a link and their heading a heading, while their images,
Markdown or HTML, show as "[image: alt]" and are never fetched)."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from tests.browser import CHROMIUM_ARGS, chromium_path, log_in, streamlit_server, wait_idle
from tests.conftest import PASSWORD
from tests.helpers import HOSTILE, HOSTILE_ID, write_jsonl

JOINER = "\u2060"
DESCRIPTION = "See [the policy](http://evil/policy) ![i](http://127.0.0.1:9/description.png) :material/home:"
SEVERITY = "mild **loud** :blue[y] www.evil.com"
GUIDELINES = ("## Read first\n\nRead [the guide](http://127.0.0.1:9/guide). "
              "![logo](http://127.0.0.1:9/guide.png) <img src='http://127.0.0.1:9/tag.png' alt='tag'>"
              " <b>not bold</b>")
HOSTILE_URLS = ("hostile.png", "description.png", "evil", "guide.png", "tag.png")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("escaping-browser")
    db_path = tmp / "escaping.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "reader", "Reader", PASSWORD, "annotator")
    taxonomy = json.dumps({
        "categories": [{"code": "S1", "name": HOSTILE, "description": DESCRIPTION},
                       {"code": "P2", "name": "Plain hazard", "description": "Plain words"}],
        "severity": [{"level": 0, "name": "none"}, {"level": 1, "name": SEVERITY},
                     {"level": 2, "name": "moderate"}]})
    pid = projects.create_project(db, admin, "Hostile", "label", GUIDELINES, taxonomy, 1, [ann])
    import_file(db, admin, pid, write_jsonl(tmp / "items.jsonl", [
        {"id": HOSTILE_ID, "prompt": "a prompt", "response": "a response", "hint_category": "S1",
         "hint_severity": 1},
        {"id": "second", "prompt": "another prompt", "response": "another response"}]))
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as running:
        yield running.url


def visible_text(locator) -> str:
    return locator.inner_text().replace(JOINER, "")


def button_label(page, key: str):
    """The label of the button with this key prefix (Streamlit draws a button that has a
    tooltip twice; the label is its Markdown container, beside the shortcut badge)."""
    return page.locator(f"[class*='st-key-{key}'] button [data-testid='stMarkdownContainer']").first


def test_taxonomy_hint_and_id_show_literally_and_load_nothing(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(server)
        wait_idle(page)
        log_in(page, "reader", PASSWORD)
        main = page.locator("section.stMain, [data-testid='stMain']").first

        category = button_label(page, "cat_S1_")
        assert visible_text(category) == f"S1 {HOSTILE}"
        expect(button_label(page, "cat_P2_")).to_have_text("P2 Plain hazard")
        assert visible_text(button_label(page, "sev_1_")) == f"1 {SEVERITY}"
        banner = main.locator("[data-testid='stAlert']", has_text="Heads-up")
        expect(banner).to_have_count(1)
        assert (f"category hint S1 {HOSTILE} · severity hint (from the imported file) 1 "
                f"{SEVERITY}.") in visible_text(banner)

        category.hover()
        tooltip = page.locator("[data-testid='stTooltipContent']")
        expect(tooltip).to_have_count(1)
        assert visible_text(tooltip) == DESCRIPTION
        assert tooltip.locator("img, a, strong, [role='img']").count() == 0

        # Nothing in the work area became an image, link, bold text, icon or colour...
        work = main.locator("[class*='st-key-cat_'], [class*='st-key-sev_'], [data-testid='stAlert']")
        assert work.count() >= 5
        assert work.locator("img, a, strong, [role='img'], .stMarkdownColoredText").count() == 0
        # ...while the guidelines (Markdown on purpose, in the dialog of key M) did: a heading
        # and a link, but their images (Markdown and HTML) are text and HTML is not drawn.
        page.get_by_role("heading", name="Label", exact=True).click()  # focus the page, not a field
        page.keyboard.press("m")
        dialog = page.get_by_role("dialog")
        guide = dialog.locator("a[href='http://127.0.0.1:9/guide']")
        expect(guide).to_have_count(1)
        expect(dialog.locator("h2", has_text="Read first")).to_have_count(1)
        text = visible_text(dialog)
        assert "[image: logo]" in text and "[image: tag]" in text and "<b>not bold</b>" in text
        assert dialog.locator("img, b, iframe").count() == 0
        assert requests      # the listener sees the app's own requests
        assert not [url for url in requests if any(bad in url for bad in HOSTILE_URLS)]
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)

        # The item's id from the file, in the notice after a submit.
        for key in ("unsafe_", "cat_S1_", "sev_1_", "submit_"):
            page.locator(f"[class*='st-key-{key}'] button").first.click()
            wait_idle(page)
        notice = main.locator("[data-testid='stAlert']", has_text="Saved item")
        expect(notice).to_have_count(1)
        assert visible_text(notice) == f"Saved item {HOSTILE_ID}."
        assert notice.locator("img, a, strong, b, [role='img'], .katex").count() == 0
        assert not [url for url in requests if any(bad in url for bad in HOSTILE_URLS)]
        browser.close()
