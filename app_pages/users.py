"""Users page (admins): create accounts, set roles, reset passwords, deactivate."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.auth import require_role
from components.db import get_db
from core.roles import ROLES
from core.text import markdown_literal
from store.db import StoreError
from components.wellness import group_size_form
from store.settings import set_support_info, support_info
from store.users import create_user, list_users, set_active, set_password, set_role

admin = require_role("admin")
db = get_db()
st.title("Users")

accounts = list_users(db)
st.dataframe(pd.DataFrame([{"username": u.username, "name": u.name, "role": u.role,
                            "active": u.active} for u in accounts]),
             hide_index=True, width="stretch")

create_tab, change_tab = st.tabs(["Create an account", "Change an account"])
with create_tab:
    with st.form("create_user", clear_on_submit=True):
        username = st.text_input("Username")
        name = st.text_input("Display name")
        role = st.selectbox("Role", ROLES)
        password = st.text_input("Initial password", type="password",
                                 help="At least 8 characters. Tell the person; they can log in at once.")
        if st.form_submit_button("Create account", type="primary"):
            try:
                create_user(db, admin.id, username, name, password, role)
            except StoreError as exc:
                st.error(f"Not created: {markdown_literal(exc)}")
            else:
                st.success(f"Account {markdown_literal(repr(username.strip().lower()))} created.")

with change_tab:
    by_id = {u.id: u for u in accounts}
    uid = st.selectbox("Account", list(by_id), key="change_user",
                       format_func=lambda i: f"{by_id[i].username} ({by_id[i].role})")
    target = by_id[uid]
    role_col, password_col, active_col = st.columns(3)
    with role_col.form(f"role_{uid}"):
        new_role = st.selectbox("Role", ROLES, index=ROLES.index(target.role))
        if st.form_submit_button("Set role"):
            try:
                set_role(db, admin.id, uid, new_role)
                st.success("Role changed.")
            except StoreError as exc:
                st.error(markdown_literal(exc))
    with password_col.form(f"password_{uid}", clear_on_submit=True):
        new_password = st.text_input("New password", type="password")
        if st.form_submit_button("Reset password"):
            try:
                set_password(db, admin.id, uid, new_password)
                st.success("Password reset.")
            except StoreError as exc:
                st.error(markdown_literal(exc))
    with active_col:
        label = "Deactivate account" if target.active else "Reactivate account"
        if st.button(label, key=f"active_{uid}"):
            try:
                set_active(db, admin.id, uid, not target.active)
                st.success("Done.")
            except StoreError as exc:
                st.error(markdown_literal(exc))

st.subheader("Privacy of team figures")
group_size_form(db, admin)

st.subheader("Support")
st.caption("Shown on every page behind the Support button in the sidebar.")
support_text, support_url = support_info(db)
with st.form("support"):
    text = st.text_area("Support text", value=support_text)
    url = st.text_input("Support link (https://, http:// or mailto:)", value=support_url or "")
    if st.form_submit_button("Save support"):
        try:
            set_support_info(db, admin.id, text, url)
        except StoreError as exc:
            st.error(f"Not saved: {markdown_literal(exc)}")
        else:
            st.success("Support text saved.")
