"""Threads on items: the conversation panel, "Ask a lead" on the work pages, the inbox list,
one opened thread with its item, and the sidebar's unread count.

Every message, name and id is shown with st.text (never Markdown); widget labels that quote
them go through markdown_literal. Writes happen in callbacks, which act only for a live login.
"""
from __future__ import annotations

import streamlit as st

from components.auth import forget_person, session_is_live
from components.item_view import masked_term_count, rendered_text_toggle, show_item
from core.limits import MAX_MESSAGE_CHARS
from core.masking import project_mask_pattern
from core.roles import has_role
from core.text import markdown_literal
from core.wellbeing import policy_from_settings
from store.db import Database, StoreError
from store.events import record_event
from store.projects import get_project
from store.threads import (FEEDBACK, FLAG_NOTE, QUESTION, REPLY, InboxEntry, Message, inbox,
                           mark_read, post_feedback, post_question, post_reply, thread,
                           unread_count)
from store.users import User, get_user
from store.work import Item, get_item, latest_annotation

ITEM_PARAM, ANNOTATOR_PARAM = "item", "with"
_NEW_AFTER = "inbox_new_after"      # (item id, annotator id, read marker before opening)
_KIND_WORDS = {QUESTION: "wrote", REPLY: "replied", FEEDBACK: "feedback on the answer",
               FLAG_NOTE: "flagged the item"}


def _when(message_time) -> str:
    return f"{message_time:%Y-%m-%d %H:%M} UTC"


def _live(db: Database) -> bool:
    """Callbacks run before the page's login check: act only for a live login."""
    if session_is_live(db):
        return True
    forget_person()
    return False


# -- the conversation -----------------------------------------------------------------------

def _message_header(message: Message, new: bool) -> str:
    who = message.author_name + ("" if message.from_annotator else " (lead)")
    what = _KIND_WORDS.get(message.kind, message.kind)
    if message.kind == FEEDBACK and message.annotation_id is not None:
        what += f" #{message.annotation_id}"
    return f"{who} · {what} · {_when(message.created_at)}" + (" · new" if new else "")


def thread_panel(db: Database, viewer: User, item_id: int, annotator_id: int,
                 new_after: int | None = None) -> None:
    """The thread's messages (author, time, body as plain text) and a box to write in.
    A lead may mark their message as feedback on the annotator's current answer. Messages
    with an id above `new_after` are marked new. Shows an error (and nothing of the thread)
    when the viewer may not read it."""
    try:
        messages = thread(db, viewer.id, item_id, annotator_id)
    except StoreError as exc:
        st.error(markdown_literal(f"You cannot open this thread: {exc}."))
        return
    if not messages:
        st.text("No messages yet.")
    for message in messages:
        with st.container(border=True, key=f"thread_msg_{message.id}"):
            st.text(_message_header(message, new_after is not None and message.id > new_after))
            st.text(message.body)
    as_lead = has_role(viewer.role, "lead") and viewer.id != annotator_id
    suffix = f"{item_id}_{annotator_id}"
    st.text_area("Reply" if as_lead else "Write to the leads", key=f"thread_body_{suffix}",
                 max_chars=MAX_MESSAGE_CHARS, height=100)
    answer = latest_annotation(db, item_id, annotator_id) if as_lead else None
    if answer is not None:
        st.checkbox(f"Feedback on their answer (version {answer.version})",
                    key=f"thread_feedback_{suffix}",
                    help="Recorded as feedback on that answer, not only as a reply.")
    st.button("Send", key=f"thread_send_{suffix}", type="primary", on_click=_send,
              args=(db, viewer, item_id, annotator_id, answer.id if answer else None))
    _notice(f"thread_notice_{suffix}")


def _send(db: Database, viewer: User, item_id: int, annotator_id: int,
          answer_id: int | None) -> None:
    """Send the panel's message: the annotator's own words, a lead's reply, or (box ticked)
    a lead's feedback on the answer that was shown when the panel was drawn."""
    suffix = f"{item_id}_{annotator_id}"
    key, notice_key = f"thread_body_{suffix}", f"thread_notice_{suffix}"
    if not _live(db):
        return
    body = st.session_state.get(key) or ""
    about = answer_id if st.session_state.get(f"thread_feedback_{suffix}") else None
    try:
        if viewer.id == annotator_id or not has_role(viewer.role, "lead"):
            post_question(db, viewer.id, item_id, body)
        elif about is not None:
            post_feedback(db, viewer.id, int(about), body)
        else:
            post_reply(db, viewer.id, item_id, annotator_id, body)
    except StoreError as exc:
        st.session_state[notice_key] = ("error", f"Not sent: {exc}")
        return
    st.session_state[key] = ""
    st.session_state[f"thread_feedback_{suffix}"] = False
    st.session_state[notice_key] = ("ok", "Sent.")


def _notice(key: str) -> None:
    notice = st.session_state.pop(key, None)
    if notice:
        kind, text = notice
        (st.success if kind == "ok" else st.error)(markdown_literal(text))


# -- on the work pages ----------------------------------------------------------------------

def _ask(db: Database, user: User, item_id: int) -> None:
    if not _live(db):
        return
    key = f"ask_body_{item_id}"
    try:
        post_question(db, user.id, item_id, st.session_state.get(key) or "")
    except StoreError as exc:
        st.session_state[f"ask_notice_{item_id}"] = ("error", f"Not sent: {exc}")
        return
    st.session_state[key] = ""
    st.session_state[f"ask_notice_{item_id}"] = (
        "ok", "Sent to the leads. Their reply will be in your Inbox.")


def ask_a_lead(db: Database, user: User, item: Item) -> None:
    """A popover to ask the leads about this item. Draws without reading the store (it runs
    on every key press of the work pages); the question goes to the person's own thread."""
    with st.popover("Ask a lead about this item"):
        st.text_area("Your question (a lead answers in your Inbox)", key=f"ask_body_{item.id}",
                     max_chars=MAX_MESSAGE_CHARS, height=100)
        st.button("Send question", key=f"ask_send_{item.id}", on_click=_ask,
                  args=(db, user, item.id))
    _notice(f"ask_notice_{item.id}")


# -- the inbox ------------------------------------------------------------------------------

def inbox_badge(db: Database, user: User) -> None:
    """The sidebar's unread count (one aggregate query per page load); nothing when zero."""
    unread = unread_count(db, user.id)
    if unread:
        st.sidebar.text(f"Inbox: {unread} unread")


def opened_thread() -> tuple[int, int] | None:
    """(item id, annotator id) named by the page address, or None."""
    item, annotator = st.query_params.get(ITEM_PARAM), st.query_params.get(ANNOTATOR_PARAM)
    if item is None or annotator is None:
        return None
    try:
        return int(item), int(annotator)
    except ValueError:
        return None


def _open(db: Database, user: User, item_id: int, annotator_id: int) -> None:
    if not _live(db):
        return
    try:
        # Read before this run draws the sidebar's count; what was new stays marked while
        # the thread is open.
        st.session_state[_NEW_AFTER] = (item_id, annotator_id,
                                        mark_read(db, user.id, item_id, annotator_id))
    except StoreError:
        pass            # the page says why when it draws the thread
    st.query_params[ITEM_PARAM] = str(item_id)
    st.query_params[ANNOTATOR_PARAM] = str(annotator_id)


def _close() -> None:
    st.session_state.pop(_NEW_AFTER, None)
    st.query_params.pop(ITEM_PARAM, None)
    st.query_params.pop(ANNOTATOR_PARAM, None)


def _entry_lines(entry: InboxEntry, as_lead: bool) -> list[str]:
    where = f"{entry.external_id} · {entry.project_name}"
    if as_lead:
        where += f" · {entry.annotator_name}"
    state = [f"{entry.messages} message{'s' if entry.messages != 1 else ''}",
             f"last {_when(entry.last_at)}"]
    if entry.unread:
        state.append(f"{entry.unread} unread")
    if entry.awaiting_lead:
        state.append("waiting for a lead")
    preview = " ".join(entry.last_preview.split())
    return [("● " if entry.unread else "") + where, f"{entry.last_author_name}: {preview}",
            " · ".join(state)]


def inbox_list(db: Database, user: User) -> None:
    """Every thread of the person's inbox, latest first, unread ones marked with ●."""
    entries = inbox(db, user.id)
    as_lead = has_role(user.role, "lead")
    if not entries:
        st.info("Nothing here yet. Ask a lead about an item from the Label or Compare page"
                + ("; questions from annotators appear here too." if as_lead else "."))
        return
    for entry in entries:
        suffix = f"{entry.item_id}_{entry.annotator_id}"
        with st.container(border=True, key=f"inbox_entry_{suffix}"):
            text_col, button_col = st.columns([6, 1])
            with text_col:
                for line in _entry_lines(entry, as_lead):
                    st.text(line)
            button_col.button("Open", key=f"inbox_open_{suffix}", on_click=_open,
                              args=(db, user, entry.item_id, entry.annotator_id))


def _reveal(db: Database, user: User, item: Item, what: str, count: int = 0) -> None:
    if not _live(db):
        return
    st.session_state.setdefault(f"inbox_shown_{item.id}", set()).add(what)
    record_event(db, "reveal", user.id, item.project_id, item.id,
                 {"what": what, "where": "inbox", **({"terms": count} if count else {})})


def _item_text(db: Database, user: User, item: Item) -> None:
    """The item as the work pages show it: explicit words masked and severe text blurred
    until the person chooses to see them (each choice recorded as a reveal)."""
    project = get_project(db, item.project_id)
    settings = project.settings if project else {}
    pattern = project_mask_pattern(settings)
    shown = st.session_state.get(f"inbox_shown_{item.id}", set())
    severe = (item.hint_severity is not None
              and item.hint_severity >= policy_from_settings(settings).dim_at_severity)
    dimmed = severe and "dim" not in shown
    revealed = "terms" in shown
    rendered_text_toggle(db, user)
    show_item(item, pattern, revealed, dimmed)
    hidden = masked_term_count(item, pattern)
    if dimmed:
        st.button("Unblur the text", key=f"inbox_unblur_{item.id}", on_click=_reveal,
                  args=(db, user, item, "dim"))
    elif hidden and not revealed:
        st.button(f"Reveal {hidden} masked word{'s' if hidden > 1 else ''}",
                  key=f"inbox_reveal_{item.id}", on_click=_reveal,
                  args=(db, user, item, "terms", hidden))


def thread_view(db: Database, user: User, item_id: int, annotator_id: int) -> None:
    """One thread opened from the inbox: the item, the conversation, a reply box. Opening it
    marks it read. Someone else's thread shows only a refusal."""
    st.button("Back to the inbox", key="inbox_back", on_click=_close)
    try:
        previous = mark_read(db, user.id, item_id, annotator_id)
    except StoreError as exc:
        st.error(markdown_literal(f"You cannot open this thread: {exc}."))
        return
    opened = st.session_state.get(_NEW_AFTER)
    if opened and opened[:2] == (item_id, annotator_id):
        previous = min(previous, opened[2])
    item = get_item(db, item_id)
    project = get_project(db, item.project_id)
    heading = f"Item {item.external_id} in {project.name if project else '?'}"
    if annotator_id != user.id:
        annotator = get_user(db, annotator_id)
        heading += f" · thread with {annotator.name if annotator else '?'}"
    st.text(heading)
    _item_text(db, user, item)
    thread_panel(db, user, item_id, annotator_id, new_after=previous)
