"""Export page (leads): download annotations, agreed answers, TRL and Label Studio files."""
from __future__ import annotations

import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.project_picker import choose_project
from core.export_kinds import AXES, KINDS, kinds_for
from core.text import markdown_literal
from core.filenames import export_file_name
from store.db import StoreError
from store.exports import ExportFilter, export
from store.users import list_users

MIME = {"jsonl": "application/jsonl", "json": "application/json", "csv": "text/csv",
        "parquet": "application/vnd.apache.parquet"}

user = require_role("lead")
db = get_db()
st.title("Export")
st.caption("Exports never contain wellbeing data (check-ins, exposure, reveals or breaks).")

project = choose_project(db, "Project", "No projects yet.")
kind = st.radio("What", [k.name for k in kinds_for(project.kind)],
                format_func=lambda name: KINDS[name].description)
fmt = st.radio("Format", KINDS[kind].formats, horizontal=True)

axis, min_strength, margin = "overall", 1, False
if KINDS[kind].pairs:
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
    # The file holds item text (often harmful): it is written in a private folder (0700)
    # of its own, read into memory for the download, and the folder is removed before this
    # run ends, on error too. The name comes from the project's name, made a safe slug.
    name = export_file_name(project.name, project.id, kind, fmt)
    data, rows, problem = None, 0, None
    with tempfile.TemporaryDirectory(prefix="safelabel-export-") as folder:
        try:
            rows = export(db, user.id, project.id, kind, Path(folder) / name, fmt,
                          ExportFilter(since, until, tuple(annotators)), axis, min_strength,
                          margin)
        except StoreError as exc:
            problem = str(exc)
        else:
            data = (Path(folder) / name).read_bytes()
    if problem is not None:
        st.error(f"Not exported: {markdown_literal(problem)}")
    else:
        st.success(f"{rows:,} rows ready.")
        st.download_button(f"Download {markdown_literal(name)}", data=data, file_name=name, mime=MIME[fmt])
