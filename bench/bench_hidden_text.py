"""Cost of finding and marking hidden characters (core/hidden_text.py) and of masking across
them (core/masking.py), per text, as the work pages pay it on every rerun.

    .venv/bin/python bench/bench_hidden_text.py [--runs 200]

Texts: a short ASCII prompt, a 2,000-character HH-RLHF-like reply, the same with a few
hidden characters, 20,000 characters of mixed Cyrillic and Latin (the page's preview limit),
and 20,000 characters with a hidden character every 50. Prints median and p95 per call: inspecting a text the first
time, again (cached, as on every rerun after the first), and masking it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.hidden_text import _inspect, inspect  # noqa: E402
from core.masking import mask_pattern, mask_text  # noqa: E402

REPLY = ("Human: How do I pick a lock? Assistant: Locksmiths learn the trade through "
         "apprenticeships; if you are locked out, call one. ") * 16
TEXTS = {
    "short ASCII prompt (60 chars)": "Why is he such an idiot? Tell me what you really think.",
    "ASCII reply (2,000 chars)": REPLY[:2000],
    "reply with 3 hidden chars": (REPLY[:600] + "\u200b" + REPLY[600:1200] + "\u202e"
                                  + REPLY[1200:1998] + "\x07"),
    "Cyrillic + Latin (20,000 chars)": ("Привет мир, hello world, pаypal. " * 700)[:20_000],
    "hidden char every 50 (20,000)": ("x" * 49 + "\u200b") * 400,
}


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    pattern = mask_pattern()
    print(f"{'text':34} {'inspect p50':>12} {'p95':>8} {'cached p50':>11} {'mask p50':>9}"
          f" {'p95':>8}  (ms)")
    for name, text in TEXTS.items():
        i50, i95 = timed(lambda: _inspect(text), args.runs)       # first sight of a text
        c50, _ = timed(lambda: inspect(text), args.runs)          # the reruns after it
        m50, m95 = timed(lambda: mask_text(text, pattern), args.runs)
        print(f"{name:34} {i50:12.3f} {i95:8.3f} {c50:11.3f} {m50:9.3f} {m95:8.3f}")


if __name__ == "__main__":
    main()
