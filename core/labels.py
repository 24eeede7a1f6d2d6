"""What a safety label is and when it is complete, independent of storage and UI."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.taxonomy import Taxonomy


@dataclass(frozen=True)
class Label:
    is_safe: bool | None
    categories: tuple[str, ...] = field(default_factory=tuple)
    severity: int | None = None
    note: str = ""
    edited_response: str | None = None


def label_problems(label: Label, taxonomy: Taxonomy) -> list[str]:
    """Every rule the label breaks, as sentences to show the annotator; empty when valid."""
    problems: list[str] = []
    if label.is_safe is None:
        problems.append("choose safe or unsafe")
    unknown = [c for c in label.categories if c not in taxonomy.category_codes()]
    if unknown:
        problems.append(f"unknown categories: {', '.join(unknown)}")
    if label.severity is None:
        problems.append("choose a severity")
    elif label.severity not in taxonomy.severity_levels():
        problems.append(f"severity {label.severity} is not on this project's scale")
    if label.is_safe is False:
        if not label.categories:
            problems.append("an unsafe item needs at least one hazard category")
        if label.severity == 0:
            problems.append("severity 0 (none) goes only with safe: pick 1 or higher, or mark safe")
    if label.is_safe is True and label.categories:
        problems.append("a safe item has no hazard categories: clear them or mark unsafe")
    return problems
