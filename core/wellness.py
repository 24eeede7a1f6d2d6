"""A person's wellness plan in a project: the categories they opted out of, and what the
informed-start screen tells them before their first item.

Plain rules, no database: the store keeps the choices (store/wellness.py) and the queue
applies them (store/work.py).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.wellbeing import WellbeingPolicy

# A few categories at most: an opt-out moves work to colleagues, and a project whose team has
# opted out of most of its content cannot be staffed. Leads see the counts per category.
MAX_OPT_OUTS = 3
# The project setting a lead writes for the informed-start screen ("what this project holds").
CONTENT_DESCRIPTION_SETTING = "content_description"
MAX_CONTENT_DESCRIPTION_CHARS = 4000


class Hinted(Protocol):
    """Anything with an item's category hint (store.work.Item)."""
    hint_category: str | None


# Between the categories of one hint: the model writes "S12,S4"; files (Llama Guard and
# others) write "S4,S12", "S4; S12" or "S4|S12".
HINT_CATEGORY_SEPARATORS = ",;|"
_SEPARATOR = re.compile("[" + re.escape(HINT_CATEGORY_SEPARATORS) + "]")


def normal_code(code: str | None) -> str:
    """A category code as hints and opt-outs are compared: trimmed, case-folded."""
    return (code or "").strip().casefold()


def hint_category_parts(hint: str | None) -> list[str]:
    """The categories one hint names, as written (trimmed, empty parts dropped)."""
    return [p.strip() for p in _SEPARATOR.split(hint or "") if p.strip()]


def _part_terms(part: str) -> tuple[str, str]:
    """(the part's first word, the whole part), case-folded: "S4: Child sexual
    exploitation" names S4 by its first word, "Child sexual exploitation" by its label."""
    folded = normal_code(part)
    return re.split(r"[\s:]+", folded, maxsplit=1)[0], folded


def hint_names_category(item: Hinted, term: str) -> bool:
    """True when the item's hint names this category, so an opt-out of it keeps the item
    from the person. `term` is a category code or label; a hint names it when one of its
    parts (hint_category_parts) starts with the code or is the label. Any category the hint
    names counts: the model writes every category it finds likely (store/hint_models.py),
    and erring towards keeping an item away costs a colleague one item. The rule lives here
    and in its SQL twin, store.wellness.hint_names_any_sql, nowhere else."""
    wanted = normal_code(term)
    return bool(wanted) and any(wanted in _part_terms(p)
                                for p in hint_category_parts(item.hint_category))


def hint_names_any(item: Hinted, terms: Iterable[str]) -> bool:
    return any(hint_names_category(item, term) for term in terms)


def opt_out_problems(codes: Sequence[str], taxonomy_codes: Sequence[str],
                     limit: int = MAX_OPT_OUTS) -> list[str]:
    """Why this opt-out choice is not acceptable (empty when it is)."""
    problems = []
    if not all(isinstance(c, str) for c in codes):
        return ["categories must be given by their codes"]
    unknown = [c for c in codes if c not in taxonomy_codes]
    if unknown:
        problems.append(f"not a category of this project: {', '.join(unknown)}")
    if len(set(codes)) != len(codes):
        problems.append("a category is listed twice")
    if len(set(codes)) > limit:
        problems.append(f"you may opt out of at most {limit} categories")
    return problems


def shown_count(people: int, min_group: int) -> int | None:
    """The number of people a lead may see for a group: None when it is above zero but under
    the minimum group size (a count of one or two points at someone)."""
    return people if people == 0 or people >= min_group else None


def protections_on(settings: dict, policy: WellbeingPolicy) -> list[str]:
    """The protections a project has on, in plain words, for the informed-start screen
    (`settings` are the project's settings, `policy` its wellbeing policy)."""
    hide_at = int(settings.get("hide_text_at_severity", 3))
    extra = len(settings.get("mask_terms", []) or [])
    return [
        f"Text is hidden until you choose to see it when its severity hint is {hide_at} or more, "
        f"and blurred until you unblur it from severity {policy.dim_at_severity}.",
        "Offensive words on the word list are masked until you reveal them"
        + (f" (plus {extra} words this project adds)." if extra else "."),
        f"A break is suggested after {policy.break_after_minutes} minutes with content of "
        f"severity {policy.harmful_severity} or more, and after {policy.run_length} items in a "
        f"row at severity {policy.run_severity}+ the next one is a lighter one.",
        f"Daily caps: {policy.cap_severity_4_minutes} minutes at severity 4 and "
        f"{policy.cap_severity_3_minutes} minutes at severity 3+; past a cap you get only "
        "lighter items that day.",
        f"Weekly budgets (the last 7 days): {policy.week_severity_4_minutes} minutes at severity "
        f"4 and {policy.week_severity_3_minutes} minutes at severity 3+.",
        f"You may opt out of up to {MAX_OPT_OUTS} categories; it is private (leads see only how "
        "many people opted out of each category) and changes nothing else.",
        "Skipping an item is always fine and is never counted against you.",
    ]
