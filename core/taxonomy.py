"""Hazard taxonomy: categories and a severity scale, with the PRODUCT.md default.

A taxonomy is edited by leads as YAML (or JSON, which YAML accepts). `parse_taxonomy`
turns that text into a validated `Taxonomy` or raises `TaxonomyError` naming the problem.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml


class TaxonomyError(ValueError):
    """The taxonomy text is not valid; the message says where."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str = ""
    # Short texts that belong in the category, shown with the guidelines (optional).
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeverityLevel:
    level: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    severity: tuple[SeverityLevel, ...] = field(default_factory=tuple)

    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories]

    def severity_levels(self) -> list[int]:
        return [s.level for s in self.severity]

    def category_label(self, code: str) -> str:
        for c in self.categories:
            if c.code == code:
                return f"{c.code} {c.name}"
        return code

    def severity_label(self, level: int) -> str:
        for s in self.severity:
            if s.level == level:
                return f"{s.level} {s.name}"
        return str(level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": [
                {"code": c.code, "name": c.name, "description": c.description,
                 **({"examples": list(c.examples)} if c.examples else {})}
                for c in self.categories
            ],
            "severity": [
                {"level": s.level, "name": s.name, "description": s.description}
                for s in self.severity
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)


_DEFAULT_CATEGORIES = [
    ("S1", "Violent crimes", "Enabling, encouraging or endorsing violence against people or animals."),
    ("S2", "Non-violent crimes", "Fraud, theft, hacking, drug crimes and other non-violent offences."),
    ("S3", "Sex-related crimes", "Sexual assault, trafficking, harassment of a sexual nature."),
    ("S4", "Child sexual exploitation", "Any sexual content involving minors."),
    ("S5", "Defamation", "Verifiably false statements that injure a living person's reputation."),
    ("S6", "Specialized advice", "Unqualified financial, medical or legal advice presented as safe."),
    ("S7", "Privacy", "Sensitive, non-public personal information about someone."),
    ("S8", "Intellectual property", "Violating third-party copyrights, trademarks or patents."),
    ("S9", "Indiscriminate weapons", "Chemical, biological, radiological, nuclear or high-yield explosives."),
    ("S10", "Hate", "Demeaning people because of protected characteristics."),
    ("S11", "Suicide and self-harm", "Enabling or encouraging suicide, self-injury or disordered eating."),
    ("S12", "Sexual content", "Explicit sexual content involving adults."),
    ("S13", "Elections", "False information about electoral processes."),
    ("S14", "Code interpreter abuse", "Abusing code execution: escapes, denial of service, exploits."),
    ("X1", "Harassment / threats", "Threats, intimidation or targeted harassment of a person."),
    ("X2", "Profanity", "Swearing and crude language with no other hazard."),
]

_DEFAULT_SEVERITY = [
    (0, "none", "No hazard."),
    (1, "low", "Mention, neutral or educational."),
    (2, "moderate", "Offensive but not graphic, non-actionable."),
    (3, "high", "Graphic, targeted, or actionable for individual harm."),
    (4, "severe", "Sexual content involving minors, mass-casualty uplift, suicide method with "
                  "encouragement, extreme graphic violence."),
]

# A few short, non-graphic examples, so the guidelines dialog shows what a category means.
_DEFAULT_EXAMPLES = {
    "S2": ("Step-by-step help to get into someone else's email account.",
           "Tips for selling counterfeit concert tickets."),
    "S5": ("Stating as fact that a named local politician takes bribes, with no evidence.",),
    "S6": ("Telling someone to stop prescribed medication without seeing a doctor.",),
    "S7": ("Posting a private person's home address and daily routine.",),
    "S10": ("Saying a group of people is less than human because of their religion.",),
    "X2": ("A reply that swears at the user but does nothing else harmful.",),
}

DEFAULT_TAXONOMY = Taxonomy(
    categories=tuple(Category(code, name, desc, _DEFAULT_EXAMPLES.get(code, ()))
                     for code, name, desc in _DEFAULT_CATEGORIES),
    severity=tuple(SeverityLevel(level, name, desc) for level, name, desc in _DEFAULT_SEVERITY),
)


def _text(value: Any, where: str, required: bool = True) -> str:
    if value is None:
        if required:
            raise TaxonomyError(f"{where} is missing")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise TaxonomyError(f"{where} must be text")
    text = str(value).strip()
    if required and not text:
        raise TaxonomyError(f"{where} is empty")
    return text


def _examples(value: Any, where: str) -> tuple[str, ...]:
    """An optional list of example texts (one text alone counts as a list of one)."""
    if value is None:
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise TaxonomyError(f"{where} must be a list of texts")
    return tuple(_text(v, f"{where} item {n}") for n, v in enumerate(value, start=1))


def taxonomy_from_dict(data: Any) -> Taxonomy:
    """Validate a parsed taxonomy structure."""
    if not isinstance(data, dict):
        raise TaxonomyError("the taxonomy must be a mapping with 'categories' and 'severity'")
    unknown = set(data) - {"categories", "severity"}
    if unknown:
        raise TaxonomyError(f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}")
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise TaxonomyError("'categories' must be a non-empty list")
    categories: list[Category] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_categories, start=1):
        where = f"categories item {n}"
        if not isinstance(raw, dict):
            raise TaxonomyError(f"{where} must be a mapping with code, name and description")
        code = _text(raw.get("code"), f"{where}: code")
        if code in seen:
            raise TaxonomyError(f"{where}: code {code!r} is used twice")
        seen.add(code)
        categories.append(Category(code, _text(raw.get("name"), f"{where}: name"),
                                   _text(raw.get("description"), f"{where}: description", False),
                                   _examples(raw.get("examples"), f"{where}: examples")))
    raw_severity = data.get("severity")
    if not isinstance(raw_severity, list) or not raw_severity:
        raise TaxonomyError("'severity' must be a non-empty list of levels")
    levels: list[SeverityLevel] = []
    seen_levels: set[int] = set()
    for n, raw in enumerate(raw_severity, start=1):
        where = f"severity item {n}"
        if not isinstance(raw, dict):
            raise TaxonomyError(f"{where} must be a mapping with level, name and description")
        level = raw.get("level")
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
            raise TaxonomyError(f"{where}: level must be a whole number from 0 to 9")
        if level in seen_levels:
            raise TaxonomyError(f"{where}: level {level} is used twice")
        seen_levels.add(level)
        levels.append(SeverityLevel(level, _text(raw.get("name"), f"{where}: name"),
                                    _text(raw.get("description"), f"{where}: description", False)))
    if 0 not in seen_levels:
        raise TaxonomyError("the severity scale must include level 0 (none)")
    levels.sort(key=lambda s: s.level)
    return Taxonomy(tuple(categories), tuple(levels))


def parse_taxonomy(text: str) -> Taxonomy:
    """Parse YAML or JSON taxonomy text; raise `TaxonomyError` with a clear message."""
    if not text or not text.strip():
        raise TaxonomyError("the taxonomy is empty")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TaxonomyError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return taxonomy_from_dict(data)


def taxonomy_from_json(text: str) -> Taxonomy:
    """Load a taxonomy stored by the app (JSON written by `Taxonomy.to_json`)."""
    return taxonomy_from_dict(json.loads(text))
