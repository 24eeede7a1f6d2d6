"""Label page: one item at a time, claimed by the server, judged with the keyboard.

Per rerun of the work fragment the store is asked at most for the claimed item (kept in
session state after the first time) and a cached progress count.
"""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.item_view import show_item
from components.judgment import Draft, get_draft, judgment_controls, label_from
from components.work_page import WorkSession, pick_project
from core import keys
from core.active_time import active_ms
from core.labels import Label, label_problems
from store.db import StoreError, utcnow
from store.work import Item, get_item, latest_annotation, save_annotation

KEYBOARD = (f"{keys.SAFE} safe · {keys.UNSAFE} unsafe\n"
            "1-9, 0, then Q W E T Y I O P H J K L: categories\n"
            "Shift+0 … Shift+9: severity\n"
            f"{keys.SUBMIT} submit ({keys.SUBMIT_FROM_TEXT} from a text box)\n"
            f"{keys.SKIP} skip · {keys.FLAG} flag · {keys.REVEAL} reveal\n"
            "← previous item · → back towards the current one")

user = require_role("annotator")
db = get_db()
st.title("Label")
project = pick_project(db, user, "label", KEYBOARD)
work = WorkSession(db, user, project, "label")


def on_submit(item: Item, draft: Draft, correcting: bool) -> None:
    label = label_from(draft, item.id, item.response)
    problems = label_problems(label, project.taxonomy)
    if problems:
        draft.touch()
        work.say(problems=problems)
        return
    now = utcnow()
    try:
        save_annotation(db, user.id, item.id, label, shown_at=draft.shown_at,
                        active_ms=active_ms([*draft.moments, now]), now=now)
    except StoreError as exc:
        work.say(problems=[str(exc)])
        return
    work.finished(item, correcting)


@st.fragment
def work_area() -> None:
    work.progress_line()
    messages = work.take_messages()
    if messages.get("notice"):
        st.success(messages["notice"])
    correcting = work.correcting
    if correcting:
        item = get_item(db, work.viewed_item_id())
        saved = latest_annotation(db, item.id, user.id)
        prefill = Label(saved.is_safe, tuple(saved.categories or ()), saved.severity) if saved else None
        draft = get_draft(item.id, prefill)
        draft.text_shown = True
        st.info(f"Correcting item {item.external_id}, which you labeled earlier "
                f"(version {saved.version if saved else '?'}). Saving adds a new version; "
                "the old one is kept.")
    else:
        item = work.current_item()
        if item is None:
            work.nothing_left()
            return
        draft = get_draft(item.id)

    if not work.hint_gate(item, draft):
        return
    revealed, hidden_terms = work.masking(item, draft)
    show_item(item, work.pattern, revealed)
    work.reveal_button(item, draft, hidden_terms, revealed)
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
    work.action_row(item, lambda: on_submit(item, draft, correcting))


work_area()
