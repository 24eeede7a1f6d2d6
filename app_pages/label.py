"""Label page: one item at a time, claimed by the server, judged and submitted."""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.item_view import show_item
from components.label_form import label_form, read_label
from core.labels import label_problems
from store.db import StoreError, utcnow
from store.projects import Project, project_progress, projects_for_user
from store.work import annotations_today, claim_next_item, flag_item, save_annotation, skip_item

CURRENT = "label_current"   # {project_id: {"item": Item, "shown_at": datetime}}
MESSAGES = "label_messages"  # problems or notices to show above the form on the next run

user = require_role("annotator")
db = get_db()
st.title("Label")
projects = {p.id: p for p in projects_for_user(db, user, kind="label")}
if not projects:
    st.info("No labeling project is assigned to you yet. A lead can add you to one.")
    st.stop()

project_id = st.sidebar.selectbox("Project", list(projects), key="label_project",
                                  format_func=lambda pid: projects[pid].name)
project: Project = projects[project_id]
with st.sidebar.expander("Guidelines"):
    st.markdown(project.guidelines or "_No guidelines yet._")
with st.sidebar.expander("Taxonomy"):
    for category in project.taxonomy.categories:
        st.text(f"{category.code} {category.name}: {category.description}")
    for level in project.taxonomy.severity:
        st.text(f"Severity {level.level} {level.name}: {level.description}")


def current_work(project_id: int) -> dict | None:
    slots = st.session_state.setdefault(CURRENT, {})
    if project_id not in slots:
        item = claim_next_item(db, user.id, project_id)
        if item is None:
            return None
        slots[project_id] = {"item": item, "shown_at": utcnow()}
    return slots[project_id]


def finish(project_id: int, notice: str) -> None:
    st.session_state[CURRENT].pop(project_id, None)
    st.session_state[MESSAGES] = {"notice": notice}


def on_submit(project: Project, work: dict) -> None:
    item = work["item"]
    label = read_label(item)
    problems = label_problems(label, project.taxonomy)
    if problems:
        st.session_state[MESSAGES] = {"problems": problems}
        return
    elapsed_ms = int((utcnow() - work["shown_at"]).total_seconds() * 1000)
    try:
        save_annotation(db, user.id, item.id, label, shown_at=work["shown_at"],
                        active_ms=elapsed_ms)
    except StoreError as exc:
        st.session_state[MESSAGES] = {"problems": [str(exc)]}
        return
    finish(project.id, f"Saved item {item.external_id}.")


def on_skip(project: Project, work: dict) -> None:
    reason = st.session_state.get(f"skip_reason_{work['item'].id}", "")
    skip_item(db, user.id, work["item"].id, reason)
    finish(project.id, "Skipped. Skipping is never counted against you.")


def on_flag(project: Project, work: dict) -> None:
    reason = st.session_state.get(f"flag_reason_{work['item'].id}", "")
    try:
        flag_item(db, user.id, work["item"].id, reason)
    except StoreError as exc:
        st.session_state[MESSAGES] = {"problems": [str(exc)]}
        return
    finish(project.id, "Flagged for a lead. Thank you.")


@st.fragment
def work_area() -> None:
    work = current_work(project.id)
    progress = project_progress(db, project.id)
    done_today = annotations_today(db, user.id, project.id)
    st.text(f"{done_today} done today · {progress.items_left:,} of {progress.items:,} items "
            f"left in {project.name}")
    messages = st.session_state.pop(MESSAGES, {})
    if messages.get("notice"):
        st.success(messages["notice"])
    if work is None:
        st.success("Nothing left for you in this project. Thank you!")
        return
    item = work["item"]
    if item.hint_category or item.hint_severity is not None:
        hint = " · ".join(x for x in (
            item.hint_category and f"category hint {project.taxonomy.category_label(item.hint_category)}",
            item.hint_severity is not None and f"severity hint {item.hint_severity}") if x)
        st.warning(f"Heads-up: {hint}. You may skip this item.", icon=":material/warning:")
    show_item(item)
    for problem in messages.get("problems", []):
        st.error(problem)
    label_form(item, project.taxonomy, on_submit=lambda: on_submit(project, work))
    skip_col, flag_col = st.columns(2)
    with skip_col.popover("Skip"):
        st.text_input("Reason (optional)", key=f"skip_reason_{item.id}")
        st.button("Skip this item", key=f"skip_{item.id}", on_click=on_skip, args=(project, work))
    with flag_col.popover("Flag for a lead"):
        st.text_input("Why?", key=f"flag_reason_{item.id}")
        st.button("Flag and move on", key=f"flag_{item.id}", on_click=on_flag, args=(project, work))


work_area()
