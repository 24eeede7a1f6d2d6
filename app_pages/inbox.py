"""Inbox: the person's threads (an annotator's own; a lead's open questions and threads they
wrote in). Opening one shows the item and the conversation and marks it read."""
from __future__ import annotations

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.thread import inbox_list, opened_thread, thread_view

user = require_role("annotator")
db = get_db()
st.title("Inbox")
opened = opened_thread()
if opened is None:
    inbox_list(db, user)
else:
    thread_view(db, user, *opened)
