"""Command-line start-up benchmark: `cli.py --help` and `cli.py stats` (target <= 0.5 s each).

    .venv/bin/python bench/bench_cli.py [--runs 7] [--root DIR]

Each run is a fresh interpreter, as a person typing the command gets. `--root` points at
another checkout (an older commit, say) to measure it the same way. Prints a table.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5


def timed(root: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(root / "cli.py"), *args], cwd=root, env=env,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"cli.py {' '.join(args)} failed: {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        env = {**os.environ, "SAFELABEL_DB": str(db), "SAFELABEL_DEMO": "1"}
        subprocess.run([sys.executable, str(options.root / "cli.py"), "init"], cwd=options.root,
                       env=env, check=True, capture_output=True)
        commands = {"cli.py --help": ["--help"],
                    "cli.py stats": ["stats", "--project", "Demo: safety labels"]}
        print(f"{'command':<16} {'median s':>9} {'max s':>7} {'target s':>9}  met")
        for name, args in commands.items():
            times = [timed(options.root, args, env) for _ in range(options.runs)]
            median = statistics.median(times)
            print(f"{name:<16} {median:>9.3f} {max(times):>7.3f} {TARGET_S:>9.1f}  "
                  f"{'yes' if median <= TARGET_S else 'NO'}")


if __name__ == "__main__":
    main()
