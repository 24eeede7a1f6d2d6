"""The app's one DuckDB handle per file, shared by every session (thread-safe by design)."""
from __future__ import annotations

import sys

import streamlit as st

from core import config
from store import users
from store.bootstrap import open_app_database
from store.db import Database


@st.cache_resource(show_spinner=False)
def _open(path: str, demo: bool) -> Database:
    return open_app_database(path, demo)


def get_db() -> Database:
    """The database named by SAFELABEL_DB, opened once per process (keyed by path)."""
    return _open(str(config.db_path()), config.demo_enabled())


@st.cache_resource(show_spinner=False)
def _announce(path: str) -> bool:
    db = _open(path, config.demo_enabled())
    token = users.setup_token(db)
    if token:
        print("\n" + "=" * 72 + "\nSafeLabel has no accounts yet. To create the first admin, open the app"
              f"\nand enter this one-time setup token:\n\n    {token}\n" + "=" * 72 + "\n",
              file=sys.stderr, flush=True)
    return True


def announce_setup_token() -> None:
    """Print the one-time setup token on the server console, once per process."""
    _announce(str(config.db_path()))
