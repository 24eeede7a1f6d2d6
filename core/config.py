"""Configuration read from the environment. Nothing here is required to start."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB_PATH = "data/safelabel.duckdb"


def db_path() -> Path | str:
    """Where the store lives (`SAFELABEL_DB`): a DuckDB file (default
    `data/safelabel.duckdb`) or a `postgresql://` URL, kept as text."""
    target = os.environ.get("SAFELABEL_DB", str(DEFAULT_DB_PATH))
    if target.startswith(("postgresql://", "postgres://")):
        return target
    return Path(target)


def demo_enabled() -> bool:
    """Seed a demo project into an empty database unless `SAFELABEL_DEMO=0`."""
    return os.environ.get("SAFELABEL_DEMO", "1").strip().lower() not in {"0", "false", "no", "off"}


def fixed_setup_token() -> str | None:
    """A setup token chosen by the operator (`SAFELABEL_SETUP_TOKEN`), for scripted installs."""
    token = os.environ.get("SAFELABEL_SETUP_TOKEN", "").strip()
    return token or None


def claim_timeout_minutes() -> int:
    """How long a claimed item stays with one person before it returns to the pool."""
    try:
        return max(1, int(os.environ.get("SAFELABEL_CLAIM_MINUTES", "30")))
    except ValueError:
        return 30


def bcrypt_rounds() -> int:
    """bcrypt work factor for new password hashes (tests lower it with SAFELABEL_BCRYPT_ROUNDS)."""
    try:
        return min(16, max(4, int(os.environ.get("SAFELABEL_BCRYPT_ROUNDS", "12"))))
    except ValueError:
        return 12


def trusted_proxy() -> bool:
    """`SAFELABEL_TRUSTED_PROXY=1`: the app sits behind a reverse proxy (deploy/) that sets
    X-Real-IP and X-Forwarded-Proto; only then are those headers believed."""
    return os.environ.get("SAFELABEL_TRUSTED_PROXY", "").strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_MEMORY_LIMIT = "384MB"


def memory_limit() -> str:
    """DuckDB's memory budget (`SAFELABEL_MEMORY_LIMIT`, e.g. `384MB`, `1GB`).

    Past it DuckDB spills to a folder beside the database, or refuses the query, instead of
    growing until the kernel kills the server. It covers DuckDB's buffers only: Python,
    Streamlit or pandas come on top (about 170 MB for the CLI). 384MB keeps a 200 MB JSONL
    import under 600 MB of peak RSS for the whole process and still reads a Parquet file
    whose pages are about 80 MB (DuckDB's own writer puts a row group's column in one page);
    bench/bench_import_memory.py measures it.
    """
    value = os.environ.get("SAFELABEL_MEMORY_LIMIT", "").strip()
    return value or DEFAULT_MEMORY_LIMIT


def duckdb_threads() -> int:
    """DuckDB worker threads (`SAFELABEL_THREADS`): default the machine's cores, at most 4,
    since each thread reading a file holds its own buffers inside the memory budget."""
    try:
        value = int(os.environ.get("SAFELABEL_THREADS", "0"))
    except ValueError:
        value = 0
    return value if value > 0 else max(1, min(4, os.cpu_count() or 1))


DEFAULT_IMPORT_MAX_MB = 1024
DEFAULT_IMPORT_MAX_ROWS = 5_000_000


def _positive_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, "").strip() or default)
    except ValueError:
        return default
    return value if value > 0 else default


def import_max_bytes() -> int:
    """The largest file an import reads (`SAFELABEL_IMPORT_MAX_MB`, default 1024): for
    Parquet also the most text it may hold once decompressed. 1,000,000 items of about 1 KB
    fit; memory stays within the DuckDB budget whatever the size, time does not (about 90 s
    per GB of JSONL here)."""
    return _positive_int("SAFELABEL_IMPORT_MAX_MB", DEFAULT_IMPORT_MAX_MB) * 1024 * 1024


def import_max_rows() -> int:
    """The most rows one import takes (`SAFELABEL_IMPORT_MAX_ROWS`, default 5,000,000): a
    Parquet file can hold a billion empty rows in a few kilobytes."""
    return _positive_int("SAFELABEL_IMPORT_MAX_ROWS", DEFAULT_IMPORT_MAX_ROWS)


def informed_start_enabled() -> bool:
    """Show the informed-start screen before a person's first item in a project (default on;
    `SAFELABEL_INFORMED_START=0` turns it off, e.g. for an installation that briefs people in
    person, and for tests about other things)."""
    return os.environ.get("SAFELABEL_INFORMED_START", "1").strip().lower() not in {
        "0", "false", "no", "off"}


def hint_worker_seconds() -> int:
    """How long the app's hint worker (store/hint_models.HintWorker) rests between rounds
    that found nothing to do (`SAFELABEL_HINT_WORKER_SECONDS`, default 30); 0 or "off" in
    `SAFELABEL_HINT_WORKER` turns the worker off (then `cli.py train-hints` trains)."""
    return _positive_int("SAFELABEL_HINT_WORKER_SECONDS", 30)


def hint_worker_enabled() -> bool:
    return os.environ.get("SAFELABEL_HINT_WORKER", "1").strip().lower() not in {"0", "false", "no", "off"}
