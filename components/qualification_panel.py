"""The lead's view of a project's qualification: where each assigned person stands (attempts,
scores), and the two decisions a lead can make for one of them: allow another attempt after
a failed one, or waive the qualification. Both are kept with their reason."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.limits import MAX_REASON_CHARS
from core.text import markdown_literal
from store.db import Database, StoreError
from store.projects import Project
from store.qualification import allow_retake, qualification_status, waive_qualification
from store.users import User

_STATES = {"not_required": "not required", "no_items": "no qualification items yet",
           "in_progress": "in progress", "failed": "failed: waiting for a lead",
           "passed": "passed", "waived": "waived"}


def qualification_panel(db: Database, lead: User, project: Project,
                        people: dict[int, str]) -> None:
    """`people`: id -> name of the project's annotators."""
    if not project.settings.get("qualification_required"):
        return
    with st.expander("Qualification: results and decisions"):
        rows = []
        for user_id, name in people.items():
            status = qualification_status(db, project.id, user_id)
            last = status.attempts[-1] if status.attempts else None
            rows.append({"person": name, "state": _STATES.get(status.state, status.state),
                         "answered": f"{status.answered} of {status.total}",
                         "attempts": len(status.attempts),
                         "last score": f"{last.score:.0%}" if last else "",
                         "pass mark": f"{status.threshold:.0%}"})
        if not rows:
            st.caption("Nobody is assigned to this project yet.")
            return
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        with st.form(f"qualification_{project.id}", clear_on_submit=True):
            person = st.selectbox("Person", list(people), format_func=people.get, index=None,
                                  key=f"qual_person_{project.id}")
            reason = st.text_input("Reason (kept with the decision)", max_chars=MAX_REASON_CHARS,
                                   key=f"qual_reason_{project.id}")
            retake_col, waive_col = st.columns(2)
            retake = retake_col.form_submit_button("Allow another attempt")
            waive = waive_col.form_submit_button("Waive the qualification")
        if retake or waive:
            if person is None:
                st.error("Choose a person first.")
                return
            try:
                (allow_retake if retake else waive_qualification)(
                    db, lead.id, project.id, person, reason)
            except StoreError as exc:
                st.error(f"Not recorded: {markdown_literal(exc)}")
            else:
                st.success(markdown_literal(
                    f"{'Another attempt allowed' if retake else 'Qualification waived'} "
                    f"for {people[person]}."))
