"""The mood check-in: two 9-point scales (valence, arousal), a few seconds, always optional.

Offered at the start of a work session, every `checkin_every_minutes` after that, at the
end ("Finish for today") and any time from the sidebar. Private unless the person shares.
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from core.text import markdown_literal
from core.wellbeing import WellbeingPolicy, checkin_due
from store.db import Database, StoreError, utcnow
from store.preferences import get_preference, set_preference
from store.settings import min_group_size
from store.users import User
from store.wellbeing import SHARE_CHECKINS_PREF, last_checkin_at, record_checkin

VALENCE_HELP = "1 = very unpleasant, 5 = neutral, 9 = very pleasant"
AROUSAL_HELP = "1 = very calm, 5 = neutral, 9 = very agitated or wound up"


def _sharing_toggle(db: Database, user: User, key: str) -> None:
    state_key = f"share_checkins_{key}"

    def on_change() -> None:
        set_preference(db, user.id, SHARE_CHECKINS_PREF, bool(st.session_state[state_key]))

    # Read on every run: the same choice has a toggle in several places.
    st.session_state[state_key] = bool(get_preference(db, user.id, SHARE_CHECKINS_PREF, False))
    st.toggle("Share my check-ins with leads", key=state_key, on_change=on_change,
              help="Off by default: only you see them. Leads otherwise see team averages "
                   f"for groups of {min_group_size(db)} or more people.")


def checkin_form(db: Database, user: User, moment: str, key: str, dismissible: bool = True) -> None:
    """An inline check-in; saving or "not now" closes it for `checkin_every_minutes`."""
    with st.form(f"checkin_{key}", border=True):
        st.markdown("**How are you feeling right now?** Optional; only you see it unless you share.")
        left, right = st.columns(2)
        valence = left.slider("Mood (unpleasant → pleasant)", 1, 9, 5, key=f"valence_{key}",
                              help=VALENCE_HELP)
        arousal = right.slider("Energy (calm → agitated)", 1, 9, 5, key=f"arousal_{key}",
                               help=AROUSAL_HELP)
        save_col, skip_col = st.columns([1, 4])
        saved = save_col.form_submit_button("Save check-in", type="primary")
        skipped = dismissible and skip_col.form_submit_button("Not now")
    _sharing_toggle(db, user, key)
    if saved:
        try:
            record_checkin(db, user.id, int(valence), int(arousal), moment)
        except StoreError as exc:
            st.error(f"Not saved: {markdown_literal(exc)}")
            return
        st.session_state["checkin_closed_at"] = utcnow()
        st.session_state["checkin_last"] = utcnow()
        st.session_state[f"checkin_done_{key}"] = True
        st.toast("Check-in saved. Thank you.")
        st.rerun()
    if skipped:
        st.session_state["checkin_closed_at"] = utcnow()
        st.session_state[f"checkin_done_{key}"] = True
        st.rerun()


def checkin_is_due(db: Database, user: User, policy: WellbeingPolicy) -> bool:
    """No check-in (or "not now") in this session for `checkin_every_minutes`."""
    if "checkin_last" not in st.session_state:
        st.session_state["checkin_last"] = last_checkin_at(db, user.id)
    closed: datetime | None = st.session_state.get("checkin_closed_at")
    latest = max([t for t in (st.session_state["checkin_last"], closed) if t], default=None)
    return checkin_due(latest, utcnow(), policy)


def checkin_prompt(db: Database, user: User, policy: WellbeingPolicy) -> None:
    """At session start and every `checkin_every_minutes`: an inline check-in (page level)."""
    due = checkin_is_due(db, user, policy)
    st.session_state["checkin_on_screen"] = due
    if due:
        moment = "start" if st.session_state.get("checkin_closed_at") is None else "hourly"
        checkin_form(db, user, moment, key="due")


def checkin_waiting(db: Database, user: User, policy: WellbeingPolicy) -> bool:
    """True when a check-in fell due while only the work fragment reran (continuous work):
    the caller reruns the whole page so that the prompt appears."""
    return not st.session_state.get("checkin_on_screen") and checkin_is_due(db, user, policy)


def sidebar_checkin(db: Database, user: User) -> None:
    with st.sidebar.popover("Check in", icon=":material/mood:"):
        checkin_form(db, user, "sidebar", key="sidebar", dismissible=False)


def _finish(value: bool) -> None:
    st.session_state["finishing"] = value
    st.session_state.pop("checkin_done_end", None)


def end_of_day(db: Database, user: User) -> bool:
    """Sidebar "Finish for today": a closing screen with the end-of-session check-in.
    True while it is shown (the page draws nothing else)."""
    st.sidebar.button("Finish for today", key="finish_day", icon=":material/logout:",
                      on_click=_finish, args=(True,))
    if not st.session_state.get("finishing"):
        return False
    st.subheader("Thank you for today")
    st.text("Your work is saved. Before you go: do something unrelated for a while, and "
            "talk to someone if anything you read stays with you.")
    if not st.session_state.get("checkin_done_end"):
        checkin_form(db, user, "end", key="end")
    st.button("Back to work", key="unfinish", on_click=_finish, args=(False,))
    return True
