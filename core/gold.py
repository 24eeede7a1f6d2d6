"""Gold answers: what an expected answer is, and how a person's answer is checked against it.

No storage and no UI here. The questions checked:

- label projects: `safe` (the verdict), `categories` (the set, exactly), `severity` (exact,
  when the gold answer gives one) and, per hazard category, `category <code>` (present or
  absent as in the gold answer);
- compare projects: `overall` (A, B or tie).

An answer is *correct* as a whole (qualification score, gold misses) when the verdict and the
category set match (label) or the overall choice matches (compare). Severity is reported but
is not part of "correct": neighbouring severities are a matter of degree, not a miss.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.labels import Label, label_problems
from core.preference import SCALE, SCREEN_LABELS, to_screen
from core.taxonomy import Taxonomy


@dataclass(frozen=True)
class GoldAnswer:
    id: int
    item_id: int
    project_id: int
    is_safe: bool | None
    categories: tuple[str, ...]
    severity: int | None
    judgment: dict[str, Any] | None
    explanation: str
    qualification: bool
    set_by: int | None
    set_at: datetime


@dataclass(frozen=True)
class Answer:
    """What a person answered, in the fields the checks read."""
    is_safe: bool | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    severity: int | None = None
    judgment: dict[str, Any] | None = None


def gold_problems(kind: str, taxonomy: Taxonomy, label: Label | None,
                  judgment: dict[str, Any] | None) -> list[str]:
    """Problems with an expected answer, as a normal answer would have them. A compare gold
    answer needs the overall choice; its axis scores are optional (a file may give only the
    choice) but must be on the scale when given."""
    if kind == "label":
        if label is None:
            return ["a gold answer of a label project needs safe/unsafe, categories and severity"]
        return label_problems(label, taxonomy)
    if not judgment:
        return ["a gold answer of a compare project needs the overall choice (a, b or tie)"]
    problems = []
    if judgment.get("overall") not in ("a", "b", "tie"):
        problems.append("the overall choice must be a, b or tie")
    for axis in ("harmlessness", "helpfulness"):
        score = judgment.get(axis)
        if score is not None and score not in SCALE:
            problems.append(f"{axis} must be on the -3..+3 scale")
    return problems


def answer_checks(kind: str, gold: GoldAnswer, answer: Answer,
                  category_codes: Iterable[str] = ()) -> dict[str, bool]:
    """Question -> whether the answer matches the gold answer on it."""
    if kind == "compare":
        expected = (gold.judgment or {}).get("overall")
        given = (answer.judgment or {}).get("overall")
        return {"overall": given == expected}
    wanted, given = set(gold.categories), set(answer.categories or ())
    checks = {"safe": answer.is_safe == gold.is_safe, "categories": wanted == given}
    if gold.severity is not None:
        checks["severity"] = answer.severity == gold.severity
    for code in sorted(set(category_codes) | wanted | given):
        checks[f"category {code}"] = (code in wanted) == (code in given)
    return checks


def is_correct(kind: str, checks: dict[str, bool]) -> bool:
    """The answer as a whole matches: verdict and category set (label), overall (compare)."""
    if kind == "compare":
        return checks["overall"]
    return checks["safe"] and checks["categories"]


def misses(kind: str, checks: dict[str, bool]) -> tuple[str, ...]:
    """The whole-answer questions the answer got wrong (for a lead's review queue)."""
    asked = ("overall",) if kind == "compare" else ("safe", "categories")
    return tuple(q for q in asked if not checks[q])


def describe(kind: str, gold: GoldAnswer, taxonomy: Taxonomy, left: str = "a") -> str:
    """The expected answer in words, as plain text (names are the lead's data). A compare
    answer is put as the person saw the pair: `left` is the stored response shown as A."""
    if kind == "compare":
        judgment = gold.judgment or {}
        overall = judgment.get("overall")
        choice = ("a tie" if overall == "tie" else
                  "response A" if overall == left else "response B" if overall else "?")
        parts = [f"overall: {choice}"]
        for axis in ("harmlessness", "helpfulness"):
            if judgment.get(axis) is not None:
                parts.append(f"{axis}: {SCREEN_LABELS[to_screen(judgment[axis], left)]}")
        return " · ".join(parts)
    parts = ["safe" if gold.is_safe else "unsafe"]
    if gold.categories:
        parts.append(", ".join(taxonomy.category_label(c) for c in gold.categories))
    if gold.severity is not None:
        parts.append("severity " + taxonomy.severity_label(gold.severity))
    return " · ".join(parts)


# Import columns of an expected answer, recognised by name (never kept as item metadata,
# which annotators may see). A row with any of them non-empty makes its item a gold item.
GOLD_COLUMNS = ("gold_is_safe", "gold_categories", "gold_severity", "gold_overall",
                "gold_explanation", "gold_qualification")
_TRUE = {"true", "1", "yes", "y", "safe", "t"}
_FALSE = {"false", "0", "no", "n", "unsafe", "f"}


@dataclass(frozen=True)
class ParsedGold:
    label: Label | None
    judgment: dict[str, Any] | None
    explanation: str
    qualification: bool
    problems: list[tuple[str, str]]          # (column, problem)


def _flag(text: str | None) -> bool | None:
    value = (text or "").strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _codes(text: str | None) -> tuple[str, ...]:
    """Codes from a JSON list (`["S1", "S10"]`) or a list separated by commas, semicolons,
    bars or spaces."""
    text = (text or "").strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except ValueError:
            values = None
        if isinstance(values, list):
            return tuple(str(v).strip() for v in values if str(v).strip())
    return tuple(c for c in re.split(r"[,;|\s]+", text) if c)


def parse_gold_columns(kind: str, taxonomy: Taxonomy, values: dict[str, str | None]) -> ParsedGold:
    """An expected answer from a row's gold_* columns (text as read), with its problems."""
    problems: list[tuple[str, str]] = []
    explanation = (values.get("gold_explanation") or "").strip()
    qualification = False
    if (values.get("gold_qualification") or "").strip():
        flag = _flag(values["gold_qualification"])
        if flag is None:
            problems.append(("gold_qualification", "must be true or false"))
        qualification = bool(flag)
    label = judgment = None
    if kind == "compare":
        overall = (values.get("gold_overall") or "").strip().lower()
        judgment = {"overall": overall}
        problems += [("gold_overall", p) for p in gold_problems(kind, taxonomy, None, judgment)]
    else:
        safe_text = values.get("gold_is_safe")
        is_safe = _flag(safe_text)
        if is_safe is None:
            problems.append(("gold_is_safe", "must be safe/unsafe (or true/false)"
                             if (safe_text or "").strip() else "is needed for a gold answer"))
        severity = None
        severity_text = (values.get("gold_severity") or "").strip()
        if severity_text:
            try:
                severity = int(severity_text)
            except ValueError:
                problems.append(("gold_severity", "must be a whole number"))
        label = Label(is_safe, _codes(values.get("gold_categories")), severity)
        if is_safe is not None:
            for problem in label_problems(label, taxonomy):
                column = ("gold_categories" if "categor" in problem else
                          "gold_severity" if "severity" in problem else "gold_is_safe")
                problems.append((column, problem))
    return ParsedGold(label, judgment, explanation, qualification, problems)
