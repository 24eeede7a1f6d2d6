"""Masking explicit terms in item text until the annotator chooses to see them.

Matching is case-insensitive (Unicode case folding), on whole words only (a term never
masks part of a longer word: "ass" leaves "assassin" alone), and literal: a variant such as
"$hit" is masked when the list names it, and look-alike spellings, repeated letters and
plurals of a listed term are masked too ("fvck", "sh!t", "shiiit", "bitches";
core/word_lists.py). The lists are per language: a project names its languages (setting
"languages", default English). A masked term keeps its first character: "fuck" becomes "f***". Characters a reader cannot see (zero-width, bidi and other format or
control characters, see core/hidden_text.py) do not break a word: "f<ZWSP>uck" is masked as
"f<ZWSP>***", the invisible character kept in place for the hidden-text markers to show.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from core.hidden_text import invisible_positions
from core.word_lists import (DEFAULT_LANGUAGES, EXPLICIT, WORDLISTS, sorted_terms, term_body,
                             terms_for)
from core.word_lists import load_terms as _load_terms

WORD_LIST = WORDLISTS / "en" / EXPLICIT


def load_terms(path: Path = WORD_LIST) -> list[str]:
    """Terms from a word-list file: one per line, '#' starts a comment."""
    return _load_terms(path)


@lru_cache(maxsize=64)
def _compile(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted_terms(terms)
    if not cleaned:
        return None
    alternatives = "|".join(term_body(t) for t in cleaned)
    # Whole words: no letter, digit or underscore (in any script) right before or after.
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


def explicit_terms(languages: Iterable[str] = DEFAULT_LANGUAGES) -> tuple[str, ...]:
    """The shipped explicit terms of these languages."""
    return terms_for(EXPLICIT, tuple(languages))


def mask_pattern(extra_terms: Iterable[str] = (),
                 languages: Iterable[str] = DEFAULT_LANGUAGES) -> re.Pattern[str] | None:
    """The compiled pattern for the shipped lists of `languages` plus a project's own terms."""
    return _compile(explicit_terms(languages) + tuple(extra_terms))


def project_mask_pattern(settings: dict) -> re.Pattern[str] | None:
    """The pattern a project's settings ask for (its own terms and its languages)."""
    return mask_pattern(settings.get("mask_terms", []),
                        settings.get("languages") or DEFAULT_LANGUAGES)


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
