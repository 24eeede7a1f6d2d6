"""Domain rules tested directly: masking, edit distance, active time, labels, keys."""
from datetime import datetime, timedelta

import pytest

from core import keys
from core.active_time import IDLE_CAP, active_ms, visible_active_ms
from core.labels import Label, label_problems
from core.masking import load_terms, mask_pattern, mask_text
from core.taxonomy import DEFAULT_TAXONOMY
from core.text import edit_distance


@pytest.fixture(scope="module")
def pattern():
    return mask_pattern()


@pytest.mark.parametrize("text, expected", [
    ("what the fuck", "what the f***"),
    ("What The FUCK?!", "What The F***?!"),           # case kept, punctuation is a boundary
    ("Fuck.", "F***."),
    ("an assassin passed", "an assassin passed"),      # "ass" is not masked inside words
    ("class assignment", "class assignment"),
    ("you ass", "you a**"),
    ("sh1t and $hit", "s*** and $***"),              # variants listed in the word list
    ("shitake mushrooms", "shitake mushrooms"),
    ("Ärger, fuck, über", "Ärger, f***, über"),      # Unicode text around a term
    ("éfuck", "éfuck"),                               # a letter in any script is part of the word
    ("fuck_you", "fuck_you"),                         # underscore joins words
    ("", ""),
])
def test_masking_cases_boundaries_variants_and_unicode(pattern, text, expected):
    assert mask_text(text, pattern)[0] == expected


def test_masking_counts_and_project_terms():
    pattern = mask_pattern(["Zorblax", "bad-word"])
    masked, count = mask_text("zorblax said BAD-WORD and fuck", pattern)
    assert masked == "z****** said B******* and f***" and count == 3
    assert mask_text("nothing here", pattern) == ("nothing here", 0)


def test_word_list_is_a_plain_editable_file():
    terms = load_terms()
    assert "fuck" in terms and "sh1t" in terms
    assert not any(t.startswith("#") for t in terms)


@pytest.mark.parametrize("a, b, distance", [
    ("", "", 0), ("abc", "abc", 0), ("kitten", "sitting", 3), ("", "abc", 3),
    ("Hello world", "Hello, world!", 2), ("naïve", "naive", 1),
])
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance


def test_edit_distance_gives_up_on_huge_texts():
    assert edit_distance("a" * 10, "b" * 10, limit_chars=5) is None


def test_active_time_counts_gaps_and_caps_idle_ones():
    t0 = datetime(2026, 1, 1, 12, 0, 0)
    moments = [t0, t0 + timedelta(seconds=10), t0 + timedelta(seconds=25)]
    assert active_ms(moments) == 25_000
    away = moments + [t0 + timedelta(minutes=30)]  # stepped away for half an hour
    assert active_ms(away) == 25_000 + int(IDLE_CAP.total_seconds() * 1000)
    assert active_ms(reversed(away)) == active_ms(away)
    assert active_ms([t0]) == 0 and active_ms([]) == 0


@pytest.mark.parametrize("label, problem", [
    (Label(None, (), 0), "choose safe or unsafe"),
    (Label(False, (), 3), "at least one hazard category"),
    (Label(False, ("S1",), 0), "severity 0 (none) goes only with safe"),
    (Label(False, ("S1",), None), "choose a severity"),
    (Label(True, ("S1",), 0), "a safe item has no hazard categories"),
    (Label(False, ("Z9",), 2), "unknown categories: Z9"),
    (Label(False, ("S1",), 7), "not on this project's scale"),
])
def test_label_rules(label, problem):
    assert any(problem in p for p in label_problems(label, DEFAULT_TAXONOMY))


def test_valid_labels_have_no_problems():
    assert label_problems(Label(True, (), 0), DEFAULT_TAXONOMY) == []
    assert label_problems(Label(False, ("S1", "X1"), 3), DEFAULT_TAXONOMY) == []


def test_keys_are_distinct_and_avoid_streamlit_reserved_ones():
    singles = [keys.SAFE, keys.UNSAFE, keys.SKIP, keys.FLAG, keys.REVEAL, keys.UNDO,
               keys.GUIDELINES]
    everything = list(keys.CATEGORY_KEYS) + list(keys.SEVERITY_KEYS) + singles + [
        keys.SUBMIT, keys.SUBMIT_FROM_TEXT, keys.PREVIOUS, keys.NEXT]
    assert len(everything) == len(set(k.lower() for k in everything))
    assert not {"c", "r"} & {k.lower() for k in everything}
    assert len(keys.CATEGORY_KEYS) >= len(DEFAULT_TAXONOMY.categories)


def test_time_with_the_page_hidden_is_not_active():
    t0 = datetime(2026, 11, 29, 9, 0)
    moments = [t0, t0 + timedelta(seconds=50), t0 + timedelta(seconds=60)]
    assert visible_active_ms(moments, 0) == 60_000
    # 45 s of the minute in another tab: at most 15 s were active.
    assert visible_active_ms(moments, 45_000) == 15_000
    # A hidden total larger than the span (counted from before the item) gives 0, not less.
    assert visible_active_ms(moments, 90_000) == 0
    # The idle cap still applies when the page stayed visible.
    away = [t0, t0 + timedelta(minutes=30)]
    assert visible_active_ms(away, 0) == int(IDLE_CAP.total_seconds() * 1000)
    assert visible_active_ms([], 0) == 0


def test_markdown_literal_escapes_every_active_character():
    from core.text import markdown_literal
    assert markdown_literal("**x** :red[y] <b>$1$</b> a_b") == (
        r"\*\*x\*\* \:red\[y\] \<b\>\$1\$\<\/b\> a\_b")
    assert markdown_literal("plain words 42") == "plain words 42"
