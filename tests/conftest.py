"""Shared fixtures: a real DuckDB file in a temp dir, and accounts in it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Cheap hashes keep the suite fast; production uses bcrypt's default work factor.
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")
# Tests about other things start past the informed-start screen (set here, not in a fixture,
# so module-scoped browser servers inherit it too); tests marked `informed_start` see it.
os.environ["SAFELABEL_INFORMED_START"] = "0"

from store import projects, users  # noqa: E402
from store.db import Database, open_database  # noqa: E402

SETUP_TOKEN = "test-setup-token-0123456789"
PASSWORD = "correct-horse-9"


@pytest.fixture(autouse=True)
def informed_start_on_when_marked(request, monkeypatch):
    """The informed-start screen comes before a person's first item in each project; tests
    marked `informed_start` see it (a browser server a test starts inherits it)."""
    if request.node.get_closest_marker("informed_start") is not None:
        monkeypatch.setenv("SAFELABEL_INFORMED_START", "1")


def _stores() -> list[str]:
    """The stores every `db` test runs on: DuckDB always, PostgreSQL when it is installed
    (`make test` installs it). SAFELABEL_TEST_STORES=duckdb narrows a local run."""
    from deploy import local_postgres

    wanted = os.environ.get("SAFELABEL_TEST_STORES", "duckdb,postgresql").split(",")
    if "postgresql" in wanted and not local_postgres.available():
        wanted.remove("postgresql")
    return [s for s in ("duckdb", "postgresql") if s in wanted]


STORES = _stores()


def pytest_collection_modifyitems(config, items):
    """A test marked `duckdb_only` is about the DuckDB file itself: its PostgreSQL variant is
    not collected (deselected, not skipped)."""
    keep, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgresql" in callspec.params.values()
        if on_postgres and item.get_closest_marker("duckdb_only") is not None:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_server() -> str:
    """A throwaway PostgreSQL cluster for the whole run; returns its database URL. Its folder
    is outside pytest's (that one is private to root; the server runs as `postgres`)."""
    import shutil
    import tempfile

    from deploy import local_postgres
    from tests.pg import free_port

    folder = tempfile.mkdtemp(prefix="safelabel-pg-")
    url = local_postgres.start(folder, free_port(), fast=True)
    yield url
    local_postgres.stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


def store_target(request, tmp_path: Path, name: str) -> str:
    """Where a test's store lives: a DuckDB file in its temp dir, or a fresh schema of the
    run's PostgreSQL database (dropped when the test ends)."""
    if request.param == "duckdb":
        return str(tmp_path / name)
    from tests.pg import fresh_schema_url
    pg_url = request.getfixturevalue("pg_server")
    target, drop = fresh_schema_url(pg_url)
    request.addfinalizer(drop)
    return target


@pytest.fixture(params=STORES)
def db(request, tmp_path: Path) -> Database:
    database = open_database(store_target(request, tmp_path, "safelabel.duckdb"))
    yield database
    database.close()


@pytest.fixture
def accounts(db: Database) -> dict[str, int]:
    """An admin, a lead and three annotators; returns {username: id}."""
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    ids = {"admin": admin}
    ids["lead"] = users.create_user(db, admin, "lead", "Lead", PASSWORD, "lead")
    for name in ("ann1", "ann2", "ann3"):
        ids[name] = users.create_user(db, admin, name, name.title(), PASSWORD, "annotator")
    return ids


def table_counts(db: Database) -> dict[str, int]:
    """Row count of every table: equal before and after means nothing was written."""
    with db.read() as cur:
        tables = [r[0] for r in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE'").fetchall()]
        return {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def make_project(db: Database, accounts: dict[str, int], kind: str = "label", overlap: int = 1,
                 name: str = "P", members: tuple[str, ...] = ("ann1", "ann2", "ann3")) -> int:
    return projects.create_project(db, accounts["lead"], name, kind, "Be careful.", None, overlap,
                                   [accounts[m] for m in members])


# AppTest runs the app in this process: point it at a fresh file and close the handles the
# app opened (they live in components.db's registry, which clearing Streamlit's caches keeps).
@pytest.fixture(params=STORES)
def app_env(request, tmp_path, monkeypatch):
    from components.db import close_all

    target = store_target(request, tmp_path, "app.duckdb")
    db_path = Path(target) if request.param == "duckdb" else target
    monkeypatch.setenv("SAFELABEL_DB", str(db_path))
    monkeypatch.setenv("SAFELABEL_DEMO", "0")
    monkeypatch.setenv("SAFELABEL_SETUP_TOKEN", SETUP_TOKEN)
    # AppTest cannot drive the work component (a browser's JavaScript): the page tests run
    # the Label page's classic st.button controls. tests/test_work_surface_page.py reads the
    # component's data in the default mode.
    monkeypatch.setenv("SAFELABEL_WORK_SURFACE", "classic")
    close_all()
    st.cache_resource.clear()
    yield db_path
    close_all()
    st.cache_resource.clear()


@pytest.fixture
def app_db(app_env):
    from components.db import get_db
    return get_db()


@pytest.fixture
def team(app_db) -> dict[str, int]:
    """Accounts in the app's database: an admin, a lead and two annotators ("ann", "ann2")."""
    admin = users.create_user(app_db, None, "admin", "Admin", PASSWORD, "admin")
    return {"admin": admin,
            "lead": users.create_user(app_db, admin, "lead", "Lead", PASSWORD, "lead"),
            "ann": users.create_user(app_db, admin, "ann", "Ann", PASSWORD, "annotator"),
            "ann2": users.create_user(app_db, admin, "ann2", "Ann Two", PASSWORD, "annotator")}


@pytest.fixture
def browser():
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_path
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def hf(tmp_path, monkeypatch):
    """The Hugging Face `datasets` loader, offline, with its cache in the test folder."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    import datasets
    return datasets
