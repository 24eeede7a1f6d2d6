"""My items: what this person annotated lately (the last 7 days unless they choose other
dates), filtered by project, text and answer; Open takes an item to its work page to be
corrected there (a new version; the old one is kept), from any session or device."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.work_page import request_correction
from core.answers import ANSWERS
from core.hidden_text import mark_hidden
from core.masking import mask_text, project_mask_pattern
from core.wellbeing import policy_from_settings
from store.db import StoreError, utcnow
from store.projects import Project, projects_for_user
from store.recent import RecentItem, recent_items

DEFAULT_DAYS = 7
PAGE_ROWS = 50
MAX_ROWS = 200
WORK_PAGES = {"label": "app_pages/label.py", "compare": "app_pages/compare.py"}

user = require_role("annotator")
db = get_db()
st.title("My items")
st.caption("Items you labeled or compared, newest first, with your current answer. Open one "
           "to correct it: saving adds a new version and keeps the earlier one.")

projects = {p.id: p for p in projects_for_user(db, user)}
if not projects:
    st.info("No project is assigned to you yet. A lead can add you to one.")
    st.stop()

today = utcnow().date()
project_col, search_col, answer_col, dates_col = st.columns([2, 2, 1.4, 2])
project_id = project_col.selectbox(
    "Project", [None, *projects], key="my_items_project",
    format_func=lambda pid: "All projects" if pid is None else projects[pid].name)
search = search_col.text_input("Search the item id or prompt", key="my_items_search",
                               max_chars=200)
kinds = {p.kind for p in projects.values()} if project_id is None else {projects[project_id].kind}
answer = answer_col.selectbox(
    "Your answer", [None, *(a for kind in ANSWERS if kind in kinds for a in ANSWERS[kind])],
    key="my_items_answer", format_func=lambda a: "Any" if a is None else a)
dates = dates_col.date_input("Dates (UTC)", value=(today - timedelta(days=DEFAULT_DAYS), today),
                             max_value=today, format="YYYY-MM-DD", key="my_items_dates")
# While a range is being picked the widget holds only its first day.
first, last = (dates[0], dates[-1]) if dates else (today, today)
shown = st.session_state.setdefault("my_items_rows", PAGE_ROWS)

try:
    rows = recent_items(db, user.id, datetime.combine(first, time()), project_id=project_id,
                        search=search, answer=answer, limit=shown + 1,
                        until=datetime.combine(last + timedelta(days=1), time()))
except StoreError as exc:
    st.error(str(exc))
    st.stop()


def preview(row: RecentItem, project: Project) -> str:
    """The prompt's start, masked as on the work page; hidden for severe items (the person
    chooses to see those there)."""
    policy = policy_from_settings(project.settings)
    levels = [v for v in (row.hint_severity, row.severity) if v is not None]
    if levels and max(levels) >= policy.dim_at_severity:
        return f"(text hidden: severity {max(levels)}; open the item to see it)"
    # Masked first (masking matches across invisible characters), then hidden characters
    # marked: a right-to-left override cannot turn the preview around unseen.
    return mark_hidden(
        mask_text(row.prompt_preview, project_mask_pattern(project.settings))[0])


if not rows:
    st.info("Nothing in these dates with these filters.")
more = len(rows) > shown
st.caption(f"{min(len(rows), shown)} item{'s' if len(rows) != 1 else ''}"
           + (" (the newest; more below)" if more else ""))
for row in rows[:shown]:
    if row.project_id not in projects:
        continue    # taken off the project between the two reads
    with st.container(border=True, key=f"my_items_row_{row.item_id}"):
        text_col, open_col = st.columns([6, 1])
        # Names, ids and text are data: st.text shows them literally.
        text_col.text(f"{row.submitted_at:%Y-%m-%d %H:%M} UTC · {row.project_name} · "
                      f"{row.external_id} · version {row.version}")
        text_col.text(f"Your answer: {row.answer}")
        text_col.text(preview(row, projects[row.project_id]))
        if open_col.button("Open", key=f"my_items_open_{row.item_id}",
                           help="Open it on its work page to correct it"):
            request_correction(row.project_kind, row.project_id, row.item_id)
            st.switch_page(WORK_PAGES[row.project_kind])
if more and shown < MAX_ROWS:
    st.button("Show more", key="my_items_more",
              on_click=lambda: st.session_state.update(my_items_rows=shown + PAGE_ROWS))
elif more:
    st.caption(f"Only the newest {MAX_ROWS} are listed: narrow the dates or filters to find older ones.")
