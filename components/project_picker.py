"""The project selector of the lead pages (import, export)."""
from __future__ import annotations

import streamlit as st

from store.db import Database
from store.projects import Project, list_projects


def choose_project(db: Database, label: str, when_none: str,
                   include_archived: bool = True) -> Project:
    """A selectbox of the projects ("name (kind)"); stops the page with `when_none` if there
    is none. Archived projects are offered only where they are read (exports)."""
    projects = {p.id: p for p in list_projects(db, include_archived)}
    if not projects:
        st.info(when_none)
        st.stop()
    project_id = st.selectbox(label, list(projects),
                              format_func=lambda pid: f"{projects[pid].name} ({projects[pid].kind}"
                                                     + (", archived)" if projects[pid].archived else ")"))
    return projects[project_id]
