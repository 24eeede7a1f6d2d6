"""The Projects page's "Severity hints" panel: which hint is in use and why, what the model
catches beside the keyword hint (cross-validated on the project's own labels), and the
project's hint settings."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.hint_model import quality_rows, quality_summary
from core.hint_trust import CHOICES
from core.text import markdown_literal
from store.db import Database, StoreError
from store.hint_models import hint_status, set_hint_settings
from store.projects import Project
from store.users import User


def hint_quality_panel(db: Database, user: User, project: Project) -> None:
    if project.kind != "label":
        return
    status = hint_status(db, project.id)
    with st.expander("Severity hints: keywords or a model trained on your labels", expanded=True):
        st.text(status.explanation)
        if status.pending_items:
            st.caption(f"{status.pending_items:,} items still wait for the hint in use; they "
                       "are re-scored in the background, a few hundred at a time.")
        if status.model is not None:
            evaluation = status.model.evaluation
            st.text(quality_summary(evaluation))
            st.dataframe(pd.DataFrame(quality_rows(evaluation)), hide_index=True,
                         width="stretch")
            st.caption(f"Model version {status.model.version}, {status.model.kind}, "
                       f"{status.model.library}, trained {status.model.created_at:%Y-%m-%d %H:%M} "
                       f"UTC in {status.model.train_seconds:.0f} s. \"Catches\": of the items "
                       "people labelled at least that severe, how many the hint flags at that "
                       "level. \"False alarms\": of the other items, how many it flags anyway.")
        with st.form(f"hint_settings_{project.id}"):
            cols = st.columns(3)
            min_items = cols[0].number_input(
                "Train a model from this many items with a severity", min_value=20,
                max_value=100_000, value=status.min_items, step=10)
            confidence = cols[1].number_input(
                "Blur or hide only when the model is at least this sure", min_value=0.5,
                max_value=0.99, value=float(status.confidence), step=0.05,
                help="Keyword and imported hints have no confidence and act as before.")
            choice = cols[2].selectbox(
                "Hint to use", CHOICES, index=CHOICES.index(status.choice),
                format_func={"auto": "the better of model and keywords (measured)",
                             "keywords": "keywords only"}.get)
            if st.form_submit_button("Save hint settings"):
                try:
                    set_hint_settings(db, user.id, project.id, int(min_items),
                                      round(float(confidence), 2), choice)
                except StoreError as exc:
                    st.error(f"Not saved: {markdown_literal(exc)}")
                else:
                    st.success("Hint settings saved; the background worker applies them.")
