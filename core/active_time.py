"""Active time on an item: the time a person spent on it, without the time they were away.

The server sees a person's activity as the moments they act on the item (it is shown, a
choice is made, text is revealed, it is submitted). Active time is the sum of the gaps
between consecutive moments, each gap capped at IDLE_CAP: a gap longer than that means the
person stepped away, and only the first IDLE_CAP of it (reading time) counts.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

IDLE_CAP = timedelta(minutes=2)


def active_ms(moments: Iterable[datetime], idle_cap: timedelta = IDLE_CAP) -> int:
    """Milliseconds of active time across the given moments (any order, duplicates allowed)."""
    ordered = sorted(moments)
    total = timedelta(0)
    for earlier, later in zip(ordered, ordered[1:]):
        total += min(later - earlier, idle_cap)
    return int(total.total_seconds() * 1000)


def visible_active_ms(moments: Iterable[datetime], hidden_ms: int,
                      idle_cap: timedelta = IDLE_CAP) -> int:
    """Active time while the page was visible: the capped gaps between actions, but never
    more than the time from first to last moment minus the `hidden_ms` the page spent hidden
    in between (another tab, a minimised window)."""
    ordered = sorted(moments)
    if not ordered:
        return 0
    span_ms = int((ordered[-1] - ordered[0]).total_seconds() * 1000)
    return max(0, min(active_ms(ordered, idle_cap), span_ms - max(0, int(hidden_ms))))
