"""How a project's queue serves items: the order, the gold rate and the qualification gate.

Project settings (JSON on the project) hold these; this module reads and checks them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

# depth_first: items other people have started (fewest open slots left) before new ones,
# so overlapped items are complete early; breadth_first: the first open item found.
SERVE_ORDERS = ("depth_first", "breadth_first")
DEFAULT_SERVE_ORDER = "depth_first"
DEFAULT_GOLD_RATE = 0.05            # 1 in 20
DEFAULT_QUALIFICATION_THRESHOLD = 0.8
# How many items the work pages hold claimed for a person: the one shown and the next one.
DEFAULT_PREFETCH = 2
# The work component (components/work_surface.py) holds one more: the browser shows the next
# item at once and sends answers in the background, so it can be up to two answers ahead of
# the server's acknowledgements before it runs out (bench/spike_work_component: with 2, 7 of
# 20 fast submits found nothing to show).
WORK_SURFACE_PREFETCH = 3
# A person's last submit or skip can be undone for this long (a submit undone reopens the
# item for correction; a skip undone gives the item back if nobody else took it).
UNDO_WINDOW_SECONDS = 120


@dataclass(frozen=True)
class QueueRules:
    serve_order: str = DEFAULT_SERVE_ORDER
    gold_rate: float = DEFAULT_GOLD_RATE
    qualification_required: bool = False
    qualification_threshold: float = DEFAULT_QUALIFICATION_THRESHOLD

    @property
    def gold_every(self) -> int | None:
        """One gold item in each block of this many items (None: never)."""
        return gold_every(self.gold_rate)


def gold_every(rate: float) -> int | None:
    if rate <= 0:
        return None
    return max(1, round(1 / rate))


def gold_due(actions: int, rate: float, user_id: int, project_id: int) -> bool:
    """Whether this person's next item is a gold item. Their items come in blocks of
    n = round(1 / rate); each block holds exactly one gold item, at a position drawn per
    person, project and block (a hash: stable across reloads and servers, so tests can count
    it, and not guessable from the position, so a gold item cannot be told from the others).
    `actions` is how many items the person has finished in the project (answered, skipped or
    flagged): a skipped gold item moves the count on, so the next item is an ordinary one."""
    every = gold_every(rate)
    if every is None:
        return False
    block, position = divmod(actions, every)
    digest = hashlib.sha256(f"gold:{user_id}:{project_id}:{block}".encode()).digest()
    return position == int.from_bytes(digest[:4], "big") % every


def rules_from_settings(settings: dict[str, Any]) -> QueueRules:
    return QueueRules(
        serve_order=settings.get("serve_order", DEFAULT_SERVE_ORDER),
        gold_rate=float(settings.get("gold_rate", DEFAULT_GOLD_RATE)),
        qualification_required=bool(settings.get("qualification_required", False)),
        qualification_threshold=float(settings.get("qualification_threshold",
                                                   DEFAULT_QUALIFICATION_THRESHOLD)))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def queue_setting_problems(settings: dict[str, Any]) -> list[str]:
    """Every problem with the queue settings among `settings`, as sentences."""
    problems = []
    if "serve_order" in settings and settings["serve_order"] not in SERVE_ORDERS:
        problems.append("serve_order must be depth_first or breadth_first")
    rate = settings.get("gold_rate", DEFAULT_GOLD_RATE)
    if not _is_number(rate) or not 0 <= rate <= 1:
        problems.append("gold_rate must be a number from 0 (no gold items) to 1")
    if not isinstance(settings.get("qualification_required", False), bool):
        problems.append("qualification_required must be true or false")
    threshold = settings.get("qualification_threshold", DEFAULT_QUALIFICATION_THRESHOLD)
    if not _is_number(threshold) or not 0 <= threshold <= 1:
        problems.append("qualification_threshold must be a number from 0 to 1")
    return problems
