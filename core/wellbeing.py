"""Wellbeing policy: exposure accounting, breaks, daily caps, check-in timing, group floors.

Plain rules over plain records, so they are tested without a database or a browser. The
store feeds them one person's exposures of the day (across every project) and break events;
the work queue asks `severity_ceiling` / `wants_benign_item` before claiming, the work pages
ask `break_due` / `checkin_due`.

Evidence and defaults: PRODUCT.md, "Wellbeing". A day is a UTC calendar day.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

# Leads never see team figures (mood, wellbeing) over fewer people than this (store/dashboard.py).
# The default of the installation setting store.settings.min_group_size; it may never go below
# MIN_GROUP_FLOOR (a "group" of one is one person's figures).
MIN_GROUP_SIZE = 3
MIN_GROUP_FLOOR = 2
# The weekly exposure budgets look back this far from now (rolling, not calendar weeks).
WEEK = timedelta(days=7)
MOOD_SCALE = range(1, 10)   # 9-point valence and arousal (self-assessment manikin style)
CHECKIN_MOMENTS = ("start", "end", "hourly", "sidebar")


@dataclass(frozen=True)
class WellbeingPolicy:
    """Per-project settings (PRODUCT.md defaults). Minutes are active minutes."""
    harmful_severity: int = 2        # exposure at or above this counts toward a break
    break_after_minutes: int = 50
    break_minutes: int = 10          # the break timer (5-10 minutes)
    postpone_minutes: int = 10       # "later" hides the prompt this long (wall clock)
    run_severity: int = 3            # consecutive items at or above this ...
    run_length: int = 8              # ... this many in a row: suggest a break, serve benign
    cap_severity_4_minutes: int = 90     # daily cap on severity 4
    cap_severity_3_minutes: int = 180    # daily cap on severity >= 3
    # Rolling 7-day budgets: harm adds up over weeks, not only within a day. The defaults are
    # four days at the daily caps, so someone at the cap every day gets three lighter days.
    week_severity_4_minutes: int = 360
    week_severity_3_minutes: int = 720
    checkin_every_minutes: int = 60
    dim_at_severity: int = 2         # text blurred until revealed at this hint or label

    def caps(self) -> tuple[tuple[int, int], ...]:
        """(lowest severity counted, minutes) for each daily cap, strictest first."""
        return ((4, self.cap_severity_4_minutes), (3, self.cap_severity_3_minutes))

    def week_budgets(self) -> tuple[tuple[int, int], ...]:
        """(lowest severity counted, minutes) for each rolling 7-day budget, strictest first."""
        return ((4, self.week_severity_4_minutes), (3, self.week_severity_3_minutes))


DEFAULT_POLICY = WellbeingPolicy()

# Allowed range of each setting: what a lead may type on the Projects page.
POLICY_RANGES: dict[str, tuple[int, int]] = {
    "harmful_severity": (0, 9), "break_after_minutes": (5, 600), "break_minutes": (5, 10),
    "postpone_minutes": (1, 60), "run_severity": (0, 9), "run_length": (2, 100),
    "cap_severity_4_minutes": (1, 1440), "cap_severity_3_minutes": (1, 1440),
    "checkin_every_minutes": (10, 600), "dim_at_severity": (0, 9),
    "week_severity_4_minutes": (1, 10080), "week_severity_3_minutes": (1, 10080),
}


POLICY_LABELS: dict[str, str] = {
    "harmful_severity": "Harmful from severity", "break_after_minutes": "Break after (min)",
    "break_minutes": "Break length (min)", "postpone_minutes": "Postpone by (min)",
    "run_severity": "Run counts severity from", "run_length": "Run length (items)",
    "cap_severity_4_minutes": "Daily cap, severity 4 (min)",
    "cap_severity_3_minutes": "Daily cap, severity 3+ (min)",
    "checkin_every_minutes": "Check-in every (min)", "dim_at_severity": "Blur text from severity",
    "week_severity_4_minutes": "Weekly budget, severity 4 (min, 7 days)",
    "week_severity_3_minutes": "Weekly budget, severity 3+ (min, 7 days)",
}


def policy_problems(values: Mapping[str, Any]) -> list[str]:
    """Why these wellbeing settings are not acceptable (empty when they are)."""
    problems = []
    for name, value in values.items():
        if name not in POLICY_RANGES:
            problems.append(f"unknown wellbeing setting {name!r}")
            continue
        low, high = POLICY_RANGES[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(f"{name.replace('_', ' ')} must be a whole number from {low} to {high}")
    return problems


def policy_from_settings(settings: Mapping[str, Any] | None) -> WellbeingPolicy:
    """The project's policy: its `wellbeing` settings over the defaults."""
    chosen = dict((settings or {}).get("wellbeing") or {})
    known = {f.name for f in fields(WellbeingPolicy)}
    return WellbeingPolicy(**{k: v for k, v in chosen.items() if k in known})


@dataclass(frozen=True)
class Exposure:
    """Time one person spent with one item (submitted, skipped or flagged)."""
    severity: int | None      # the label's severity, else the item's hint; None = unknown
    active_ms: int
    started_at: datetime
    ended_at: datetime
    project_id: int | None = None


def effective_severity(label_severity: int | None, hint_severity: int | None) -> int | None:
    """The severity an exposure counts at: the label given, else the item's hint."""
    return label_severity if label_severity is not None else hint_severity


def day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def minutes_by_severity(exposures: Iterable[Exposure]) -> dict[int | None, float]:
    """Active minutes per severity (None = unknown severity)."""
    totals: dict[int | None, float] = {}
    for e in exposures:
        totals[e.severity] = totals.get(e.severity, 0.0) + e.active_ms / 60_000
    return totals


def minutes_at_or_above(exposures: Iterable[Exposure], severity: int) -> float:
    return sum(e.active_ms for e in exposures
               if e.severity is not None and e.severity >= severity) / 60_000


def caps_reached(exposures_today: Sequence[Exposure], policy: WellbeingPolicy) -> list[int]:
    """The lowest severity of each daily cap this person has reached today."""
    return [severity for severity, minutes in policy.caps()
            if minutes_at_or_above(exposures_today, severity) >= minutes]


def week_budgets_reached(week_minutes: Mapping[int | None, float],
                         policy: WellbeingPolicy) -> list[int]:
    """The lowest severity of each rolling 7-day budget this person has used up, from their
    active minutes per severity over the last 7 days."""
    def at_or_above(severity: int) -> float:
        return sum(m for s, m in week_minutes.items() if s is not None and s >= severity)
    return [severity for severity, minutes in policy.week_budgets()
            if at_or_above(severity) >= minutes]


def severity_ceiling(exposures_today: Sequence[Exposure], policy: WellbeingPolicy) -> int | None:
    """The highest item severity that may still be served today (None: no limit)."""
    reached = caps_reached(exposures_today, policy)
    return min(reached) - 1 if reached else None


def natural_breaks(exposures: Sequence[Exposure], policy: WellbeingPolicy) -> list[datetime]:
    """Time away counts as a break: when a gap of at least the break length separates two
    items, the break is over when the next item was shown."""
    ordered = sorted(exposures, key=lambda e: e.ended_at)
    gap = timedelta(minutes=policy.break_minutes)
    return [later.started_at for earlier, later in zip(ordered, ordered[1:])
            if later.started_at - earlier.ended_at >= gap]


def last_break(exposures: Sequence[Exposure], breaks_at: Iterable[datetime],
               policy: WellbeingPolicy) -> datetime | None:
    """The latest break: one taken through the prompt (`breaks_at`) or time away."""
    return max([*breaks_at, *natural_breaks(exposures, policy)], default=None)


def since_last_break(exposures: Sequence[Exposure], breaks_at: Iterable[datetime],
                     policy: WellbeingPolicy) -> list[Exposure]:
    """The exposures after the person's last break, oldest first."""
    latest = last_break(exposures, list(breaks_at), policy)
    ordered = sorted(exposures, key=lambda e: e.ended_at)
    return [e for e in ordered if latest is None or e.ended_at > latest]


# A break ended sooner than this is not a rest: it counts as putting the break off.
MIN_BREAK_MINUTES = 5
# Breaks and runs look back this far (across midnight); caps count the UTC day only.
LOOKBACK = timedelta(hours=12)


def rested_breaks(taken: Sequence[datetime], ended: Sequence[datetime]
                  ) -> tuple[list[datetime], list[datetime]]:
    """(start of every break that counts, end of every break cut short). A break counts when
    it lasted MIN_BREAK_MINUTES or more, or has not been ended (running, or the person simply
    stayed away)."""
    rested, cut_short = [], []
    starts = sorted(taken)
    for n, start in enumerate(starts):
        following = starts[n + 1] if n + 1 < len(starts) else None
        end = min((e for e in ended if e >= start and (following is None or e < following)),
                  default=None)
        if end is not None and end - start < timedelta(minutes=MIN_BREAK_MINUTES):
            cut_short.append(end)
        else:
            rested.append(start)
    return rested, cut_short


def trailing_run(severities: Sequence[int | None], min_severity: int) -> int:
    """How many of the most recent items in a row are at or above `min_severity`."""
    run = 0
    for severity in reversed(severities):
        if severity is None or severity < min_severity:
            break
        run += 1
    return run


def longest_run(severities: Sequence[int | None], min_severity: int) -> int:
    best = run = 0
    for severity in severities:
        run = run + 1 if severity is not None and severity >= min_severity else 0
        best = max(best, run)
    return best


def wants_benign_item(recent: Sequence[Exposure], policy: WellbeingPolicy) -> bool:
    """After `run_length` items in a row at `run_severity` or more, serve a low-severity
    item next (when the project has one)."""
    return trailing_run([e.severity for e in recent], policy.run_severity) >= policy.run_length


def break_due(recent: Sequence[Exposure], policy: WellbeingPolicy, now: datetime,
              postponed_at: datetime | None = None) -> str | None:
    """Why a break is due now ('exposure' or 'run'), or None. `recent` are the exposures
    since the last break; a postponement hides the prompt for `postpone_minutes`."""
    if postponed_at is not None and now - postponed_at < timedelta(minutes=policy.postpone_minutes):
        return None
    if minutes_at_or_above(recent, policy.harmful_severity) >= policy.break_after_minutes:
        return "exposure"
    if wants_benign_item(recent, policy):
        return "run"
    return None


def minutes_until_break(recent: Sequence[Exposure], policy: WellbeingPolicy) -> float:
    """Harmful-exposure minutes left before the next break prompt."""
    return max(0.0, policy.break_after_minutes - minutes_at_or_above(recent, policy.harmful_severity))


def checkin_due(last_checkin_at: datetime | None, now: datetime, policy: WellbeingPolicy) -> bool:
    """A check-in is offered when there has been none for `checkin_every_minutes`."""
    return (last_checkin_at is None
            or now - last_checkin_at >= timedelta(minutes=policy.checkin_every_minutes))


def mood_problems(valence: Any, arousal: Any) -> list[str]:
    problems = []
    for name, value in (("valence", valence), ("arousal", arousal)):
        if not isinstance(value, int) or isinstance(value, bool) or value not in MOOD_SCALE:
            problems.append(f"{name} must be a whole number from 1 to 9")
    return problems
