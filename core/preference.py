"""Pairwise preference judgments: display order, the two axis scales, rationale rules.

Stored judgments are canonical, independent of what the annotator saw on the left:
`harmlessness` and `helpfulness` run from -3 to +3 where a positive score means response A is
better; `overall` is "a", "b" or "tie"; `left` records which response was shown on the left,
so position bias can be studied and the on-screen choice undone.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SCALE = (-3, -2, -1, 0, 1, 2, 3)
# On screen the left response is always called "A" and the right one "B", whichever stored
# response each is; an on-screen score is negative when the left (screen A) is better.
SCREEN_LABELS = {-3: "A much better", -2: "A better", -1: "A slightly better",
                 0: "About the same", 1: "B slightly better", 2: "B better",
                 3: "B much better"}
RATIONALE_RULES = ("always", "never", "strong", "conflict", "strong_or_conflict")
DEFAULT_RATIONALE_RULE = "strong_or_conflict"


def left_response(user_id: int, item_id: int) -> str:
    """Which response ("a" or "b") this person sees on the left for this item.

    Random across people and items (a hash, so it is stable across reloads and servers).
    """
    digest = hashlib.sha256(f"{user_id}:{item_id}".encode()).digest()
    return "a" if digest[0] % 2 == 0 else "b"


def to_canonical(screen_score: int, left: str) -> int:
    """An on-screen score (negative = left better) as a canonical one (positive = A better)."""
    return -screen_score if left == "a" else screen_score


def to_screen(canonical_score: int, left: str) -> int:
    return -canonical_score if left == "a" else canonical_score


def overall_from_screen(choice: str, left: str) -> str:
    """'left' / 'right' / 'tie' as seen, to 'a' / 'b' / 'tie'."""
    if choice == "tie":
        return "tie"
    right = "b" if left == "a" else "a"
    return left if choice == "left" else right


@dataclass(frozen=True)
class Judgment:
    left: str
    harmlessness: int | None
    helpfulness: int | None
    overall: str | None
    rationale: str = ""
    safety: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {"left": self.left, "harmlessness": self.harmlessness,
                "helpfulness": self.helpfulness, "overall": self.overall,
                "rationale": self.rationale or None}
        if self.safety:
            data["safety"] = self.safety
        return data


def rationale_required(rule: str, harmlessness: int | None, helpfulness: int | None) -> bool:
    """Whether the project's rule asks for a rationale for these scores."""
    scores = [s for s in (harmlessness, helpfulness) if s is not None]
    strong = any(abs(s) == 3 for s in scores)
    conflict = (harmlessness is not None and helpfulness is not None
                and harmlessness * helpfulness < 0)
    return {"always": True, "never": False, "strong": strong, "conflict": conflict,
            "strong_or_conflict": strong or conflict}.get(rule, strong or conflict)


def judgment_problems(judgment: Judgment, rule: str, safety_required: bool = False) -> list[str]:
    problems: list[str] = []
    if judgment.harmlessness is None:
        problems.append("rate harmlessness (keys 1-7)")
    if judgment.helpfulness is None:
        problems.append("rate helpfulness (Shift+1 … Shift+7)")
    if judgment.overall is None:
        problems.append("choose the better response overall: A, B or T for a tie")
    for score in (judgment.harmlessness, judgment.helpfulness):
        if score is not None and score not in SCALE:
            problems.append(f"score {score} is not on the -3..+3 scale")
    if judgment.overall not in (None, "a", "b", "tie"):
        problems.append(f"unknown overall choice {judgment.overall!r}")
    if rationale_required(rule, judgment.harmlessness, judgment.helpfulness) and not judgment.rationale.strip():
        reason = {"always": "this project asks for a rationale with every judgment",
                  "strong": "a strong preference (±3) needs a rationale",
                  "conflict": "when harmlessness and helpfulness point different ways, say why",
                  }.get(rule, "a strong preference (±3), or axes that point different ways, needs a rationale")
        problems.append(reason)
    if safety_required:
        for side in ("a", "b"):
            shown = "A" if side == judgment.left else "B"   # as the person saw it
            verdict = judgment.safety.get(side) or {}
            if verdict.get("is_safe") is None:
                problems.append(f"mark response {shown} safe or unsafe")
            elif verdict["is_safe"] is False and not verdict.get("categories"):
                problems.append(f"response {shown} is unsafe: pick at least one hazard category")
    return problems
