"""Export page (leads): download annotations, agreed answers, TRL and Label Studio files."""
from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.project_picker import choose_project
from core.text import file_name_part, markdown_literal
from store.db import StoreError
from store.exports import AXES, COMPARE_ONLY, LABEL_ONLY, ExportFilter, export
from store.users import list_users

DESCRIPTIONS = {
    "annotations": "Every vote and every version, with annotator, timestamps and active time",
    "items": "One row per item with the agreed (majority) answer; ties are marked, not hidden",
    "trl_preference": "TRL preference pairs: prompt / chosen / rejected (text), ties dropped",
    "trl_preference_conversational": "TRL preference pairs as lists of {role, content} messages",
    "trl_unpaired": "TRL unpaired: prompt / completion / label (label = safe)",
    "label_studio": "Label Studio tasks with their annotations (JSON)",
}
MIME = {"jsonl": "application/jsonl", "json": "application/json", "csv": "text/csv",
        "parquet": "application/vnd.apache.parquet"}

user = require_role("lead")
db = get_db()
st.title("Export")
st.caption("Exports never contain wellbeing data (check-ins, exposure, reveals or breaks).")

project = choose_project(db, "Project", "No projects yet.")
kinds = [k for k in DESCRIPTIONS
         if not (k in COMPARE_ONLY and project.kind != "compare")
         and not (k in LABEL_ONLY and project.kind != "label")]
kind = st.radio("What", kinds, format_func=lambda k: DESCRIPTIONS[k])
formats = ["json"] if kind == "label_studio" else ["jsonl", "csv", "parquet"]
fmt = st.radio("Format", formats, horizontal=True)

axis, min_strength, margin = "overall", 1, False
if kind in COMPARE_ONLY:
    axis_col, strength_col, margin_col = st.columns(3)
    axis = axis_col.selectbox("Deciding axis", AXES)
    min_strength = strength_col.slider("Minimum strength", 1, 3, 1,
                                       help="Keep pairs whose preference is at least this strong.")
    margin = margin_col.checkbox("Add a margin column")

people = {u.id: u.username for u in list_users(db)}
filter_col, date_col = st.columns(2)
annotators = filter_col.multiselect("Only these annotators (empty = everyone)", list(people),
                                    format_func=people.get)
dates = date_col.date_input("Submitted between (empty = any time)", value=(), format="YYYY-MM-DD")

if st.button("Prepare the export", type="primary"):
    since = until = None
    if len(dates) == 2:
        since = datetime.combine(dates[0], time.min)
        until = datetime.combine(dates[1], time.min) + timedelta(days=1)
    suffix = "json" if fmt == "json" else fmt
    # The project name is the lead's text: one safe file-name part, never a path.
    out = (Path(tempfile.mkdtemp(prefix="safelabel-export-"))
           / f"{file_name_part(project.name)}-{kind}.{suffix}")
    try:
        rows = export(db, user.id, project.id, kind, out, fmt,
                      ExportFilter(since, until, tuple(annotators)), axis, min_strength, margin)
    except StoreError as exc:
        st.error(f"Not exported: {markdown_literal(exc)}")
    else:
        st.success(f"{rows:,} rows ready.")
        st.download_button(f"Download {markdown_literal(out.name)}", data=out.read_bytes(),
                           file_name=out.name, mime=MIME[fmt])
