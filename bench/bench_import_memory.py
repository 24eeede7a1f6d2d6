"""Import memory benchmark: peak RSS and time of importing a large JSONL file.

    .venv/bin/python bench/bench_import_memory.py [--mb 200] [--rows 1000000] [--bomb-gb 0]
    .venv/bin/python bench/bench_import_memory.py --compare-stores 100000

Writes the files in a temp dir (nothing is kept). Each import runs in a fresh Python process
(a small driver doing what `cli.py import` does: open the database, import), so the peak RSS
reported is the whole process's, read from the kernel when the process ends (`wait4`). A
process that imports a 3-row file gives the fixed cost of Python, pandas and DuckDB.

- `--mb`: size of the large JSONL file (rows of about 1 KB of text, like real prompts and
  responses); target from PRODUCT.md: a 200 MB file within 600 MB of memory.
- `--rows`: also import that many short rows (about 230 bytes each, as bench_store.py);
  target 1,000,000 rows in 40 s. 0 skips it.
- `--bomb-gb`: also import a small Parquet file that decodes to this many GB of text (a
  "decompression bomb"); it must be refused without using the memory. 0 skips it. On code
  without the import limits, keep this small: the process needs several times the size.
- `--compare-stores N`: instead, import one JSONL file of N rows of about 1 KB into a DuckDB
  file and into PostgreSQL (a throwaway local cluster, deploy/local_postgres.py, fsync on),
  each in a fresh process: time to read and check the file (in DuckDB on both stores), time
  of the write, and peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the measured process: open the database as the CLI does, import, report.
DRIVER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from store.bootstrap import open_app_database
from store import projects
from store.imports import ImportProblem, import_file
from core import config
db = open_app_database(sys.argv[2], demo=False)
pid = projects.create_project(db, None, "Bench", sys.argv[4], "", None, 1, [], True)
steps = {}
def progress(fraction, text):
    steps.setdefault(text, time.perf_counter())
started = time.perf_counter()
try:
    result = import_file(db, None, pid, sys.argv[3], progress=progress)
    outcome = f"imported {result.items_added:,} items"
except ImportProblem as exc:
    outcome = f"refused: {exc}"
seconds = time.perf_counter() - started
writing = steps.get("adding new items")
print(json.dumps({"seconds": seconds, "outcome": outcome, "memory_limit": config.memory_limit(),
                  "checked": (writing - started) if writing else None,
                  "written": (started + seconds - writing) if writing else None}))
"""

WORDS = ("the a to of and in is it you that for on with as be this how what can i my your "
         "not are do if or but they we at from by have will should would could about "
         "people someone help make know think want need way time because when there "
         "question answer safe unsafe harmful advice please explain describe write story "
         "coworker message rude calm behaviour manager talk person friend family doctor "
         "medicine chemistry history weapon violence police law illegal legal risk").split()


def sentences(rng: random.Random, count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24))).capitalize() + "."
            for _ in range(count)]


def write_large_jsonl(path: Path, megabytes: int, max_rows: int | None = None) -> int:
    """Rows of varied text, about 1 KB each (prompt ~300 B, response ~700 B), up to
    `megabytes` or `max_rows`."""
    rng = random.Random(9)
    pool = sentences(rng, 4000)
    target = megabytes * 1024 * 1024
    written = rows = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target and (max_rows is None or rows < max_rows):
            prompt = " ".join(rng.choices(pool, k=3))
            response = " ".join(rng.choices(pool, k=7))
            line = json.dumps({"id": f"row-{rows}", "prompt": f"{rows}: {prompt}",
                               "response": response, "source": "bench",
                               "lang": "en"}) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            rows += 1
    return rows


def write_short_jsonl(path: Path, count: int) -> None:
    """The rows bench_store.py imports (about 230 bytes each)."""
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps({
                "id": f"bench-{n}",
                "prompt": f"Question {n}: how should I respond to a rude message from a coworker?",
                "response": f"Answer {n}: stay calm, describe the behaviour, and ask to talk it over "
                            "in person; involve a manager if it continues.",
                "source": "bench"}) + "\n")


def write_parquet_bomb(path: Path, gigabytes: float) -> None:
    """A small Parquet file whose `prompt` column decodes to `gigabytes` GB of text: one
    256 KB string repeated, dictionary-encoded, so neither this process nor the file holds
    the text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = "x" * (256 * 1024)
    rows = int(gigabytes * 1024 ** 3 / len(value))
    per_group = 1024
    schema = pa.schema([("prompt", pa.dictionary(pa.int32(), pa.string()))])
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        done = 0
        while done < rows:
            n = min(per_group, rows - done)
            column = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array([value]))
            writer.write_table(pa.table({"prompt": column}, schema=schema))
            done += n


def measure(data: Path, workdir: Path, label: str, kind: str = "label",
            code: Path = ROOT, target: str | None = None) -> dict:
    """Import `data` into a fresh `kind` project of a fresh database in a fresh process, with
    the SafeLabel checkout at `code`; its peak RSS and times. `target`: a postgresql:// URL
    of an empty database to use instead of a DuckDB file."""
    db_path = target or workdir / f"{label}.duckdb"
    env = dict(os.environ, SAFELABEL_DEMO="0")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", DRIVER, str(code), str(db_path), str(data),
                                kind],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the max over all children).
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    report = {"label": label, "peak_mb": usage.ru_maxrss / 1024, "wall": wall,
              "file_mb": data.stat().st_size / 1024 ** 2}
    if process.returncode == 0 and out.strip():
        report.update(json.loads(out.strip().splitlines()[-1]))
    else:
        last = (err.strip().splitlines() or ["(no output)"])[-1]
        report.update(seconds=float("nan"), memory_limit="?",
                      outcome=f"process ended with status {process.returncode}: {last[:120]}")
    for leftover in workdir.glob(f"{label}.duckdb*"):
        if leftover.is_file():
            leftover.unlink()
    return report


def compare_stores(rows: int) -> None:
    """The same JSONL import on a DuckDB file and on PostgreSQL, each in a fresh process."""
    sys.path.insert(0, str(ROOT))
    from deploy import local_postgres
    from tests.pg import free_port

    results = []
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-stores-") as tmp:
        work = Path(tmp)
        data = work / "items.jsonl"
        count = write_large_jsonl(data, 10 ** 6, max_rows=rows)
        results.append(("duckdb", measure(data, work, "duckdb")))
        cluster = Path(tempfile.mkdtemp(prefix="safelabel-bench-pg-"))
        try:
            url = local_postgres.start(cluster, free_port())
            results.append(("postgresql", measure(data, work, "postgresql", target=url)))
        finally:
            local_postgres.stop(cluster)
            import shutil
            shutil.rmtree(cluster, ignore_errors=True)
        size = data.stat().st_size / 1024 ** 2
    print(f"\nSafeLabel import on both stores: one JSONL file, {count:,} rows of ~1 KB "
          f"({size:.0f} MB), a fresh process each (DuckDB memory_limit "
          f"{results[0][1]['memory_limit']}; PostgreSQL local, fsync on)\n")
    header = ("store", "read+check", "write", "import", "rows/s", "peak RSS", "outcome")
    table = [(store, f"{r['checked']:.2f} s" if r.get("checked") else "?",
              f"{r['written']:.2f} s" if r.get("written") else "?", f"{r['seconds']:.2f} s",
              f"{count / r['seconds']:,.0f}" if r["seconds"] == r["seconds"] else "?",
              f"{r['peak_mb']:.0f} MB", r["outcome"][:60]) for store, r in results]
    widths = [max(len(str(x[i])) for x in table + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bomb-gb", type=float, default=0)
    parser.add_argument("--compare-stores", type=int, default=0, metavar="ROWS")
    args = parser.parse_args()
    if args.compare_stores:
        compare_stores(args.compare_stores)
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-import-") as tmp:
        work = Path(tmp)
        small = work / "small.jsonl"
        write_short_jsonl(small, 3)
        results.append((measure(small, work, "baseline"), "3 rows", "(fixed cost)"))

        large = work / "large.jsonl"
        t0 = time.perf_counter()
        count = write_large_jsonl(large, args.mb)
        print(f"wrote {large.stat().st_size / 1024 ** 2:.0f} MB, {count:,} rows "
              f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        results.append((measure(large, work, "large"), f"{count:,} rows of ~1 KB",
                         "peak <= 600 MB for 200 MB" if args.mb == 200 else ""))
        large.unlink()

        if args.rows:
            short = work / "short.jsonl"
            write_short_jsonl(short, args.rows)
            results.append((measure(short, work, "rows"), f"{args.rows:,} rows of ~230 B",
                            "<= 40 s per 1,000,000"))
            short.unlink()

        if args.bomb_gb:
            bomb = work / "bomb.parquet"
            write_parquet_bomb(bomb, args.bomb_gb)
            results.append((measure(bomb, work, "bomb"), f"{args.bomb_gb:g} GB of text",
                            "refused, memory near the fixed cost"))

    print(f"\nSafeLabel import memory benchmark (each import in a fresh process; "
          f"DuckDB memory_limit {results[0][0]['memory_limit']})\n")
    header = ("file", "size", "rows", "import", "peak RSS", "target", "outcome")
    rows = [(r["label"], f"{r['file_mb']:.1f} MB", what, f"{r['seconds']:.2f} s",
             f"{r['peak_mb']:.0f} MB", target, r["outcome"][:90]) for r, what, target in results]
    widths = [max(len(str(x[i])) for x in rows + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()
