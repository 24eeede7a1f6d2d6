"""After a gold item: the expected answer and its explanation (feedback, not a score). And
the qualification's word on the work pages when it holds a person back.

The work pages call `remember_gold_feedback` after a successful first submit and
`show_gold_feedback` where they show notices; a gold item looks like any other until then.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.gold import Answer, answer_checks, describe, is_correct
from core.preference import left_response
from core.text import markdown_literal
from store.db import Database
from store.gold import gold_answer
from store.projects import Project
from store.qualification import qualification_status
from store.users import User
from store.work import Item

_KEY = "gold_feedback"


def remember_gold_feedback(db: Database, state: dict, project: Project, user: User, item: Item,
                           annotation: dict[str, Any]) -> None:
    """If `item` was a gold item, keep what to tell the person on the next run."""
    gold = gold_answer(db, item.id)
    if gold is None:
        return
    if gold.qualification and project.settings.get("qualification_required"):
        # An assessment: the expected answers would tell a retake what to answer.
        state[_KEY] = {"qualification": True}
        return
    label, judgment = annotation.get("label"), annotation.get("judgment")
    given = (Answer(label.is_safe, tuple(label.categories), label.severity) if label is not None
             else Answer(judgment=judgment))
    left = (judgment or {}).get("left") or left_response(user.id, item.id)
    state[_KEY] = {
        "correct": is_correct(project.kind, answer_checks(project.kind, gold, given)),
        "expected": describe(project.kind, gold, project.taxonomy, left),
        "explanation": gold.explanation}


def show_gold_feedback(state: dict) -> None:
    """The feedback kept by `remember_gold_feedback`, once."""
    feedback = state.pop(_KEY, None)
    if not feedback:
        return
    if feedback.get("qualification"):
        st.info("Answer recorded. This project's qualification is scored once you have "
                "answered all of its items.")
        return
    opening = ("That was a check item with a known answer, and your answer matches it."
               if feedback["correct"] else
               "That was a check item with a known answer. Yours differs; here is the "
               "expected one (feedback for you, not a penalty).")
    text = f"{opening}\n\nExpected: {markdown_literal(feedback['expected'])}"
    if feedback["explanation"]:
        text += f"\n\nWhy: {markdown_literal(feedback['explanation'])}"
    st.info(text)


def qualification_notice(db: Database, user: User, project: Project) -> bool:
    """Say why nothing is served when the qualification holds the person back; True if so."""
    if not project.settings.get("qualification_required"):
        return False
    status = qualification_status(db, project.id, user.id)
    if status.state != "failed":
        return False
    last = status.attempts[-1]
    st.warning(f"You did not pass this project's qualification yet: {last.score:.0%} of its "
               f"{last.items} items right, {last.threshold:.0%} needed (attempt {last.attempt}). "
               "A lead can allow another attempt or waive it; the answers you saw after each "
               "item explain the expected ones.")
    return True
