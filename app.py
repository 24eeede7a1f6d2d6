"""SafeLabel entry point: configuration, login and navigation, nothing else."""
import streamlit as st

from components.auth import authenticate, logout_button
from components.db import announce_setup_token, get_db
from components.support import support_in_sidebar
from components.thread import inbox_badge
from components.navigation import landing_page, logged_out_pages, pages_for, setup_pages
from store.users import needs_first_admin

st.set_page_config(page_title="SafeLabel", page_icon=":material/shield:", layout="wide")
db = get_db()

if needs_first_admin(db):
    announce_setup_token()
    st.navigation(setup_pages()).run()
    st.stop()

user = authenticate(db)
if user is None:
    st.navigation(logged_out_pages(), position="hidden").run()
    st.stop()
st.sidebar.text(f"Signed in as {user.username} ({user.role})")
support_in_sidebar(db)
inbox_badge(db, user)
logout_button(db)
st.navigation(pages_for(user.role, landing_page(db, user))).run()
