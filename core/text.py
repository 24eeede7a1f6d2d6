"""Text helpers: edit distance between an original response and an annotator's rewrite."""
from __future__ import annotations

from rapidfuzz.distance import Levenshtein


def edit_distance(a: str, b: str, limit_chars: int = 1_000_000) -> int | None:
    """Character-level Levenshtein distance (insertions, deletions, substitutions).

    None when either text is longer than `limit_chars`, so a pathological rewrite cannot
    stall a submit; the rewrite itself is still stored.
    """
    if len(a) > limit_chars or len(b) > limit_chars:
        return None
    return Levenshtein.distance(a, b)
