"""Masking explicit terms in item text until the annotator chooses to see them.

Matching is case-insensitive (Unicode case folding), on whole words only (a term never
masks part of a longer word: "ass" leaves "assassin" alone), and literal: a variant such as
"sh1t" or "$hit" is masked when the list names it. A masked term keeps its first character:
"fuck" becomes "f***". Characters a reader cannot see (zero-width, bidi and other format or
control characters, see core/hidden_text.py) do not break a word: "f<ZWSP>uck" is masked as
"f<ZWSP>***", the invisible character kept in place for the hidden-text markers to show.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from core.hidden_text import invisible_positions

WORD_LIST = Path(__file__).with_name("wordlists") / "explicit_terms.txt"


def load_terms(path: Path = WORD_LIST) -> list[str]:
    """Terms from a word-list file: one per line, '#' starts a comment."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if term:
            terms.append(term)
    return terms


@lru_cache(maxsize=64)
def _compile(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(t) for t in cleaned)
    # Whole words: no letter, digit or underscore (in any script) right before or after.
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


@lru_cache(maxsize=1)
def _default_terms() -> tuple[str, ...]:
    return tuple(load_terms())


def mask_pattern(extra_terms: Iterable[str] = ()) -> re.Pattern[str] | None:
    """The compiled pattern for the repo's word list plus a project's own terms."""
    return _compile(_default_terms() + tuple(extra_terms))


def _mask_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return word[0] + "*" * (len(word) - 1)


def _visible(text: str) -> tuple[str, list[int]] | None:
    """The text without its invisible characters, and where each of its characters is in
    `text`; None when the text has none (the common case: match it as it is)."""
    hidden = invisible_positions(text)
    if not hidden:
        return None
    skip = set(hidden)
    kept = [i for i in range(len(text)) if i not in skip]
    return "".join(text[i] for i in kept), kept


def mask_text(text: str, pattern: re.Pattern[str] | None) -> tuple[str, int]:
    """The text with every listed term masked, and how many terms were masked."""
    if not text or pattern is None:
        return text or "", 0
    visible = _visible(text)
    if visible is None:
        return pattern.subn(_mask_word, text)
    seen, where = visible
    chars, count = list(text), 0
    for match in pattern.finditer(seen):
        count += 1
        for i in range(match.start() + 1, match.end()):
            chars[where[i]] = "*"
    return "".join(chars), count


def count_masked(text: str, pattern: re.Pattern[str] | None) -> int:
    if not text or pattern is None:
        return 0
    visible = _visible(text)
    return sum(1 for _ in pattern.finditer(text if visible is None else visible[0]))
