"""work.js alone in Chromium (no Streamlit): the component called with server data as
Streamlit would, to check what the browser shows when the server reorders the items it holds."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from core.label_kind import LABEL_KEYS, label_rules
from core.taxonomy import DEFAULT_TAXONOMY
from tests.browser import CHROMIUM_ARGS, chromium_path

SURFACE = Path(__file__).resolve().parents[1] / "components" / "work_surface"
BASE = {"kind": "label", "user": 1, "project": 1, "rules": label_rules(DEFAULT_TAXONOMY),
        "keys": LABEL_KEYS, "rejected": [], "show_first": None, "seq": 0, "undo_seconds": 120}


def item(item_id: int, text: str) -> dict:
    return {"id": item_id, "external_id": f"x{item_id}",
            "blocks": [{"role": "PROMPT", "segments": [{"t": text}], "empty": False}],
            "full_blocks": [], "masked_terms": 0, "reveal_by_preference": 0, "hint": "",
            "notice": "", "gated": False, "dimmed": False, "response": None,
            "has_response": False, "view": "00", "max_rewrite_chars": 50000}


@pytest.fixture
def page():
    js = (SURFACE / "work.js").read_text().replace("export default function",
                                                   "window.__work = function")
    html = (f"<style>{(SURFACE / 'work.css').read_text()}</style><h1 tabindex=-1 id=h>page</h1>"
            f"<div id=host>{(SURFACE / 'work.html').read_text()}</div>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(html)
        page.add_script_tag(content=js)
        page.evaluate("""() => { window.__sent = [];
            window.__call = (d) => window.__work({parentElement: document.getElementById('host'),
                data: d, setTriggerValue: (k, v) => window.__sent.push(v)}); }""")
        yield page
        browser.close()


def shown(page) -> str:
    return page.locator("[data-role=item]").text_content()


def test_the_browser_follows_the_servers_routing_unless_the_person_began_the_item(page):
    page.evaluate("(d) => window.__call(d)", {**BASE, "acked": [], "items": [
        item(1, "SEVERE EIGHT"), item(2, "SEVERE NINE"), item(3, "SEVERE TEN")]})
    assert "SEVERE EIGHT" in shown(page)
    page.click("#h")
    page.keyboard.press("g")
    page.keyboard.press("Enter")
    assert "SEVERE NINE" in shown(page)           # the next held item, at once
    sent = page.evaluate("() => window.__sent.at(-1)")["entries"][0]["id"]
    # The server's reply: that answer made a light item due, and it holds it first.
    page.evaluate("(d) => window.__call(d)", {**BASE, "acked": [sent], "items": [
        item(4, "LIGHT ITEM"), item(2, "SEVERE NINE"), item(3, "SEVERE TEN")]})
    assert "LIGHT ITEM" in shown(page)
    # Positive control: once the person has begun an item (a verdict chosen), a reorder
    # does not take it away from them.
    page.keyboard.press("g")
    page.evaluate("(d) => window.__call(d)", {**BASE, "acked": [], "seq": 1, "items": [
        item(2, "SEVERE NINE"), item(4, "LIGHT ITEM"), item(3, "SEVERE TEN")]})
    assert "LIGHT ITEM" in shown(page)
