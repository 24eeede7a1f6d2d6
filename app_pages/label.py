"""Label page: one item at a time, claimed by the server, judged with the keyboard.

Per rerun of the work fragment the store is asked at most for the claimed item (kept in
session state after the first time) and a cached progress count.
"""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.item_view import show_item
from components.judgment import Draft, judgment_controls, label_from
from components.work_page import WorkSession, pick_project
from components.work_surface import label_surface, surface_mode
from core import keys
from core.labels import label_problems
from core.limits import MAX_NOTE_CHARS, max_rewrite_chars
from core.queue import UNDO_WINDOW_SECONDS
from store.work import AnnotationRecord, Item

CLASSIC_KEYBOARD = (f"{keys.SAFE} safe · {keys.UNSAFE} unsafe\n"
                    "1-9, 0, then Q W E T Y I O P H J K L: categories\n"
                    "Shift+0 … Shift+9: severity\n"
                    f"{keys.SUBMIT} submit ({keys.SUBMIT_FROM_TEXT} from a text box)\n"
                    f"{keys.SKIP} skip · {keys.FLAG} flag · {keys.REVEAL} reveal\n"
                    f"{keys.UNDO} undo the last submit or skip"
                    f" (for {UNDO_WINDOW_SECONDS // 60} minutes)\n"
                    "← previous item · → back towards the current one\n"
                    f"{keys.GUIDELINES} guidelines and taxonomy")

user = require_role("annotator")
db = get_db()
st.title("Label")
SURFACE_KEYBOARD = CLASSIC_KEYBOARD.replace(
    f"{keys.SUBMIT} submit ({keys.SUBMIT_FROM_TEXT} from a text box)",
    f"{keys.SUBMIT} submit ({keys.SUBMIT_FROM_TEXT} from the note or the rewrite)\n"
    "N note · D rewrite · X reason · Esc leaves a text field").replace(
    "← previous item · → back towards the current one\n", "")
project = pick_project(db, user, "label",
                       SURFACE_KEYBOARD if surface_mode() == "component" else CLASSIC_KEYBOARD)
work = WorkSession(db, user, project, "label")


def on_submit(item: Item, draft: Draft) -> None:
    label = label_from(draft, item.id, item.response)
    work.submit(item, draft, label_problems(label, project.taxonomy), label=label)


def prefill(draft: Draft, saved: AnnotationRecord) -> None:
    draft.is_safe, draft.categories, draft.severity = (
        saved.is_safe, list(saved.categories or ()), saved.severity)


def classic_work_area() -> None:
    """The st.widget controls: the whole page in classic mode, and corrections (Previous,
    My items, an undone submit) in component mode."""
    opened = work.open_item(prefill)
    if opened is None:
        return
    item, draft, messages = opened
    if not work.hint_gate(item, draft):
        return
    revealed, hidden_terms, dimmed = work.show_text(
        item, draft, messages,
        lambda revealed, dimmed: show_item(item, work.pattern, revealed, dimmed))
    judgment_controls(item.id, draft, project.taxonomy)
    st.text_input("Note (optional)", key=f"note_{item.id}", max_chars=MAX_NOTE_CHARS)
    if item.response is not None:
        with st.expander("Edit / rewrite the response (the original is kept)"):
            if dimmed:
                st.text("Unblur the text first (V): the editor holds the full text.")
            elif hidden_terms and not revealed:
                st.text("Reveal the masked words first: the editor holds the full text.")
            else:
                st.text_area("Edited response", value=item.response, key=f"edit_{item.id}",
                             height=160, max_chars=max_rewrite_chars(item.response))
    work.action_row(item, lambda: on_submit(item, draft))


surface = label_surface(work) if surface_mode() == "component" else None


@st.fragment
def work_area() -> None:
    if surface is None or work.correcting:
        classic_work_area()
    else:
        surface.draw()


work.run(work_area)
