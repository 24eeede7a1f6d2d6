"""How much the work pages act on an item's severity hint, and the words they show for it.

A learnt hint comes with a confidence (store/hint_models.py): the page blurs or hides the
text only when the model is sure enough (the project's `hint_confidence`, default 0.7), and
says how sure it is ("likely high (model, 87%)") instead of a bare number, so people can
judge the hint rather than learn to ignore it. Keyword and imported hints have no
confidence: they act as before, and the keyword hint still says it is "estimated from
keywords".
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Per-project settings (projects.settings JSON) and their defaults.
DEFAULT_MIN_ITEMS = 200            # items with a severity before the first model is trained
DEFAULT_CONFIDENCE = 0.7           # a model hint blurs or hides only at this confidence
DEFAULT_CHOICE = "auto"            # "auto": the better of model and keywords; "keywords"
CHOICES = ("auto", "keywords")
SETTING_RULES = {
    "hint_model_min_items": "items with a severity before a hint model is trained (20 to 100000)",
    "hint_confidence": "confidence a model hint needs to blur or hide text, 0.5 to 0.99",
    "hint_choice": "auto (the better of the model and the keyword hint) or keywords",
}


@dataclass(frozen=True)
class TrustedHint:
    acted_on: int | None     # the severity the page blurs/hides by; None = not confident enough
    words: str | None        # the hint as shown in the page's heads-up; None = say nothing


def trusted_hint(severity: int | None, source: str | None, confidence: float | None,
                 threshold: float | None, severity_label: Callable[[int], str]) -> TrustedHint:
    """The severity to act on and its words. `severity_label(level)` names a level (the
    project's taxonomy, already made safe for Markdown by the caller if needed)."""
    threshold = DEFAULT_CONFIDENCE if threshold is None else threshold
    if severity is None:
        return TrustedHint(None, None)
    # A hint of 0 says nothing worth a warning (a banner on every item teaches people to
    # ignore banners).
    if source == "model" and confidence is not None:
        percent = f"{confidence:.0%}"
        if not severity:
            return TrustedHint(severity, None)
        if confidence >= threshold:
            return TrustedHint(severity,
                               f"hint: likely {severity_label(severity)} (model, {percent})")
        return TrustedHint(None, f"hint: possibly {severity_label(severity)} (model, only {percent} "
                                 "sure: the text is not hidden or blurred for it)")
    if not severity:
        return TrustedHint(severity, None)
    where = "estimated from keywords" if source == "scorer" else "from the imported file"
    return TrustedHint(severity, f"severity hint ({where}) {severity_label(severity)}")


# -- settings --------------------------------------------------------------------------------

def hint_settings(settings: dict[str, Any]) -> tuple[int, float, str]:
    """(min items, confidence threshold, choice) from a project's settings, with defaults."""
    return (int(settings.get("hint_model_min_items", DEFAULT_MIN_ITEMS)),
            float(settings.get("hint_confidence", DEFAULT_CONFIDENCE)),
            str(settings.get("hint_choice", DEFAULT_CHOICE)))


def hint_setting_problems(settings: dict[str, Any]) -> list[str]:
    problems = []
    if "hint_model_min_items" in settings:
        value = settings["hint_model_min_items"]
        if not isinstance(value, int) or isinstance(value, bool) or not 20 <= value <= 100_000:
            problems.append("hint_model_min_items must be a whole number from 20 to 100000")
    if "hint_confidence" in settings:
        value = settings["hint_confidence"]
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not 0.5 <= value <= 0.99):
            problems.append("hint_confidence must be a number from 0.5 to 0.99")
    if "hint_choice" in settings and settings["hint_choice"] not in CHOICES:
        problems.append("hint_choice must be 'auto' or 'keywords'")
    return problems
