"""How much free text a person may attach to their work: notes, rewrites, rationales, reasons.

Without limits one request could store 50 MB in a note, which every export, history view and
dashboard query then carries. The limits are generous for real use:

- a note or a rationale: 5,000 characters (about 800 words, a page and a half: more than a
  comment on one item needs);
- a message in a thread (a question to the leads, a reply, feedback): 5,000 characters, as a
  note;
- a skip or flag reason: 2,000 characters (it asks for a sentence; it is kept in every event
  row and flag);
- a rewrite of the response: the larger of 50,000 characters and twice the original's length,
  so a short answer can be rewritten at length and a long one edited and expanded, but never
  more than an imported text may be (core/formats.MAX_TEXT_BYTES, 5 MiB of UTF-8) - an item
  could not have been imported with it;
- a judgment's other fields (scores, choices, per-response safety) as JSON: 10,000 characters,
  which only a caller bypassing the page could reach.

Lengths are characters, as Streamlit's `max_chars` counts them, so the page shows the same
limit that the store enforces.
"""
from __future__ import annotations

import json
from typing import Any

from core.formats import MAX_TEXT_BYTES

MAX_NOTE_CHARS = 5_000
MAX_RATIONALE_CHARS = 5_000
MAX_REASON_CHARS = 2_000
MAX_MESSAGE_CHARS = 5_000
MIN_REWRITE_CHARS = 50_000
MAX_JUDGMENT_FIELDS_CHARS = 10_000


def max_rewrite_chars(original: str | None) -> int:
    """The longest rewrite of a response of this text: max(50,000, 2 x its length), never
    above the import limit."""
    return min(MAX_TEXT_BYTES, max(MIN_REWRITE_CHARS, 2 * len(original or "")))


def length_problem(text: str | None, limit: int, what: str) -> str | None:
    """A sentence naming `what` is too long and by how much, or None when it fits."""
    if text is not None and len(text) > limit:
        return (f"the {what} is {len(text):,} characters long; the limit is {limit:,}: "
                "shorten it and submit again")
    return None


def message_problem(body: str) -> str | None:
    """Why a thread message cannot be sent (empty or too long), or None. `body` is already
    stripped of surrounding white space."""
    if not body:
        return "write a message first: it is empty"
    return length_problem(body, MAX_MESSAGE_CHARS, "message")


def rewrite_problem(edited: str | None, original: str | None) -> str | None:
    """Whether an edited response is too long for this original (characters, and the
    import's byte limit for very long originals)."""
    problem = length_problem(edited, max_rewrite_chars(original), "edited response")
    if problem is None and edited is not None and len(edited) * 4 > MAX_TEXT_BYTES \
            and len(edited.encode("utf-8")) > MAX_TEXT_BYTES:
        problem = (f"the edited response is {len(edited.encode('utf-8')):,} bytes as UTF-8; "
                   f"the limit is {MAX_TEXT_BYTES:,}, as for imported text")
    return problem


def judgment_problem(judgment: dict[str, Any] | None) -> str | None:
    """Whether a preference judgment's rationale or other fields are too long."""
    if not judgment:
        return None
    rationale = judgment.get("rationale")
    if rationale is not None and not isinstance(rationale, str):
        return "the rationale must be text"
    problem = length_problem(rationale, MAX_RATIONALE_CHARS, "rationale")
    if problem:
        return problem
    rest = {k: v for k, v in judgment.items() if k != "rationale"}
    size = len(json.dumps(rest, ensure_ascii=False, default=str))
    if size > MAX_JUDGMENT_FIELDS_CHARS:
        return (f"the judgment's fields are {size:,} characters as JSON; the limit is "
                f"{MAX_JUDGMENT_FIELDS_CHARS:,}")
    return None
