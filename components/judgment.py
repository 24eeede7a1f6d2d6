"""Keyboard-first safety judgment: safe/unsafe, categories and severity as toggle buttons.

Each button has a shortcut (core/keys.py) shown on the page. The choices live in a draft in
session state until submit, so a click or key press reruns only the work fragment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import streamlit as st

from core import keys
from core.active_time import visible_active_ms
from core.labels import Label
from core.taxonomy import Taxonomy
from core.text import markdown_literal
from components.visibility import hidden_ms
from store.db import utcnow


@dataclass
class Draft:
    """What the person has chosen so far for one item, and when they acted on it."""
    is_safe: bool | None = None
    categories: list[str] = field(default_factory=list)
    severity: int | None = None
    moments: list[datetime] = field(default_factory=list)
    text_shown: bool = False
    revealed: bool = False
    shown_at: datetime | None = None
    hidden_ms_at_shown: int = 0    # the tab's hidden time when the item was shown
    choices: dict = field(default_factory=dict)  # compare page: scores, overall, safety

    def touch(self) -> None:
        self.moments.append(utcnow())

    def active_ms(self, until: datetime) -> int:
        """Active time on the item up to `until`, without time the page was hidden."""
        return visible_active_ms([*self.moments, until], hidden_ms() - self.hidden_ms_at_shown)


def get_draft(item_id: int) -> Draft:
    key = f"draft_{item_id}"
    if key not in st.session_state:
        now = utcnow()
        st.session_state[key] = Draft(moments=[now], shown_at=now, hidden_ms_at_shown=hidden_ms())
    return st.session_state[key]


def drop_draft(item_id: int) -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.endswith(f"_{item_id}")
                and k.startswith(("draft_", "note_", "edit_", "reason_", "rationale_", "cats_"))]:
        del st.session_state[key]


def _set_safe(draft: Draft, value: bool) -> None:
    draft.is_safe = None if draft.is_safe is value else value
    if draft.is_safe:
        draft.categories = []
        if draft.severity is None:
            draft.severity = 0
    draft.touch()


def _toggle_category(draft: Draft, code: str) -> None:
    if code in draft.categories:
        draft.categories.remove(code)
    else:
        draft.categories.append(code)
        if draft.is_safe is None:
            draft.is_safe = False  # choosing a hazard means unsafe
    draft.touch()


def _set_severity(draft: Draft, level: int) -> None:
    draft.severity = None if draft.severity == level else level
    draft.touch()


def judgment_controls(item_id: int, draft: Draft, taxonomy: Taxonomy) -> None:
    """The three rows of toggles; selected ones are drawn as primary buttons. Button labels
    and tooltips render Markdown, so the lead's taxonomy text is made literal."""
    st.text("Judgment")
    safe_col, unsafe_col, _ = st.columns([1, 1, 4])
    safe_col.button("Safe", key=f"safe_{item_id}", shortcut=keys.SAFE, width="stretch",
                    type="primary" if draft.is_safe is True else "secondary",
                    on_click=_set_safe, args=(draft, True))
    unsafe_col.button("Unsafe", key=f"unsafe_{item_id}", shortcut=keys.UNSAFE, width="stretch",
                      type="primary" if draft.is_safe is False else "secondary",
                      on_click=_set_safe, args=(draft, False))

    st.text("Hazard categories")
    columns = st.columns(4)
    for n, category in enumerate(taxonomy.categories):
        columns[n % 4].button(
            markdown_literal(f"{category.code} {category.name}"),
            key=f"cat_{category.code}_{item_id}", shortcut=keys.category_key(n),
            help=markdown_literal(category.description) or None, width="stretch",
            type="primary" if category.code in draft.categories else "secondary",
            on_click=_toggle_category, args=(draft, category.code))

    st.text("Severity")
    columns = st.columns(len(taxonomy.severity))
    for column, level in zip(columns, taxonomy.severity):
        column.button(markdown_literal(f"{level.level} {level.name}"),
                      key=f"sev_{level.level}_{item_id}", shortcut=keys.severity_key(level.level),
                      help=markdown_literal(level.description) or None,
                      width="stretch",
                      type="primary" if draft.severity == level.level else "secondary",
                      on_click=_set_severity, args=(draft, level.level))


def label_from(draft: Draft, item_id: int, original_response: str | None) -> Label:
    state = st.session_state
    edited = state.get(f"edit_{item_id}")
    return Label(
        is_safe=draft.is_safe,
        categories=tuple(draft.categories),
        severity=draft.severity,
        note=(state.get(f"note_{item_id}") or "").strip(),
        edited_response=edited if edited is not None and edited != (original_response or "") else None,
    )
