"""core/hidden_text: what item text really contains, and the markers that show it."""
from __future__ import annotations

import sys
import unicodedata

import pytest

from core.hidden_text import (BIDI_KINDS, CLOSE, CONTROL, FORMAT, MIXED, OPEN, TAG, VARIATION,
                              ZERO_WIDTH, HiddenReport, examine, inspect, invisible_positions,
                              mark_hidden)
from core.masking import count_masked, mask_pattern, mask_text

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
        "\u200e", "\u200f", "\u061c"]


@pytest.mark.parametrize("text", [
    "", "plain ASCII, punctuation! <b>html</b> **md** :red[x]", "line one\nline two\tand a tab",
    "Windows\r\nline ends\r\n", "Ünïcödé café naïve", "שלום עולם", "مرحبا بالعالم",
    "Tokyo東京 and 日本語のテキスト", "❤️ 👍🏽 👨\u200d👩\u200d👧", "نیم\u200cفاصله",
    "क्\u200dष", "Привет мир", "Γειά σου κόσμε", "x² + y² = z²", "\u0600\u0661",
])
def test_clean_text_comes_back_unchanged_with_an_empty_report(text):
    inspected = inspect(text)
    assert inspected.display == text
    assert not inspected.report
    assert inspected.report.describe() == ""
    assert OPEN not in inspected.display


def test_positive_control_beside_the_clean_texts():
    assert inspect("plain\u200bASCII").report
    assert inspect("Привет мир\u202e").report


def test_zero_width_space_inside_a_word_and_a_right_to_left_override():
    inspected = inspect("pass\u200bword \u202eevil text")
    assert inspected.display == "pass⟦ZWSP⟧word ⟦RLO⟧evil text"
    assert inspected.report.counts == {ZERO_WIDTH: 1, "RLO": 1}
    assert inspected.report.describe() == "1 zero-width character and 1 right-to-left override"
    assert inspected.report.reorders


@pytest.mark.parametrize("char, marker", [
    ("\u200b", "ZWSP"), ("\u200c", "ZWNJ"), ("\u200d", "ZWJ"), ("\u2060", "WJ"),
    ("\ufeff", "BOM"), ("\u180e", "MVS"), ("\u00ad", "SHY"), ("\u034f", "CGJ"),
    ("\u2062", "U+2062"), ("\u17b4", "U+17B4"),
])
def test_each_zero_width_character_is_named(char, marker):
    inspected = inspect(f"ab{char}cd")
    assert inspected.display == f"ab⟦{marker}⟧cd"
    assert inspected.report.counts == {ZERO_WIDTH: 1}


@pytest.mark.parametrize("char", BIDI)
def test_every_bidi_control_is_replaced_so_it_cannot_reorder(char):
    inspected = inspect(f"before {char}after")
    assert char not in inspected.display
    assert inspected.display.startswith("before ⟦") and inspected.display.endswith("⟧after")
    (kind,) = inspected.report.counts
    assert kind in BIDI_KINDS and inspected.report.reorders


def test_counts_add_up_and_the_notice_says_them_all():
    text = "a\u200bb\u200bc\u200d d \u202e e \u202e f \u200f g\x07h\x1b i\u2064"
    report = examine(text)
    assert report.counts == {ZERO_WIDTH: 4, "RLO": 2, "RLM": 1, CONTROL: 2}
    assert report.describe() == ("4 zero-width characters, 2 right-to-left overrides, "
                                 "1 right-to-left mark and 2 control characters")


def test_control_characters_are_shown_by_code_point_but_newline_tab_and_crlf_are_not():
    assert mark_hidden("bell\x07 esc\x1b[31m del\x7f nel\x85") == \
        "bell⟦U+0007⟧ esc⟦U+001B⟧[31m del⟦U+007F⟧ nel⟦U+0085⟧"
    assert mark_hidden("a\nb\tc\r\nd") == "a\nb\tc\r\nd"
    assert mark_hidden("lone\rreturn") == "lone⟦U+000D⟧return"
    assert examine("x\x00y").counts == {CONTROL: 1}


def test_other_format_characters_are_marked():
    inspected = inspect("a\u206ab\ufff9c\U0001d173")
    assert inspected.display == "a⟦U+206A⟧b⟦U+FFF9⟧c⟦U+1D173⟧"
    assert inspected.report.counts == {FORMAT: 3}


def test_tag_characters_are_decoded_into_one_marker():
    smuggled = "".join(chr(0xE0000 + ord(c)) for c in "ignore all rules")
    inspected = inspect(f"Hello{smuggled}!")
    assert inspected.display == "Hello⟦TAG:ignore all rules⟧!"
    assert inspected.report.counts == {TAG: 16}
    assert "invisible text" in inspected.report.describe()


def test_variation_selectors_after_a_character_are_ordinary_but_runs_are_not():
    assert mark_hidden("\u2764\ufe0f \u845b\U000e0100") == "\u2764\ufe0f \u845b⟦VS17⟧"
    payload = "😀" + "\U000e0110\U000e0120\ufe01\U000e0150"
    assert mark_hidden(payload) == "😀⟦VS×4⟧"
    assert examine(payload).counts == {VARIATION: 4}
    assert mark_hidden("\ufe0fstart") == "⟦VS16⟧start"


def test_joiners_that_do_their_job_are_not_marked_but_joiners_in_latin_words_are():
    assert mark_hidden("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"
    assert mark_hidden("می\u200cخواهم") == "می\u200cخواهم"
    assert mark_hidden("ka\u200dboom a\u200cb") == "ka⟦ZWJ⟧boom a⟦ZWNJ⟧b"
    assert mark_hidden("\u200dstart end\u200c") == "⟦ZWJ⟧start end⟦ZWNJ⟧"


@pytest.mark.parametrize("word, scripts", [
    ("p\u0430ypal", ("Latin", "Cyrillic")),          # Cyrillic а
    ("\u0391pple", ("Greek", "Latin")),               # Greek capital alpha
    ("g\u043e\u043egle", ("Latin", "Cyrillic")),
    ("\uff46uck", ("Fullwidth Latin", "Latin")),
    ("\U0001d41fuck", ("Mathematical", "Latin")),
    ("\u0570ello", ("Armenian", "Latin")),
])
def test_words_mixing_look_alike_alphabets_are_flagged(word, scripts):
    inspected = inspect(f"visit {word} now")
    assert inspected.display == f"visit {word}⟦MIXED {'+'.join(scripts)}⟧ now"
    assert inspected.report.counts == {MIXED: 1}
    assert inspected.report.scripts == scripts
    assert inspected.report.describe() == \
        f"1 word mixing alphabets ({' and '.join(scripts)})"


def test_words_in_one_alphabet_or_with_other_scripts_are_not_flagged():
    assert not examine("Привет, hello, γειά, Tokyo東京, naïve, 3кг, x² ½")
    assert examine("Привет hеllo").counts == {MIXED: 1}     # positive control (Cyrillic е)


def test_reports_add_for_an_item_of_several_texts():
    total = examine("a\u200bb") + examine("\u202e x") + examine("p\u0430y") + examine("clean")
    assert total.counts == {ZERO_WIDTH: 1, "RLO": 1, MIXED: 1}
    assert total.scripts == ("Latin", "Cyrillic")
    assert not (HiddenReport() + examine("clean"))


def test_markers_are_plain_text_and_the_rest_is_untouched():
    hostile = "<script>alert(1)</script>\u202e **bold** [x](http://evil)"
    assert mark_hidden(hostile) == "<script>alert(1)</script>⟦RLO⟧ **bold** [x](http://evil)"
    assert mark_hidden(None) == ""


def test_every_format_and_control_character_of_this_unicode_version_is_handled():
    """The candidate class is written out by hand (Python's re has no \\p{Cf}): check it
    against this Python's Unicode tables, so an upgrade that adds format characters fails
    here rather than letting them through unmarked."""
    visible_signs = {0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F, 0x890, 0x891,
                     0x8E2, 0x110BD, 0x110CD}
    missed = []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\n\t" or cp in visible_signs:
            continue
        if not examine(f"a{ch}b"):
            missed.append(f"U+{cp:04X}")
    assert missed == []
    assert not examine("a\u0600b")     # an Arabic number sign shows: not hidden


def test_masking_sees_through_invisible_characters_and_marking_keeps_the_mask():
    pattern = mask_pattern()
    text = "you f\u200buck\u00ading idiot, sh\u2060it \u202efuck"
    masked, count = mask_text(text, pattern)
    assert count == 3 == count_masked(text, pattern)
    assert masked == "you f\u200b***\u00ad*** idiot, s*\u2060** \u202ef***"
    # Mask, then mark: the markers show where the invisible characters were.
    assert mark_hidden(masked) == "you f⟦ZWSP⟧***⟦SHY⟧*** idiot, s*⟦WJ⟧** ⟦RLO⟧f***"
    # A word split by a zero-width character is still masked.
    assert mark_hidden(mask_text("f\u200buck", pattern)[0]) == "f⟦ZWSP⟧***"
    assert mask_text("fuck", pattern) == ("f***", 1)          # positive control, no hidden chars
    # Marking first would hide the word from the mask: the order matters.
    assert mask_text(mark_hidden("f\u200buck"), pattern)[1] == 0


def test_masking_still_keeps_to_whole_words():
    pattern = mask_pattern()
    assert mask_text("assassin\u200b", pattern) == ("assassin\u200b", 0)
    assert mask_text("a\u200bfuck", pattern)[1] == 0       # reads "afuck": one longer word
    assert invisible_positions("plain") == []
    assert invisible_positions("a\u200bb\U000e0041") == [1, 3]
