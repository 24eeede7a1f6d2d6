"""The Import page's "Import votes" section: votes made elsewhere (CSV, JSONL, Label Studio
JSON) into a project as annotations, through the same store function as `cli.py
import-annotations`. The upload exists as a file only while it is read, in a private
temporary folder."""
from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from core.text import markdown_literal
from core.vote_formats import VoteProblem, detect_vote_format, vote_fields
from store.annotation_imports import import_annotations
from store.db import Database
from store.imports import PAGE, ImportProblem
from store.projects import Project
from store.users import User

SHOWN_IN_MESSAGE = 3


def vote_import_section(db: Database, user: User, project: Project) -> None:
    fields = ", ".join(vote_fields(project.kind))
    upload = st.file_uploader("Votes file (CSV, JSONL, or a Label Studio JSON export)",
                              type=["csv", "jsonl", "ndjson", "json"], key="votes_upload")
    st.caption(f"One vote a row with the columns {fields} (item_id is the id the item was "
               "imported with). Annotators are matched by username; other names become "
               "inactive annotator accounts. Importing the same file again adds nothing; a "
               "changed vote is added as a correction.")
    if upload is None:
        return
    outcome_key = f"votes_{user.id}_{upload.file_id}_{project.id}"
    if st.button("Import votes", type="primary"):
        try:
            fmt = detect_vote_format(upload.name)
            with tempfile.TemporaryDirectory(prefix="safelabel-upload-") as folder:
                path = Path(folder) / f"upload{Path(upload.name).suffix.lower()}"
                path.write_bytes(upload.getvalue())
                st.session_state[outcome_key] = import_annotations(
                    db, user.id, project.id, path, fmt, file_name=upload.name, controls=PAGE)
        except VoteProblem as exc:
            st.session_state[outcome_key] = ImportProblem(str(exc)).about(upload.name)
        except ImportProblem as exc:
            st.session_state[outcome_key] = exc
    outcome = st.session_state.get(outcome_key)
    if isinstance(outcome, ImportProblem):
        text = outcome.summary
        if outcome.problems:
            first = "; ".join(str(p) for p in outcome.problems[:SHOWN_IN_MESSAGE])
            text += f" First: {first}" + (" …" if outcome.total > SHOWN_IN_MESSAGE else "")
        # The messages quote the file's ids, names and values.
        st.error(f"Nothing was imported: {markdown_literal(text)}")
        if outcome.problems:
            st.dataframe([{"row": p.row, "line": p.line, "column": p.column or "",
                           "problem": p.problem} for p in outcome.problems],
                         hide_index=True, width="stretch")
    elif outcome is not None:
        st.success(markdown_literal(outcome.summary()))
