"""Import page (leads): upload CSV / JSONL / JSON / Parquet, preview, map columns, import.
Or import votes made elsewhere (components/vote_import.py).

The page and `cli.py import` run the same store function with the same defaults: a field left
on "(automatic)" is not sent at all, so the import uses the column of that name or, in a
compare project, splits HH-RLHF chosen/rejected transcripts, as on the command line.

The upload exists as a file only while it is read: in a private temporary folder (mode 0700)
that is removed afterwards, also after an error.
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from components.auth import require_role
from components.db import get_db
from components.project_picker import choose_project
from components.vote_import import vote_import_section
from core.csv_safety import neutralise_cell
from core.formats import FIELDS, FormatProblem, detect_format, is_hh_layout
from core.filenames import safe_stem
from core.text import markdown_literal
from store.imports import PAGE, ImportProblem, RowProblem, import_file, read_preview

ITEMS = "Items"
VOTES = "Votes made elsewhere (annotations)"
AUTO = "(automatic)"
NONE = "(none)"
SKIP_BAD = "Import the valid rows and set the rest aside"
SHOWN_IN_MESSAGE = 3

user = require_role("lead")
db = get_db()
st.title("Import items")

project = choose_project(db, "Into project", "Create a project first, on the Projects page.",
                         include_archived=False)
if st.radio("What to import", [ITEMS, VOTES], horizontal=True, key="import_what") == VOTES:
    vote_import_section(db, user, project)
    st.stop()
upload = st.file_uploader("File (CSV, JSONL, JSON or Parquet)",
                          type=["csv", "jsonl", "ndjson", "json", "parquet"])
st.caption("Columns named id, prompt, response (or response_a / response_b), messages, "
           "hint_category and hint_severity are used as they are; choose others below. "
           "In a compare project, Anthropic HH-RLHF files (chosen / rejected transcripts) are "
           "split into the conversation and responses A and B. Other columns are kept as "
           "metadata. Importing the same file twice adds nothing.")
if upload is None:
    st.stop()


@contextmanager
def upload_copy() -> Iterator[Path]:
    """The upload as a file in a private temporary folder, removed on leaving (also on error)."""
    with tempfile.TemporaryDirectory(prefix="safelabel-upload-") as folder:
        path = Path(folder) / f"upload{Path(upload.name).suffix.lower()}"
        path.write_bytes(upload.getvalue())
        yield path


def problems_csv(problems: list[RowProblem]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "line", "column", "problem"])
    for p in problems:
        # The problems quote ids from the file: inert in a spreadsheet.
        writer.writerow([p.row, p.line or "", neutralise_cell(p.column or ""),
                         neutralise_cell(p.problem)])
    return out.getvalue().encode("utf-8")


def show_problems(problems: list[RowProblem], total: int, what: str) -> None:
    """The problems as a table (plain text), with the list to download."""
    shown = f"the first {len(problems):,} of {total:,}" if total > len(problems) else f"{total:,}"
    st.caption(f"{what}: {shown} problem{'s' if total != 1 else ''}, by row "
               "(rows count records: a CSV header or a blank line is not a row).")
    st.dataframe([{"row": p.row, "line": p.line, "column": p.column or "", "problem": p.problem}
                  for p in problems], hide_index=True, width="stretch")
    st.download_button("Download the list of problems (CSV)", problems_csv(problems),
                       file_name=f"{safe_stem(Path(upload.name).stem, fallback='import')}.problems.csv",
                       mime="text/csv", on_click="ignore", key="import_problems_download")


def refusal(problem: ImportProblem) -> str:
    """The message of a refused import, with the first problems (the table has them all)."""
    text = problem.summary
    if problem.problems:
        first = "; ".join(str(p) for p in problem.problems[:SHOWN_IN_MESSAGE])
        text += f" First: {first}" + (" …" if problem.total > SHOWN_IN_MESSAGE else "")
    return text


try:
    fmt = detect_format(upload.name)
except FormatProblem as exc:
    st.error(markdown_literal(exc))
    st.stop()

# Kept per person, upload and project, so a rerun (a choice in the form) reads nothing again.
state_key = f"import_{user.id}_{upload.file_id}"
for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"import_{user.id}_")
            and not k.startswith(state_key)]:
    del st.session_state[key]  # an earlier upload's preview and outcome
if f"{state_key}_preview" not in st.session_state:
    try:
        with upload_copy() as path:
            st.session_state[f"{state_key}_preview"] = read_preview(db, path, fmt,
                                                                    file_name=upload.name)
    except ImportProblem as exc:
        st.session_state[f"{state_key}_preview"] = exc
preview = st.session_state[f"{state_key}_preview"]
if isinstance(preview, ImportProblem):
    # The messages quote the file's column names, ids and values.
    st.error(f"This file cannot be imported: {markdown_literal(refusal(preview))}")
    if preview.problems:
        show_problems(preview.problems, preview.total, "What is wrong")
    st.stop()
columns, rows = preview

st.subheader("Preview")
st.dataframe(pd.DataFrame([[str(v) for v in row] for row in rows], columns=columns),
             hide_index=True, width="stretch")

st.subheader("Column mapping")
st.caption(f"{AUTO} uses the column of the field's name, if the file has one; {NONE} uses no "
           "column.")
mapping: dict[str, str] = {}
grid = st.columns(4)
for n, (field, meaning) in enumerate(FIELDS.items()):
    choice = grid[n % 4].selectbox(field, [AUTO, NONE] + columns, index=0, help=meaning,
                                   key=f"map_{field}_{upload.file_id}")
    # Only the choices made are sent: the import's own defaults do the rest, as on the CLI.
    if choice == NONE:
        mapping[field] = ""
    elif choice != AUTO:
        mapping[field] = choice
if is_hh_layout(project.kind, columns, mapping):
    st.info("This file has chosen / rejected transcripts (Anthropic HH-RLHF): each row is "
            "split into the conversation both share and responses A and B. Which one the "
            "source preferred is kept out of sight.")
skip_bad = st.checkbox(SKIP_BAD, key=f"skip_bad_{upload.file_id}",
                       help="Rows with problems are left out and offered as a rejects file (each "
                            "row as the file had it, with its row number and what is wrong). "
                            "Without this, any problem stops the whole import.")

outcome_key = f"{state_key}_outcome_{project.id}"
if st.button("Import", type="primary"):
    bar = st.progress(0.0, text="starting")
    try:
        with upload_copy() as path:
            rejects = path.with_name("rejects.jsonl")
            result = import_file(db, user.id, project.id, path, fmt, mapping,
                                 file_name=upload.name, skip_bad=skip_bad, rejects_path=rejects,
                                 controls=PAGE,
                                 progress=lambda fraction, text: bar.progress(
                                     fraction, text=markdown_literal(text)))
            # Read before the folder goes: the page offers it for download.
            set_aside = rejects.read_bytes() if result.rejects_path else None
        st.session_state[outcome_key] = (result, set_aside)
    except ImportProblem as exc:
        st.session_state[outcome_key] = exc
    bar.empty()

outcome = st.session_state.get(outcome_key)
if isinstance(outcome, ImportProblem):
    st.error(f"Nothing was imported: {markdown_literal(refusal(outcome))}")
    if outcome.problems:
        show_problems(outcome.problems, outcome.total, "What is wrong")
elif outcome is not None:
    result, set_aside = outcome
    st.success(f"Read {result.rows_read:,} rows: added {result.items_added:,} items, "
               f"skipped {result.duplicates_skipped:,} already present.")
    if result.rows_rejected:
        st.warning(f"Set aside {result.rows_rejected:,} row{'s' if result.rows_rejected != 1 else ''} "
                   "with problems: nothing else was left out. Download them to correct and "
                   "import again.")
        st.download_button("Download the rows set aside (JSONL)", set_aside,
                           file_name=f"{safe_stem(Path(upload.name).stem, fallback='import')}.rejects.jsonl",
                           mime="application/jsonl", on_click="ignore",
                           key="import_rejects_download")
        show_problems(result.problems, result.problems_total, "Why they were set aside")
