"""An item as the work component draws it: plain data, never markup.

Every text block is a list of segments, `{"t": text}` or `{"m": marker}` (a hidden
character shown as a visible marker, core.hidden_text): the browser puts each into the page
with textContent, so item text can never become an element. Masked words are masked here
(core.masking); the unmasked blocks are sent too only when there are masked words, for the
reveal key (each reveal is recorded as an event when the person uses it).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.hidden_text import CLOSE, OPEN, mark_hidden
from core.hidden_text import hidden_notice as describe_hidden
from core.masking import count_masked, mask_text
from core.hint_trust import TrustedHint, trusted_hint
from core.taxonomy import Taxonomy
from core.wellness import hint_category_parts

# A marker inserted by core.hidden_text (⟦ZWSP⟧, ⟦U+0007⟧, ⟦TAG:…⟧, ⟦MIXED Latin+Cyrillic⟧).
_MARKER = re.compile(f"{OPEN}[^{OPEN}{CLOSE}\n]{{1,200}}{CLOSE}")
def segments(text: str, as_rendered: bool = False) -> list[dict[str, str]]:
    """The text as segments: markers apart from text, so the browser can style them. With
    `as_rendered` (the person's choice) the text is one segment, hidden characters kept."""
    if as_rendered:
        return [{"t": text}] if text else []
    shown = mark_hidden(text)
    out, at = [], 0
    if OPEN in shown:
        for match in _MARKER.finditer(shown):
            if match.start() > at:
                out.append({"t": shown[at:match.start()]})
            out.append({"m": match.group()})
            at = match.end()
    if at < len(shown):
        out.append({"t": shown[at:]})
    return out


def item_blocks(item: Any) -> list[dict[str, Any]]:
    """The item's texts in reading order as turns: role, turn number (transcripts), and
    whether the block is the reply under review (the last one, marked on the page)."""
    blocks: list[dict[str, Any]] = []
    if item.messages:
        turns = item.messages
        # The final assistant turn is the response under review: shown last, apart.
        if turns and turns[-1].get("role") == "assistant" and item.response == turns[-1].get("content"):
            turns = turns[:-1]
        for n, turn in enumerate(turns, 1):
            blocks.append({"role": str(turn.get("role", "")).upper(), "turn": n,
                           "text": turn.get("content") or ""})
    if item.prompt:
        blocks.append({"role": "PROMPT", "text": item.prompt})
    if item.response is not None:
        blocks.append({"role": "RESPONSE", "text": item.response, "reply": True})
    return blocks


def hidden_notice(texts: list[tuple[str, str]], as_rendered: bool) -> str:
    """The notice naming what the blocks hide (core/hidden_text words), or ""."""
    return describe_hidden(texts, as_rendered)[1]


def trusted(item: Any, taxonomy: Taxonomy, threshold: float | None,
            literal: Callable[[str], str] = str) -> TrustedHint:
    """The item's severity hint as the page may act on it (core/hint_trust.py: a model hint
    hides or blurs only when sure enough) and its words; `literal` makes the taxonomy's
    names safe for where they are shown (Markdown on the classic page)."""
    return trusted_hint(item.hint_severity, item.hint_source,
                        getattr(item, "hint_confidence", None), threshold,
                        lambda level: literal(taxonomy.severity_label(level)))


def hint_words(item: Any, taxonomy: Taxonomy, threshold: float | None = None,
               literal: Callable[[str], str] = str) -> str:
    """The hint line, "" when there is nothing worth saying: a hint of 0 gets no banner
    (a banner on every item teaches people to ignore banners); a keyword hint says it is a
    keyword estimate, a model hint how sure it is; every category the hint names. The
    category and severity names (the lead's or the file's text) pass through `literal`."""
    parts = []
    categories = hint_category_parts(item.hint_category)
    if categories:
        parts.append("category hint "
                     + literal(", ".join(taxonomy.category_label(c) for c in categories)))
    words = trusted(item, taxonomy, threshold, literal).words
    if words:
        parts.append(words)
    return " · ".join(parts)


def pair_sides(item: Any, left: str) -> list[dict[str, Any]]:
    """The two responses of a pair in the order this person sees them (`left`, "a" or "b",
    is shown as A on the left), each as its blocks: one per turn when the responses go on
    for more turns (`metadata.response_turns`)."""
    order = ("a", "b") if left == "a" else ("b", "a")
    sides = []
    for side, shown_as in zip(order, ("A", "B")):
        turns = ((item.metadata or {}).get("response_turns") or {}).get(side)
        if not turns:
            turns = [{"content": item.response_a if side == "a" else item.response_b}]
        blocks = []
        for k, turn in enumerate(turns, 1):
            role = f"RESPONSE {shown_as}"
            if len(turns) > 1:
                role += f" \u00b7 {str(turn.get('role', '')).upper()}"
            blocks.append({"role": role, "text": turn.get("content") or "", "side": shown_as})
        sides.append({"name": shown_as, "blocks": blocks})
    return sides


def item_data(item: Any, taxonomy: Taxonomy, pattern: re.Pattern[str] | None, *,
              gate_severity: int, dim_at_severity: int, as_rendered: bool,
              show_masked: bool, left: str | None = None,
              hint_threshold: float | None = None) -> dict[str, Any]:
    """One item for the component: id, blocks as segments (masked), the unmasked blocks
    when words are masked, hint words, and whether the text starts behind the warning
    (`gated`), blurred (`dimmed`) or masked. With `left` (a pair, the Compare kind) the
    responses come as two `sides`, the one shown on the left first."""
    blocks = item_blocks(item)
    sides = pair_sides(item, left) if left is not None else []
    every = blocks + [b for side in sides for b in side["blocks"]]
    masked_count = sum(count_masked(b["text"], pattern) for b in every)
    masked = masked_count > 0 and not show_masked

    def drawn(some: list[dict[str, Any]], unmasked: bool) -> list[dict[str, Any]]:
        out = []
        for block in some:
            text = block["text"]
            shown = text if unmasked or not masked else mask_text(text, pattern)[0]
            out.append({**{k: v for k, v in block.items() if k != "text"},
                        "segments": segments(shown, as_rendered), "empty": not text})
        return out

    texts = [(b["role"], mask_text(b["text"], pattern)[0] if masked else b["text"])
             for b in every]
    severity = trusted(item, taxonomy, hint_threshold).acted_on
    data = {
        "id": int(item.id),
        "external_id": str(item.external_id),
        "blocks": drawn(blocks, False),
        "full_blocks": drawn(blocks, True) if masked else [],
        "masked_terms": masked_count if masked else 0,
        "reveal_by_preference": masked_count if (masked_count and show_masked) else 0,
        "hint": hint_words(item, taxonomy, hint_threshold),
        "notice": hidden_notice(texts, as_rendered),
        "gated": severity is not None and severity >= gate_severity,
        "dimmed": severity is not None and severity >= dim_at_severity,
        "response": item.response,          # the rewrite editor's starting text
        "has_response": item.response is not None,
    }
    if left is not None:
        data["left"] = left
        data["sides"] = [{"name": side["name"], "blocks": drawn(side["blocks"], False),
                          "full_blocks": drawn(side["blocks"], True) if masked else []}
                         for side in sides]
    return data
