"""Show an item's text as plain text: never interpreted as HTML or Markdown."""
from __future__ import annotations

import streamlit as st

from store.work import Item

PREVIEW_CHARS = 20_000


def plain_text(label: str, text: str | None, key: str) -> None:
    """A labelled block of literal text; very long text is cut with a "show all" toggle."""
    st.text(label)
    text = text or ""
    if len(text) > PREVIEW_CHARS and not st.session_state.get(f"show_all_{key}"):
        st.text(text[:PREVIEW_CHARS])
        st.toggle(f"Show all ({len(text):,} characters)", key=f"show_all_{key}")
    else:
        st.text(text)


def show_item(item: Item) -> None:
    """Prompt (or transcript) and response of a labeling item."""
    with st.container(border=True):
        if item.messages:
            turns = item.messages
            # The final assistant turn is the response under review; show it last, apart.
            if turns and turns[-1].get("role") == "assistant" and item.response == turns[-1].get("content"):
                turns = turns[:-1]
            for n, turn in enumerate(turns):
                plain_text(str(turn.get("role", "")).upper(), turn.get("content"), f"{item.id}_m{n}")
        if item.prompt:
            plain_text("PROMPT", item.prompt, f"{item.id}_prompt")
        if item.response is not None:
            st.divider()
            plain_text("RESPONSE", item.response, f"{item.id}_response")
