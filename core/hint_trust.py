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

DEFAULT_CONFIDENCE = 0.7    # the same default as core.hint_model.DEFAULT_CONFIDENCE


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
