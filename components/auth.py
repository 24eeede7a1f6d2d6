"""Login, server-side sessions and log-out.

The password is checked by streamlit-authenticator's controller against the one account the
form names (an unknown name is checked against a dummy hash: the same answer, the same
bcrypt work). A good password issues a server-side session (store/sessions.py); the browser
trades a one-time token for an HttpOnly, SameSite=Strict cookie over HTTP (serve.py) and
reloads. Every script run then re-reads the session from the store: a log-out, password
reset, role change or deactivation ends it at once, and a run whose browser does not carry
the session's cookie (someone who reattached to the session by its id) is logged out.
Roles are always read from the store, never from the cookie or the session state.
"""
from __future__ import annotations

import math

import streamlit as st
from streamlit_authenticator.controllers import AuthenticationController

from components import session_binding
from core import config
from core.roles import has_role
from store.work_queue import release_all_prefetched
from store import login_throttle, sessions, users
from store.db import Database
from store.users import User

SESSION_COOKIE = "safelabel_session"
ACTIVATE_PATH = "/_safelabel/session"
LOGOUT_PATH = "/_safelabel/logout"

_SESSION = "_sl_session"          # this run's session token (the cookie's value)
_ACTIVATION = "_sl_activation"    # one-time token the browser is trading for the cookie
_LOGGED_OUT = "_sl_logged_out"

# Trusted, static code: trades the one-time token for the HttpOnly cookie, then reloads so
# that the new page connection carries the cookie. A refusal is reported back.
_ACTIVATE_JS = """
export default async function(component) {
  const { data, setStateValue } = component;
  if (!data || !data.activation || window.__safelabelActivating === data.activation) return;
  window.__safelabelActivating = data.activation;
  try {
    const response = await fetch(data.path, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ activation: data.activation }),
    });
    if (response.ok) { window.location.reload(); return; }
  } catch (error) { /* reported below */ }
  setStateValue("failed", true);
}
"""
# Asks the server to delete the HttpOnly cookie (JavaScript cannot touch it).
_LOGOUT_JS = """
export default function(component) {
  const { data } = component;
  if (window.__safelabelLoggedOut) return;
  window.__safelabelLoggedOut = true;
  fetch(data.path, { method: "POST", credentials: "same-origin", cache: "no-store",
                     headers: { "Content-Type": "application/json" }, body: "{}" });
}
"""
_activator = st.components.v2.component("safelabel.session_activator", js=_ACTIVATE_JS)
_cookie_clearer = st.components.v2.component("safelabel.session_cookie_clearer", js=_LOGOUT_JS)


def _streamlit_session_id() -> str | None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx else None


def _bind(cookie_token: str | None) -> None:
    session_id = _streamlit_session_id()
    if session_id and _has_browser():
        session_binding.bind(session_id, cookie_token)


def _has_browser() -> bool:
    """A real page connection always sends headers; AppTest runs have none, and no cookie
    can exist there to bind the session to."""
    return bool(st.context.headers)


def _session_cookie() -> str | None:
    if not _has_browser():
        return None
    value = st.context.cookies.get(SESSION_COOKIE)
    return value if isinstance(value, str) and value else None


def client_address() -> str | None:
    """The address logins are throttled by: the TCP peer, or, behind a reverse proxy that
    the operator trusts (SAFELABEL_TRUSTED_PROXY=1), the X-Real-IP header it sets."""
    if not _has_browser():
        return None
    if config.trusted_proxy():
        forwarded = st.context.headers.get("X-Real-IP")
        if forwarded:
            return forwarded.strip()[:64]
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def authenticate(db: Database) -> User | None:
    """The logged-in active person of this run, or None after drawing the login form."""
    state = st.session_state
    if state.get(_ACTIVATION):
        _activate_in_browser(state[_ACTIVATION])
        return None
    cookie = _session_cookie()
    if state.get(_LOGGED_OUT):
        _after_logout()
        cookie = None     # the page connection still reports the ended session's cookie
    token = state.get(_SESSION)
    if token and _has_browser() and cookie != token:
        # Logged in by a browser that held this cookie; this connection does not.
        forget_person()
        st.warning("Please log in again.")
        token = None
    was_logged_in = bool(token)
    token = token or cookie
    user_id = sessions.session_user_id(db, token)
    user = users.get_user(db, user_id) if user_id else None
    if user is None:
        forget_person()
        if was_logged_in:
            st.warning("Your session has ended. Please log in again.")
        _login_form(db)
        return None
    if state.get(_SESSION) != token:
        state[_SESSION] = token
        users.record_login_result(db, user.username, client_address(), True, method="cookie")
    state["authentication_status"] = True
    state["username"], state["name"], state["roles"] = user.username, user.name, [user.role]
    state["sl_user"] = user
    _bind(token)
    return user


def _login_form(db: Database) -> None:
    with st.form("login"):
        st.subheader("Log in to SafeLabel")
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in")
    if not submitted:
        return
    username = (username or "").strip().lower()
    address = client_address()
    wait = login_throttle.claim_login_attempt(db, username, address)
    if wait.total_seconds() > 0:
        st.session_state["authentication_status"] = False
        # Said before any password is checked, and the same for every name, known or not.
        st.error(f"Too many failed logins. Wait {math.ceil(wait.total_seconds())} seconds, "
                 "then try again.")
        return
    record = users.login_record(db, username)
    credentials = {"usernames": {username or "-": {
        "name": record.name if record else "", "email": "", "logged_in": False,
        "roles": [record.role] if record else [],
        "password": record.password_hash if record else users.dummy_password_hash()}}}
    checker = AuthenticationController(credentials, auto_hash=False)
    ok = bool(checker.login(username or "-", password or "-")) and record is not None
    users.record_login_result(db, username, address, ok)
    if not ok:
        st.session_state["authentication_status"] = False
        st.error("Username or password is incorrect.")
        return
    user = users.get_user_by_username(db, username)
    st.session_state.pop(_LOGGED_OUT, None)
    if _has_browser():
        _bind(None)      # nobody may reattach while the browser fetches its cookie
        st.session_state[_ACTIVATION] = sessions.begin_login(db, user.id, address)
    else:
        st.session_state[_SESSION] = sessions.start_session(db, user.id, address)
    st.rerun()


def _activate_in_browser(activation: str) -> None:
    result = _activator(key="session_activator", data={"activation": activation,
                                                         "path": ACTIVATE_PATH},
                        default={"failed": False}, on_failed_change=lambda: None, height=0)
    if getattr(result, "failed", False):
        st.session_state.pop(_ACTIVATION, None)
        st.error("Logging in needs the SafeLabel server (start it with `make run`); "
                 "this page could not set its session cookie.")
        st.button("Back to the login")
    else:
        st.info("Signing you in…")


def current_user() -> User | None:
    return st.session_state.get("sl_user")


def session_is_live(db: Database) -> bool:
    """Is this run's login still live in the store? Widget callbacks run before app.py's
    check and a fragment rerun never runs it: they ask this before acting. One indexed read."""
    user = st.session_state.get("sl_user")
    return user is not None and sessions.session_user_id(db, st.session_state.get(_SESSION)) == user.id


def require_live_session(db: Database) -> None:
    """At the start of a fragment run: a login that ended (log-out elsewhere, password
    reset, role change, deactivation) sends the whole page back to the login form."""
    if not session_is_live(db):
        forget_person()
        st.rerun(scope="app")


def require_role(needed: str) -> User:
    """Stop the page unless the logged-in user has `needed` (checked on the server, per run)."""
    user = current_user()
    if user is None or not has_role(user.role, needed):
        st.error(f"This page needs the {needed} role.")
        st.stop()
    return user


PERSONAL_KEYS = ("sl_user", _SESSION, _ACTIVATION, "label", "compare",
                 "finishing", "page_hidden_ms", "break_due_noted", "authentication_status",
                 "username", "name", "roles",
                 "work_correction",   # components/work_page.CORRECTION_REQUEST
                 "label_project", "compare_project", "_sl_last_work", "_sl_landing")
PERSONAL_PREFIXES = ("pref_", "draft_", "note_", "edit_", "reason_", "rationale_", "cats_", "checkin_",
                     "share_checkins_", "valence_", "arousal_", "dash_", "show_all_",
                     "thread_", "ask_", "inbox_", "my_items_")


def forget_person() -> None:
    """Everything a person left in the session (work state, drafts, wellbeing status,
    check-in and sharing toggles, filters) goes: the next login may be someone else."""
    session_id = _streamlit_session_id()
    if session_id:
        session_binding.unbind(session_id)
    for key in [k for k in st.session_state if isinstance(k, str) and (
            k in PERSONAL_KEYS or k.startswith(PERSONAL_PREFIXES))]:
        st.session_state.pop(key, None)


def logout_button(db: Database) -> None:
    """The sidebar's log-out button: ends the session in the store at once; the next run
    shows the login form and has the browser delete the cookie."""
    def on_logout() -> None:
        token = st.session_state.get(_SESSION)
        user = st.session_state.get("sl_user")
        if token:
            sessions.end_session(db, token, "logout")
        if user is not None:
            # Items fetched ahead but never shown go back to the pool at once.
            release_all_prefetched(db, user.id)
        forget_person()
        st.session_state[_LOGGED_OUT] = True

    st.sidebar.button("Log out", key="sl_logout_button", on_click=on_logout)


def _after_logout() -> None:
    _cookie_clearer(key="session_cookie_clearer", data={"path": LOGOUT_PATH}, height=0)
    st.success("You have logged out.")
