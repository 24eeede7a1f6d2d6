"""Project guidelines made safe to render as Markdown: headings, lists, emphasis, links and
code stay; images and HTML never reach the browser.

Guidelines are Markdown written by a lead, shown to the whole team. A rendered image (Markdown
`![alt](url)`, a reference-style image, or HTML `<img>`) would make every annotator's browser
fetch a URL the lead chose, and raw HTML can do that and more. So images become the text
"[image: alt]" and every `<` is followed by an invisible WORD JOINER, which no HTML tag or
autolink can start with.

The rewrite does not depend on the Markdown structure (where a code span or a code block
starts is decided by the renderer, and a parser here could disagree with it, for instance on
GFM footnotes): it applies everywhere, code included. Inside code the joiner is invisible,
and an image written inside code shows as "[image: alt]" too, a small price for never
guessing wrong.
"""
from __future__ import annotations

import re

from core.text import WORD_JOINER, markdown_literal

# One left-to-right pass; the first alternative that matches at a position wins, and what a
# replacement writes is never scanned again.
_TOKENS = re.compile(r"""
    (?P<escape>\\.)                                        # a backslash escape, kept as it is
  | (?P<img_tag><img\b[^>]*>)                              # HTML <img ...>
  | (?P<md_image>!\[(?P<alt>[^\[\]\\]*(?:\\.[^\[\]\\]*)*)\]
        (?: \( \s* (?: <[^<>\n]*> | (?:[^\s()\\]|\\.|\([^()\s]*\))* )    # destination
               (?: \s+ (?: "[^"]*" | '[^']*' | \([^()]*\) ) )? \s* \)  # optional title
          | \[ (?P<ref>[^\[\]]*) \]                                     # ![alt][ref], ![alt][]
          | (?P<shortcut>) ))                                           # ![alt] (reference)
  | (?P<lt><)                                              # any other HTML, autolinks
  | (?P<bang>!(?=\[))                                      # what is left of an image opener
""", re.VERBOSE | re.IGNORECASE | re.DOTALL)

_ALT_ATTRIBUTE = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
# [label]: destination, at the start of a line (up to three spaces in).
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:", re.MULTILINE)
_BACKSLASH_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _label(text: str) -> str:
    """A reference label as CommonMark matches it: case and whitespace runs ignored."""
    return " ".join(text.split()).casefold()


def image_placeholder(alt: str) -> str:
    """The literal text "[image: alt]" ("[image]" without alt) as Markdown."""
    alt = " ".join(_BACKSLASH_ESCAPE.sub(r"\1", alt).split())
    return r"\[image" + (": " + markdown_literal(alt) if alt else "") + r"\]"


def safe_guidelines_markdown(text: str | None) -> str:
    """`text` (a lead's Markdown) ready for `st.markdown`: images become "[image: alt]", no HTML
    is rendered, nothing is fetched; headings, lists, emphasis, links and code still render."""
    if not text:
        return ""
    references = {_label(m.group(1)) for m in _REFERENCE_DEFINITION.finditer(text)}

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "escape":
            return match.group()
        if kind == "img_tag":
            alt = _ALT_ATTRIBUTE.search(match.group())
            return image_placeholder(next((g for g in alt.groups() if g is not None), "")
                                     if alt else "")
        if kind == "md_image":
            alt = match.group("alt")
            if match.group("shortcut") is not None and _label(alt) not in references:
                # Not an image after all ("![x]" with no [x]: definition): shown as typed.
                return "!" + WORD_JOINER + match.group()[1:]
            return image_placeholder(alt)
        if kind == "lt":
            return "<" + WORD_JOINER
        return "!" + WORD_JOINER   # bang: an image opener the patterns above did not take

    return _TOKENS.sub(replace, text)
