"""The Review page's pieces: a queue's items, every annotator's answer, the adjudication form
and the item's history. Leads only: these show annotators' names and answers side by side.

Everything from people and files (external ids, names, notes, reasons, summaries) is shown in
dataframes, selectbox options or st.text, which render no Markdown; messages quoting it go
through markdown_literal.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.auth import session_is_live
from components.thread import thread_panel
from core.adjudication import REASONS
from core.gold import describe as describe_gold
from core.labels import Label
from core.limits import MAX_NOTE_CHARS
from core.preference import SCALE
from core.text import markdown_literal
from store.adjudication import Adjudication, adjudicate, current_adjudication
from store.db import Database, StoreError
from store.events import record_event
from store.gold import gold_answer, remove_gold, set_gold
from store.threads import item_threads
from store.history import describe_judgment, describe_label, item_history
from store.projects import Project
from store.review import REVIEW_QUEUES, Answer, QueueRow
from store.users import User

_SAID = "review_said"     # a message for the next run (the adjudication saved)


# Queues that read every current answer of the project (seconds at half a million items):
# kept a minute, since each click on the page reruns it. The others are read afresh.
_SLOW_QUEUES = {"disagreements"}


@st.cache_data(ttl=60, show_spinner="Finding the items…", max_entries=50)
def _cached_rows(_db: Database, db_path: str, project_id: int, queue: str,
                 options: tuple[tuple[str, object], ...]) -> list[QueueRow]:
    return REVIEW_QUEUES[queue](_db, project_id, **dict(options))


def queue_rows(db: Database, project_id: int, queue: str, options: dict) -> list[QueueRow]:
    """A queue's rows. Recording an adjudication or a gold answer clears the kept ones, so
    the item leaves the queue at once."""
    if queue in _SLOW_QUEUES:
        return _cached_rows(db, db.path, project_id, queue, tuple(sorted(options.items())))
    return REVIEW_QUEUES[queue](db, project_id, **options)


def queue_table(rows: list[QueueRow]) -> int | None:
    """The queue as a table, and a picker of its items; returns the chosen item id."""
    st.dataframe(pd.DataFrame([{"item": r.item_id, "external id": r.external_id,
                                "why": r.summary, **r.counts, "since": r.since} for r in rows]),
                 hide_index=True, width="stretch")
    by_id = {r.item_id: r for r in rows}
    return st.selectbox("Item to review", list(by_id),
                        format_func=lambda i: f"{by_id[i].external_id} (item {i})")


def masked_words_toggle(db: Database, user: User, project: Project, item_id: int) -> bool:
    """A toggle that shows the item's masked words; turning it on is a reveal event, as on
    the work pages."""
    key = f"review_reveal_{item_id}"

    def note_reveal() -> None:
        # A callback runs before app.py checks the login: only a live one may write.
        if st.session_state.get(key) and session_is_live(db):
            record_event(db, "reveal", user.id, project.id, item_id,
                         {"what": "terms", "where": "review"})

    return st.toggle("Show masked words", key=key, on_change=note_reveal)


def _answer_row(answer: Answer, kind: str) -> dict:
    row = {"annotator": f"{answer.name} ({answer.username})", "version": answer.version,
           "when": answer.submitted_at, "guidelines": answer.guideline_version}
    if kind == "label":
        row.update({"verdict": {True: "safe", False: "unsafe"}.get(answer.is_safe, ""),
                    "categories": ", ".join(answer.categories), "severity": answer.severity})
    else:
        judgment = answer.judgment or {}
        row.update({"overall": judgment.get("overall"),
                    "harmlessness": judgment.get("harmlessness"),
                    "helpfulness": judgment.get("helpfulness"),
                    "rationale": judgment.get("rationale") or ""})
    row["note"] = answer.note or ""
    row["rewrote"] = answer.edited_response is not None
    return row


def answers_table(project: Project, answers: list[Answer]) -> None:
    """Every annotator's current answer to an item (store/review.item_answers), with their
    names (leads only)."""
    st.subheader("Answers")
    if not answers:
        st.info("Nobody has answered this item yet.")
        return
    if project.kind == "compare":
        st.caption("A and B are the stored responses (left and right above), whatever order "
                   "each annotator saw them in; a positive score means A is better.")
    st.dataframe(pd.DataFrame([_answer_row(a, project.kind) for a in answers]),
                 hide_index=True, width="stretch")
    for answer in answers:
        if answer.edited_response is not None:
            with st.expander(f"Rewrite by {answer.username}"):
                st.text(answer.edited_response)


def _describe(adjudication: Adjudication, kind: str) -> str:
    values = (describe_label(adjudication.is_safe, adjudication.categories, adjudication.severity)
              if kind == "label" else describe_judgment(adjudication.judgment))
    return (f"Adjudicated by {adjudication.lead} at {adjudication.decided_at:%Y-%m-%d %H:%M} UTC:"
            f" {values} · reason: {adjudication.reason}"
            + (f" · note: {adjudication.note}" if adjudication.note else ""))


def _label_fields(project: Project, key: str) -> Label:
    taxonomy = project.taxonomy
    verdict = st.radio("Verdict", ["safe", "unsafe"], index=None, horizontal=True,
                       key=f"verdict_{key}")
    categories = st.multiselect("Categories", taxonomy.category_codes(),
                                format_func=taxonomy.category_label, key=f"categories_{key}")
    severity = st.selectbox("Severity", taxonomy.severity_levels(), index=None,
                            format_func=taxonomy.severity_label, key=f"severity_{key}")
    return Label({"safe": True, "unsafe": False}.get(verdict), tuple(categories), severity)


def _judgment_fields(key: str) -> dict:
    overall = st.radio("Overall", ["a", "b", "tie"], index=None, horizontal=True,
                       format_func={"a": "A", "b": "B", "tie": "Tie"}.get, key=f"overall_{key}")
    axes = {}
    for axis in ("harmlessness", "helpfulness"):
        axes[axis] = st.select_slider(
            f"{axis.capitalize()} (negative: B better, positive: A better)", SCALE, value=0,
            format_func=lambda s: f"{s:+d}" if s else "0", key=f"{axis}_{key}")
    return {"overall": overall, **axes}


def last_result() -> None:
    """What the last adjudication's run said (the item may have left the queue since)."""
    said = st.session_state.pop(_SAID, None)
    if said:
        st.success(said)


def adjudication_form(db: Database, user: User, project: Project, item_id: int) -> None:
    """The item's current adjudication, and a form to record (or replace) it."""
    current = current_adjudication(db, item_id)
    st.subheader("Adjudication")
    if current is not None:
        st.text(_describe(current, project.kind))
    if project.archived:
        st.info("This project is archived (read-only): no adjudication can be recorded.")
        return
    with st.form(f"adjudicate_{item_id}", clear_on_submit=True):
        key = str(item_id)
        label, judgment = None, None
        if project.kind == "label":
            label = _label_fields(project, key)
        else:
            judgment = _judgment_fields(key)
        reason = st.selectbox("Reason", REASONS, index=None, key=f"reason_adj_{key}")
        note = st.text_area("Note", max_chars=MAX_NOTE_CHARS, key=f"note_adj_{key}")
        submitted = st.form_submit_button(
            "Record the adjudication" if current is None else "Replace the adjudication",
            type="primary")
    if submitted:
        _record(lambda: adjudicate(db, user.id, item_id, label, judgment, reason or "", note),
                "Adjudication recorded.", "Not recorded")


def _record(write, said: str, refused: str) -> None:
    """Run a lead's write; on success the queues change with it: run the page again and say
    `said` at the top; else say why under `refused`."""
    try:
        write()
    except StoreError as exc:
        st.error(f"{refused}: {markdown_literal(exc)}")
    else:
        st.session_state[_SAID] = said
        _cached_rows.clear()
        st.rerun()


def history_expander(db: Database, item_id: int) -> None:
    """Everything that happened to the item, oldest first (leads only)."""
    with st.expander("History"):
        entries = item_history(db, item_id)
        st.dataframe(pd.DataFrame([{"when": e.when, "who": e.who or "", "what": e.what,
                                    "details": e.details} for e in entries]),
                     hide_index=True, width="stretch")


def gold_form(db: Database, user: User, project: Project, item_id: int) -> None:
    """The item's expected answer (a gold item), and a form to set, replace or remove it.
    A gold item is served to each person now and then as a check; after answering, they see
    this answer and the explanation."""
    current = gold_answer(db, item_id)
    with st.expander("Gold answer" + (" (this is a gold item)" if current else "")):
        if current is not None:
            st.text(f"Expected: {describe_gold(project.kind, current, project.taxonomy)}"
                    + (" · in the qualification set" if current.qualification else ""))
            if current.explanation:
                st.text(f"Explanation: {current.explanation}")
        if project.archived:
            st.info("This project is archived (read-only).")
            return
        with st.form(f"gold_{item_id}", clear_on_submit=True):
            key = f"gold_{item_id}"
            label, judgment = None, None
            if project.kind == "label":
                label = _label_fields(project, key)
            else:
                judgment = _judgment_fields(key)
            explanation = st.text_area("Explanation (shown to the annotator after they answer)",
                                       max_chars=MAX_NOTE_CHARS, key=f"explanation_{key}")
            qualification = st.checkbox("Part of the qualification set", key=f"qual_{key}",
                                        value=bool(current and current.qualification))
            submitted = st.form_submit_button(
                "Make it a gold item" if current is None else "Replace the gold answer")
        if submitted:
            _record(lambda: set_gold(db, user.id, item_id, label, judgment, explanation,
                                     qualification), "Gold answer saved.", "Not saved")
        if current is not None and st.button("Make it an ordinary item again",
                                             key=f"ungold_{item_id}"):
            _record(lambda: remove_gold(db, user.id, item_id), "Gold answer removed.",
                    "Not changed")


def threads_section(db: Database, user: User, item_id: int, answered: dict[int, str]) -> None:
    """The item's threads with each person (their questions, the leads' replies and
    feedback), and a thread with each person who answered (`answered`: id -> username), to
    start one."""
    people = {annotator: (name, count) for annotator, name, count in item_threads(db, item_id)}
    for annotator, name in answered.items():
        people.setdefault(annotator, (name, 0))
    if not people:
        return
    st.subheader("Threads")
    for annotator, (name, count) in people.items():
        with st.expander(f"Thread with {name} ({count} message{'s' if count != 1 else ''})",
                         expanded=count > 0):
            thread_panel(db, user, item_id, annotator)
