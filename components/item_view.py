"""Show an item's text as plain text (never HTML or Markdown), with explicit terms masked
and hidden characters (zero-width, bidi, control, tag characters, mixed-alphabet words: see
core/hidden_text.py) shown as visible markers, unless the person chose to see the text as
rendered. Either way a notice above the item says what the text contains."""
from __future__ import annotations

import re

import streamlit as st

from components.auth import session_is_live
from core.hidden_text import HiddenReport, mark_hidden
from core.hidden_text import hidden_notice as describe_hidden
from core.masking import count_masked, mask_text
from core.text import markdown_literal
from store.db import Database
from store.preferences import get_preference, set_preference
from store.users import User
from store.work import Item

PREVIEW_CHARS = 20_000
# An empty reply is a response (HH-RLHF has some): said so, in the caption's grey, so it
# cannot be taken for a reply that reads "(empty response)".
EMPTY_RESPONSE = "(empty response)"


SHOW_RENDERED_PREF = "show_text_as_rendered"
SHOW_RENDERED_KEY = "pref_show_rendered"


def preference_toggle(db: Database, user: User, label: str, preference: str, key: str,
                      help: str) -> None:
    """A sidebar toggle for one of the person's yes/no preferences: read from the store once
    per session, written when changed (a callback runs before the page's login check: only
    a live login may write)."""
    def on_change() -> None:
        if session_is_live(db):
            set_preference(db, user.id, preference, bool(st.session_state[key]))

    if key not in st.session_state:
        st.session_state[key] = bool(get_preference(db, user.id, preference, False))
    st.sidebar.toggle(label, key=key, on_change=on_change, help=help)


def rendered_text_toggle(db: Database, user: User) -> None:
    """Sidebar: the person's choice to see item text as rendered (hidden characters not
    marked). Draw it outside fragments (the sidebar)."""
    preference_toggle(db, user, "Show text as rendered (hidden characters not marked)",
                      SHOW_RENDERED_PREF, SHOW_RENDERED_KEY,
                      "Off by default: zero-width, right-to-left and other invisible "
                      "characters show as markers such as ⟦ZWSP⟧ or ⟦RLO⟧. Either way a "
                      "notice above the item says what its text contains.")


def text_as_rendered() -> bool:
    return bool(st.session_state.get(SHOW_RENDERED_KEY, False))


def displayed(text: str) -> str:
    """Item text as this person sees it: hidden characters marked unless they chose the
    rendered text. Apply after masking (masking matches words across invisible characters
    and keeps them in place for the markers)."""
    return text if text_as_rendered() else mark_hidden(text)


def hidden_notice(texts: list[tuple[str, str]]) -> HiddenReport:
    """A notice naming what the (label, text) blocks hide, per block; nothing when they are
    clean. Returns the whole item's report."""
    total, notice = describe_hidden(texts, text_as_rendered())
    if notice:
        # Our own words and counts only (no item text); escaped all the same.
        st.warning(markdown_literal(notice), icon=":material/visibility:")
    return total


def plain_text(label: str, text: str | None, key: str, empty: str | None = None) -> None:
    """A labelled block of literal text; very long text is cut with a "show all" toggle.
    `empty`, if given, is said instead of an empty text. Hidden characters are marked as the
    person chose (`displayed`)."""
    st.text(label, width="stretch")
    text = text or ""
    if not text and empty:
        st.caption(empty)
    elif len(text) > PREVIEW_CHARS and not st.session_state.get(f"show_all_{key}"):
        st.text(displayed(text[:PREVIEW_CHARS]) + " …", width="stretch")
        st.toggle(f"Show all ({len(text):,} characters)", key=f"show_all_{key}")
    else:
        st.text(displayed(text), width="stretch")


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
# Each text block takes its direction from its own text, paragraph by paragraph, as
# dir="auto" would (Hebrew and Arabic read right to left from the right edge), and is
# isolated: a direction control inside one block cannot reach the next. Constant CSS on the
# st.text elements (no markup from the item): st.text holds its text in an inline-block
# span, which the paragraph around it would see as one neutral object, so the span is made
# the block whose paragraphs are laid out; the text elements are full width (`stretch`).
BIDI_CSS = ("<style>:is([class*='st-key-item_'], [class*='st-key-dim_']) [data-testid='stText'] > span"
            " { display: block; unicode-bidi: plaintext; text-align: start; }</style>")


def item_box(item: Item, dimmed: bool):
    """The bordered box the item is drawn in; blurred while `dimmed`."""
    st.html(BIDI_CSS + (DIM_CSS if dimmed else ""))
    return st.container(border=True, key=f"{'dim' if dimmed else 'item'}_{item.id}")


def show_item(item: Item, pattern: re.Pattern[str] | None, revealed: bool,
              dimmed: bool = False) -> None:
    """Prompt (or transcript) and response, masked unless `revealed`, blurred if `dimmed`,
    hidden characters marked (and named in a notice above the item)."""
    texts = [(label, text if revealed else mask_text(text, pattern)[0])
             for label, text in item_texts(item)]
    hidden_notice(texts)
    with item_box(item, dimmed):
        for n, (label, shown) in enumerate(texts):
            if label.startswith("RESPONSE") and n:
                st.divider()
            plain_text(label, shown, f"{item.id}_{n}",
                       EMPTY_RESPONSE if label.startswith("RESPONSE") else None)


def show_pair(item: Item, pattern: re.Pattern[str] | None, revealed: bool, left: str,
              dimmed: bool = False) -> None:
    """The prompt (or transcript) on top, then the two responses side by side in the order
    this person sees them: `left` ("a" or "b") is shown as A on the left."""
    def text(value: str | None) -> str:
        return (value or "") if revealed else mask_text(value or "", pattern)[0]

    prompt = [(label, text(body), f"{item.id}_{n}")
              for n, (label, body) in enumerate(item_texts(item))
              if not label.startswith("RESPONSE")]
    order = ("a", "b") if left == "a" else ("b", "a")
    sides = []
    for side, shown_as in zip(order, ("A", "B")):
        # A response that goes on for more turns (HH-RLHF pairs whose transcripts
        # part before the last reply) is shown turn by turn.
        turns = (item.metadata.get("response_turns") or {}).get(side)
        if not turns:
            turns = [{"content": item.response_a if side == "a" else item.response_b}]
        blocks = []
        for k, turn in enumerate(turns):
            label = f"RESPONSE {shown_as}"
            if len(turns) > 1:
                label += f" \u00b7 {str(turn.get('role', '')).upper()}"
            blocks.append((label, text(turn.get("content")),
                           f"{item.id}_{shown_as}" + (f"_{k}" if k else "")))
        sides.append(blocks)
    hidden_notice([(label, shown) for label, shown, _ in prompt + sides[0] + sides[1]])
    with item_box(item, dimmed):
        for label, shown, key in prompt:
            plain_text(label, shown, key)
        for column, blocks in zip(st.columns(2), sides):
            with column:
                for label, shown, key in blocks:
                    plain_text(label, shown, key, EMPTY_RESPONSE)
