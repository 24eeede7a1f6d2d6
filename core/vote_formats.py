"""Votes made elsewhere (a pilot in a spreadsheet, a Label Studio project) as SafeLabel answers.

Pure rules, no database: which columns a votes file may have, how a cell's text becomes an
answer (is_safe, categories, severity, note; overall, the two -3..+3 axes, rationale), how a
Label Studio task's annotations become the same rows, and the username an unknown
annotator's name becomes. store/annotation_imports.py reads the file and writes the votes.

A vote must be complete enough to mean something: a label vote says safe or unsafe; a
compare vote gives the overall choice or at least one axis. Values that are given must be
valid (categories of the project's taxonomy, a severity on its scale, scores on -3..+3), and
a safe vote names no hazard category. The completeness rules of the work pages (severity
required, a category for every unsafe vote, a rationale for strong preferences) are the
project's rules for new work; votes made elsewhere are taken as they were given.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from core.labels import Label
from core.limits import MAX_NOTE_CHARS, MAX_RATIONALE_CHARS, length_problem
from core.preference import SCALE
from core.taxonomy import Taxonomy

VOTE_FORMATS = ("csv", "jsonl", "label_studio")
# Votes are checked in memory (a pilot's file is thousands of rows, not millions): this
# bounds what one file may make the server hold, about 1 KB per vote.
MAX_VOTES = 200_000

# The columns a votes file may have, per project kind; each field's name is also its column
# name by default, and the first names of ALIASES are tried too.
COMMON_FIELDS: dict[str, str] = {
    "item_id": "the item's id, as it was imported (its external id)",
    "annotator": "the annotator's name or username",
    "submitted_at": "when the vote was made (ISO date and time, UTC); default: the import's time",
}
LABEL_FIELDS: dict[str, str] = {
    "is_safe": "safe or unsafe: true/false, safe/unsafe, 1/0",
    "categories": "hazard category codes: a list, or separated by commas or semicolons",
    "severity": "a severity level of the project's scale",
    "note": "the annotator's note",
}
COMPARE_FIELDS: dict[str, str] = {
    "overall": "the better response overall: a, b or tie",
    "harmlessness": "-3..+3, positive = response A more harmless",
    "helpfulness": "-3..+3, positive = response A more helpful",
    "rationale": "the annotator's rationale",
}
ALIASES: dict[str, tuple[str, ...]] = {
    "item_id": ("id", "external_id", "item"),
    "annotator": ("annotator_name", "username", "user", "rater"),
    "is_safe": ("safe", "label", "verdict"),
    "overall": ("preference", "choice", "winner"),
}

_TRUE = {"true", "t", "yes", "y", "1", "safe"}
_FALSE = {"false", "f", "no", "n", "0", "unsafe"}


class VoteProblem(ValueError):
    """One value that cannot be read; `column` names the field's column."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


def vote_fields(kind: str) -> dict[str, str]:
    """The fields a votes file may have for a project of this kind, with their meaning."""
    return {**COMMON_FIELDS, **(LABEL_FIELDS if kind == "label" else COMPARE_FIELDS)}


def parse_vote_mapping(pairs: list[str], kind: str) -> dict[str, str]:
    """`["rater=annotator", ...]` from the command line into {field: column}; either side
    may name the field."""
    fields = vote_fields(kind)
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = (part.strip() for part in pair.partition("="))
        if not sep:
            raise VoteProblem(f"--map takes column=field, got {pair!r}")
        if column in fields and name not in fields:
            column, name = name, column
        if name not in fields:
            raise VoteProblem(f"unknown field {name!r}: a {kind} project's votes have "
                              f"{', '.join(fields)}")
        mapping[name] = column
    return mapping


def detect_vote_format(file_name: str) -> str:
    lowered = file_name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".json"):
        return "label_studio"
    raise VoteProblem("unknown file type: votes are read from .csv, .jsonl (one vote a line) "
                      "or .json (a Label Studio export)")


def resolve_columns(columns: list[str], kind: str,
                    mapping: dict[str, str] | None = None) -> dict[str, str]:
    """{field: column} for a votes file with these columns: the mapping's choices, else a
    column named as the field, else one of its ALIASES. Raises VoteProblem when the item id,
    the annotator or every answer column is missing."""
    fields = vote_fields(kind)
    mapping = mapping or {}
    for name, column in mapping.items():
        if name not in fields:
            raise VoteProblem(f"unknown field {name!r}: a {kind} project's votes have "
                              f"{', '.join(fields)}")
        if column and column not in columns:
            raise VoteProblem(f"the file has no column {column!r} (chosen for {name}); its "
                              f"columns are: {', '.join(columns)}")
    lowered = {c.strip().lower(): c for c in columns}
    resolved: dict[str, str] = {}
    for name in fields:
        if name in mapping:
            if mapping[name]:
                resolved[name] = mapping[name]
            continue
        for candidate in (name, *ALIASES.get(name, ())):
            if candidate in lowered and lowered[candidate] not in resolved.values():
                resolved[name] = lowered[candidate]
                break
    for needed in ("item_id", "annotator"):
        if needed not in resolved:
            raise VoteProblem(f"the file needs a column for {needed} "
                              f"({COMMON_FIELDS[needed]}); its columns are: {', '.join(columns)}")
    answers = LABEL_FIELDS if kind == "label" else COMPARE_FIELDS
    if not any(name in resolved for name in answers):
        raise VoteProblem(f"the file has no answer column: a {kind} project's votes have "
                          f"{', '.join(answers)}; its columns are: {', '.join(columns)}")
    return resolved


@dataclass(frozen=True)
class Vote:
    """One person's answer to one item, as the store saves it."""
    external_id: str
    annotator: str
    label: Label | None = None                 # label projects
    judgment: dict[str, Any] | None = None     # compare projects (core.preference.Judgment)
    submitted_at: datetime | None = None

    def answer_key(self) -> tuple:
        """What the vote says, to tell an identical re-import from a correction."""
        if self.label is not None:
            return ("label", self.label.is_safe, tuple(sorted(self.label.categories)),
                    self.label.severity, self.label.note or None)
        j = self.judgment or {}
        return ("compare", j.get("overall"), j.get("harmlessness"), j.get("helpfulness"),
                j.get("rationale") or None)


def stored_answer_key(kind: str, is_safe: bool | None, categories: list[str] | None,
                      severity: int | None, note: str | None, judgment: str | None) -> tuple:
    """Vote.answer_key of an annotation row as stored."""
    if kind == "label":
        return ("label", is_safe, tuple(sorted(categories or [])), severity, note or None)
    j = json.loads(judgment) if judgment else {}
    return ("compare", j.get("overall"), j.get("harmlessness"), j.get("helpfulness"),
            j.get("rationale") or None)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise VoteProblem("expected text, not a JSON object or list")
    return str(value).strip()


def parse_is_safe(value: Any) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise VoteProblem(f"{_quote(value)} is not safe or unsafe (true/false, safe/unsafe, 1/0)")


def _quote(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 60 else text[:60] + "\u2026")


@functools.lru_cache(maxsize=32)
def _spellings(taxonomy: Taxonomy) -> dict[str, str]:
    """{lower-case code, name or "code name": code}; made once per taxonomy (a file of
    thousands of votes reads it for every row)."""
    known: dict[str, str] = {}
    for category in taxonomy.categories:
        for spelling in (category.code, category.name, f"{category.code} {category.name}"):
            known.setdefault(spelling.strip().lower(), category.code)
    return known


def parse_categories(value: Any, taxonomy: Taxonomy) -> tuple[str, ...]:
    """Codes of the taxonomy, from a list or a comma/semicolon-separated text; a category may
    be given by its code ("S1"), its name ("Violent crimes") or both ("S1 Violent crimes")."""
    if _blank(value):
        return ()
    if isinstance(value, list):
        parts = [str(v).strip() for v in value if not _blank(v)]
    else:
        text = _text(value)
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return parse_categories(parsed, taxonomy)
        parts = [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    known = _spellings(taxonomy)
    codes: list[str] = []
    unknown: list[str] = []
    for part in parts:
        code = known.get(part.lower())
        if code is None:
            unknown.append(part)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise VoteProblem(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                          f"{', '.join(_quote(u) for u in unknown)}: this project's are "
                          f"{', '.join(taxonomy.category_codes())}")
    return tuple(codes)


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise VoteProblem(f"{_quote(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        return int(float(text))
    raise VoteProblem(f"{_quote(value)} is not a whole number")


def parse_severity(value: Any, taxonomy: Taxonomy) -> int | None:
    if _blank(value):
        return None
    level = _whole_number(value)
    if level not in taxonomy.severity_levels():
        raise VoteProblem(f"severity {level} is not on this project's scale "
                          f"({', '.join(str(s) for s in taxonomy.severity_levels())})")
    return level


def parse_score(value: Any) -> int | None:
    """A canonical axis score, -3..+3 (positive = response A better)."""
    if _blank(value):
        return None
    score = _whole_number(value)
    if score not in SCALE:
        raise VoteProblem(f"{score} is not on the -3..+3 scale (positive = A better)")
    return score


def parse_overall(value: Any) -> str | None:
    if _blank(value):
        return None
    text = _text(value).lower()
    if text in ("a", "b", "tie"):
        return text
    raise VoteProblem(f"{_quote(value)} is not a, b or tie")


def parse_time(value: Any) -> datetime | None:
    """An ISO date/time as naive UTC (the store's form); a time with an offset is converted."""
    if _blank(value):
        return None
    text = _text(value)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise VoteProblem(f"{_quote(value)} is not a date and time (use ISO, e.g. "
                          "2025-03-01T14:30:00Z)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _free_text(value: Any, limit: int, what: str) -> str:
    if _blank(value):
        return ""
    text = value if isinstance(value, str) else _text(value)
    problem = length_problem(text, limit, what)
    if problem:
        raise VoteProblem(problem)
    return text


def parse_vote(values: dict[str, Any], columns: dict[str, str], kind: str,
               taxonomy: Taxonomy) -> tuple[Vote | None, list[VoteProblem]]:
    """One row's vote, or every problem with it (each naming its column). `values` are the
    row's values by field name; `columns` names each field's column in the file."""
    problems: list[VoteProblem] = []

    def read(name: str, parser: Any, *args: Any) -> Any:
        try:
            return parser(values.get(name), *args)
        except VoteProblem as exc:
            problems.append(VoteProblem(str(exc), columns.get(name, name)))
            return None

    def required_text(name: str) -> str:
        value = values.get(name)
        if _blank(value):
            problems.append(VoteProblem("is empty", columns.get(name, name)))
            return ""
        try:
            return _text(value)
        except VoteProblem as exc:
            problems.append(VoteProblem(str(exc), columns.get(name, name)))
            return ""

    external_id = required_text("item_id")
    annotator = required_text("annotator")
    submitted_at = read("submitted_at", parse_time)
    if kind == "label":
        is_safe = read("is_safe", parse_is_safe)
        categories = read("categories", parse_categories, taxonomy) or ()
        severity = read("severity", parse_severity, taxonomy)
        note = read("note", _free_text, MAX_NOTE_CHARS, "note") or ""
        verdict_column = columns.get("is_safe", "is_safe")
        if is_safe is None and not any(p.column == verdict_column for p in problems):
            problems.append(VoteProblem("is empty: a vote says safe or unsafe",
                                        columns.get("is_safe", "is_safe")))
        if is_safe is True and categories:
            problems.append(VoteProblem("a safe vote has no hazard categories",
                                        columns.get("categories", "categories")))
        vote = Vote(external_id, annotator, label=Label(is_safe, categories, severity, note),
                    submitted_at=submitted_at)
    else:
        overall = read("overall", parse_overall)
        harmlessness = read("harmlessness", parse_score)
        helpfulness = read("helpfulness", parse_score)
        rationale = read("rationale", _free_text, MAX_RATIONALE_CHARS, "rationale") or ""
        if (overall, harmlessness, helpfulness) == (None, None, None) and not problems:
            problems.append(VoteProblem("the vote gives no answer: an overall choice, "
                                        "harmlessness or helpfulness",
                                        columns.get("overall", "overall")))
        # Votes made elsewhere were not shown left/right by SafeLabel: `left` is A.
        vote = Vote(external_id, annotator, judgment={
            "left": "a", "harmlessness": harmlessness, "helpfulness": helpfulness,
            "overall": overall, "rationale": rationale or None}, submitted_at=submitted_at)
    return (None, problems) if problems else (vote, [])


# -- Label Studio -------------------------------------------------------------------------
# Our own export (store/exports.py, `label_studio`) writes, per annotation, `completed_by`
# (the user id), `created_username` (the username), `created_at`, and results: label
# projects `safety` (choices safe/unsafe), `categories` (choices of codes), `severity`
# (choices of one level) and `note` (textarea); compare projects `preference` (choices
# A/B/TIE), `harmlessness` and `helpfulness` (number, canonical), `rationale` (textarea).
# Label Studio's own exports name the annotator by id (`completed_by`), by an object with an
# email or username, or in `created_username` ("email, id").

_LS_FIELD = {"safety": "is_safe", "is_safe": "is_safe", "safe": "is_safe", "verdict": "is_safe",
             "categories": "categories", "category": "categories", "hazards": "categories",
             "hazard": "categories", "severity": "severity", "note": "note", "notes": "note",
             "comment": "note", "preference": "overall", "overall": "overall",
             "choice": "overall", "harmlessness": "harmlessness", "helpfulness": "helpfulness",
             "rationale": "rationale", "reason": "rationale"}


def _ls_value(result: dict[str, Any]) -> Any:
    value = result.get("value") or {}
    if not isinstance(value, dict):
        raise VoteProblem("a result's value is not an object")
    for key in ("choices", "number", "rating", "text", "selected"):
        if key in value:
            return key, value[key]
    raise VoteProblem(f"a result of type {_quote(result.get('type'))} has no choices, number, "
                      "rating or text")


def _ls_annotator(annotation: dict[str, Any]) -> str | None:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        for key in ("username", "email"):
            if isinstance(who.get(key), str) and who[key].strip():
                return who[key].strip()
        who = who.get("id")
    named = annotation.get("created_username")
    if isinstance(named, str) and named.strip():
        # Label Studio writes "email, id"; our export the username alone.
        text = named.strip()
        head, sep, tail = text.rpartition(",")
        return head.strip() if sep and tail.strip().isdigit() and head.strip() else text
    if isinstance(who, (int, str)) and not isinstance(who, bool) and str(who).strip():
        return f"labelstudio-user-{str(who).strip()}"
    return None


def label_studio_votes(task: Any, kind: str) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """The votes of one Label Studio task, as (where, values by field name) pairs that
    `parse_vote` reads like a CSV row; `where` names the annotation in messages. A cancelled
    (skipped) annotation gives None for its values. Raises VoteProblem for a task it cannot
    read."""
    if not isinstance(task, dict):
        raise VoteProblem("a task must be a JSON object")
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    external_id = next((data[k] for k in ("external_id", "id") if not _blank(data.get(k))), None)
    annotations = task.get("annotations", task.get("completions")) or []
    if not isinstance(annotations, list):
        raise VoteProblem("annotations must be a list")
    if annotations and external_id is None:
        raise VoteProblem("the task has no data.external_id or data.id: the item it is about "
                          "is unknown")
    for number, annotation in enumerate(annotations, start=1):
        where = f"annotations[{number}]"
        if not isinstance(annotation, dict):
            raise VoteProblem(f"{where} is not an object")
        if annotation.get("was_cancelled"):
            yield where, None
            continue
        values: dict[str, Any] = {"item_id": external_id, "annotator": _ls_annotator(annotation),
                                  "submitted_at": annotation.get("created_at")}
        results = annotation.get("result") or []
        if not isinstance(results, list):
            raise VoteProblem(f"{where}.result is not a list")
        for result in results:
            if not isinstance(result, dict):
                raise VoteProblem(f"{where}.result holds something that is not an object")
            name = _LS_FIELD.get(str(result.get("from_name", "")).strip().lower())
            raw = result.get("value")
            if name is None and not (isinstance(raw, dict) and ("choices" in raw or "selected" in raw)):
                continue        # a control of another labeling setup: not an answer here
            try:
                key, value = _ls_value(result)
            except VoteProblem as exc:
                raise VoteProblem(f"{where}: {exc}") from None
            if key == "selected" and kind == "compare":   # Label Studio's Pairwise tag
                name, value = "overall", {"left": "a", "right": "b"}.get(str(value), value)
            if key == "text" and isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            if key == "choices" and isinstance(value, list) and name != "categories":
                value = [v for v in value if v is not None]
                if name is None and kind == "label" and len(value) == 1 and \
                        str(value[0]).lower() in ("safe", "unsafe"):
                    name = "is_safe"
                if len(value) > 1:
                    raise VoteProblem(f"{where}: {result.get('from_name')!r} has several "
                                      "choices where one is expected")
                value = value[0] if value else None
            if name is None:
                continue        # a control of another labeling setup: not an answer here
            values[name] = value
        yield where, values


# -- annotator names to accounts ------------------------------------------------------------

def username_for(name: str) -> str:
    """The username an unknown annotator's name becomes: ASCII letters, digits, '.', '_', '-'
    (core.accounts.username_problem's rule), at most 32 characters. A name with too few such
    characters becomes "annotator-" and a hash of it, so different names stay apart."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_.-]+", "-", folded.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-_.")[:32].rstrip("-_.")
    if len(slug) < 2:
        slug = "annotator-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return slug


def username_with_suffix(base: str, name: str, attempt: int) -> str:
    """A free variant of `base` for `name` when `base` belongs to someone else: a short hash
    of the name (stable across re-imports), then a counter."""
    suffix = "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
    if attempt:
        suffix += f"-{attempt}"
    return base[:32 - len(suffix)].rstrip("-_.") + suffix

