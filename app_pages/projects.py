"""Projects page (leads): create projects, edit them, assign annotators, see progress."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.hint_quality import hint_quality_panel
from components.project_lifecycle import archive_button, import_batches_panel
from components.qualification_panel import qualification_panel
from components.wellness import opt_out_counts_panel
from core.taxonomy import DEFAULT_TAXONOMY
from core.text import markdown_literal
from store.db import StoreError
from core.preference import DEFAULT_RATIONALE_RULE, RATIONALE_RULES
from core.queue import SERVE_ORDERS, rules_from_settings
from core.wellbeing import POLICY_LABELS, POLICY_RANGES, policy_from_settings
from core.word_lists import DEFAULT_LANGUAGES, LANGUAGE_NAMES, available_languages
from core.wellness import CONTENT_DESCRIPTION_SETTING, MAX_CONTENT_DESCRIPTION_CHARS
from store.projects import (create_project, list_projects, member_ids, project_progress,
                            set_members, update_project, update_project_settings)
from store.guidelines import guideline_history
from store.imports import refresh_severity_hints
from store.users import list_users

user = require_role("lead")
db = get_db()
st.title("Projects")

people = [u for u in list_users(db) if u.active]
names = {u.id: f"{u.name} ({u.username}, {u.role})" for u in people}
projects = list_projects(db)

if projects:
    rows = []
    for p in projects:
        progress = project_progress(db, p.id)
        rows.append({"id": p.id, "name": p.name, "kind": p.kind, "archived": p.archived,
                     "overlap": p.overlap,
                     "open to all": p.open_to_all, "items": progress.items,
                     "done": progress.items_done, "annotations": progress.annotations})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
else:
    st.info("No projects yet: create the first one below.")

create_tab, edit_tab = st.tabs(["Create a project", "Edit a project"])

with create_tab:
    with st.form("create_project"):
        name = st.text_input("Name")
        kind = st.radio("Kind", ["label", "compare"], horizontal=True,
                        help="label: judge one response; compare: choose between two.")
        overlap = st.number_input("Overlap (annotators per item)", min_value=1, max_value=20, value=1)
        members = st.multiselect("Assigned annotators", list(names), format_func=names.get)
        open_to_all = st.checkbox("Open to every annotator")
        guidelines = st.text_area("Guidelines (Markdown)", height=150)
        taxonomy = st.text_area("Taxonomy (YAML)", value=DEFAULT_TAXONOMY.to_yaml(), height=300)
        if st.form_submit_button("Create project", type="primary"):
            try:
                create_project(db, user.id, name, kind, guidelines, taxonomy, int(overlap),
                               members, open_to_all)
            except StoreError as exc:
                st.error(f"Not created: {markdown_literal(exc)}")
            else:
                st.success(f"Project {markdown_literal(repr(name.strip()))} created. "
                           "Import items on the Import page.")

with edit_tab:
    if not projects:
        st.caption("Nothing to edit yet.")
    else:
        by_id = {p.id: p for p in projects}
        pid = st.selectbox("Project", list(by_id), key="edit_project",
                           format_func=lambda i: by_id[i].name + (" (archived)" if by_id[i].archived else ""))
        project = by_id[pid]
        if st.session_state.pop("project_saved", None) == pid:
            st.success("Saved.")
        history = guideline_history(db, pid, limit=10)
        current = history[0]
        st.caption(f"Guidelines: version {current.version}, saved {current.created_at:%Y-%m-%d %H:%M} "
                   f"UTC by {markdown_literal(current.created_by_name or 'the server')}. Saving "
                   "changed guidelines makes a new version; annotations record the version they "
                   "were made under.")
        with st.expander("Guidelines history"):
            st.dataframe(pd.DataFrame([{"version": v.version, "by": v.created_by_name or "the server",
                                        "saved (UTC)": v.created_at, "characters": len(v.text)}
                                       for v in history]), hide_index=True, width="stretch")
        with st.form(f"edit_project_{pid}"):
            members = st.multiselect("Assigned annotators", list(names), format_func=names.get,
                                     default=[m for m in member_ids(db, pid) if m in names])
            open_to_all = st.checkbox("Open to every annotator", value=project.open_to_all)
            overlap = st.number_input("Overlap (annotators per item)", min_value=1, max_value=20,
                                      value=project.overlap)
            guidelines = st.text_area(f"Guidelines (Markdown), version {current.version}",
                                      value=current.text, height=150,
                                      help="Images and HTML are shown as text on the work pages.")
            taxonomy = st.text_area("Taxonomy (YAML)", value=project.taxonomy.to_yaml(), height=300)
            settings = project.settings
            description = st.text_area(
                "What this project contains (shown to each person before their first item)",
                value=settings.get(CONTENT_DESCRIPTION_SETTING, ""),
                max_chars=MAX_CONTENT_DESCRIPTION_CHARS,
                help="Plain words about the kind of content, e.g. \"chat transcripts with "
                     "violent threats and self-harm\". Shown as plain text with the categories "
                     "and highest severity the hints find, the protections on and support.")
            extra_terms = st.text_area("Extra words to mask (one per line)",
                                       value="\n".join(settings.get("mask_terms", [])))
            languages = st.multiselect(
                "Languages of the items (their word lists mask words and feed the hint)",
                available_languages(), default=settings.get("languages") or list(DEFAULT_LANGUAGES),
                format_func=lambda code: LANGUAGE_NAMES.get(code, code),
                help="After a change, use \"Recompute severity hints\" below.")
            hide_at = st.number_input("Hide text until asked when the severity hint is at least",
                                      min_value=0, max_value=9,
                                      value=int(settings.get("hide_text_at_severity", 3)))
            rule = st.selectbox("Rationale required (compare projects)", RATIONALE_RULES,
                                index=RATIONALE_RULES.index(settings.get("rationale", DEFAULT_RATIONALE_RULE)))
            per_response = st.checkbox("Ask safe/unsafe for each response (compare projects)",
                                       value=bool(settings.get("per_response_safety", False)))
            rules = rules_from_settings(settings)
            st.markdown("**Queue and quality**")
            queue_cols = st.columns(4)
            serve_order = queue_cols[0].selectbox(
                "Serve order", SERVE_ORDERS, index=SERVE_ORDERS.index(rules.serve_order),
                format_func=lambda o: {"depth_first": "finish started items first",
                                       "breadth_first": "open new items first"}[o])
            gold_rate = queue_cols[1].number_input(
                "Gold items (share of each person's items)", min_value=0.0, max_value=1.0,
                value=float(rules.gold_rate), step=0.01, help="0.05 = 1 in 20; 0 = none.")
            qualification_required = queue_cols[2].checkbox(
                "Require a qualification", value=rules.qualification_required,
                help="People answer the qualification gold items first; they get real items "
                     "after they pass (or a lead waives it).")
            qualification_threshold = queue_cols[3].number_input(
                "Pass mark (share right)", min_value=0.0, max_value=1.0, step=0.05,
                value=float(rules.qualification_threshold))
            st.markdown("**Wellbeing** (minutes are active minutes; caps are per person per day, "
                        "budgets per person over the last 7 days)")
            policy = policy_from_settings(settings)
            chosen = {}
            columns = st.columns(3)
            for n, (name, (low, high)) in enumerate(POLICY_RANGES.items()):
                chosen[name] = columns[n % 3].number_input(
                    POLICY_LABELS[name], min_value=low, max_value=high,
                    value=getattr(policy, name), key=f"wb_{name}_{pid}")
            if st.form_submit_button("Save changes", type="primary"):
                try:
                    update_project(db, user.id, pid, guidelines, taxonomy, int(overlap), open_to_all)
                    set_members(db, user.id, pid, members)
                    update_project_settings(db, user.id, pid, {
                        "mask_terms": [t.strip() for t in extra_terms.splitlines() if t.strip()],
                        "languages": list(languages),
                        "hide_text_at_severity": int(hide_at), "rationale": rule,
                        CONTENT_DESCRIPTION_SETTING: description.strip(),
                        "per_response_safety": per_response, "serve_order": serve_order,
                        "gold_rate": float(gold_rate),
                        "qualification_required": bool(qualification_required),
                        "qualification_threshold": float(qualification_threshold),
                        "wellbeing": {k: int(v) for k, v in chosen.items()}})
                except StoreError as exc:
                    st.error(f"Not saved: {markdown_literal(exc)}")
                else:
                    # Run again so the guidelines version and history above show the save.
                    st.session_state["project_saved"] = pid
                    st.rerun()
        if st.button("Recompute severity hints", key=f"rescore_{pid}",
                     help="Rescore every item whose hint came from the offline scorer (after "
                          "changing the word lists or the extra words to mask). Hints from an "
                          "imported column are kept."):
            try:
                changed = refresh_severity_hints(db, user.id, pid)
            except StoreError as exc:
                st.error(f"Not recomputed: {markdown_literal(exc)}")
            else:
                st.success(f"Recomputed the severity hint of {changed:,} items.")
        hint_quality_panel(db, user, project)
        qualification_panel(db, user, project, {
            m: names[m] for m in member_ids(db, pid) if m in names})
        opt_out_counts_panel(db, user, project)
        archive_button(db, user, project)
        import_batches_panel(db, user, project)
