"""Undo on the Projects page: remove an import nobody has worked on, archive a project."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from store.db import Database, StoreError
from store.import_batches import list_import_batches, remove_import_batch
from store.projects import Project, set_archived
from store.users import User


def import_batches_panel(db: Database, user: User, project: Project) -> None:
    """The project's imports; one that nobody has annotated or flagged can be removed."""
    st.subheader("Imports")
    batches = list_import_batches(db, project.id)
    if not batches:
        st.caption("Nothing imported yet.")
        return
    st.dataframe(pd.DataFrame([{
        "import": b.id, "file": b.file_name, "when (UTC)": b.imported_at, "by": b.imported_by,
        "rows": b.rows_read, "added": b.items_added, "items now": b.items_now,
        "worked on": b.worked_on, "removed (UTC)": b.removed_at} for b in batches]),
        hide_index=True, width="stretch")
    removable = {b.id: b for b in batches
                 if b.removed_at is None and b.worked_on == 0 and b.items_now > 0}
    if project.archived or not removable:
        st.caption("An import can be removed while none of its items has an annotation or a "
                   "flag" + (" and its project is not archived." if project.archived else "."))
        return
    choice = st.selectbox("Remove an import (its items go; the record of it stays)",
                          list(removable), key=f"remove_import_{project.id}",
                          format_func=lambda i: f"#{i}: {removable[i].file_name} "
                                                f"({removable[i].items_now:,} items)")
    if st.button("Remove this import", key=f"remove_import_button_{project.id}"):
        try:
            removed = remove_import_batch(db, user.id, choice)
        except StoreError as exc:
            st.error(f"Not removed: {exc}")
        else:
            st.success(f"Removed import #{choice}: {removed:,} items.")


def archive_button(db: Database, user: User, project: Project) -> None:
    """Archive (read-only, hidden from the work pages, still exported) or bring back."""
    label = "Unarchive this project" if project.archived else "Archive this project"
    help_text = ("Archived projects are read-only: hidden from Label and Compare, nothing can be "
                 "claimed, saved or imported; exports and the dashboard still show them.")
    if st.button(label, key=f"archive_{project.id}", help=help_text):
        try:
            set_archived(db, user.id, project.id, not project.archived)
        except StoreError as exc:
            st.error(f"Not changed: {exc}")
        else:
            st.success("Project archived." if not project.archived else "Project unarchived.")
