"""Breaks, daily caps and "my day" on the work pages: the break prompt and timer, the cap
notice, and today's exposure in the sidebar. The rules are core.wellbeing's; the records
store.wellbeing's. State lives in the work session's per-project dict (key "status")."""
from __future__ import annotations

import streamlit as st

from components.auth import require_live_session
from components.wellness import opt_outs_in_sidebar
from core.wellbeing import WellbeingPolicy
from store.db import Database, utcnow
from store.projects import Project
from store.users import User
from store.wellbeing import (WellbeingStatus, end_break, note_break_due, postpone_break,
                             take_break, wellbeing_status)


class Breaks:
    """One person's exposure, breaks and caps in one project, for this browser session."""

    def __init__(self, db: Database, user: User, project: Project, policy: WellbeingPolicy,
                 state: dict) -> None:
        self.db, self.user, self.project, self.policy, self.state = db, user, project, policy, state

    def forget(self) -> None:
        """Read the status again next time (after a submit, skip, flag or break action)."""
        self.state["status"] = None

    def routed(self, status: WellbeingStatus | None) -> None:
        """Keep the status the queue routed by (read inside the submit's transaction)."""
        self.state["status"] = status

    def status(self) -> WellbeingStatus:
        """Exposure, break and cap state; read once per item (reset after each submit)."""
        if self.state.get("status") is None:
            self.state["status"] = wellbeing_status(self.db, self.user.id, self.project.id)
        return self.state["status"]

    def on_break(self) -> bool:
        return self.status().on_break_until is not None

    def _take_break(self, minutes: int, reason: str) -> None:
        take_break(self.db, self.user.id, self.project.id, minutes, reason)
        self.forget()

    def _postpone(self, reason: str) -> None:
        postpone_break(self.db, self.user.id, self.project.id, reason)
        self.forget()

    def _end_break(self) -> None:
        started = self.status().break_started_at
        if started is not None:
            end_break(self.db, self.user.id, self.project.id, started)
        self.forget()

    def cap_words(self, status: WellbeingStatus) -> str:
        """What the person has reached: today's caps and this week's budgets."""
        def listed(limits: dict[int, int], reached: list[int]) -> str:
            return ", ".join(f"{limits[s]} minutes at severity {s}{'+' if s < 4 else ''}"
                             for s in reached)
        daily = status.daily_caps_reached
        words = []
        if daily:
            words.append(f"You have reached today's limit ({listed(dict(self.policy.caps()), daily)}).")
        if status.week_budgets_reached:
            words.append("You have used this week's budget ("
                         + listed(dict(self.policy.week_budgets()), status.week_budgets_reached)
                         + " in the last 7 days).")
        return " ".join(words)

    def break_prompt(self, status: WellbeingStatus) -> None:
        """A break prompt when one is due: take it (timer) or postpone it, both recorded."""
        reason = status.break_due
        if reason is None:
            return
        episode = (reason, status.last_break_at)
        # Once per due break and person (not per project page): "breaks due" stays honest.
        if st.session_state.get("break_due_noted") != episode:
            note_break_due(self.db, self.user.id, self.project.id, reason)
            st.session_state["break_due_noted"] = episode
        minutes = self.policy.break_minutes
        if reason == "run":
            text = (f"You have just read {status.run} severe items in a row. A short break helps, "
                    "and the next item will be a lighter one when there is one.")
        else:
            text = (f"You have spent {self.policy.break_after_minutes} minutes or more with harmful "
                    f"content since your last break. Time for a {minutes}-minute break: "
                    "step away from the screen.")
        with st.container(border=True, key="break_prompt"):
            st.warning(text, icon=":material/self_care:")
            take_col, short_col, later_col, _ = st.columns([1.3, 1.1, 1.4, 2])
            take_col.button(f"Take a {minutes}-minute break", type="primary", key="take_break",
                            on_click=self._take_break, args=(minutes, reason))
            if minutes > 5:
                short_col.button("5 minutes", key="take_short_break",
                                 on_click=self._take_break, args=(5, reason))
            later_col.button(f"Later ({self.policy.postpone_minutes} min)", key="postpone_break",
                             on_click=self._postpone, args=(reason,))

    def break_screen(self) -> None:
        """The break timer (the page calls this instead of the work area while on a break)."""
        @st.fragment(run_every=10)
        def timer() -> None:
            require_live_session(self.db)
            until = self.status().on_break_until
            if until is None:
                st.rerun()   # the break ended in this fragment: redraw the whole page
            left = (until - utcnow()).total_seconds()
            st.subheader("On a break")
            st.text("Look away from the screen, stand up, drink some water. "
                    "The queue keeps your place.")
            total = max(1.0, (until - self.status().break_started_at).total_seconds())
            if left > 0:
                st.progress(min(1.0, max(0.0, 1 - left / total)),
                            text=f"About {int(left // 60)} min {int(left % 60):02d} s left "
                                 f"(until {until:%H:%M} UTC)")
            else:
                st.success("Break over whenever you are ready.")
            st.button("Back to work", key="end_break", type="primary" if left <= 0 else "secondary",
                      on_click=self._end_break)

        timer()

    def my_day(self) -> None:
        """Sidebar: today's and this week's exposure, the next break (updated on page loads),
        and the person's opt-outs."""
        status = self.status()
        harmful = sum(m for s, m in status.minutes_by_severity.items()
                      if s is not None and s >= self.policy.harmful_severity)
        with st.sidebar.expander("My day", icon=":material/favorite:"):
            st.text(f"Harmful content today: {harmful:.0f} min")
            for level in sorted(s for s in status.minutes_by_severity if s is not None):
                st.text(f"  severity {level}: {status.minutes_by_severity[level]:.0f} min")
            st.text(f"Next break in about {status.minutes_until_break:.0f} min of harmful content")
            st.text(self.week_words(status))
            if status.caps_reached:
                st.text(self.cap_words(status))
            st.button("Take a break now", key="self_break",
                      on_click=self._take_break, args=(self.policy.break_minutes, "self"))
        opt_outs_in_sidebar(self.db, self.user, self.project)

    def week_words(self, status: WellbeingStatus) -> str:
        """This week's exposure against the weekly budgets (rolling 7 days)."""
        week = status.week_minutes_by_severity
        parts = []
        for severity, budget in self.policy.week_budgets():
            used = sum(m for s, m in week.items() if s is not None and s >= severity)
            parts.append(f"severity {severity}{'+' if severity < 4 else ''} "
                         f"{used:.0f} of {budget} min")
        return "This week (last 7 days): " + " · ".join(parts)
