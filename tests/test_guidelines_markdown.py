"""core/guidelines.safe_guidelines_markdown: a lead's Markdown keeps its headings, lists,
emphasis, links and code, and loses every image and every piece of HTML."""
from __future__ import annotations

import re

import pytest

from core.guidelines import safe_guidelines_markdown
from core.text import WORD_JOINER
from tests.helpers import HOSTILE, HOSTILE_COLUMN, HOSTILE_ID

J = WORD_JOINER
# What a CommonMark renderer could turn into an image or an HTML element: "![" (an image
# opener) and "<" followed by a letter, "/", "!" or "?" (a tag, comment, declaration or
# processing instruction; an autolink also starts "<" + letter).
IMAGE_OPENER = re.compile(r"!\[")
HTML_START = re.compile(r"<[A-Za-z/!?]")


def assert_inert(markdown: str) -> None:
    # A backslash before "!" or "<" makes it literal, so only unescaped ones count.
    unescaped = re.sub(r"\\.", "", markdown)
    assert not IMAGE_OPENER.search(unescaped), markdown
    assert not HTML_START.search(unescaped), markdown


def test_plain_markdown_is_unchanged():
    text = ("# Heading\n\n## Sub\n\n- a *b* **c** _d_\n- [a link](http://example.org/x_(y)) and "
            "<!-- -->\n\n1. one\n2. two\n\n> quote\n\n`code` and\n\n```\nblock\n```\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n")
    expected = text.replace("<!", "<" + J + "!")     # the comment is shown, not hidden
    assert safe_guidelines_markdown(text) == expected
    assert safe_guidelines_markdown("") == "" and safe_guidelines_markdown(None) == ""


@pytest.mark.parametrize("text, expected", [
    (HOSTILE, r"\[image: x\] [click](http://evil) **bold** :red[x]"),
    (HOSTILE_COLUMN, r"\[image: c\] www.evil.com `c`"),
    (HOSTILE_ID, f"**id** [a](http://evil) x@evil.com :material/home: $x^2$ <{J}b>b<{J}/b>"),
    ('![a](http://e/x.png "title")', r"\[image: a\]"),
    ("![a](<http://e/x y.png>)", r"\[image: a\]"),
    ("![a](http://e/b(c).png)", r"\[image: a\]"),
    ("![](http://e/x.png)", r"\[image\]"),
    ("![a](data:image/png;base64,iVBORw0KGgo=)", r"\[image: a\]"),
    ("![a][logo]\n\n[logo]: http://e/l.png", "\\[image: a\\]\n\n[logo]: http://e/l.png"),
    ("![a][]\n\n[a]: http://e/l.png", "\\[image: a\\]\n\n[a]: http://e/l.png"),
    ("![Logo]\n\n[logo]: http://e/l.png", "\\[image: Logo\\]\n\n[logo]: http://e/l.png"),
    ("![not a reference]", f"!{J}[not a reference]"),
    ("<img src='http://e/x.png' alt='the tag'>", r"\[image: the tag\]"),
    ('<IMG\nSRC="http://e/x.png"\nALT="multi line"/>', r"\[image: multi line\]"),
    ("<img src=http://e/x.png>", r"\[image\]"),
    ("<img src=x", f"<{J}img src=x"),                       # not a tag: shown as typed
    ("![*bold* www.evil.com :red[x]](http://e/x.png)", f"!{J}[*bold* www.evil.com :red[x]](http://e/x.png)"),
    ("![*bold* www.evil.com](http://e/x.png)", f"\\[image: \\*bold\\* www{J}\\.evil\\.com\\]"),
    ("![a ![b](http://e/b.png)](http://e/a.png)", f"!{J}[a \\[image: b\\]](http://e/a.png)"),
    ("\\![a](http://e/x.png)", "\\![a](http://e/x.png)"),   # escaped: a "!" and a link already
    ("\\\\![a](http://e/x.png)", "\\\\\\[image: a\\]"),     # an escaped backslash, then an image
    ("<svg><image href='http://e/x.png'/></svg>", f"<{J}svg><{J}image href='http://e/x.png'/><{J}/svg>"),
    ("<http://e/autolink>", f"<{J}http://e/autolink>"),
    ("`<b>` 1 < 2", f"`<{J}b>` 1 <{J} 2"),
])
def test_images_become_text_and_html_is_inert(text, expected):
    safe = safe_guidelines_markdown(text)
    assert safe == expected
    assert_inert(safe)


@pytest.mark.parametrize("text", [
    HOSTILE + HOSTILE_ID + HOSTILE_COLUMN,
    "!" * 5 + "[" * 5 + "](x)" * 5,
    "!\\[a](x) !![b](x) ![c]![d](x)",
    "<<img src=x>> <!--<img src=x>--> <![CDATA[x]]> <?php ?> <!DOCTYPE html>",
    "<iframe src='http://e/'></iframe><script>fetch('http://e')</script><style>*{}</style>",
    "![a](x\n![b](y)\n",
    "\\" * 3 + "![a](x)" + "\\" * 4 + "<img src=x>",
])
def test_hostile_inputs_leave_no_image_or_html(text):
    assert_inert(safe_guidelines_markdown(text))
