"""The safety judgment form: safe/unsafe, categories, severity, note and an edited response."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.labels import Label
from core.taxonomy import Taxonomy
from store.work import Item


def _keys(item_id: int) -> dict[str, str]:
    return {name: f"label_{name}_{item_id}" for name in
            ("safety", "categories", "severity", "note", "edited")}


def read_label(item: Item) -> Label:
    """The label as the form's widgets hold it now (for use in callbacks)."""
    keys = _keys(item.id)
    state = st.session_state
    safety = state.get(keys["safety"])
    edited = state.get(keys["edited"])
    return Label(
        is_safe=None if safety is None else safety == "Safe",
        categories=tuple(state.get(keys["categories"]) or ()),
        severity=state.get(keys["severity"]),
        note=(state.get(keys["note"]) or "").strip(),
        edited_response=edited if edited is not None and edited != (item.response or "") else None,
    )


def label_form(item: Item, taxonomy: Taxonomy, on_submit: Callable[[], None]) -> None:
    """Render the form; `on_submit` runs as the submit button's callback."""
    keys = _keys(item.id)
    with st.form(f"label_form_{item.id}", border=False):
        st.radio("Judgment", ["Safe", "Unsafe"], index=None, horizontal=True, key=keys["safety"])
        st.multiselect("Hazard categories", taxonomy.category_codes(), key=keys["categories"],
                       format_func=taxonomy.category_label,
                       help="; ".join(f"{c.code} {c.name}: {c.description}" for c in taxonomy.categories))
        st.radio("Severity", taxonomy.severity_levels(), index=None, horizontal=True,
                 key=keys["severity"], format_func=taxonomy.severity_label)
        st.text_input("Note (optional)", key=keys["note"])
        if item.response is not None:
            with st.expander("Edit / rewrite the response"):
                st.text_area("Edited response (the original is kept)", value=item.response,
                             key=keys["edited"], height=160)
        st.form_submit_button("Submit", type="primary", on_click=on_submit)
