"""The project's guidelines and taxonomy, one key away on both work pages (a dialog).

On a compare project the guidelines are the style guide its question refers to ("which
response better follows the style guide"). The guidelines are the lead's Markdown, rendered
without images or HTML (core/guidelines.py); every other string (category codes, names,
descriptions, examples, severity names) is shown as typed.
"""
from __future__ import annotations

import streamlit as st

from core import keys
from core.guidelines import safe_guidelines_markdown
from core.text import markdown_literal
from store.db import Database
from store.guidelines import current_guidelines
from store.projects import Project


def guidelines_button(db: Database, project: Project) -> None:
    """A sidebar button (key M) that opens the guidelines dialog. Nothing is read from the
    store until it is pressed."""
    style_guide = project.kind == "compare"
    if st.sidebar.button("Guidelines" + (" (style guide)" if style_guide else ""),
                         key="open_guidelines", shortcut=keys.GUIDELINES, width="stretch",
                         help="The project's guidelines, hazard categories with examples, and "
                              "the severity scale."):
        guidelines_dialog(db, project)


@st.dialog("Guidelines", width="large")
def guidelines_dialog(db: Database, project: Project) -> None:
    current = current_guidelines(db, project.id)
    if project.kind == "compare":
        st.caption("The style guide for this project: the Compare page asks which response "
                   "better follows it.")
    st.caption(f"{markdown_literal(project.name)} · version {current.version} of "
               f"{current.created_at:%Y-%m-%d %H:%M} UTC")
    with st.container(key="guidelines_text"):
        st.markdown(safe_guidelines_markdown(current.text) or "_No guidelines yet._")
    st.subheader("Hazard categories")
    for n, category in enumerate(project.taxonomy.categories):
        with st.container(key=f"guidelines_category_{n}"):
            st.markdown(f"**{markdown_literal(category.code)}** {markdown_literal(category.name)}")
            if category.description:
                st.text(category.description)
            for example in category.examples:
                st.text(f"Example: {example}")
    st.subheader("Severity")
    for level in project.taxonomy.severity:
        st.text(f"{level.level} {level.name}" + (f": {level.description}" if level.description else ""))
