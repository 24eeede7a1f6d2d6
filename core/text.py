"""Text helpers: edit distance between an original response and an annotator's rewrite, text
from people and files made literal wherever Streamlit renders Markdown, and safe file names."""
from __future__ import annotations

import functools
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


# CommonMark lets a backslash escape any ASCII punctuation character, so escaping all of them
# stops every Markdown construct (emphasis, code, links, images, headings, lists, tables, raw
# HTML, entities) and Streamlit's own syntax (`:red[...]`, `:material/icon:`, `:smile:`,
# `$math$`), whichever of them a given widget happens to render.
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub-flavoured "literal autolinks" (`http://host`, `www.host`, `name@host`) are found in the
# text after the escapes are undone, so escaping cannot stop them; an invisible WORD JOINER
# (U+2060) inside `://`, `www.` and before `@` does (checked in Chromium against Streamlit 1.67).
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
WORD_JOINER = "\u2060"


def markdown_literal(text: object) -> str:
    """`text` made safe to show inside anything Streamlit renders as Markdown (st.info /
    warning / error / success / caption / markdown, widget labels, `help` tooltips, radio and
    pills options, progress text, toasts): it shows as typed, never as a link, image, icon,
    colour, formula or HTML. The one escaping helper for every string that did not come from
    the code (names, ids, column names, taxonomy text, error messages quoting them).

    Whitespace runs (newlines included) become one space: a line break could otherwise start
    a block (an indented code block, a table row). Do not use it for plain-text surfaces
    (st.text, st.code, st.dataframe, selectbox and multiselect options), which would show the
    backslashes.
    """
    return _literal(str(text))


@functools.lru_cache(maxsize=2048)
def _literal(text: str) -> str:
    # Cached: the work pages escape the same taxonomy labels and tooltips on every key press.
    flat = _WHITESPACE.sub(" ", text).strip()
    return _ASCII_PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, flat))
