"""A synthetic file in the Anthropic HH-RLHF layout, shaped like the harmless-base test split.

The real file (2,312 rows of `chosen` / `rejected` transcripts) cannot be downloaded here, so
this one is generated, deterministically, with the same row count and the same kinds of rows
in about the same proportions: most pairs share everything but the last Assistant reply; about
0.2% diverge earlier (one transcript has an extra turn, a "Human:" marker lacks the blank line
before it or is glued to the previous reply, an earlier reply differs); a few last replies are
empty. Each row comes with the split the import should make of it.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

ROWS = 2312
Turn = dict[str, str]

# Row index (0-based) -> shape, spread over the file.
SHAPES = {
    57: "extra turn in chosen",
    401: "extra turn in rejected",
    866: "extra turn in chosen",
    1203: "no blank line before Human",
    1544: "Human glued to the reply",
    1890: "earlier reply differs",
    300: "empty chosen reply",
    1100: "empty rejected reply",
    2207: "empty chosen reply",
}
DIVERGING = {"extra turn in chosen", "extra turn in rejected", "Human glued to the reply",
             "earlier reply differs"}

WORDS = ("how can I get my neighbour to stop parking in front of my house what is the best way "
         "to make someone feel bad about themselves is it legal to record a phone call without "
         "asking why do people say that about dogs tell me a joke about my boss I am sorry but "
         "I cannot help with that here is some general information you could talk to a lawyer "
         "that sounds frustrating have you tried asking them politely").split()


@dataclass(frozen=True)
class HHRow:
    chosen: str
    rejected: str
    shape: str
    shared: list[Turn]          # what the import should keep as the transcript
    chosen_turns: list[Turn]    # and as each response (one turn, or more)
    rejected_turns: list[Turn]


def _text(rng: random.Random, low: int = 4, high: int = 24) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def _hh(turns: list[Turn]) -> str:
    return "".join(f"\n\n{'Human' if t['role'] == 'user' else 'Assistant'}: {t['content']}"
                   for t in turns)


def _user(text: str) -> Turn:
    return {"role": "user", "content": text}


def _assistant(text: str) -> Turn:
    return {"role": "assistant", "content": text}


def hh_row(index: int, shape: str = "normal", seed: int = 2312) -> HHRow:
    """Row `index` of the file, in `shape` (see SHAPES)."""
    rng = random.Random(seed * 100_003 + index)
    shared: list[Turn] = []
    for n in range(rng.randint(1, 4)):
        if n:
            shared.append(_assistant(_text(rng)))
        shared.append(_user(f"{_text(rng)} (conversation {index + 1})" if n == 0 else _text(rng)))
    good, bad = _assistant(_text(rng)), _assistant(_text(rng))
    if shape == "extra turn in chosen" or shape == "extra turn in rejected":
        more = [good, _user(_text(rng)), _assistant(_text(rng))]
        long_side, short_side = more, [bad]
        chosen_turns, rejected_turns = ((long_side, short_side) if shape.endswith("chosen")
                                        else (short_side, long_side))
        return HHRow(_hh(shared + chosen_turns), _hh(shared + rejected_turns), shape, shared,
                     chosen_turns, rejected_turns)
    if shape == "no blank line before Human":
        # The marker starts a line, one newline after the reply: still a turn of its own.
        shared = shared + [_assistant(_text(rng)), _user(_text(rng))]
        chosen = _hh(shared + [good])
        last_human = chosen.rindex("\n\nHuman: ")
        chosen = chosen[:last_human] + chosen[last_human + 1:]
        return HHRow(chosen, _hh(shared + [bad]), shape, shared, [good], [bad])
    if shape == "Human glued to the reply":
        # No line break at all: the words belong to the reply, so the transcripts part there.
        reply, question = _text(rng), _text(rng)
        chosen = _hh(shared) + f"\n\nAssistant: {reply} Human: {question}" + _hh([good])
        rejected = _hh(shared + [_assistant(reply), _user(question), bad])
        return HHRow(chosen, rejected, shape, shared,
                     [_assistant(f"{reply} Human: {question}"), good],
                     [_assistant(reply), _user(question), bad])
    if shape == "earlier reply differs":
        question = _text(rng)
        first_good, first_bad = _assistant(_text(rng)), _assistant(_text(rng))
        chosen_turns, rejected_turns = [first_good, _user(question), good], [first_bad, _user(question), bad]
        return HHRow(_hh(shared + chosen_turns), _hh(shared + rejected_turns), shape, shared,
                     chosen_turns, rejected_turns)
    if shape == "empty chosen reply":
        good = _assistant("")
    if shape == "empty rejected reply":
        bad = _assistant("")
    # An empty reply is "Assistant:" with nothing after it, as in the real file.
    return HHRow(_hh(shared + [good]).rstrip(" "), _hh(shared + [bad]).rstrip(" "), shape,
                 shared, [good], [bad])


def hh_rows(rows: int = ROWS) -> list[HHRow]:
    return [hh_row(i, SHAPES.get(i, "normal")) for i in range(rows)]


def write_hh(path: Path, rows: list[HHRow] | None = None) -> Path:
    """The rows as HH-RLHF JSONL: one {"chosen": ..., "rejected": ...} object a line."""
    rows = hh_rows() if rows is None else rows
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"chosen": row.chosen, "rejected": row.rejected}) + "\n")
    return path


def hh_text(turns: list[Turn]) -> str:
    """A response as the import stores it: the first turn's text, later turns after markers."""
    return turns[0]["content"] + "".join(
        f"\n\n{'Human' if t['role'] == 'user' else 'Assistant'}: {t['content']}" for t in turns[1:])
