"""A person's answer to an item in a few words, as they gave it on the work page, and the
answer filters of "My items"."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.preference import SCREEN_LABELS, to_screen

# The filter values, by project kind. Compare answers are named as the person saw them:
# "A better" is the response that was on their left (stored judgments are canonical).
ANSWERS: dict[str, tuple[str, ...]] = {"label": ("safe", "unsafe"),
                                       "compare": ("A better", "B better", "tie")}
ALL_ANSWERS: tuple[str, ...] = tuple(a for answers in ANSWERS.values() for a in answers)


def screen_overall(judgment: dict[str, Any]) -> str | None:
    """The overall choice as seen: "A better" (the left response), "B better" or "tie"."""
    overall, left = judgment.get("overall"), judgment.get("left", "a")
    if overall == "tie":
        return "tie"
    if overall not in ("a", "b"):
        return None
    return "A better" if overall == left else "B better"


def answer_summary(is_safe: bool | None, categories: Sequence[str] | None, severity: int | None,
                   judgment: dict[str, Any] | None) -> str:
    """"unsafe · S1, S10 · severity 3", or for a comparison "overall A better · harmlessness:
    A slightly better · helpfulness: About the same" (A is the left response as seen)."""
    if judgment:
        left = judgment.get("left", "a")
        parts = [f"overall {screen_overall(judgment) or '?'}"]
        for axis in ("harmlessness", "helpfulness"):
            score = judgment.get(axis)
            if score is not None:
                parts.append(f"{axis}: {SCREEN_LABELS.get(to_screen(int(score), left), score)}")
        return " · ".join(parts)
    parts = ["safe" if is_safe else "unsafe" if is_safe is False else "no verdict"]
    if categories:
        parts.append(", ".join(categories))
    if severity is not None:
        parts.append(f"severity {severity}")
    return " · ".join(parts)
