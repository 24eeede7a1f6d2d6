"""The work component in Chromium (issue 12): keyboard alone for 20 items on the Label page
and 20 on the Compare page, checked row by row in the database; Enter on a focused Skip skips; typing in the note fires
no shortcut; undo of a submit and of a skip; a reload re-sends an unacknowledged answer
exactly once; hostile text stays literal; hidden characters show as markers."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from core.preference import left_response
from store import projects, users
from store.bootstrap import open_app_database
from store.imports import import_file
from tests.browser import (free_port, log_in, query_copy, streamlit_server, wait_idle,
                           wait_until)
from tests.conftest import PASSWORD
from tests.helpers import write_jsonl

HOSTILE = ('<img src=x onerror="window.__pwned=1"> **bold** <script>alert(2)</script> '
           '[link](javascript:alert(3)) :red[x]')
TRICK = "zero\u200bwidth and \u202eABCDEF reversed"
HOST = '[data-testid="stBidiComponentIsolated"]'
OUTBOX_KEYS = "() => Object.keys(sessionStorage).filter(k => k.startsWith('safelabel.outbox')).length"
DROP_SENDS = """() => {
    window.__send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) { window.__dropped = (window.__dropped || 0) + 1; };
}"""
RESTORE_SENDS = "() => { WebSocket.prototype.send = window.__send; }"


def make_db(tmp_path, rows, name="work"):
    db_path = tmp_path / f"{name}.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "keys", "Keys", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Keyboard", "label", "", None, 1, [ann])
    import_file(db, admin, pid, write_jsonl(tmp_path / f"{name}.jsonl", rows))
    db.close()
    return db_path


def plain_rows(n, prefix="k"):
    return [{"id": f"{prefix}{i:02d}", "prompt": f"Work prompt {i}", "response": f"Work response {i}"}
            for i in range(n)]


@pytest.fixture
def page_for(browser):
    """page_for(url) -> a logged-in page on the Label page (dialogs recorded)."""
    contexts = []

    def open_page(url):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        contexts.append(context)
        page = context.new_page()
        page.dialogs, page.unload_warnings = [], []

        def on_dialog(dialog):
            if dialog.type == "beforeunload":       # leave anyway (after the warning)
                page.unload_warnings.append(dialog.type)
                dialog.accept()
            else:
                page.dialogs.append(dialog.message)
                dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        wait_idle(page)
        log_in(page, "keys", PASSWORD)
        expect(page.locator(".work")).to_be_visible()
        return page

    yield open_page
    for context in contexts:
        context.close()


def item_text(page):
    return page.locator(".work [data-role=item]")


def shown(page, text):
    expect(item_text(page)).to_contain_text(text)


def focus_page(page):
    """Focus the page body, as a person who clicks beside the controls."""
    page.get_by_role("heading", name="Label", exact=True).click()


def all_saved(page):
    expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)


def rows(db_path, sql):
    return query_copy(db_path, sql)


ANSWERS = ("SELECT i.external_id, a.is_safe, a.categories, a.severity, a.note FROM annotations a"
           " JOIN items i ON i.id = a.item_id ORDER BY a.id")


def test_twenty_items_by_keyboard_alone_row_by_row(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(22))
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        focus_page(page)
        expected = []
        for n in range(20):
            shown(page, f"Work prompt {n}")
            if n % 3 == 0:
                presses, label = ["g"], (True, [], 0)
            elif n % 3 == 1:
                presses, label = ["u", "1", "Shift+3"], (False, ["S1"], 3)
            else:
                presses, label = ["2", "y", "Shift+2"], (False, ["S2", "X1"], 2)
            for key in presses:
                page.keyboard.press(key)
            page.keyboard.press("Enter")
            expected.append((f"k{n:02d}", *label, None))
        shown(page, "Work prompt 20")
        all_saved(page)
        assert page.dialogs == []
        got = rows(db_path, ANSWERS)
        assert [(r[0], r[1], sorted(r[2]), r[3], r[4]) for r in got] == expected
        assert rows(db_path, "SELECT count(*) FROM client_answers WHERE kind = 'submit'") == [(20,)]


def test_enter_on_a_focused_skip_skips_and_typing_in_the_note_fires_nothing(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(4))
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        shown(page, "Work prompt 0")
        # Typing "sgu" in the note: no skip, no verdict; the note holds the letters.
        page.locator(".work [data-role=note]").click()
        page.keyboard.type("sgu")
        shown(page, "Work prompt 0")
        expect(page.locator(".work [data-role=safe]")).not_to_have_class("choice on")
        expect(page.locator(".work [data-role=unsafe]")).not_to_have_class("choice on")
        expect(page.locator(".work [data-role=note]")).to_have_value("sgu")
        # Esc leaves the field; then G works (positive control for the keys).
        page.keyboard.press("Escape")
        page.keyboard.press("g")
        expect(page.locator(".work [data-role=safe]")).to_have_class("choice on")
        # Enter on a focused Skip: a skip, not a submit (the safe choice is not saved).
        page.locator(".work [data-role=skip]").focus()
        page.keyboard.press("Enter")
        shown(page, "Work prompt 1")
        all_saved(page)
        assert rows(db_path, "SELECT count(*) FROM annotations") == [(0,)]
        assert rows(db_path, "SELECT i.external_id FROM events e JOIN items i ON i.id = e.item_id"
                             " WHERE e.kind = 'skip'") == [("k00",)]
        # Enter from the page body submits (positive control).
        focus_page(page)
        page.keyboard.press("g")
        page.keyboard.press("Enter")
        shown(page, "Work prompt 2")
        all_saved(page)
        assert [r[0] for r in rows(db_path, ANSWERS)] == ["k01"]
        # A question to the leads is about the item on screen; typing it fires no work key.
        page.get_by_role("button", name="Ask a lead about this item").click()
        question = page.get_by_label("Your question (a lead answers in your Inbox)")
        question.fill("is this ok")
        question.press("g")          # typed in the question: no verdict chosen
        page.get_by_role("button", name="Send question").click()
        expect(page.get_by_text("Sent to the leads.")).to_be_visible()
        assert rows(db_path, "SELECT i.external_id, m.body FROM messages m JOIN items i"
                             " ON i.id = m.item_id") == [("k02", "is this okg")]
        expect(page.locator(".work [data-role=safe]")).not_to_have_class("choice on")
        shown(page, "Work prompt 2")
        # A held S repeats its keydown: only the press acts (holding S skipped every
        # prefetched item). Repeats alone do nothing; a press skips once (positive control).
        focus_page(page)
        page.evaluate("""() => { for (let n = 0; n < 4; n++) document.body.dispatchEvent(
            new KeyboardEvent("keydown", {key: "s", code: "KeyS", repeat: true,
                                          bubbles: true, composed: true})); }""")
        page.keyboard.press("s")
        shown(page, "Work prompt 3")
        all_saved(page)
        assert rows(db_path, "SELECT count(*) FROM events WHERE kind = 'skip'") == [(2,)]


def test_undo_a_skip_then_a_submit(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(4))
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        focus_page(page)
        shown(page, "Work prompt 0")
        page.keyboard.press("s")
        shown(page, "Work prompt 1")
        all_saved(page)
        page.keyboard.press("z")              # the skip comes back first
        shown(page, "Work prompt 0")
        all_saved(page)
        assert rows(db_path, "SELECT count(*) FROM events WHERE kind = 'undo'") == [(1,)]
        assert rows(db_path, "SELECT i.external_id FROM claims c JOIN items i ON i.id = c.item_id"
                             " ORDER BY c.claimed_at LIMIT 1") == [("k00",)]
        page.keyboard.press("g")
        page.keyboard.press("Enter")
        shown(page, "Work prompt 1")
        all_saved(page)
        page.keyboard.press("z")              # the submit reopens as a correction
        expect(page.get_by_text("Undone: correct your answer below")).to_be_visible()
        expect(page.get_by_role("button", name="Save correction")).to_be_visible()
        assert rows(db_path, "SELECT count(*) FROM events WHERE kind = 'undo'") == [(2,)]
        assert [r[0] for r in rows(db_path, ANSWERS)] == ["k00"]


def test_a_reload_resends_an_unacknowledged_answer_exactly_once(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(4))
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        focus_page(page)
        shown(page, "Work prompt 0")
        # The connection drops before the answer reaches the server: everything the page
        # sends on its WebSocket goes nowhere (the reload below gets a fresh, unpatched one).
        page.evaluate(DROP_SENDS)
        page.keyboard.press("g")
        page.keyboard.press("Enter")
        shown(page, "Work prompt 1")
        expect(page.locator(".work [data-role=status]")).to_have_text("Saving 1 answer…")
        outbox = page.evaluate("() => Object.entries(sessionStorage)"
                               ".filter(([k]) => k.startsWith('safelabel.outbox'))")
        assert len(outbox) == 1 and len(json.loads(outbox[0][1])) == 1
        assert rows(db_path, "SELECT count(*) FROM annotations") == [(0,)]
        page.reload()
        assert page.unload_warnings == ["beforeunload"]     # warned: an answer was unsent
        wait_idle(page)
        expect(page.locator(".work")).to_be_visible()
        all_saved(page)
        wait_until(lambda: rows(db_path, "SELECT count(*) FROM annotations") == [(1,)])
        assert page.evaluate(OUTBOX_KEYS) == 0        # acknowledged: nothing kept
        # The same answer sent once more (as a browser that missed the acknowledgement would):
        # acknowledged again, never written twice.
        page.evaluate("([k, v]) => sessionStorage.setItem(k, v)", outbox[0])
        page.reload()
        wait_idle(page)
        page.wait_for_function(f"() => ({OUTBOX_KEYS})() === 0")
        all_saved(page)
        assert rows(db_path, ANSWERS) == [("k00", True, [], 0, None)]
        assert rows(db_path, "SELECT count(*) FROM client_answers") == [(1,)]


def test_hostile_text_stays_literal_and_hidden_characters_show_markers(tmp_path, page_for):
    db_path = make_db(tmp_path, [{"id": "x", "prompt": HOSTILE, "response": TRICK}])
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        shown(page, HOSTILE)
        shown(page, "zero⟦ZWSP⟧width and ⟦RLO⟧ABCDEF reversed")
        body = item_text(page)
        assert body.locator("img, script, strong, a").count() == 0
        assert body.locator(".turn").count() == 2           # positive control: elements exist
        assert body.locator(".marker").count() == 2
        expect(page.locator(".work [data-role=notice]")).to_contain_text("1 zero-width character")
        assert page.evaluate("() => window.__pwned === undefined")
        assert page.dialogs == []


def test_a_server_restart_mid_run_loses_nothing_that_showed_as_saved(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(6))
    env = {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}
    port = free_port()
    with streamlit_server(db_path, env, port=port) as server:
        page = page_for(server.url)
        focus_page(page)
        for n in range(2):
            shown(page, f"Work prompt {n}")
            page.keyboard.press("g")
            page.keyboard.press("Enter")
        all_saved(page)                      # these two showed as saved
        # The third is answered while its send is lost, then the server stops.
        page.evaluate(DROP_SENDS)
        shown(page, "Work prompt 2")
        page.keyboard.press("u")
        page.keyboard.press("1")
        page.keyboard.press("Shift+2")
        page.keyboard.press("Enter")
        shown(page, "Work prompt 3")
        expect(page.locator(".work [data-role=status]")).to_have_text("Saving 1 answer…")
    assert [r[0] for r in rows(db_path, ANSWERS)] == ["k00", "k01"]
    page.evaluate(RESTORE_SENDS)
    with streamlit_server(db_path, env, port=port):
        # The page reconnects by itself (no reload); the retry sends the answer again.
        all_saved(page)
        wait_until(lambda: len(rows(db_path, ANSWERS)) == 3, timeout=30)
        got = rows(db_path, ANSWERS)
        assert [(r[0], r[1], sorted(r[2]), r[3]) for r in got] == [
            ("k00", True, [], 0), ("k01", True, [], 0), ("k02", False, ["S1"], 2)]
        shown(page, "Work prompt 3")
        page.keyboard.press("g")                # and work goes on (positive control)
        page.keyboard.press("Enter")
        shown(page, "Work prompt 4")
        all_saved(page)
        assert rows(db_path, "SELECT count(*) FROM client_answers") == [(4,)]


def test_gated_text_stays_off_the_page_until_v_and_masked_words_until_v_again(tmp_path, page_for):
    db_path = make_db(tmp_path, [
        {"id": "gated", "prompt": "a very graphic prompt", "response": "r", "hint_severity": 3},
        {"id": "masked", "prompt": "what the fuck is this", "response": "r2"}])
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        work = page.locator(".work")
        expect(work.locator("[data-role=gate]")).to_be_visible()
        expect(work.locator("[data-role=item-id]")).to_have_text("Item gated")
        assert "graphic" not in work.locator("[data-role=item]").text_content()
        # The rewrite editor holds the full text: locked while the text is behind the gate.
        expect(work.locator("[data-role=rewrite]")).to_be_hidden()
        expect(work.locator("[data-role=rewrite-locked]")).to_have_text(
            "Show the text first (V): the editor holds the full text.")
        focus_page(page)
        page.keyboard.press("v")                       # show the text (it starts blurred: 3 >= 2)
        shown(page, "a very graphic prompt")
        expect(work.locator("[data-role=gate]")).to_be_hidden()
        page.keyboard.press("g")
        page.keyboard.press("Enter")
        shown(page, "what the f*** is this")
        assert "fuck" not in work.locator("[data-role=item]").text_content()
        expect(work.locator("[data-role=reveal]")).to_have_text("Reveal 1 masked word V")
        page.keyboard.press("v")
        shown(page, "what the fuck is this")
        all_saved(page)
        reveals = rows(db_path, "SELECT i.external_id, e.details->>'what', e.details->>'terms'"
                                " FROM events e JOIN items i ON i.id = e.item_id"
                                " WHERE e.kind = 'reveal' ORDER BY e.id")
        assert reveals == [("gated", "text", None), ("masked", "terms", "1")]


def test_flag_needs_a_reason_and_the_rewrite_editor_by_keys(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(3))
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        work = page.locator(".work")
        focus_page(page)
        shown(page, "Work prompt 0")
        page.keyboard.press("f")                      # no reason: nothing sent, the reason box
        expect(work.locator("[data-role=message]")).to_have_text(
            "say briefly why you flag this item: type it in the reason box first")
        expect(work.locator("[data-role=reason]")).to_be_focused()
        page.keyboard.type("off topic")               # F typed here is text, not a flag
        page.keyboard.press("Escape")
        page.keyboard.press("f")
        shown(page, "Work prompt 1")
        # D opens the rewrite editor with the response; Ctrl+Enter submits from it.
        page.keyboard.press("g")
        page.keyboard.press("d")
        editor = work.locator("[data-role=rewrite]")
        expect(editor).to_be_focused()
        expect(editor).to_have_value("Work response 1")
        page.keyboard.press("End")
        page.keyboard.type(", kindly")
        page.keyboard.press("Control+Enter")
        shown(page, "Work prompt 2")
        all_saved(page)
        assert rows(db_path, "SELECT i.external_id, f.reason FROM flags f JOIN items i"
                             " ON i.id = f.item_id") == [("k00", "off topic")]
        assert rows(db_path, "SELECT i.external_id, a.edited_response FROM annotations a JOIN items i"
                             " ON i.id = a.item_id") == [("k01", "Work response 1, kindly")]


def test_twenty_comparisons_by_keyboard_alone_row_by_row(tmp_path, browser):
    db_path = tmp_path / "pairs.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "keys", "Keys", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Pairs", "compare", "", None, 1, [ann])
    import_file(db, admin, pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": f"p{i:02d}", "prompt": f"Pair prompt {i}", "response_a": f"Alpha {i}",
         "response_b": f"Beta {i}"} for i in range(21)]))
    with db.read() as cur:
        ids = dict(cur.execute("SELECT external_id, id FROM items").fetchall())
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(server.url + "/compare")
        wait_idle(page)
        log_in(page, "keys", PASSWORD)
        expect(page.locator(".work")).to_be_visible()
        # Scale points are readable: no label cut short at 1280 px.
        cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
            .flatMap(h => h.shadowRoot ? [...h.shadowRoot.querySelectorAll('.scale button')] : [])
            .filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent)""")
        assert cut == []
        assert page.locator(".work .scale button").count() == 14          # positive control
        page.get_by_role("heading", name="Compare", exact=True).first.click()
        expected = []
        # (harmlessness key, helpfulness key, overall key, screen scores, overall on screen)
        plans = [("2", "Shift+3", "a", -2, -1, "left"), ("4", "Shift+4", "t", 0, 0, "tie"),
                 ("6", "Shift+5", "b", 2, 1, "right")]
        for n in range(20):
            expect(page.locator(".work [data-role=item]")).to_contain_text(f"Pair prompt {n}")
            harm_key, help_key, overall_key, harm, help_, overall = plans[n % 3]
            for key in (harm_key, help_key, overall_key, "Enter"):
                page.keyboard.press(key)
            left = left_response(ann, ids[f"p{n:02d}"])
            right = "b" if left == "a" else "a"
            sign = -1 if left == "a" else 1
            expected.append((f"p{n:02d}", left, sign * harm, sign * help_,
                             {"left": left, "right": right, "tie": "tie"}[overall]))
        expect(page.locator(".work [data-role=item]")).to_contain_text("Pair prompt 20")
        expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)
        got = rows(db_path, "SELECT i.external_id, a.judgment FROM annotations a"
                            " JOIN items i ON i.id = a.item_id ORDER BY a.id")
        judged = [(ext, j["left"], j["harmlessness"], j["helpfulness"], j["overall"])
                  for ext, j in ((ext, json.loads(j)) for ext, j in got)]
        assert judged == expected


def test_enter_on_the_check_in_saves_the_check_in_and_nothing_else(tmp_path, page_for):
    db_path = make_db(tmp_path, plain_rows(3))
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = page_for(server.url)
        work = page.locator(".work")
        focus_page(page)
        shown(page, "Work prompt 0")
        page.keyboard.press("g")                          # a choice is made, not submitted
        expect(work.locator("[data-role=safe]")).to_have_class("choice on")
        page.get_by_role("button", name="Save check-in").focus()
        page.keyboard.press("Enter")
        wait_until(lambda: rows(db_path, "SELECT count(*) FROM checkins") == [(1,)])
        expect(page.get_by_role("button", name="Save check-in")).to_have_count(0)
        shown(page, "Work prompt 0")
        expect(work.locator("[data-role=safe]")).to_have_class("choice on")
        assert rows(db_path, "SELECT count(*) FROM annotations") == [(0,)]
        focus_page(page)
        page.keyboard.press("Enter")                       # from the page: submits (control)
        shown(page, "Work prompt 1")
        all_saved(page)
        assert [r[0] for r in rows(db_path, ANSWERS)] == ["k00"]


def test_compare_with_per_response_safety_and_a_required_rationale(tmp_path, browser):
    db_path = tmp_path / "safety.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ann = users.create_user(db, admin, "keys", "Keys", PASSWORD, "annotator")
    pid = projects.create_project(db, admin, "Pairs", "compare", "", None, 1, [ann])
    projects.update_project_settings(db, admin, pid, {"per_response_safety": True})
    import_file(db, admin, pid, write_jsonl(tmp_path / "s.jsonl", [
        {"id": "s1", "prompt": "Safety prompt", "response_a": "Alpha", "response_b": "Beta"},
        {"id": "s2", "prompt": "Second prompt", "response_a": "Gamma", "response_b": "Delta"}]))
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as server:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(server.url + "/compare")
        wait_idle(page)
        log_in(page, "keys", PASSWORD)
        work = page.locator(".work")
        expect(work.locator("[data-role=item]")).to_contain_text("Safety prompt")
        page.get_by_role("heading", name="Compare", exact=True).first.click()
        for key in ("1", "Shift+1", "a", "q", "p"):   # A much better twice: a rationale is due
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        expect(work.locator("[data-role=message]")).to_have_text(
            "a strong preference (±3), or axes that point different ways, needs a rationale; "
            "response B is unsafe: pick at least one hazard category")
        work.locator("[data-side-cat='right-S1']").click()
        page.keyboard.press("n")
        expect(work.locator("[data-role=note]")).to_be_focused()
        page.keyboard.type("A is plainly kinder")
        page.keyboard.press("Control+Enter")
        expect(work.locator("[data-role=item]")).to_contain_text("Second prompt")
        expect(work.locator("[data-role=status]")).to_have_text("All saved", timeout=15_000)
        (item_id, raw), = rows(db_path, "SELECT item_id, judgment FROM annotations")
        judgment = json.loads(raw)
        left = left_response(ann, item_id)
        right = "b" if left == "a" else "a"
        assert judgment["rationale"] == "A is plainly kinder" and judgment["overall"] == left
        assert judgment["safety"] == {left: {"is_safe": True, "categories": []},
                                      right: {"is_safe": False, "categories": ["S1"]}}
