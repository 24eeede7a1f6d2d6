"""Label page: one item at a time, claimed by the server, judged with the keyboard.

Per rerun of the work fragment the store is asked at most for the claimed item (kept in
session state after the first time) and a cached progress count.
"""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.item_view import masked_term_count, show_item
from components.judgment import Draft, drop_draft, get_draft, judgment_controls, label_from
from core import keys
from core.active_time import active_ms
from core.labels import Label, label_problems
from core.masking import mask_pattern
from store.db import StoreError, utcnow
from store.events import record_event
from store.preferences import get_preference, set_preference
from store.projects import Project, project_progress, projects_for_user
from store.work import (Item, annotations_today, claim_next_item, flag_item, get_item,
                        latest_annotation, save_annotation, skip_item)

SHOW_MASKED_PREF = "show_masked_terms"

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
pattern = mask_pattern(project.settings.get("mask_terms", []))
gate_severity = int(project.settings.get("hide_text_at_severity", 3))

with st.sidebar.expander("Guidelines"):
    st.markdown(project.guidelines or "_No guidelines yet._")
with st.sidebar.expander("Taxonomy"):
    for category in project.taxonomy.categories:
        st.text(f"{category.code} {category.name}: {category.description}")
    for level in project.taxonomy.severity:
        st.text(f"Severity {level.level} {level.name}: {level.description}")
with st.sidebar.expander("Keyboard"):
    st.text(f"{keys.SAFE} safe · {keys.UNSAFE} unsafe\n"
            f"1-9, 0, then Q W E T Y I O P H J K L: categories\n"
            f"Shift+0 … Shift+9: severity\n"
            f"{keys.SUBMIT} submit ({keys.SUBMIT_FROM_TEXT} from a text box)\n"
            f"{keys.SKIP} skip · {keys.FLAG} flag · {keys.REVEAL} reveal\n"
            f"← previous item · → back towards the current one")


def _on_show_masked_change() -> None:
    set_preference(db, user.id, SHOW_MASKED_PREF, bool(st.session_state["pref_show_masked"]))


if "pref_show_masked" not in st.session_state:
    st.session_state["pref_show_masked"] = bool(get_preference(db, user.id, SHOW_MASKED_PREF, False))
st.sidebar.toggle("Show masked words without asking", key="pref_show_masked",
                  on_change=_on_show_masked_change,
                  help="Off by default. Every item shown unmasked is recorded as a reveal.")


@st.cache_data(ttl=5, show_spinner=False)
def cached_progress(_db, db_path: str, project_id: int):
    return project_progress(_db, project_id)


# Session state, per project: the claimed item, the items done this session (for
# "previous"), which of those is open for correction, and today's count.
state = st.session_state.setdefault("label", {})
mine = state.setdefault(project.id, {"current": None, "done": [], "view": None, "today": None,
                                     "messages": {}})


def current_item() -> Item | None:
    if mine["current"] is None:
        mine["current"] = claim_next_item(db, user.id, project.id)
    return mine["current"]


def say(notice: str | None = None, problems: list[str] | None = None) -> None:
    mine["messages"] = {"notice": notice, "problems": problems or []}


def on_submit(item: Item, draft: Draft, correcting: bool) -> None:
    label = label_from(draft, item.id, item.response)
    problems = label_problems(label, project.taxonomy)
    if problems:
        draft.touch()
        say(problems=problems)
        return
    now = utcnow()
    try:
        save_annotation(db, user.id, item.id, label, shown_at=draft.shown_at,
                        active_ms=active_ms([*draft.moments, now]), now=now)
    except StoreError as exc:
        say(problems=[str(exc)])
        return
    drop_draft(item.id)
    if correcting:
        mine["view"] = None
        say(f"Correction saved for item {item.external_id} (the earlier version is kept).")
        return
    mine["done"].append(item.id)
    mine["current"] = None
    if mine["today"] is not None:
        mine["today"] += 1
    say(f"Saved item {item.external_id}.")


def on_skip(item: Item) -> None:
    skip_item(db, user.id, item.id, st.session_state.get(f"reason_{item.id}", "") or "")
    drop_draft(item.id)
    mine["current"] = None
    say("Skipped. Skipping is never counted against you.")


def on_flag(item: Item) -> None:
    try:
        flag_item(db, user.id, item.id, st.session_state.get(f"reason_{item.id}", "") or "")
    except StoreError as exc:
        say(problems=[f"{exc}: type it in the reason box first."])
        return
    drop_draft(item.id)
    mine["current"] = None
    say("Flagged for a lead. Thank you.")


def on_reveal(item: Item, draft: Draft, what: str, count: int = 0) -> None:
    if what == "text":
        draft.text_shown = True
    else:
        draft.revealed = True
    draft.touch()
    record_event(db, "reveal", user.id, project.id, item.id,
                 {"what": what, **({"terms": count} if count else {})})


def go_back() -> None:
    if not mine["done"]:
        return
    position = len(mine["done"]) if mine["view"] is None else mine["view"]
    mine["view"] = max(0, position - 1)


def go_forward() -> None:
    if mine["view"] is None:
        return
    mine["view"] = None if mine["view"] + 1 >= len(mine["done"]) else mine["view"] + 1


def progress_line() -> None:
    if mine["today"] is None:
        mine["today"] = annotations_today(db, user.id, project.id)
    progress = cached_progress(db, db.path, project.id)
    st.text(f"{mine['today']} done today · {progress.items_left:,} of {progress.items:,} items "
            f"left in {project.name}")


def hint_text(item: Item) -> str | None:
    parts = []
    if item.hint_category:
        parts.append(f"category hint {project.taxonomy.category_label(item.hint_category)}")
    if item.hint_severity is not None:
        parts.append(f"severity hint {project.taxonomy.severity_label(item.hint_severity)}")
    return " · ".join(parts) or None


def action_row(item: Item, draft: Draft, correcting: bool) -> None:
    submit_col, text_submit_col, skip_col, flag_col, back_col, fwd_col = st.columns(
        [1.2, 1.8, 1, 1, 1.1, 1])
    submit_col.button("Save correction" if correcting else "Submit", type="primary",
                      key=f"submit_{item.id}", shortcut=keys.SUBMIT, width="stretch",
                      on_click=on_submit, args=(item, draft, correcting))
    text_submit_col.button("Submit (in a text box)", key=f"submit_text_{item.id}",
                           shortcut=keys.SUBMIT_FROM_TEXT, width="stretch", type="tertiary",
                           on_click=on_submit, args=(item, draft, correcting))
    if not correcting:
        skip_col.button("Skip", key=f"skip_{item.id}", shortcut=keys.SKIP, width="stretch",
                        on_click=on_skip, args=(item,))
        flag_col.button("Flag", key=f"flag_{item.id}", shortcut=keys.FLAG, width="stretch",
                        on_click=on_flag, args=(item,))
    back_col.button("Previous", key=f"back_{item.id}", shortcut=keys.PREVIOUS, width="stretch",
                    on_click=go_back, disabled=not mine["done"] or mine["view"] == 0)
    fwd_col.button("Next", key=f"fwd_{item.id}", shortcut=keys.NEXT, width="stretch",
                   on_click=go_forward, disabled=mine["view"] is None)
    if not correcting:
        st.text_input("Reason (optional for skip, needed for flag)", key=f"reason_{item.id}")


@st.fragment
def work_area() -> None:
    progress_line()
    messages = mine.pop("messages", {}) or {}
    mine["messages"] = {}
    if messages.get("notice"):
        st.success(messages["notice"])

    correcting = mine["view"] is not None
    if correcting:
        item = get_item(db, mine["done"][mine["view"]])
        saved = latest_annotation(db, item.id, user.id)
        prefill = Label(saved.is_safe, tuple(saved.categories or ()), saved.severity) if saved else None
        draft = get_draft(item.id, prefill)
        draft.text_shown = True
        st.info(f"Correcting item {item.external_id}, which you labeled earlier "
                f"(version {saved.version if saved else '?'}). Saving adds a new version; "
                "the old one is kept.")
    else:
        item = current_item()
        if item is None:
            done = len(mine["done"])
            st.success("Nothing left for you in this project. "
                       + (f"You labeled {done} items this session. " if done else "")
                       + "Thank you!")
            if mine["done"]:
                st.button("Previous", key="back_done", shortcut=keys.PREVIOUS, on_click=go_back)
            return
        draft = get_draft(item.id)

    hint = hint_text(item)
    gated = (not draft.text_shown and item.hint_severity is not None
             and item.hint_severity >= gate_severity)
    if hint:
        st.warning(f"Heads-up: {hint}." + (" The text is hidden until you choose to see it; "
                                            "skipping is always fine." if gated else ""),
                   icon=":material/warning:")
    if gated:
        show_col, skip_col, _ = st.columns([1, 1, 3])
        show_col.button("Show the text", key=f"show_{item.id}", shortcut=keys.REVEAL,
                        type="primary", on_click=on_reveal, args=(item, draft, "text"))
        skip_col.button("Skip", key=f"skip_gate_{item.id}", shortcut=keys.SKIP,
                        on_click=on_skip, args=(item,))
        return

    revealed = draft.revealed or st.session_state.get("pref_show_masked", False)
    hidden_terms = masked_term_count(item, pattern)
    if hidden_terms and st.session_state.get("pref_show_masked") and not draft.revealed:
        draft.revealed = True
        record_event(db, "reveal", user.id, project.id, item.id,
                     {"what": "terms", "terms": hidden_terms, "by": "preference"})
    show_item(item, pattern, revealed)
    if hidden_terms and not revealed:
        st.button(f"Reveal {hidden_terms} masked word{'s' if hidden_terms > 1 else ''}",
                  key=f"reveal_{item.id}", shortcut=keys.REVEAL,
                  on_click=on_reveal, args=(item, draft, "terms", hidden_terms))

    for problem in messages.get("problems", []):
        st.error(problem)
    judgment_controls(item.id, draft, project.taxonomy)
    st.text_input("Note (optional)", key=f"note_{item.id}")
    if item.response is not None:
        with st.expander("Edit / rewrite the response (the original is kept)"):
            if hidden_terms and not revealed:
                st.text("Reveal the masked words first: the editor holds the full text.")
            else:
                st.text_area("Edited response", value=item.response, key=f"edit_{item.id}",
                             height=160)
    action_row(item, draft, correcting)


work_area()
