"""Import page (leads): upload CSV / JSONL / Parquet, preview, map columns, import."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.project_picker import choose_project
from core.formats import FIELDS, FormatProblem, detect_format
from core.text import markdown_literal
from store.imports import ImportProblem, import_file, read_preview

NONE = "(none)"

user = require_role("lead")
db = get_db()
st.title("Import items")

project = choose_project(db, "Into project", "Create a project first, on the Projects page.",
                         include_archived=False)
upload = st.file_uploader("File (CSV, JSONL, JSON or Parquet)",
                          type=["csv", "jsonl", "ndjson", "json", "parquet"])
st.caption("Columns named id, prompt, response (or response_a / response_b), messages, "
           "hint_category and hint_severity are used as they are; map others below. "
           "Other columns are kept as metadata. Importing the same file twice adds nothing.")
if upload is None:
    st.stop()


@st.cache_data(show_spinner=False, max_entries=4)
def _saved_copy(name: str, data: bytes) -> str:
    handle, path = tempfile.mkstemp(suffix=Path(name).suffix.lower(), prefix="safelabel-upload-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    return path


try:
    fmt = detect_format(upload.name)
except FormatProblem as exc:
    st.error(markdown_literal(exc))
    st.stop()
path = _saved_copy(upload.name, upload.getvalue())
try:
    columns, rows = read_preview(db, path, fmt)
except (ImportProblem, FormatProblem) as exc:
    # The messages quote the file's column names, ids and values.
    st.error(f"This file cannot be imported: {markdown_literal(exc)}")
    st.stop()

st.subheader("Preview")
st.dataframe(pd.DataFrame([[str(v) for v in row] for row in rows], columns=columns),
             hide_index=True, width="stretch")

st.subheader("Column mapping")
mapping: dict[str, str] = {}
grid = st.columns(4)
for n, (field, meaning) in enumerate(FIELDS.items()):
    options = [NONE] + columns
    default = options.index(field) if field in columns else 0
    choice = grid[n % 4].selectbox(field, options, index=default, help=meaning,
                                   key=f"map_{field}_{upload.name}")
    mapping[field] = "" if choice == NONE else choice

if st.button("Import", type="primary"):
    bar = st.progress(0.0, text="starting")
    try:
        result = import_file(db, user.id, project.id, path, fmt, mapping, file_name=upload.name,
                             progress=lambda fraction, text: bar.progress(
                                 fraction, text=markdown_literal(text)))
    except ImportProblem as exc:
        bar.empty()
        st.error(f"Nothing was imported: {markdown_literal(exc)}")
    else:
        st.success(f"Read {result.rows_read:,} rows: added {result.items_added:,} items, "
                   f"skipped {result.duplicates_skipped:,} already present.")
