"""Which pages each role sees. A page left out here cannot be reached by URL either."""
from __future__ import annotations

import streamlit as st

from core.roles import has_role


def pages_for(role: str) -> dict[str, list[st.Page]]:
    sections: dict[str, list[st.Page]] = {
        "Work": [st.Page("app_pages/label.py", title="Label", icon=":material/fact_check:",
                         url_path="label", default=True)],
    }
    if has_role(role, "lead"):
        sections["Manage"] = [
            st.Page("app_pages/projects.py", title="Projects", icon=":material/folder:",
                    url_path="projects"),
            st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:",
                    url_path="import"),
        ]
    if has_role(role, "admin"):
        sections["Admin"] = [st.Page("app_pages/users.py", title="Users", icon=":material/group:",
                                     url_path="users")]
    return sections


def setup_pages() -> list[st.Page]:
    return [st.Page("app_pages/setup.py", title="Set up SafeLabel", icon=":material/key:",
                    url_path="setup", default=True)]
