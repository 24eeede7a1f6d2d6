"""The Compare kind of the work component: a preference answer from the browser, in what the
person saw (the left response is "A"), turned into the canonical judgment the store keeps
(core.preference), checked by the rules the classic page uses, and those rules as data.

    {"id": "<client answer id>", "kind": "submit", "item_id": 12,
     "harmlessness": -2, "helpfulness": 1,          # on screen: negative = A (left) better
     "overall": "left" | "right" | "tie", "rationale": "...",
     "safety": {"left": {"is_safe": false, "categories": ["S1"]}, "right": {...}},
     "shown_ms": ..., "active_ms": ..., "age_ms": ...}

Which stored response was on the left is the server's (core.preference.left_response), never
the browser's word.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import keys
from core.label_kind import AnswerError
from core.limits import MAX_RATIONALE_CHARS, MAX_REASON_CHARS, judgment_problem
from core.preference import (SCALE, SCREEN_LABELS, Judgment, judgment_problems, left_response,
                             overall_from_screen, to_canonical)
from core.taxonomy import Taxonomy

OVERALL = (("left", "A is better", "A"), ("right", "B is better", "B"), ("tie", "Tie", "T"))
SAFETY_KEYS = {"left": ("Q", "W"), "right": ("O", "P")}      # (safe, unsafe)
RATIONALE_NEEDED = {"always": "required", "never": "", "strong": "required for a strong preference, ±3",
                    "conflict": "required when the two axes disagree"}


def _score(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise AnswerError(f"{what} must be a point of the scale")
    return value


def judgment_from_answer(answer: dict[str, Any], left: str) -> Judgment:
    """The canonical judgment of a browser answer; AnswerError when it is malformed (rule
    problems are `compare_answer_problems`' business)."""
    overall = answer.get("overall")
    if overall is not None and overall not in ("left", "right", "tie"):
        raise AnswerError("overall must be left, right or tie")
    rationale = answer.get("rationale") or ""
    if not isinstance(rationale, str):
        raise AnswerError("the rationale must be text")
    safety: dict[str, Any] = {}
    given = answer.get("safety") or {}
    if not isinstance(given, dict):
        raise AnswerError("safety must be an object")
    for side in ("left", "right"):
        verdict = given.get(side)
        if not verdict:
            continue
        is_safe, categories = verdict.get("is_safe"), verdict.get("categories") or []
        if not isinstance(is_safe, bool) or not isinstance(categories, list) \
                or not all(isinstance(c, str) for c in categories):
            raise AnswerError("a response's safety is safe or unsafe with categories")
        stored = left if side == "left" else ("b" if left == "a" else "a")
        safety[stored] = {"is_safe": is_safe, "categories": [] if is_safe else list(dict.fromkeys(categories))}

    def canonical(name: str) -> int | None:
        value = _score(answer.get(name), name)
        return None if value is None else to_canonical(value, left)

    return Judgment(left=left, harmlessness=canonical("harmlessness"),
                    helpfulness=canonical("helpfulness"),
                    overall=None if overall is None else overall_from_screen(overall, left),
                    rationale=rationale.strip(), safety=safety)


def compare_answer_problems(judgment: Judgment, taxonomy: Taxonomy, rationale_rule: str,
                            ask_safety: bool) -> list[str]:
    """Every rule the judgment breaks, as the classic page words them."""
    problems = judgment_problems(judgment, rationale_rule, ask_safety)
    codes = set(taxonomy.category_codes())
    for verdict in judgment.safety.values():
        unknown = [c for c in verdict.get("categories", []) if c not in codes]
        if unknown:
            problems.append(f"unknown categories: {', '.join(unknown)}")
    problem = judgment_problem(judgment.to_dict())
    if problem:
        problems.append(problem)
    return problems


def compare_rules(taxonomy: Taxonomy, rationale_rule: str, ask_safety: bool) -> dict[str, Any]:
    """The rules and keys as data for the browser (which checks first; the server again)."""
    return {
        "scale": [{"score": s, "label": SCREEN_LABELS[s], "harm_key": str(n),
                   "help_key": f"Shift+{n}"} for n, s in enumerate(SCALE, start=1)],
        "overall": [{"value": v, "label": label, "key": key} for v, label, key in OVERALL],
        "ask_safety": ask_safety,
        "safety_keys": SAFETY_KEYS,
        "categories": [{"code": c.code, "name": c.name, "description": c.description}
                       for c in taxonomy.categories],
        "rationale_rule": rationale_rule,
        "rationale_needed": RATIONALE_NEEDED.get(
            rationale_rule, "required for a strong preference or when the axes disagree"),
        "max_rationale_chars": MAX_RATIONALE_CHARS,
        "max_reason_chars": MAX_REASON_CHARS,
        "messages": {
            "no_harm": "rate harmlessness (keys 1-7)",
            "no_help": "rate helpfulness (Shift+1 … Shift+7)",
            "no_overall": "choose the better response overall: A, B or T for a tie",
            "rationale": {"always": "this project asks for a rationale with every judgment",
                          "strong": "a strong preference (±3) needs a rationale",
                          "conflict": "when harmlessness and helpfulness point different ways, say why",
                          }.get(rationale_rule, "a strong preference (±3), or axes that point "
                                                "different ways, needs a rationale"),
            "no_safety": "mark response {side} safe or unsafe",
            "unsafe_no_category": "response {side} is unsafe: pick at least one hazard category",
            "flag_reason": "say briefly why you flag this item: type it in the reason box first",
        },
    }


@dataclass(frozen=True)
class CompareKind:
    """How the work component's outbox builds and checks a Compare answer for this person
    (who sees which response on the left is theirs: core.preference.left_response)."""
    taxonomy: Taxonomy
    rationale_rule: str
    ask_safety: bool
    user_id: int
    name: str = "compare"

    def submit_fields(self, answer: dict[str, Any], item: Any) -> tuple[dict[str, Any], list[str]]:
        """The keyword arguments for WorkQueue.submit ({"judgment": ...}) and the problems."""
        judgment = judgment_from_answer(answer, left_response(self.user_id, item.id))
        return ({"judgment": judgment.to_dict()},
                compare_answer_problems(judgment, self.taxonomy, self.rationale_rule,
                                        self.ask_safety))


# Work keys of the Compare kind; N jumps into the rationale, X into the reason.
COMPARE_KEYS: dict[str, str] = {
    "submit": keys.SUBMIT, "submit_from_text": keys.SUBMIT_FROM_TEXT, "skip": keys.SKIP,
    "flag": keys.FLAG, "reveal": keys.REVEAL, "undo": keys.UNDO, "note": "N", "reason": "X",
    "leave_field": "Esc",
}
