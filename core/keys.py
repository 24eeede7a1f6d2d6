"""Keyboard shortcuts of the work pages, in one place so pages and help text agree.

Streamlit reserves C and R and does not support punctuation keys. A focused text field
swallows plain keys, so submitting from inside a text field is Ctrl+Enter.
"""
from __future__ import annotations

# Categories: digits first, then letters that no action uses.
CATEGORY_KEYS: tuple[str, ...] = tuple("1234567890") + tuple("QWETYIOPHJKL")
# Severity levels 0-9: Shift + digit, distinct from the category digits.
SEVERITY_KEYS: tuple[str, ...] = tuple(f"Shift+{d}" for d in "0123456789")

SAFE = "G"
UNSAFE = "U"
SUBMIT = "Enter"
SUBMIT_FROM_TEXT = "Ctrl+Enter"
SKIP = "S"
FLAG = "F"
REVEAL = "V"
PREVIOUS = "Left"
NEXT = "Right"
# The guidelines and taxonomy dialog: M for "manual" (G is safe, H a category key, and no
# action or category on either work page uses M).
GUIDELINES = "M"
# Undo the last submit or skip (for core.queue.UNDO_WINDOW_SECONDS): Z as in the usual
# Ctrl+Z; no category, action or compare key uses it.
UNDO = "Z"


def category_key(index: int) -> str | None:
    return CATEGORY_KEYS[index] if index < len(CATEGORY_KEYS) else None


def severity_key(level: int) -> str | None:
    return SEVERITY_KEYS[level] if 0 <= level < len(SEVERITY_KEYS) else None
