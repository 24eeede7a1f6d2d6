"""Review page (leads): queues of items to look at, every annotator's answer side by side
with the item, the adjudicated answer, and the item's history."""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.item_view import rendered_text_toggle, show_item, show_pair
from components.project_picker import choose_project
from components.review_panel import (adjudication_form, answers_table, history_expander,
                                     gold_form, last_result, masked_words_toggle, queue_rows,
                                     queue_table, threads_section)
from core.masking import project_mask_pattern
from core.text import markdown_literal
from store.review import REVIEW_QUEUES, find_item, item_answers, questions_for, queue_takes
from store.work import get_item

user = require_role("lead")
db = get_db()
st.title("Review")
last_result()

project = choose_project(db, "Project", "No projects yet.")
lookup = st.text_input("Open an item by its id (the external id it was imported with)",
                       key="review_lookup").strip()

item_id = None
if lookup:
    item_id = find_item(db, project.id, lookup)
    if item_id is None:
        st.warning(f"No item with the id {markdown_literal(repr(lookup))} in this project.")
else:
    queue = st.radio("Queue", list(REVIEW_QUEUES), horizontal=True, key="review_queue")
    options: dict = {}
    if queue_takes(queue, "threshold"):
        if not st.checkbox("Any disagreement", value=True, key="review_any"):
            options["threshold"] = st.slider("Agreement below", 0.5, 1.0, 0.75, 0.05,
                                             key="review_threshold",
                                             help="Share of votes on the most common answer.")
    if queue_takes(queue, "questions"):
        known = list(questions_for(project.kind))
        options["questions"] = tuple(st.multiselect("Compare on", known, default=known,
                                                    key=f"review_questions_{project.kind}"))
    rows = queue_rows(db, project.id, queue, options)
    if not rows:
        st.info("Nothing in this queue.")
    else:
        item_id = queue_table(rows)

item = get_item(db, item_id) if item_id is not None else None
if item is not None:
    st.divider()
    revealed = masked_words_toggle(db, user, project, item.id)
    rendered_text_toggle(db, user)
    text_column, answers_column = st.columns(2)
    with text_column:
        st.caption(f"Item {item.id} · id {markdown_literal(item.external_id)}")
        pattern = project_mask_pattern(project.settings)
        if project.kind == "compare":
            show_pair(item, pattern, revealed, "a")
        else:
            show_item(item, pattern, revealed)
        history_expander(db, item.id)
    with answers_column:
        answers = item_answers(db, item.id)
        answers_table(project, answers)
        adjudication_form(db, user, project, item.id)
        gold_form(db, user, project, item.id)
        threads_section(db, user, item.id, {a.user_id: a.username for a in answers})
