"""Sessions that end, checked where the review found them open: in Chromium and over HTTP
against a real `streamlit run serve.py`.

- a copied cookie stops working after log-out and after an admin resets the password;
- a client that reattaches to a logged-in Streamlit session by its id, without the cookie,
  is logged out;
- an upload from a page nobody logged in to is refused before its body is read.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from store import projects, users
from store.db import open_database
from tests.browser import (log_in, query_copy, session_cookies, streamlit_server, wait_idle,
                           wait_until)
from store.imports import import_file
from tests.conftest import PASSWORD
from tests.helpers import label_rows, write_jsonl

COOKIE = "safelabel_session"


@pytest.fixture
def server(tmp_path):
    db_path = tmp_path / "sessions.duckdb"
    db = open_database(db_path)
    admin = users.create_user(db, None, "boss", "Boss", PASSWORD, "admin")
    users.create_user(db, admin, "ann", "Ann", PASSWORD, "annotator")
    users.create_user(db, admin, "lea", "Lea", PASSWORD, "lead")
    project = projects.create_project(db, admin, "P", "label", "", None, 1, [], True)
    import_file(db, admin, project, write_jsonl(tmp_path / "items.jsonl", label_rows(6)))
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as running:
        yield SimpleNamespace(url=running.url, db_path=db_path)


def open_logged_in(browser, url: str, username: str):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.goto(url)
    wait_idle(page)
    log_in(page, username, PASSWORD)
    cookie, = session_cookies(context)
    return context, page, cookie


def signed_in_with(browser, url: str, cookie: dict) -> bool:
    """Open the app in a fresh browser holding only `cookie`: is anyone signed in?"""
    context = browser.new_context()
    context.add_cookies([cookie])
    page = context.new_page()
    page.goto(url)
    wait_idle(page)
    signed_in = page.get_by_text("Signed in as", exact=False).count() > 0
    login_form = page.get_by_role("heading", name="Log in to SafeLabel").count() > 0
    context.close()
    assert signed_in != login_form, "the page shows neither the app nor the login form"
    return signed_in


def test_a_copied_cookie_stops_working_after_log_out(browser, server):
    context, page, cookie = open_logged_in(browser, server.url, "ann")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert signed_in_with(browser, server.url, cookie)         # control: the copy works now
    page.get_by_role("button", name="Log out").click()
    wait_idle(page)
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert not signed_in_with(browser, server.url, cookie)
    context.close()


def test_a_password_reset_ends_the_persons_sessions_at_once(browser, server):
    ann_context, ann_page, ann_cookie = open_logged_in(browser, server.url, "ann")
    admin_context, admin_page, _ = open_logged_in(browser, server.url, "boss")
    admin_page.locator('[data-testid="stSidebarNav"]').get_by_text("Users", exact=True).click()
    wait_idle(admin_page)
    admin_page.get_by_role("tab", name="Change an account").click()
    admin_page.get_by_role("combobox", name="Account").click()
    admin_page.get_by_role("option", name="ann (annotator)").click()
    wait_idle(admin_page)
    admin_page.get_by_label("New password").fill("copper-meadow-trail")
    admin_page.get_by_role("button", name="Reset password").click()
    wait_idle(admin_page)
    expect(admin_page.get_by_text("Password reset.")).to_be_visible()
    assert not signed_in_with(browser, server.url, ann_cookie)
    # Ann's open page is logged out on its next run, not when the cookie expires.
    ann_page.locator('[data-testid="stSidebarNav"]').get_by_text("Dashboard", exact=True).click()
    wait_idle(ann_page)
    expect(ann_page.get_by_text("Your session has ended. Please log in again.")).to_be_visible()
    expect(ann_page.get_by_text("Signed in as", exact=False)).to_have_count(0)
    ann_context.close()
    admin_context.close()


def _capture_session_id(page) -> list[str]:
    ids: list[str] = []

    def on_frame(payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            message = ForwardMsg()
            try:
                message.ParseFromString(bytes(payload))
            except Exception:
                return
            if message.HasField("new_session") and message.new_session.initialize.session_id:
                ids.append(message.new_session.initialize.session_id)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return ids


def _rerun_as_reattached_client(url: str, session_id: str, cookie: str | None) -> tuple[str, str]:
    """Connect a bare websocket client to an existing session by its id (what anyone who
    saw the id in an upload URL or a proxy log can do), ask for a rerun; return all text and
    the id of the session the server actually gave it."""
    headers = {"Origin": url}
    if cookie:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    stream = url.replace("http://", "ws://") + "/_stcore/stream"
    with connect(stream, subprotocols=["streamlit", "no-xsrf", session_id], additional_headers=headers,
                 max_size=None, open_timeout=30) as ws:
        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_script_hash = ""
        ws.send(back.SerializeToString())
        seen, given = [], ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(ws.recv(timeout=30))
            seen.append(str(message))
            if message.HasField("new_session"):
                given = message.new_session.initialize.session_id
            if message.HasField("script_finished"):
                break
        return "\n".join(seen), given


def test_reattaching_to_a_session_by_its_id_without_the_cookie_logs_it_out(browser, server):
    context = browser.new_context()
    page = context.new_page()
    ids = _capture_session_id(page)
    page.goto(server.url)
    wait_idle(page)
    log_in(page, "boss", PASSWORD)             # the page reloads: its new session is the one
    expect(page.get_by_text("Signed in as boss")).to_be_visible()
    session_id = ids[-1]
    token = session_cookies(context)[0]["value"]
    page.close()                               # the admin's tab goes; the session lingers
    # Control: the owner's cookie on the reattached connection keeps the admin signed in.
    text, given = _rerun_as_reattached_client(server.url, session_id, token)
    assert given == session_id and "Signed in as boss" in text
    # Without it the connection never reaches that session (so no callback or fragment of
    # it can run either): it gets a fresh one, showing the login form.
    text, given = _rerun_as_reattached_client(server.url, session_id, None)
    assert given and given != session_id
    assert "Signed in as boss" not in text and "Log out" not in text
    assert "Log in to SafeLabel" in text
    # ...and the owner's session is still there for the owner.
    text, given = _rerun_as_reattached_client(server.url, session_id, token)
    assert given == session_id and "Signed in as boss" in text
    context.close()


def _upload_status(page, session_id: str) -> tuple[int, str]:
    return tuple(page.evaluate("""async (sessionId) => {
        const xsrf = (document.cookie.match(/_streamlit_xsrf=([^;]+)/) || [])[1] || "";
        const form = new FormData();
        form.append("file", new Blob(["x".repeat(1000)]), "big.jsonl");
        const response = await fetch(`/_stcore/upload_file/${sessionId}/file-1`, {
            method: "PUT", body: form, credentials: "same-origin",
            headers: { "X-Xsrftoken": decodeURIComponent(xsrf) } });
        return [response.status, await response.text()];
    }""", session_id))


def test_uploads_need_a_logged_in_lead(browser, server):
    for who in (None, "ann", "lea"):
        context = browser.new_context()
        page = context.new_page()
        ids = _capture_session_id(page)
        page.goto(server.url)
        wait_idle(page)
        if who:
            log_in(page, who, PASSWORD)
        status, body = _upload_status(page, ids[-1])
        if who == "lea":
            assert status == 204, (status, body)             # control: a lead's upload lands
        else:
            assert (status, body) == (403, "Uploads need a logged-in lead."), who
        context.close()


def test_an_open_work_page_stops_working_when_the_login_ends_elsewhere(browser, server):
    """Clicks in the work area rerun only its fragment (app.py's login check does not run)
    and their callbacks run before any check: both must see that the login ended."""
    context, page, _ = open_logged_in(browser, server.url, "ann")
    page.get_by_role("button", name="Not now").click()          # the session-start check-in
    wait_idle(page)
    safe = page.locator(".work [data-role=safe]")                # the work component
    submit = page.locator(".work [data-role=submit]")
    safe.click()
    submit.click()                                               # control: work is saved
    expect(page.locator(".work [data-role=status]")).to_have_text("All saved", timeout=15_000)
    wait_until(lambda: query_copy(server.db_path, "SELECT count(*) FROM annotations") == [(1,)])
    other = context.new_page()                                   # a second tab logs out
    other.goto(server.url)
    wait_idle(other)
    other.get_by_role("button", name="Log out").click()
    wait_idle(other)
    expect(other.get_by_text("You have logged out.")).to_be_visible()
    saved = query_copy(server.db_path, "SELECT count(*) FROM annotations")
    page.bring_to_front()
    safe.click()
    submit.click()            # the answer goes to the server, which no longer takes it
    expect(page.get_by_role("heading", name="Log in to SafeLabel")).to_be_visible()
    expect(page.get_by_text("Signed in as", exact=False)).to_have_count(0)
    assert query_copy(server.db_path, "SELECT count(*) FROM annotations") == saved == [(1,)]
    context.close()
