"""Login through streamlit-authenticator, with accounts and roles read from the store.

Roles are never taken from the cookie or the session alone: every run re-reads the account
from the database, so a deactivated account or a changed role takes effect at once.
"""
from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from core.accounts import LOCKOUT, MAX_FAILED_LOGINS
from core.roles import has_role
from store import users
from store.db import Database
from store.settings import cookie_key
from store.users import User

COOKIE_NAME = "safelabel_session"
COOKIE_DAYS = 7


def _credentials(db: Database) -> dict:
    return {"usernames": {
        r.username: {
            "name": r.name, "password": r.password_hash, "email": "", "roles": [r.role],
            "logged_in": False,
            # A locked account starts at the limit, so the library refuses it outright.
            "failed_login_attempts": MAX_FAILED_LOGINS if r.locked else 0,
        } for r in users.login_records(db)}}


def authenticate(db: Database) -> tuple[User | None, stauth.Authenticate]:
    """Show the login form until someone logs in; return the logged-in active user."""
    credentials = _credentials(db)
    before = {u: r["failed_login_attempts"] for u, r in credentials["usernames"].items()}
    authenticator = stauth.Authenticate(credentials, COOKIE_NAME, cookie_key(db), COOKIE_DAYS,
                                        auto_hash=False, login_sleep_time=0)
    if st.session_state.pop("_sl_pending_cookie", False) and st.session_state.get("authentication_status"):
        # Set on the clean run after a form login (see below), so the component stays on screen.
        authenticator.cookie_controller.set_cookie()
    try:
        authenticator.login(location="main", max_login_attempts=MAX_FAILED_LOGINS,
                            fields={"Form name": "Log in to SafeLabel", "Username": "Username",
                                    "Password": "Password", "Login": "Log in"},
                            callback=_after_form_login)
    except LoginError as exc:
        if "attempts" in str(exc):
            minutes = int(LOCKOUT.total_seconds() // 60)
            st.error(f"Too many failed logins for this account. Try again in {minutes} minutes, "
                     "or ask an admin to reset the password.")
        else:
            # A cookie for an account that is gone or deactivated: start over.
            st.session_state["authentication_status"] = None
            st.error("Please log in again.")
        return None, authenticator

    status = st.session_state.get("authentication_status")
    if status is False:
        # The library counts a wrong password in the dict we gave it; persist that count.
        for username, record in credentials["usernames"].items():
            if record.get("failed_login_attempts", 0) > before[username]:
                users.record_failed_login(db, username)
        st.error("Username or password is incorrect.")
        return None, authenticator
    if not status:
        return None, authenticator

    user = users.get_user_by_username(db, st.session_state.get("username") or "")
    if user is None or not user.active:
        st.session_state["authentication_status"] = None
        st.error("This account is not active. Ask an admin.")
        return None, authenticator
    if st.session_state.pop("_sl_form_login", False):
        # The login form was drawn in this run: start a clean run without it. Only a form
        # submit gets here, never a first run from a cookie, so deep links keep working.
        users.record_login(db, user.username, "password")
        st.session_state["_sl_login_recorded"] = user.username
        st.session_state["_sl_pending_cookie"] = True
        st.rerun()
    if st.session_state.get("_sl_login_recorded") != user.username:
        st.session_state["_sl_login_recorded"] = user.username
        users.record_login(db, user.username, "cookie")
    st.session_state["sl_user"] = user
    return user, authenticator


def _after_form_login(_details: dict) -> None:
    st.session_state["_sl_form_login"] = True


def current_user() -> User | None:
    return st.session_state.get("sl_user")


def require_role(needed: str) -> User:
    """Stop the page unless the logged-in user has `needed` (checked on the server, per run)."""
    user = current_user()
    if user is None or not has_role(user.role, needed):
        st.error(f"This page needs the {needed} role.")
        st.stop()
    return user


PERSONAL_KEYS = ("sl_user", "_sl_login_recorded", "label", "compare", "pref_show_masked",
                 "finishing", "page_hidden_ms", "break_due_noted")
PERSONAL_PREFIXES = ("draft_", "note_", "edit_", "reason_", "rationale_", "cats_", "checkin_",
                     "share_checkins_", "valence_", "arousal_", "dash_", "show_all_")


def logout_button(authenticator: stauth.Authenticate, db: Database) -> bool:
    """Render the log-out button; True when the person has just logged out.

    The page must then stop rendering and keep the cookie-deleting component on screen.
    """
    def on_logout(_details: dict) -> None:
        user = current_user()
        if user:
            from store.events import record_event
            record_event(db, "logout", user.id)
        # Everything this person left in the session (work state, drafts, wellbeing status,
        # check-in and sharing toggles, filters) goes: the next login may be someone else.
        for key in [k for k in st.session_state if isinstance(k, str) and (
                k in PERSONAL_KEYS or k.startswith(PERSONAL_PREFIXES))]:
            st.session_state.pop(key, None)

    authenticator.logout("Log out", location="sidebar", key="sl_logout_button", callback=on_logout)
    if st.session_state.get("authentication_status"):
        return False
    st.success("You have logged out.")
    st.button("Log in again")
    return True
