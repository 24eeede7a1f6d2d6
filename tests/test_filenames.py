"""Safe file names from project names (core/filenames.py)."""
from __future__ import annotations

import pytest

from core.filenames import MAX_STEM_CHARS, export_file_name, safe_stem


@pytest.mark.parametrize("text, expected", [
    ("Pilot study", "Pilot-study"),                 # positive control: a plain name is kept
    ("../../x", "x"),
    ("..", "export"),
    ("/etc/passwd", "etc-passwd"),
    ("a\\b/c", "a-b-c"),
    ("C:\\Windows\\x", "C-Windows-x"),
    ("name\x00with\x07control\nchars\r", "name-with-control-chars"),
    ("Sécurité données", "Securite-donnees"),
    ("安全", "export"),
    ("", "export"),
    (None, "export"),
    ("   ", "export"),
    (".hidden", "hidden"),
    ("-rf", "rf"),
    ("CON", "CON_"),
    ("nul", "nul_"),
    ("keep_under-scores", "keep_under-scores"),
])
def test_safe_stem(text, expected):
    assert safe_stem(text) == expected


def test_safe_stem_caps_the_length_and_never_ends_on_a_separator():
    stem = safe_stem("a" * 59 + " " + "b" * 100)
    assert len(stem) <= MAX_STEM_CHARS and stem == "a" * 59
    assert len(safe_stem("x" * 500)) == MAX_STEM_CHARS


def test_safe_stem_fallback_is_made_safe_too():
    assert safe_stem("///", fallback="../p") == "p"
    assert safe_stem("///", fallback="///") == "export"


@pytest.mark.parametrize("name, expected", [
    ("Pilot", "Pilot-annotations.jsonl"),
    ("../../x", "x-annotations.jsonl"),
    ("日本語", "project-7-annotations.jsonl"),
    ("..", "project-7-annotations.jsonl"),
])
def test_export_file_name(name, expected):
    assert export_file_name(name, 7, "annotations", "jsonl") == expected
