"""Hidden characters in Chromium, in the Label page's work component: a right-to-left
override shows as a marker and the text after it reads in order (the same check sees it
reversed when the person chooses the text as rendered: the positive control); hostile
markup stays literal; a Hebrew block is laid out right to left in its own block."""
from __future__ import annotations

from playwright.sync_api import expect

from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from tests.browser import log_in, streamlit_server, wait_idle
from tests.conftest import PASSWORD
from tests.helpers import write_jsonl

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>**bold**"
PROMPT = f"safe words \u202eABCDEF then more {HOSTILE}"
MARKED = f"safe words ⟦RLO⟧ABCDEF then more {HOSTILE}"
HEBREW = "שלום עולם, זו תשובה"
TOGGLE = "Show text as rendered (hidden characters not marked)"

# Where "A" and "F" of ABCDEF are drawn, and where the block's text starts and ends
# compared with its box, measured with DOM ranges on the text nodes (a marker is an element
# of its own, so the block's text can span several nodes).
MEASURE = """(block) => {
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) if (walker.currentNode.textContent.trim()) nodes.push(walker.currentNode);
    const rect = (node, i, j) => { const r = document.createRange(); r.setStart(node, i);
                                   r.setEnd(node, j); return r.getBoundingClientRect(); };
    const letters = nodes.find(n => n.textContent.includes('ABCDEF'));
    const at = letters ? letters.textContent.indexOf('ABCDEF') : -1;
    const first = nodes[0], last = nodes[nodes.length - 1];
    const r = document.createRange(); r.setStart(first, 0); r.setEnd(last, last.textContent.length);
    const all = r.getBoundingClientRect(), box = block.getBoundingClientRect();
    return {text: block.textContent, a: at < 0 ? null : rect(letters, at, at + 1).left,
            f: at < 0 ? null : rect(letters, at + 5, at + 6).left,
            leftGap: all.left - box.left, rightGap: box.right - all.right,
            bidi: getComputedStyle(block).unicodeBidi, direction: getComputedStyle(block).direction};
}"""


def make_state(tmp_path):
    db_path = tmp_path / "hidden.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "reader", "Reader", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Tricks", "label", "", None, 1, [ann])
    import_file(db, admin, pid, write_jsonl(tmp_path / "items.jsonl", [
        {"id": "rlo", "prompt": PROMPT, "response": HEBREW}]))
    db.close()
    return db_path


def block(page, has_text: str):
    return page.locator(".work [data-role=item] .body").filter(has_text=has_text)


def label_of(page, has_text: str):
    return page.locator(".work [data-role=item] .head").filter(has_text=has_text)


def test_override_is_a_marker_text_reads_in_order_and_markup_stays_literal(browser, tmp_path):
    db_path = make_state(tmp_path)
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(server.url)
        wait_idle(page)
        log_in(page, "reader", PASSWORD)

        prompt = block(page, "safe words")
        expect(prompt).to_have_count(1)
        marked = prompt.evaluate(MEASURE)
        assert marked["text"] == MARKED                      # logical order, marker in place
        assert marked["a"] < marked["f"]                     # drawn left to right: not reversed
        notice = page.locator(".work [data-role=notice]")
        expect(notice).to_contain_text("PROMPT: 1 right-to-left override.")

        # Item text is data: no element made from it, no script run.
        box = page.locator(".work [data-role=item]")
        assert box.locator("img, script, strong, b").count() == 0
        assert box.locator(".marker").count() == 1      # positive control: the marker element
        assert page.locator("img[src='x']").count() == 0
        assert dialogs == []

        # Right-to-left text: its own block, laid out from the right edge; the label
        # above it (positive control) starts at the left.
        hebrew = block(page, HEBREW).evaluate(MEASURE)
        label = label_of(page, "RESPONSE").first.evaluate(MEASURE)
        assert hebrew["bidi"] == "isolate" and hebrew["direction"] == "rtl"    # dir="auto"
        assert marked["direction"] == "ltr"
        assert hebrew["rightGap"] < 2 < hebrew["leftGap"]
        assert label["leftGap"] < 2 < label["rightGap"]

        # As rendered: the override is back and the same measure sees the text reversed.
        page.locator("[data-testid='stSidebar']").get_by_text(TOGGLE).click()
        wait_idle(page)
        expect(box.locator(".marker")).to_have_count(0)
        rendered = block(page, "safe words").evaluate(MEASURE)
        assert rendered["text"] == PROMPT
        assert rendered["a"] > rendered["f"]
        expect(notice).to_contain_text("shown as rendered")
        expect(notice).to_contain_text("PROMPT: 1 right-to-left override.")
        assert box.locator("img, script, strong, b").count() == 0
        assert dialogs == []
        page.close()
