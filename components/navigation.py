"""Which pages each role sees. A page left out here cannot be reached by URL either."""
from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from core.roles import has_role
from store.db import Database
from store.preferences import LAST_WORK_PREF, get_preference
from store.users import User


class PageSpec(NamedTuple):
    section: str
    path: str
    title: str
    icon: str
    url_path: str
    needs: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("Work", "app_pages/label.py", "Label", ":material/fact_check:", "label", "annotator"),
    PageSpec("Work", "app_pages/compare.py", "Compare", ":material/compare:", "compare", "annotator"),
    PageSpec("Work", "app_pages/inbox.py", "Inbox", ":material/inbox:", "inbox", "annotator"),
    PageSpec("Work", "app_pages/my_items.py", "My items", ":material/history:", "my-items", "annotator"),
    PageSpec("Insight", "app_pages/dashboard.py", "Dashboard", ":material/monitoring:", "dashboard", "annotator"),
    PageSpec("Manage", "app_pages/projects.py", "Projects", ":material/folder:", "projects", "lead"),
    PageSpec("Manage", "app_pages/import_data.py", "Import", ":material/upload_file:", "import", "lead"),
    PageSpec("Manage", "app_pages/export.py", "Export", ":material/download:", "export", "lead"),
    PageSpec("Manage", "app_pages/review.py", "Review", ":material/rate_review:", "review", "lead"),
    PageSpec("Admin", "app_pages/users.py", "Users", ":material/group:", "users", "admin"),
)


def page_specs_for(role: str) -> list[PageSpec]:
    return [spec for spec in PAGES if has_role(role, spec.needs)]


def pages_for(role: str, landing: str | None = None) -> dict[str, list[st.Page]]:
    """The role's pages by section; `landing` (a url path) is the page at "/" when the role
    may see it, else the first."""
    specs = page_specs_for(role)
    if landing not in {spec.url_path for spec in specs}:
        landing = specs[0].url_path
    sections: dict[str, list[st.Page]] = {}
    for spec in specs:
        sections.setdefault(spec.section, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                    default=spec.url_path == landing))
    return sections


LANDING_KEY = "_sl_landing"


def landing_page(db: Database, user: User) -> str | None:
    """The work page (url path) the person last worked on, read once per browser session:
    nothing is claimed in a project until the person is on its page, so landing where they
    work keeps a login from reserving an item elsewhere."""
    if LANDING_KEY not in st.session_state:
        last = get_preference(db, user.id, LAST_WORK_PREF, None) or {}
        st.session_state[LANDING_KEY] = {"label": "label", "compare": "compare"}.get(
            last.get("kind"))
    return st.session_state[LANDING_KEY]


def setup_pages() -> list[st.Page]:
    return [st.Page("app_pages/setup.py", title="Set up SafeLabel", icon=":material/key:",
                    url_path="setup", default=True)]


def _logged_out() -> None:
    """The login form is drawn by the entry point; this page adds nothing."""


def logged_out_pages() -> list[st.Page]:
    """While nobody is logged in the menu is hidden and every page's address shows only the
    login form, so a deep link (say /compare) waits for the login instead of "page not
    found", and opens once the person is in (if their role allows it)."""
    return [st.Page(_logged_out, title="Log in", url_path="login", default=True)] + [
        st.Page(_logged_out, title=spec.title, url_path=spec.url_path) for spec in PAGES]
