"""Text helpers: edit distance between an original response and an annotator's rewrite, and
making item-derived strings literal inside Streamlit messages (which render Markdown)."""
from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein


def edit_distance(a: str, b: str, limit_chars: int = 1_000_000) -> int | None:
    """Character-level Levenshtein distance (insertions, deletions, substitutions).

    None when either text is longer than `limit_chars`, so a pathological rewrite cannot
    stall a submit; the rewrite itself is still stored.
    """
    if len(a) > limit_chars or len(b) > limit_chars:
        return None
    return Levenshtein.distance(a, b)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=\"'])")


def markdown_literal(text: str) -> str:
    """`text` with every Markdown-active character backslash-escaped (CommonMark allows it
    for any ASCII punctuation), so an item id such as `**x** :red[y] <b>` shows as typed in
    st.info / st.warning / st.success, which render Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
