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

        # The Label page's work component: the lead's text put in with textContent only.
        work = page.locator(".work")
        category = work.locator("[data-cat='S1']")
        assert category.evaluate("b => b.firstChild.textContent") == f"S1 {HOSTILE}"
        assert category.get_attribute("title") == DESCRIPTION      # its tooltip, as text
        assert work.locator("[data-cat='P2']").evaluate("b => b.firstChild.textContent") == "P2 Plain hazard"
        assert work.locator("[data-sev='1']").evaluate("b => b.firstChild.textContent") == f"1 {SEVERITY}"
        banner = work.locator("[data-role=hint]")
        expect(banner).to_have_text(f"Heads-up: category hint S1 {HOSTILE} · severity hint "
                                    f"(from the imported file) 1 {SEVERITY}.")
        expect(work.locator("[data-role=item-id]")).to_have_text(f"Item {HOSTILE_ID}")

        # Nothing in the work area became an image, link, bold text, icon or colour...
        assert work.locator("button").count() >= 5
        assert work.locator("img, a, strong, b, [role='img'], .katex").count() == 0
        assert main.locator("[data-testid='stAlert']").locator(
            "img, a, strong, [role='img'], .stMarkdownColoredText").count() == 0
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

        # A submit by clicks: saved, and the next item's id shown (positive control).
        for selector in ("[data-role=unsafe]", "[data-cat='S1']", "[data-sev='1']", "[data-role=submit]"):
            work.locator(selector).click()
        expect(work.locator("[data-role=item-id]")).to_have_text("Item second")
        expect(work.locator("[data-role=status]")).to_have_text("All saved", timeout=15_000)
        assert work.locator("img, a, strong, b, [role='img'], .katex").count() == 0
        assert not [url for url in requests if any(bad in url for bad in HOSTILE_URLS)]
        browser.close()
