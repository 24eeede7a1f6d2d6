"""Show an item's text as plain text (never HTML or Markdown), with explicit terms masked."""
from __future__ import annotations

import re

import streamlit as st

from core.masking import count_masked, mask_text
from store.work import Item

PREVIEW_CHARS = 20_000
# An empty reply is a response (HH-RLHF has some): said so, in the caption's grey, so it
# cannot be taken for a reply that reads "(empty response)".
EMPTY_RESPONSE = "(empty response)"


def plain_text(label: str, text: str | None, key: str, empty: str | None = None) -> None:
    """A labelled block of literal text; very long text is cut with a "show all" toggle.
    `empty`, if given, is said instead of an empty text."""
    st.text(label)
    text = text or ""
    if not text and empty:
        st.caption(empty)
    elif len(text) > PREVIEW_CHARS and not st.session_state.get(f"show_all_{key}"):
        st.text(text[:PREVIEW_CHARS] + " …")
        st.toggle(f"Show all ({len(text):,} characters)", key=f"show_all_{key}")
    else:
        st.text(text)


def item_texts(item: Item) -> list[tuple[str, str]]:
    """(label, text) pairs in reading order: transcript turns or prompt, then responses."""
    parts: list[tuple[str, str]] = []
    if item.messages:
        turns = item.messages
        # The final assistant turn is the response under review: shown last, apart.
        if turns and turns[-1].get("role") == "assistant" and item.response == turns[-1].get("content"):
            turns = turns[:-1]
        parts += [(str(t.get("role", "")).upper(), t.get("content") or "") for t in turns]
    if item.prompt:
        parts.append(("PROMPT", item.prompt))
    if item.response is not None:
        parts.append(("RESPONSE", item.response))
    if item.response_a is not None:
        parts.append(("RESPONSE A", item.response_a))
    if item.response_b is not None:
        parts.append(("RESPONSE B", item.response_b))
    return parts


def masked_term_count(item: Item, pattern: re.Pattern[str] | None) -> int:
    return sum(count_masked(text, pattern) for _, text in item_texts(item))


# Blur is CSS on elements that hold escaped plain text (st.text), never on item HTML.
DIM_CSS = ("<style>[class*='st-key-dim_'] [data-testid='stText']"
           " { filter: blur(6px); user-select: none; }</style>")


def item_box(item: Item, dimmed: bool):
    """The bordered box the item is drawn in; blurred while `dimmed`."""
    if dimmed:
        st.html(DIM_CSS)
    return st.container(border=True, key=f"{'dim' if dimmed else 'item'}_{item.id}")


def show_item(item: Item, pattern: re.Pattern[str] | None, revealed: bool,
              dimmed: bool = False) -> None:
    """Prompt (or transcript) and response, masked unless `revealed`, blurred if `dimmed`."""
    with item_box(item, dimmed):
        for n, (label, text) in enumerate(item_texts(item)):
            if label.startswith("RESPONSE") and n:
                st.divider()
            shown = text if revealed else mask_text(text, pattern)[0]
            plain_text(label, shown, f"{item.id}_{n}",
                       EMPTY_RESPONSE if label.startswith("RESPONSE") else None)


def show_pair(item: Item, pattern: re.Pattern[str] | None, revealed: bool, left: str,
              dimmed: bool = False) -> None:
    """The prompt (or transcript) on top, then the two responses side by side in the order
    this person sees them: `left` ("a" or "b") is shown as A on the left."""
    def text(value: str | None) -> str:
        return (value or "") if revealed else mask_text(value or "", pattern)[0]

    with item_box(item, dimmed):
        for n, (label, body) in enumerate(item_texts(item)):
            if not label.startswith("RESPONSE"):
                plain_text(label, text(body), f"{item.id}_{n}")
        order = ("a", "b") if left == "a" else ("b", "a")
        columns = st.columns(2)
        for column, side, shown_as in zip(columns, order, ("A", "B")):
            with column:
                # A response that goes on for more turns (HH-RLHF pairs whose transcripts
                # part before the last reply) is shown turn by turn.
                turns = (item.metadata.get("response_turns") or {}).get(side)
                if not turns:
                    turns = [{"content": item.response_a if side == "a" else item.response_b}]
                for k, turn in enumerate(turns):
                    label = f"RESPONSE {shown_as}"
                    if len(turns) > 1:
                        label += f" \u00b7 {str(turn.get('role', '')).upper()}"
                    plain_text(label, text(turn.get("content")),
                               f"{item.id}_{shown_as}" + (f"_{k}" if k else ""), EMPTY_RESPONSE)
