"""Configuration read from the environment. Nothing here is required to start."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB_PATH = "data/safelabel.duckdb"


def db_path() -> Path:
    """Where the DuckDB file lives (`SAFELABEL_DB`, default `data/safelabel.duckdb`)."""
    return Path(os.environ.get("SAFELABEL_DB", DEFAULT_DB_PATH))


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
