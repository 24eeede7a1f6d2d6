"""The Label kind of the work component: what a label answer from the browser looks like,
how it becomes a `Label`, and the rules it must keep, the same the server enforces
(core.labels.label_problems, core.limits) and, as data, the rules the browser checks first.

An answer arrives as JSON from the browser (never trusted):

    {"id": "<client answer id>", "kind": "submit", "item_id": 12,
     "verdict": "safe" | "unsafe", "categories": ["S1"], "severity": 2,
     "note": "...", "rewrite": "..." | null,
     "shown_ms": 5300, "active_ms": 4100, "age_ms": 40}

`shown_ms` is how long the item was on screen before the answer, `age_ms` how long the
answer waited in the browser before this send (both from the browser's clock, as
differences, so a wrong clock does not matter): the server puts `shown_at` at
now - age_ms - shown_ms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import keys
from core.labels import Label, label_problems
from core.limits import MAX_NOTE_CHARS, MAX_REASON_CHARS, length_problem, rewrite_problem
from core.taxonomy import Taxonomy

VERDICTS = {"safe": True, "unsafe": False}
# A client answer id: the browser makes a UUID (or 32 hex digits without crypto.randomUUID).
MAX_CLIENT_ID_CHARS = 64


class AnswerError(ValueError):
    """The browser sent something that is not an answer at all (a bug or a forged request)."""


@dataclass(frozen=True)
class LabelAnswer:
    """A label answer, parsed: the label and the timing the browser measured."""
    client_id: str
    item_id: int
    label: Label
    shown_ms: int | None
    active_ms: int | None
    age_ms: int


def _int(value: Any, what: str, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise AnswerError(f"{what} must be a whole number")
    return int(value)


def client_id(answer: dict[str, Any]) -> str:
    """The answer's client id (the idempotency key), checked."""
    value = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value or len(value) > MAX_CLIENT_ID_CHARS:
        raise AnswerError("an answer needs an id")
    return value


def _duration(value: Any, what: str) -> int | None:
    ms = _int(value, what)
    return None if ms is None else max(0, ms)


def parse_label_answer(answer: dict[str, Any], original_response: str | None) -> LabelAnswer:
    """The label in a browser answer; AnswerError when it is not one. Rule problems (no
    verdict, unknown category...) are not errors here: `label_answer_problems` lists them."""
    cid = client_id(answer)
    verdict = answer.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise AnswerError("verdict must be safe or unsafe")
    categories = answer.get("categories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise AnswerError("categories must be a list of codes")
    note = answer.get("note") or ""
    rewrite = answer.get("rewrite")
    if not isinstance(note, str) or (rewrite is not None and not isinstance(rewrite, str)):
        raise AnswerError("note and rewrite must be text")
    # As the classic page: a rewrite equal to the original is no rewrite.
    edited = rewrite if rewrite is not None and rewrite != (original_response or "") else None
    label = Label(is_safe=VERDICTS.get(verdict) if verdict else None,
                  categories=tuple(dict.fromkeys(categories)),
                  severity=_int(answer.get("severity"), "severity"),
                  note=note.strip(), edited_response=edited)
    return LabelAnswer(cid, _int(answer.get("item_id"), "item_id", allow_none=False), label,
                       _duration(answer.get("shown_ms"), "shown_ms"),
                       _duration(answer.get("active_ms"), "active_ms"),
                       _duration(answer.get("age_ms"), "age_ms") or 0)


def label_answer_problems(label: Label, taxonomy: Taxonomy,
                          original_response: str | None) -> list[str]:
    """Every rule the label breaks (the page's words), length limits included."""
    problems = label_problems(label, taxonomy)
    for problem in (length_problem(label.note, MAX_NOTE_CHARS, "note"),
                    rewrite_problem(label.edited_response, original_response)):
        if problem:
            problems.append(problem)
    return problems


def label_rules(taxonomy: Taxonomy) -> dict[str, Any]:
    """The rules and keys as data for the browser, which checks an answer before it lets it
    go (the server checks again). Names and descriptions are the lead's text: the browser
    puts them in with textContent only."""
    levels = taxonomy.severity_levels()
    return {
        "categories": [{"code": c.code, "name": c.name, "description": c.description,
                        "key": keys.category_key(n)}
                       for n, c in enumerate(taxonomy.categories)],
        "severity": [{"level": s.level, "name": s.name, "description": s.description,
                      "key": keys.severity_key(s.level)} for s in taxonomy.severity],
        # The rules of core.labels.label_problems, as the browser checks them.
        "safe_severity": 0 if 0 in levels else None,
        "unsafe_needs_category": True,
        "unsafe_min_severity": 1,
        "max_note_chars": MAX_NOTE_CHARS,
        "max_reason_chars": MAX_REASON_CHARS,
        "messages": {
            "no_verdict": "choose safe or unsafe",
            "no_severity": "choose a severity",
            "unsafe_no_category": "an unsafe item needs at least one hazard category",
            "unsafe_zero": "severity 0 (none) goes only with safe: pick 1 or higher, or mark safe",
            "safe_with_category": "a safe item has no hazard categories: clear them or mark unsafe",
            "flag_reason": "say briefly why you flag this item: type it in the reason box first",
        },
    }


@dataclass(frozen=True)
class LabelKind:
    """How the work component's outbox builds and checks a Label answer."""
    taxonomy: Taxonomy
    name: str = "label"

    def submit_fields(self, answer: dict[str, Any], item: Any) -> tuple[dict[str, Any], list[str]]:
        """The keyword arguments for WorkQueue.submit ({"label": ...}) and the rule problems."""
        parsed = parse_label_answer(answer, item.response)
        return ({"label": parsed.label},
                label_answer_problems(parsed.label, self.taxonomy, item.response))


# Work keys of the Label kind (the component is their only handler on the page). Keys to
# jump into a text field: N note, D the rewrite editor ("draft"), X the reason; Esc leaves.
LABEL_KEYS: dict[str, str] = {
    "safe": keys.SAFE, "unsafe": keys.UNSAFE, "submit": keys.SUBMIT,
    "submit_from_text": keys.SUBMIT_FROM_TEXT, "skip": keys.SKIP, "flag": keys.FLAG,
    "reveal": keys.REVEAL, "undo": keys.UNDO, "note": "N", "rewrite": "D", "reason": "X",
    "leave_field": "Esc",
}
