"""What item text really contains: characters a reader cannot see, and look-alike letters.

A prompt can carry tricks that a plain rendering hides: zero-width characters inside a word
(a slur or a keyword split so that filters miss it), bidirectional controls (a right-to-left
override shows the rest of the line reversed), control characters, Unicode "tag" characters
(invisible ASCII text that models still read) and words spelled with letters of two
alphabets (Latin "p" + Cyrillic "а" in "pаypal"). `examine` finds them; `inspect` also gives
a display string in which each hidden character is replaced by a visible marker.

Marker notation (`⟦…⟧`, U+27E6 / U+27E7, brackets that ordinary text almost never uses):

    ⟦ZWSP⟧ ⟦ZWNJ⟧ ⟦ZWJ⟧ ⟦WJ⟧ ⟦BOM⟧ ⟦MVS⟧ ⟦SHY⟧ ⟦CGJ⟧     zero-width characters
    ⟦LRE⟧ ⟦RLE⟧ ⟦PDF⟧ ⟦LRO⟧ ⟦RLO⟧                        bidi embeddings and overrides
    ⟦LRI⟧ ⟦RLI⟧ ⟦FSI⟧ ⟦PDI⟧ ⟦LRM⟧ ⟦RLM⟧ ⟦ALM⟧            bidi isolates and marks
    ⟦U+0007⟧                                            any other control or format character
                                                        (also zero-width ones without a name)
    ⟦TAG:text⟧                                          a run of tag characters, decoded
    ⟦VS×12⟧ / ⟦VS17⟧                                    variation selectors that follow no
                                                        base character (a smuggled payload)
    word⟦MIXED Latin+Cyrillic⟧                          a word mixing look-alike alphabets

Each hidden character is *replaced* by its marker, so a bidi control in the display string
is gone and cannot reorder the text around it. The display string is for plain-text surfaces
(st.text); it adds no HTML or Markdown.

Not marked, because ordinary text needs them: newline and tab; a carriage return before a
newline (Windows line ends); a zero-width joiner between emoji (👨‍👩‍👧) and a zero-width
(non-)joiner between two letters of one script that uses joining (Persian, Arabic, Indic
scripts; not Latin, Cyrillic, Greek); one variation selector (U+FE00-U+FE0F) right after a
visible character (❤️). Arabic number signs (U+0600-U+0605 and the like) are format
characters that show as visible marks, so they are left alone too.

Scripts are told apart by Unicode character names (stdlib `unicodedata`): every letter of the
Latin, Cyrillic, Greek, Armenian, Cherokee and Coptic alphabets is named after its script,
and fullwidth and mathematical letters are Latin look-alikes of their own. A word mixing
letters of two of these is flagged; words mixing, say, Latin and Chinese are not (that is
ordinary writing), and a word spelled wholly in Cyrillic look-alikes is not flagged (telling
that apart needs a confusables table, TR39).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

OPEN, CLOSE = "\u27e6", "\u27e7"     # ⟦ ⟧

# Kinds, each with its singular and plural words for the notice, in the notice's order.
ZERO_WIDTH = "zero-width"
FILLER = "filler"
TAG = "tag"
VARIATION = "variation"
CONTROL = "control"
FORMAT = "format"
MIXED = "mixed"
_BIDI_NAMES = {
    "\u202a": ("LRE", "left-to-right embedding", "left-to-right embeddings"),
    "\u202b": ("RLE", "right-to-left embedding", "right-to-left embeddings"),
    "\u202c": ("PDF", "pop directional formatting", "pop directional formattings"),
    "\u202d": ("LRO", "left-to-right override", "left-to-right overrides"),
    "\u202e": ("RLO", "right-to-left override", "right-to-left overrides"),
    "\u2066": ("LRI", "left-to-right isolate", "left-to-right isolates"),
    "\u2067": ("RLI", "right-to-left isolate", "right-to-left isolates"),
    "\u2068": ("FSI", "first strong isolate", "first strong isolates"),
    "\u2069": ("PDI", "pop directional isolate", "pop directional isolates"),
    "\u200e": ("LRM", "left-to-right mark", "left-to-right marks"),
    "\u200f": ("RLM", "right-to-left mark", "right-to-left marks"),
    "\u061c": ("ALM", "Arabic letter mark", "Arabic letter marks"),
}
WORDS: dict[str, tuple[str, str]] = {
    ZERO_WIDTH: ("zero-width character", "zero-width characters"),
    **{abbr: (one, many) for abbr, one, many in _BIDI_NAMES.values()},
    CONTROL: ("control character", "control characters"),
    FORMAT: ("invisible formatting character", "invisible formatting characters"),
    TAG: ("tag character (invisible text)", "tag characters (invisible text)"),
    VARIATION: ("stray variation selector", "stray variation selectors"),
    FILLER: ("blank filler letter", "blank filler letters"),
    MIXED: ("word mixing alphabets", "words mixing alphabets"),
}
KINDS: tuple[str, ...] = tuple(WORDS)
# Bidi controls by abbreviation: the kinds that can reorder text on screen.
BIDI_KINDS: frozenset[str] = frozenset(abbr for abbr, _, _ in _BIDI_NAMES.values())

_ZERO_WIDTH_NAMES = {
    "\u200b": "ZWSP", "\u200c": "ZWNJ", "\u200d": "ZWJ", "\u2060": "WJ", "\ufeff": "BOM",
    "\u180e": "MVS", "\u00ad": "SHY", "\u034f": "CGJ",
    # Invisible operators and Khmer inherent vowels draw nothing either.
    "\u2061": None, "\u2062": None, "\u2063": None, "\u2064": None,
    "\u17b4": None, "\u17b5": None,
}
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_TAGS_PRINTABLE = range(0xE0020, 0xE007F)     # tag versions of ASCII space .. "~"
_VS_BMP = range(0xFE00, 0xFE10)
_VS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"

# Every character that might be hidden, as one class (Python has no \p{Cf}), in runs.
# tests/test_hidden_text.py checks that every format (Cf) and control (Cc) character of this
# Python's Unicode tables is covered.
_CANDIDATE = re.compile(
    "[\U000e0000-\U000e007f" + _VS +
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a]+")
# Format characters that show as a visible sign (Arabic number signs, Syriac abbreviation
# mark, Kaithi number sign): never hidden. Mongolian free variation selectors (U+180B-D, F)
# shape the letter before them.
_VISIBLE_FORMAT = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891"
                            "\u08e2\U000110bd\U000110cd\u180b\u180c\u180d\u180f")
_WORD = re.compile(r"\w+")
# Letters of each look-alike alphabet by block (a quick test before the word-by-word check
# by name: a text holding letters of fewer than two of them cannot mix them in a word).
_ALPHABET_BLOCKS = [re.compile(f"[{ranges}]") for ranges in (
    "A-Za-z\u00c0-\u02af\u1d00-\u1dbf\u1e00-\u1eff\u2070-\u209f\u2c60-\u2c7f\ua720-\ua7ff"
    "\uab30-\uab6f\ufb00-\ufb06\U00010780-\U000107bf\U0001df00-\U0001dfff",          # Latin
    "\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f",                          # Cyrillic
    "\u0370-\u03ff\u1f00-\u1fff",                                                       # Greek, Coptic
    "\u0530-\u058f\ufb13-\ufb17",                                                       # Armenian
    "\u13a0-\u13ff\uab70-\uabbf",                                                       # Cherokee
    "\u2c80-\u2cff",                                                                     # Coptic
    "\uff21-\uff3a\uff41-\uff5a",                                                       # fullwidth
    "\U0001d400-\U0001d7ff")]                                                            # mathematical

# Scripts whose letters pass for one another; names give the script of every letter here.
_LOOKALIKE_SCRIPTS = {"LATIN": "Latin", "CYRILLIC": "Cyrillic", "GREEK": "Greek",
                      "ARMENIAN": "Armenian", "CHEROKEE": "Cherokee", "COPTIC": "Coptic"}
_NON_JOINING_SCRIPTS = frozenset(_LOOKALIKE_SCRIPTS)


@dataclass(frozen=True)
class HiddenReport:
    """How many of each kind a text holds (kinds with none are left out), and the alphabets
    mixed within its flagged words."""
    counts: dict[str, int] = field(default_factory=dict)
    scripts: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any(self.counts.values())

    def __add__(self, other: HiddenReport) -> HiddenReport:
        counts = Counter(self.counts)
        counts.update(other.counts)
        return HiddenReport(dict(counts), tuple(dict.fromkeys(self.scripts + other.scripts)))

    def count(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    @property
    def reorders(self) -> bool:
        """True when the text holds a bidi control (rendered, it may not read in order)."""
        return any(self.counts.get(kind) for kind in BIDI_KINDS)

    def describe(self) -> str:
        """What was found, in words: "3 zero-width characters and 1 right-to-left override";
        empty for a clean text."""
        parts = []
        for kind in KINDS:
            n = self.counts.get(kind, 0)
            if n:
                one, many = WORDS[kind]
                words = f"{n} {one if n == 1 else many}"
                if kind == MIXED and self.scripts:
                    words += f" ({' and '.join(self.scripts)})"
                parts.append(words)
        if len(parts) <= 1:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class InspectedText:
    display: str            # the text with every hidden character replaced by its marker
    report: HiddenReport


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


@lru_cache(maxsize=4096)
def _script(ch: str) -> str | None:
    """The look-alike alphabet of a letter, or None (digits, other scripts, symbols)."""
    if ch.isascii():
        return "Latin" if ch.isalpha() else None
    if not unicodedata.category(ch).startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("FULLWIDTH LATIN"):
        return "Fullwidth Latin"
    if name.startswith("MATHEMATICAL"):
        return "Mathematical"
    return _LOOKALIKE_SCRIPTS.get(name.split(" ", 1)[0])


@lru_cache(maxsize=4096)
def _any_script(ch: str) -> str:
    """A letter's or mark's script word from its name ("ARABIC", "DEVANAGARI"), else ""."""
    if not unicodedata.category(ch)[0] in "LM":
        return ""
    return unicodedata.name(ch, " ").split(" ", 1)[0]


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or 0x1F3FB <= ord(ch) <= 0x1F3FF


def _joiner_belongs(text: str, at: int) -> bool:
    """True for a ZWJ/ZWNJ doing its ordinary job: between emoji (ZWJ), or between two
    letters of one joining script (Persian half-spaces, Indic conjuncts)."""
    before = at - 1
    while before >= 0 and ord(text[before]) in _VS_BMP:
        before -= 1
    if before < 0 or at + 1 >= len(text):
        return False
    prev, nxt = text[before], text[at + 1]
    if text[at] == "\u200d" and _is_emoji(prev) and _is_emoji(nxt):
        return True
    script = _any_script(prev)
    return bool(script) and script not in _NON_JOINING_SCRIPTS and _any_script(nxt) == script


def _groups(text: str, start: int, end: int):
    """Split a run of candidates into what is marked as one: a run of tag characters, a run
    of variation selectors, or a single character."""
    at = start
    while at < end:
        cp = ord(text[at])
        stop = at + 1
        if 0xE0000 <= cp <= 0xE007F:
            while stop < end and 0xE0000 <= ord(text[stop]) <= 0xE007F:
                stop += 1
        elif cp in _VS_BMP or 0xE0100 <= cp <= 0xE01EF:
            while stop < end and (ord(text[stop]) in _VS_BMP or 0xE0100 <= ord(text[stop]) <= 0xE01EF):
                stop += 1
        yield at, stop
        at = stop


def _classify(text: str, start: int, end: int) -> tuple[str, str, int] | None:
    """(marker, kind, count) for one group of candidates, or None when it is ordinary text."""
    run = text[start:end]
    first = run[0]
    cp = ord(first)
    if 0xE0000 <= cp <= 0xE007F:                      # tags: decode the ASCII they hide
        pieces, ascii_run = [], []
        for ch in run:
            if ord(ch) in _TAGS_PRINTABLE:
                ascii_run.append(chr(ord(ch) - 0xE0000))
                continue
            if ascii_run:
                pieces.append(f"{OPEN}TAG:{''.join(ascii_run)}{CLOSE}")
                ascii_run = []
            pieces.append(f"{OPEN}{_code(ch)}{CLOSE}")
        if ascii_run:
            pieces.append(f"{OPEN}TAG:{''.join(ascii_run)}{CLOSE}")
        return "".join(pieces), TAG, len(run)
    if cp in _VS_BMP or 0xE0100 <= cp <= 0xE01EF:
        after_base = start > 0 and not text[start - 1].isspace() and not _CANDIDATE.match(text[start - 1])
        if len(run) == 1 and cp in _VS_BMP and after_base:
            return None                                  # ❤️: an emoji or CJK variant
        if len(run) == 1:
            number = cp - 0xFE00 + 1 if cp in _VS_BMP else cp - 0xE0100 + 17
            return f"{OPEN}VS{number}{CLOSE}", VARIATION, 1
        return f"{OPEN}VS\u00d7{len(run)}{CLOSE}", VARIATION, len(run)
    if first in _VISIBLE_FORMAT:
        return None
    if first in _BIDI_NAMES:
        abbr = _BIDI_NAMES[first][0]
        return f"{OPEN}{abbr}{CLOSE}", abbr, 1
    if first in _ZERO_WIDTH_NAMES:
        if first in "\u200c\u200d" and _joiner_belongs(text, start):
            return None
        return f"{OPEN}{_ZERO_WIDTH_NAMES[first] or _code(first)}{CLOSE}", ZERO_WIDTH, 1
    if first in _FILLERS:
        return f"{OPEN}{_code(first)}{CLOSE}", FILLER, 1
    if first == "\r" and text.startswith("\n", end):
        return None                                      # a Windows line end
    kind = CONTROL if unicodedata.category(first) == "Cc" else FORMAT
    return f"{OPEN}{_code(first)}{CLOSE}", kind, 1


def _mixed_scripts(word: str) -> tuple[str, ...]:
    """The look-alike alphabets a word mixes (two or more), else ()."""
    if word.isascii():
        return ()
    scripts = tuple(dict.fromkeys(s for s in map(_script, word) if s))
    return scripts if len(scripts) > 1 else ()


# The work pages draw the same item texts on every rerun (each key press): results for
# texts up to the page's preview size are kept, so a rerun pays a dictionary look-up.
_CACHED_CHARS = 50_000


def inspect(text: str | None) -> InspectedText:
    """The text with its hidden characters marked, and what was found. A clean text comes
    back unchanged with an empty (false) report."""
    text = text or ""
    return _inspect_cached(text) if len(text) <= _CACHED_CHARS else _inspect(text)


@lru_cache(maxsize=64)
def _inspect_cached(text: str) -> InspectedText:
    return _inspect(text)


def _inspect(text: str) -> InspectedText:
    # (position, end, marker, kind, count), in text order.
    found: list[tuple[int, int, str, str, int]] = []
    scripts: list[str] = []
    if not (text.isascii() and text.isprintable()):
        for match in _CANDIDATE.finditer(text):
            for start, end in _groups(text, *match.span()):
                marked = _classify(text, start, end)
                if marked:
                    found.append((start, end, *marked))
        if not text.isascii() and sum(1 for b in _ALPHABET_BLOCKS if b.search(text)) > 1:
            for match in _WORD.finditer(text):
                mixed = _mixed_scripts(match.group())
                if mixed:
                    scripts += mixed
                    found.append((match.end(), match.end(),
                                  f"{OPEN}MIXED {'+'.join(mixed)}{CLOSE}", MIXED, 1))
    if not found:
        return InspectedText(text, HiddenReport())
    found.sort(key=lambda f: (f[0], f[1]))
    pieces, at, counts = [], 0, Counter()
    for start, end, marker, kind, count in found:
        pieces.append(text[at:start])
        pieces.append(marker)
        at = end
        counts[kind] += count
    pieces.append(text[at:])
    return InspectedText("".join(pieces), HiddenReport(dict(counts), tuple(dict.fromkeys(scripts))))


def examine(text: str | None) -> HiddenReport:
    """What hidden characters and mixed-alphabet words the text holds."""
    return inspect(text).report


def hidden_notice(texts: list[tuple[str, str]], as_rendered: bool) -> tuple[HiddenReport, str]:
    """What the (label, text) blocks of one item hide, in words for the person ("" when
    they are clean), and the whole item's report. `as_rendered`: the person chose to see
    the text as rendered, so markers are not shown."""
    total, parts = HiddenReport(), []
    labels = Counter(label for label, _ in texts)
    for n, (label, text) in enumerate(texts):
        report = examine(text)
        if report:
            total += report
            where = f"{label}, block {n + 1}" if labels[label] > 1 else label
            parts.append(f"{where}: {report.describe()}.")
    if not total:
        return total, ""
    how = ("shown as rendered, not marked" if as_rendered
           else "each shown as a marker such as ⟦ZWSP⟧ or ⟦RLO⟧")
    notice = f"This item's text holds hidden characters or look-alike letters ({how}). "
    if as_rendered and total.reorders:
        notice += "A direction control may show part of it out of order. "
    return total, notice + " ".join(parts)


def mark_hidden(text: str | None) -> str:
    """The text with every hidden character replaced by a visible marker."""
    return inspect(text).display


def invisible_positions(text: str) -> list[int]:
    """Positions of the characters a reader does not see inside the text (those `inspect`
    marks, ordinary joiners and variation selectors included): masking matches words across
    them, so "f<ZWSP>uck" is masked like "fuck"."""
    if text.isascii() and text.isprintable():
        return []
    positions = []
    for match in _CANDIDATE.finditer(text):
        if match.group()[0] in _VISIBLE_FORMAT:
            continue
        positions.extend(range(match.start(), match.end()))
    return positions
