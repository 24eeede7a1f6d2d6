"""Support, one click away on every page: a text and a link set by an admin."""
from __future__ import annotations

import streamlit as st

from store.db import Database
from store.settings import support_info


def support_in_sidebar(db: Database) -> None:
    text, url = support_info(db)
    with st.sidebar.popover("Support", icon=":material/support:"):
        st.text(text)
        if url:
            st.link_button("Open support", url)
