"""The offline severity hint: how explicit an item's text looks, from two word lists.

Computed when items are imported (and on demand, "refresh"), so masking, dimming, warnings
and routing work with no model download and no cloud service. It is a heuristic for
routing and warnings, not a label: explicit terms (the masking list plus a project's own
terms) count 1, severe terms (violence, sexual violence, self-harm, weapons) count 3, and
the total maps to a severity hint from 0 to 4.

The pattern runs in DuckDB (RE2, `regexp_extract_all`) for bulk imports and in Python for
single texts; RE2 has no look-behind, so word boundaries are `\\b` on word-character ends.
RE2's `\\b` knows ASCII letters only: in SQL a term that starts or ends with another letter
("ублюдок", "café") has no boundary on that side, so it may also count inside a longer word
(erring towards a higher hint, never missing the term).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from core.word_lists import (DEFAULT_LANGUAGES, EXPLICIT, SEVERE, WORDLISTS, sorted_terms,
                             term_body, terms_for)

SEVERE_WORD_LIST = WORDLISTS / "en" / SEVERE
SEVERE_WEIGHT = 3
# Lowest score for hints 1, 2, 3 and 4.
THRESHOLDS = (1, 3, 6, 9)


def _boundary(char: str, re2: bool) -> str:
    word = re.match(r"\w", char) is not None
    return r"\b" if word and (not re2 or char.isascii()) else ""


def _term_regex(term: str, re2: bool) -> str:
    term = term.strip()
    # Spelling variants as masking matches them (core/word_lists.py); the plural ending
    # is inside the body, so the closing boundary follows it.
    return f"{_boundary(term[0], re2)}{term_body(term)}{_boundary(term[-1], re2)}"


def terms_regex(terms: Iterable[str], re2: bool = False) -> str | None:
    """One case-insensitive alternation for Python `re`, or (`re2`) for DuckDB's RE2."""
    cleaned = sorted_terms(terms)
    if not cleaned:
        return None
    return "(?i)(?:" + "|".join(_term_regex(t, re2) for t in cleaned) + ")"


def explicit_regex(extra_terms: Iterable[str] = (), re2: bool = False,
                   languages: Iterable[str] = DEFAULT_LANGUAGES) -> str | None:
    return terms_regex([*terms_for(EXPLICIT, tuple(languages)), *extra_terms], re2)


def severe_regex(re2: bool = False, languages: Iterable[str] = DEFAULT_LANGUAGES) -> str | None:
    return terms_regex(terms_for(SEVERE, tuple(languages)), re2)


def hint_from_score(score: int) -> int:
    return sum(1 for threshold in THRESHOLDS if score >= threshold)


def score_text(text: str, extra_terms: Iterable[str] = (),
               languages: Iterable[str] = DEFAULT_LANGUAGES) -> int:
    explicit = explicit_regex(extra_terms, languages=languages)
    severe = severe_regex(languages=languages)
    return ((len(re.findall(explicit, text)) if explicit else 0)
            + SEVERE_WEIGHT * (len(re.findall(severe, text)) if severe else 0))


def severity_hint(text: str, extra_terms: Iterable[str] = (),
                  languages: Iterable[str] = DEFAULT_LANGUAGES) -> int:
    """The hint (0-4) for one text."""
    return hint_from_score(score_text(text, extra_terms, languages))


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def severity_score_sql(text_expr: str, extra_terms: Iterable[str] = (),
                       languages: Iterable[str] = DEFAULT_LANGUAGES) -> str:
    """A DuckDB expression giving the score of the text in `text_expr`."""
    parts = []
    for regex, weight in ((explicit_regex(extra_terms, re2=True, languages=languages), 1),
                          (severe_regex(re2=True, languages=languages), SEVERE_WEIGHT)):
        if regex:
            parts.append(f"{weight} * len(regexp_extract_all({text_expr}, {_sql_literal(regex)}))")
    return "(" + (" + ".join(parts) or "0") + ")"


def project_score_sql(settings: dict, text_expr: str | None = None) -> str:
    """The score expression for an item's text under a project's settings (its own terms
    and its languages)."""
    return severity_score_sql(text_expr or item_text_sql(), settings.get("mask_terms", []),
                              settings.get("languages") or DEFAULT_LANGUAGES)


def hint_from_score_sql(score_expr: str) -> str:
    """A DuckDB expression mapping a score column to the hint (0-4)."""
    cases = " ".join(f"WHEN {score_expr} >= {t} THEN {n}"
                     for n, t in reversed(list(enumerate(THRESHOLDS, start=1))))
    return f"(CASE {cases} ELSE 0 END)"


def item_text_sql(alias: str = "") -> str:
    """The item's text as one string, in SQL, for scoring (`alias` qualifies the columns)."""
    a = f"{alias}." if alias else ""
    return (f"concat_ws(' ', {a}prompt, {a}response, {a}response_a, {a}response_b,"
            f" CAST({a}messages AS VARCHAR))")
