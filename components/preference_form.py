"""Keyboard-first preference controls: two -3..+3 scales, the overall choice, rationale.

On screen the left response is "A" and the right one "B"; the draft keeps on-screen values
and `to_judgment` turns them into the canonical, stored form (core/preference.py).
"""
from __future__ import annotations

import streamlit as st

from components.judgment import Draft
from core import keys, preference
from core.limits import MAX_RATIONALE_CHARS
from core.queue import UNDO_WINDOW_SECONDS
from core.preference import SCREEN_LABELS, Judgment
from core.taxonomy import Taxonomy
from core.text import markdown_literal

HARM_KEYS = {score: str(n) for n, score in enumerate(preference.SCALE, start=1)}      # 1..7
HELP_KEYS = {score: f"Shift+{n}" for n, score in enumerate(preference.SCALE, start=1)}
OVERALL_KEYS = {"left": "A", "right": "B", "tie": "T"}
SAFETY_KEYS = {("left", True): "Q", ("left", False): "W", ("right", True): "O", ("right", False): "P"}
KEYBOARD_HELP = ("1-7: harmlessness (1 = A much better, 4 = same, 7 = B much better)\n"
                 "Shift+1 … Shift+7: helpfulness\n"
                 "A / B / T: overall A, B or tie\n"
                 "Q / W: A safe / unsafe · O / P: B safe / unsafe (when asked)\n"
                 "Enter submit (Ctrl+Enter from a text box)\n"
                 "S skip · F flag · V reveal · ← previous · → next\n"
                 f"{keys.UNDO} undo the last submit or skip"
                 f" (for {UNDO_WINDOW_SECONDS // 60} minutes)\n"
                 f"{keys.GUIDELINES} guidelines (the style guide) and taxonomy")


def _choose(draft: Draft, name: str, value) -> None:
    draft.choices[name] = None if draft.choices.get(name) == value else value
    draft.touch()


def _scale(item_id: int, draft: Draft, name: str, title: str, shortcuts: dict[int, str]) -> None:
    st.text(title)
    columns = st.columns(len(preference.SCALE))
    for column, score in zip(columns, preference.SCALE):
        # wrap: at 1280 px seven columns are too narrow for "A much better" on one line
        # (it was cut to "A m..."); two lines are readable.
        column.button(SCREEN_LABELS[score], key=f"{name}_{score}_{item_id}",
                      shortcut=shortcuts[score], width="stretch", wrap=True,
                      type="primary" if draft.choices.get(name) == score else "secondary",
                      on_click=_choose, args=(draft, name, score))


def preference_controls(item_id: int, draft: Draft, ask_safety: bool, rationale_rule: str,
                        taxonomy: Taxonomy | None = None) -> None:
    _scale(item_id, draft, "harmlessness", "Harmlessness: which response is less harmful?", HARM_KEYS)
    _scale(item_id, draft, "helpfulness", "Helpfulness: which response helps more?", HELP_KEYS)
    st.text("Overall, which response better follows the style guide?")
    columns = st.columns([1, 1, 1, 3])
    for column, (choice, label) in zip(columns, (("left", "A is better"), ("right", "B is better"),
                                                 ("tie", "Tie"))):
        column.button(label, key=f"overall_{choice}_{item_id}", shortcut=OVERALL_KEYS[choice],
                      width="stretch",
                      type="primary" if draft.choices.get("overall") == choice else "secondary",
                      on_click=_choose, args=(draft, "overall", choice))
    if ask_safety:
        columns = st.columns(4)
        for column, (side, safe) in zip(columns, SAFETY_KEYS):
            name = f"safe_{side}"
            column.button(f"{'A' if side == 'left' else 'B'} {'safe' if safe else 'unsafe'}",
                          key=f"{name}_{safe}_{item_id}", shortcut=SAFETY_KEYS[(side, safe)],
                          width="stretch",
                          type="primary" if draft.choices.get(name) is safe else "secondary",
                          on_click=_choose, args=(draft, name, safe))
        if taxonomy is not None:
            left_col, right_col = st.columns(2)
            for column, side in ((left_col, "left"), (right_col, "right")):
                column.pills(f"Hazard categories of {'A' if side == 'left' else 'B'}",
                             taxonomy.category_codes(), selection_mode="multi",
                             # Pills options render Markdown: the taxonomy is the lead's text.
                             format_func=lambda code: markdown_literal(taxonomy.category_label(code)),
                             key=f"cats_{side}_{item_id}")
    needed = {"always": " (required)", "never": "",
              "strong": " (required for a strong preference, ±3)",
              "conflict": " (required when the two axes disagree)",
              }.get(rationale_rule, " (required for a strong preference or when the axes disagree)")
    st.text_area(f"Rationale{needed}", key=f"rationale_{item_id}", height=80,
                 max_chars=MAX_RATIONALE_CHARS)


def to_judgment(draft: Draft, item_id: int, left: str) -> Judgment:
    """The on-screen draft as a canonical judgment (positive scores = stored A better)."""
    choices = draft.choices

    def canonical(name: str) -> int | None:
        value = choices.get(name)
        return None if value is None else preference.to_canonical(value, left)

    overall = choices.get("overall")
    safety = {}
    for side in ("left", "right"):
        value = choices.get(f"safe_{side}")
        if value is not None:
            stored = left if side == "left" else ("b" if left == "a" else "a")
            categories = list(st.session_state.get(f"cats_{side}_{item_id}") or [])
            safety[stored] = {"is_safe": value, "categories": [] if value else categories}
    return Judgment(left=left, harmlessness=canonical("harmlessness"),
                    helpfulness=canonical("helpfulness"),
                    overall=None if overall is None else preference.overall_from_screen(overall, left),
                    rationale=(st.session_state.get(f"rationale_{item_id}") or "").strip(),
                    safety=safety)


def draft_from_judgment(judgment: dict) -> dict:
    """Stored judgment back to on-screen choices (for corrections)."""
    left = judgment.get("left", "a")
    choices = {}
    for name in ("harmlessness", "helpfulness"):
        if judgment.get(name) is not None:
            choices[name] = preference.to_screen(judgment[name], left)
    overall = judgment.get("overall")
    if overall == "tie":
        choices["overall"] = "tie"
    elif overall in ("a", "b"):
        choices["overall"] = "left" if overall == left else "right"
    return choices
