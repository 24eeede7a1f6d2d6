"""First start: create the first admin with the one-time token from the server console."""
import streamlit as st

from components.db import get_db
from core.text import markdown_literal
from store import users
from store.db import StoreError

st.title("Set up SafeLabel")
st.write("There are no accounts yet. The server printed a one-time setup token on its console "
         "(or run `python cli.py init`). Enter it to create the first admin account.")

with st.form("first_admin"):
    token = st.text_input("Setup token", type="password")
    username = st.text_input("Admin username")
    name = st.text_input("Display name")
    password = st.text_input("Password", type="password", help="At least 8 characters.")
    repeat = st.text_input("Repeat password", type="password")
    submitted = st.form_submit_button("Create admin account", type="primary")

if submitted:
    if password != repeat:
        st.error("The two passwords differ.")
    else:
        try:
            users.create_first_admin(get_db(), token, username, name, password)
        except StoreError as exc:
            st.error(f"Not created: {markdown_literal(exc)}.")
        else:
            st.success("Admin account created. Log in with it now.")
            st.button("Go to login", on_click=lambda: None)
