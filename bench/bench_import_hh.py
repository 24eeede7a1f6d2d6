"""HH-RLHF import benchmark: peak RSS and time of importing a large chosen/rejected file into a
compare project (the split into transcript and responses A and B included).

    .venv/bin/python bench/bench_import_hh.py [--mb 200] [--code DIR] [--plain]

The file repeats the shapes of tests/hh_data.py (the 2,312-row synthetic harmless-base file:
plain pairs, extra turns, a missing blank line, empty replies) until it holds `--mb` MB. Each
import runs in a fresh Python process that does what `cli.py import` does, and its peak RSS is
the kernel's figure for that process (`wait4`). `--code DIR` imports with the SafeLabel code
in DIR instead of this checkout (an older version, to compare). Nothing is kept.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hh_data import ROWS, SHAPES, hh_row  # noqa: E402
from bench.bench_import_memory import measure  # noqa: E402


def write_hh_file(path: Path, megabytes: int, plain: bool = False) -> int:
    """HH-RLHF JSONL of about `megabytes` MB; returns the row count. `plain`: only pairs that
    differ in their last reply (which code before issue 10 could import)."""
    target = megabytes * 1024 * 1024
    written = rows = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            index = rows % ROWS
            row = hh_row(rows, "normal" if plain else SHAPES.get(index, "normal"))
            line = json.dumps({"chosen": row.chosen, "rejected": row.rejected}) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="a SafeLabel checkout to import with (default: this one)")
    parser.add_argument("--plain", action="store_true",
                        help="only pairs that differ in their last reply (for older code)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-hh-") as tmp:
        work = Path(tmp)
        data = work / "hh.jsonl"
        t0 = time.perf_counter()
        rows = write_hh_file(data, args.mb, args.plain)
        print(f"wrote {data.stat().st_size / 1024 ** 2:.0f} MB, {rows:,} rows "
              f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        result = measure(data, work, "hh", kind="compare", code=args.code.resolve())
    print(f"{'code':<40} {'file MB':>8} {'rows':>9} {'peak RSS MB':>12} {'import s':>9} "
          f"{'process s':>10}  outcome")
    print(f"{str(args.code)[-40:]:<40} {args.mb:>8} {rows:>9,} {result['peak_mb']:>12.0f} "
          f"{result['seconds']:>9.1f} {result['wall']:>10.1f}  {result['outcome']}")


if __name__ == "__main__":
    main()
