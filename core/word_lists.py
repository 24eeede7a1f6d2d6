"""The shipped word lists, per language, and the spelling variants a listed term also covers.

Each language has a folder in core/wordlists/ with `explicit_terms.txt` (masked on the work
pages) and `severe_terms.txt` (counted by the keyword severity hint only). A project names
its languages (setting "languages", default English); its lists are the union of theirs.

People who write harmful text on purpose spell around filters: "fvck", "sh!t", "c0ck",
"f*ck", "shiiit", "bitches". Listing every such spelling does not scale, so a term also
matches, as a whole word:
- look-alike characters (`LOOKALIKES`: 0 for o, 1 for i or l, $ for s, ...); inside a word
  also `*`, the usual stand-in for a letter. The first and last characters take only
  look-alikes that are word characters, so the whole-word boundaries stay what they were;
- each letter repeated ("shiiit", "fuuuck");
- a plural "s" ("kills", "c0cks"). "es" and longer endings are left out on purpose: they
  turn ordinary words into hits ("spic" + "es", "spic" + "y", "cum" + "in"); list such
  plurals as their own lines ("bitches").
Terms of fewer than four letters get repeats and plurals but no look-alikes ("a55" is a
phone model, not "ass").

Words that are ordinary in some sentence stay off the lists (French "abus", Spanish
"violación" of a law, "zorra" the fox): a blurred or masked ordinary sentence teaches people
to ignore the protections. The lists of all a project's languages apply to all its text: in
a project of English and German, English "dick" is masked inside German "sehr dick" too.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

WORDLISTS = Path(__file__).with_name("wordlists")
DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}
EXPLICIT = "explicit_terms.txt"
SEVERE = "severe_terms.txt"

# Characters written in place of a letter. Digits and symbols only: accented letters are
# their own letters in the languages that use them.
LOOKALIKES: dict[str, str] = {
    "a": "@4", "b": "8", "e": "3", "g": "9", "i": "1!|", "l": "1|", "o": "0",
    "s": "$5", "t": "7", "u": "v",
}
MIN_LETTERS_FOR_LOOKALIKES = 4
PLURAL = "s?"


def available_languages() -> tuple[str, ...]:
    """Language codes with a word-list folder, in a stable order."""
    return tuple(sorted(p.name for p in WORDLISTS.iterdir() if (p / EXPLICIT).is_file()))


def load_terms(path: Path) -> list[str]:
    """Terms from a word-list file: one per line, '#' starts a comment."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if term:
            terms.append(term)
    return terms


def language_problems(languages: object) -> list[str]:
    """What is wrong with a project's "languages" setting (empty when it is fine)."""
    known = available_languages()
    if (not isinstance(languages, list) or not languages
            or not all(isinstance(code, str) for code in languages)):
        return [f"languages must be a non-empty list of codes from: {', '.join(known)}"]
    unknown = sorted(set(languages) - set(known))
    if unknown:
        return [f"no word lists for language(s) {', '.join(unknown)}; "
                f"available: {', '.join(known)}"]
    return []


@lru_cache(maxsize=32)
def terms_for(kind: str, languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> tuple[str, ...]:
    """The terms of one list (`EXPLICIT` or `SEVERE`) in the given languages."""
    terms: list[str] = []
    for code in languages:
        path = WORDLISTS / code / kind
        if path.is_file():
            terms.extend(load_terms(path))
    return tuple(dict.fromkeys(terms))


def _is_word(char: str) -> bool:
    return re.match(r"\w", char) is not None


def _position(char: str, first_or_last: bool, lookalikes: bool) -> str:
    """The regex for one character of a term."""
    if char == " ":
        return r"\s+"
    if char == "-":
        return r"[\s-]?"          # "self-harm", "self harm", "selfharm"
    lower = char.lower()
    if not _is_word(char) or not lower.isalpha():
        return re.escape(char)
    others = LOOKALIKES.get(lower, "") if lookalikes else ""
    if first_or_last:
        others = "".join(c for c in others if _is_word(c))
    elif lookalikes:
        others += "*"
    if not others:
        return re.escape(char) + "+"
    return "[" + re.escape(char) + "".join(re.escape(c) for c in others) + "]+"


def term_body(term: str) -> str:
    """The regex (Python `re` and RE2 alike, used with ignore-case) matching `term` and its
    spelling variants, without word boundaries."""
    term = term.strip()
    letters = sum(1 for c in term if c.isalpha())
    lookalikes = letters >= MIN_LETTERS_FOR_LOOKALIKES
    last = len(term) - 1
    body = "".join(_position(c, i in (0, last), lookalikes) for i, c in enumerate(term))
    return body + (PLURAL if term[-1].isalpha() else "")


def sorted_terms(terms: Iterable[str]) -> list[str]:
    """Distinct, stripped terms, longest first (so a longer term wins over its prefix)."""
    return sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
