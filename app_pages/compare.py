"""Compare page: a prompt and two responses side by side, judged on two axes and overall.

Which stored response appears on the left is random per person and item, and stored with
the judgment (position bias can be studied; exports undo it).
"""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.item_view import show_pair
from components.judgment import Draft
from components.preference_form import (KEYBOARD_HELP, draft_from_judgment, preference_controls,
                                        to_judgment)
from components.work_page import WorkSession, pick_project
from components.work_surface import compare_surface, surface_mode
from core.preference import DEFAULT_RATIONALE_RULE, judgment_problems, left_response
from store.work import AnnotationRecord, Item

user = require_role("annotator")
db = get_db()
st.title("Compare")
SURFACE_KEYBOARD = KEYBOARD_HELP.replace(
    "Enter submit (Ctrl+Enter from a text box)\n",
    "Enter submit (Ctrl+Enter from the rationale)\nN rationale · X reason · Esc leaves a text field\n"
).replace(" · ← previous · → next", "")
project = pick_project(db, user, "compare",
                       SURFACE_KEYBOARD if surface_mode() == "component" else KEYBOARD_HELP)
work = WorkSession(db, user, project, "compare")
rationale_rule = project.settings.get("rationale", DEFAULT_RATIONALE_RULE)
ask_safety = bool(project.settings.get("per_response_safety", False))


def on_submit(item: Item, draft: Draft) -> None:
    judgment = to_judgment(draft, item.id, draft.choices["left"])
    work.submit(item, draft, judgment_problems(judgment, rationale_rule, ask_safety),
                judgment=judgment.to_dict())


def prefill(draft: Draft, saved: AnnotationRecord) -> None:
    if saved.judgment:
        draft.choices.update(draft_from_judgment(saved.judgment))
        draft.choices["left"] = saved.judgment.get("left", "a")
        st.session_state.setdefault(f"rationale_{saved.item_id}", saved.judgment.get("rationale") or "")


def classic_work_area() -> None:
    """The st.widget controls: the whole page in classic mode, and corrections (Previous,
    My items, an undone submit) in component mode."""
    opened = work.open_item(prefill)
    if opened is None:
        return
    item, draft, messages = opened
    draft.choices.setdefault("left", left_response(user.id, item.id))
    if not work.hint_gate(item, draft):
        return
    work.show_text(item, draft, messages, lambda revealed, dimmed: show_pair(
        item, work.pattern, revealed, draft.choices["left"], dimmed))
    preference_controls(item.id, draft, ask_safety, rationale_rule, project.taxonomy)
    work.action_row(item, lambda: on_submit(item, draft))


surface = (compare_surface(work, rationale_rule, ask_safety)
           if surface_mode() == "component" else None)


@st.fragment
def work_area() -> None:
    if surface is None or work.correcting:
        classic_work_area()
    else:
        surface.draw()


work.run(work_area)
