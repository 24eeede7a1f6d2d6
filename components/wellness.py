"""The informed start (before a person's first item in a project) and their wellness plan
(private opt-outs), on the work pages. Records: store/wellness.py; rules: core/wellness.py."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.auth import session_is_live
from core import config
from core.text import markdown_literal
from core.wellbeing import MIN_GROUP_FLOOR, policy_from_settings
from core.wellness import MAX_OPT_OUTS, protections_on
from store.db import Database, StoreError
from store.projects import Project
from store.settings import MAX_GROUP_SIZE, min_group_size, set_min_group_size, support_info
from store.users import User
from store.wellness import (confirm_informed_start, has_confirmed_start, my_opt_outs,
                            opt_out_counts, project_briefing, set_opt_outs)

START_NOTICE = "informed_start_notice"


def informed_start(db: Database, user: User, project: Project) -> bool:
    """True when the person may work in the project: they confirmed its informed start
    before. Otherwise draw what the project holds, the protections on, support and the
    opt-out choice, with a button to confirm, and return False (nothing is claimed)."""
    seen = f"_sl_informed_{user.id}_{project.id}"
    if not config.informed_start_enabled() or st.session_state.get(seen):
        return True
    if has_confirmed_start(db, user.id, project.id):
        # Confirmation is for good: this session need not ask the store again.
        st.session_state[seen] = True
        return True
    policy = policy_from_settings(project.settings)
    protections = protections_on(project.settings, policy)
    briefing = project_briefing(db, project.id)
    taxonomy = project.taxonomy
    with st.container(border=True, key="informed_start"):
        st.subheader(f"Before you start: {markdown_literal(project.name)}")
        st.markdown("**What this project contains**")
        # The lead's words and the category names are data: shown as plain text.
        st.text(briefing.description or "The lead has not described this project yet.")
        if briefing.categories:
            st.text("Categories named by the items' hints: " + ", ".join(
                f"{taxonomy.category_label(code)} ({n:,} items)"
                for code, n in briefing.categories))
        else:
            st.text("No item has a category hint.")
        st.text(f"{briefing.items:,} items; highest severity by hint: "
                + (taxonomy.severity_label(briefing.highest_severity)
                   if briefing.highest_severity is not None else "none given")
                + ". Hints are estimates: any item may be worse than its hint.")
        st.markdown("**Protections that are on**")
        st.text("\n".join(f"• {p}" for p in protections))
        st.markdown("**Support**")
        text, url = support_info(db)
        st.text(text)
        if url:
            st.link_button("Open support", url)
        st.markdown("**Your opt-outs (optional, private)**")
        opt_out_select(db, user, project, "start_opt_outs")
        st.button("I understand: start", type="primary", key=f"confirm_start_{project.id}",
                  on_click=_confirm, args=(db, user, project, protections))
    for problem in st.session_state.pop(START_NOTICE, []):
        st.error(markdown_literal(problem))
    return False


def _confirm(db: Database, user: User, project: Project, protections: list[str]) -> None:
    if not session_is_live(db):
        return
    chosen = list(st.session_state.get(f"start_opt_outs_{project.id}") or [])
    try:
        if chosen != list(my_opt_outs(db, user.id, project.id)):
            set_opt_outs(db, user.id, project.id, chosen)
        confirm_informed_start(db, user.id, project.id, protections)
    except StoreError as exc:
        st.session_state[START_NOTICE] = [str(exc)]


def opt_out_select(db: Database, user: User, project: Project, key: str) -> None:
    """The category picker of the person's opt-outs (their saved choice to start with)."""
    widget = f"{key}_{project.id}"
    if widget not in st.session_state:
        st.session_state[widget] = [c for c in my_opt_outs(db, user.id, project.id)
                                    if c in project.taxonomy.category_codes()]
    st.multiselect(
        f"Categories you do not want to be served (at most {MAX_OPT_OUTS})",
        project.taxonomy.category_codes(), key=widget, max_selections=MAX_OPT_OUTS,
        format_func=project.taxonomy.category_label,
        help="Items whose hint names one of these are not served to you. Hints are estimates, "
             "so such content can still appear; skipping is always fine. Leads see only how "
             "many people opted out of each category, never who.")


def opt_outs_in_sidebar(db: Database, user: User, project: Project) -> None:
    """Sidebar: change one's opt-outs in this project at any time."""
    with st.sidebar.expander("My opt-outs (private)", icon=":material/do_not_disturb_on:"):
        opt_out_select(db, user, project, "opt_outs")
        st.button("Save my opt-outs", key=f"save_opt_outs_{project.id}",
                  on_click=_save_opt_outs, args=(db, user, project))
        for notice in st.session_state.pop(f"opt_outs_notice_{project.id}", []):
            st.text(notice)


def _save_opt_outs(db: Database, user: User, project: Project) -> None:
    if not session_is_live(db):
        return
    chosen = list(st.session_state.get(f"opt_outs_{project.id}") or [])
    try:
        set_opt_outs(db, user.id, project.id, chosen)
    except StoreError as exc:
        st.session_state[f"opt_outs_notice_{project.id}"] = [f"Not saved: {exc}"]
    else:
        st.session_state[f"opt_outs_notice_{project.id}"] = [
            "Saved. From your next item on, items whose hint names these are not served to you."
            if chosen else "Saved: no opt-outs."]


def opt_out_counts_panel(db: Database, lead: User, project: Project) -> None:
    """Projects page: how many people opted out of each category (no names), to staff the
    work; counts under the minimum group size are withheld."""
    floor = min_group_size(db)
    counts = opt_out_counts(db, lead.id, project.id)
    with st.expander("Opt-outs per category (counts only)"):
        st.caption(f"People may opt out of up to {MAX_OPT_OUTS} categories; items whose hint "
                   "names one are not served to them. Private: you see how many, never who. "
                   f"1 to {floor - 1} people show as \"fewer than {floor}\".")
        st.dataframe(pd.DataFrame({
            "category": [f"{c.code} {c.name}" for c in counts],
            "people opted out": [str(c.people) if c.people is not None
                                 else f"fewer than {floor}" for c in counts]}),
            hide_index=True, width="stretch", key=f"opt_out_counts_{project.id}")


def group_size_form(db: Database, admin: User) -> None:
    """Users page (admins): the minimum group size of every team figure leads see."""
    with st.form("min_group_size"):
        size = st.number_input(
            "Minimum group size (people)", min_value=1, max_value=MAX_GROUP_SIZE, step=1,
            value=min_group_size(db),
            help="Leads see team wellbeing, mood and opt-out figures only over at least this "
                 f"many people. Never below {MIN_GROUP_FLOOR}.")
        if st.form_submit_button("Save group size"):
            try:
                set_min_group_size(db, admin.id, int(size))
            except StoreError as exc:
                st.error(f"Not saved: {markdown_literal(exc)}")
            else:
                st.success(f"Saved: team figures need at least {int(size)} people.")
