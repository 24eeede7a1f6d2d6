"""The project selector of the lead pages (import, export)."""
from __future__ import annotations

import streamlit as st

from store.db import Database
from store.projects import Project, list_projects


def choose_project(db: Database, label: str, when_none: str) -> Project:
    """A selectbox of every project ("name (kind)"); stops the page with `when_none` if there
    is no project yet."""
    projects = {p.id: p for p in list_projects(db)}
    if not projects:
        st.info(when_none)
        st.stop()
    project_id = st.selectbox(label, list(projects),
                              format_func=lambda pid: f"{projects[pid].name} ({projects[pid].kind})")
    return projects[project_id]
