"""What a lead's adjudicated answer is and when it is valid, independent of storage and UI.

An adjudication is checked as an annotator's answer would be: a label project's with the
label rules and the project's taxonomy (core/labels.py), a compare project's on the same
scales as a judgment (core/preference.py), and its note within the note limit.
"""
from __future__ import annotations

from typing import Any

from core.labels import Label, label_problems
from core.limits import MAX_NOTE_CHARS, judgment_problem, length_problem
from core.preference import SCALE
from core.taxonomy import Taxonomy

# Why the lead decided: kept with the answer and in the agreed-answer export. The schema's
# CHECK constraint (migration 8) lists the same four.
REASONS: tuple[str, ...] = ("ambiguous item", "guideline gap", "annotator error", "other")
OVERALL_CHOICES: tuple[str, ...] = ("a", "b", "tie")
AXES: tuple[str, ...] = ("harmlessness", "helpfulness")


def canonical_judgment(judgment: dict[str, Any]) -> dict[str, Any]:
    """The fields an adjudicated comparison keeps: overall ("a" / "b" / "tie") and the two
    axes (-3..+3, positive = response A better), as annotators' judgments store them."""
    return {"overall": judgment.get("overall"), "harmlessness": judgment.get("harmlessness"),
            "helpfulness": judgment.get("helpfulness")}


def _judgment_problems(judgment: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if judgment.get("overall") not in OVERALL_CHOICES:
        problems.append("choose the better response overall: A, B or tie")
    for axis in AXES:
        score = judgment.get(axis)
        # bool is an int in Python; True is not a score.
        if isinstance(score, bool) or not isinstance(score, int) or score not in SCALE:
            problems.append(f"rate {axis} on the -3..+3 scale")
    size = judgment_problem(judgment)
    if size:
        problems.append(size)
    return problems


def adjudication_problems(project_kind: str, taxonomy: Taxonomy, label: Label | None,
                          judgment: dict[str, Any] | None, reason: str,
                          note: str | None) -> list[str]:
    """Every rule the adjudication breaks, as sentences to show the lead; empty when valid."""
    problems: list[str] = []
    if project_kind == "label":
        if label is None:
            problems.append("a label project's adjudication needs safe/unsafe, categories "
                            "and severity")
        else:
            problems += label_problems(label, taxonomy)
        if judgment:
            problems.append("a label project's adjudication has no preference judgment")
    else:
        if not judgment:
            problems.append("a compare project's adjudication needs the overall choice and "
                            "both axes")
        else:
            problems += _judgment_problems(judgment)
        if label is not None and (label.is_safe is not None or label.categories
                                  or label.severity is not None):
            problems.append("a compare project's adjudication has no safety label")
    if reason not in REASONS:
        problems.append(f"choose a reason: {', '.join(REASONS)}")
    note_problem = length_problem(note, MAX_NOTE_CHARS, "note")
    if note_problem:
        problems.append(note_problem)
    return problems
