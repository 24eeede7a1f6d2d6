"""Helpers for browser tests: a real `streamlit run` on 127.0.0.1 and Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.conftest import ROOT


# The script `make run` starts: the app behind SafeLabel's own routes and checks.
SERVER_SCRIPT = "serve.py"


class Server(NamedTuple):
    url: str
    pid: int

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str:
    path = os.environ.get("SAFELABEL_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Debian's chromium is not installed: run `make test` (it installs it)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(db_path: Path, env: dict[str, str] | None = None):
    """Start the app on a free port; yield its URL and pid; stop it afterwards."""
    port = free_port()
    log = open(os.environ.get("SAFELABEL_SERVER_LOG") or db_path.parent / f"streamlit-{port}.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / SERVER_SCRIPT),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SAFELABEL_DB": str(db_path), **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start: {(db_path.parent / log.name).read_text()}")
            time.sleep(0.2)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected and no script run is in progress."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]',
                           timeout=timeout)
    page.wait_for_timeout(150)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=timeout)
    # Elements left over from the previous run are marked stale until the run replaces them.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')",
                           timeout=timeout)


def query_copy(db_path: Path, sql: str) -> list[tuple]:
    """Run a query on a copy of a database a running server holds (DuckDB lets only one
    process open the file), leaving the server undisturbed."""
    import shutil

    from store.db import open_database

    copy = db_path.with_name(db_path.stem + "-copy.duckdb")
    shutil.copy(db_path, copy)
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists():
        shutil.copy(wal, copy.with_name(copy.name + ".wal"))
    db = open_database(copy)
    try:
        with db.read() as cur:
            return cur.execute(sql).fetchall()
    finally:
        db.close()
        copy.unlink()
        copy.with_name(copy.name + ".wal").unlink(missing_ok=True)


def log_in(page, username: str, password: str) -> None:
    """Fill the login form on the current page and submit it. A good password makes the
    page trade a one-time token for its HttpOnly session cookie and reload; wait for that
    reload and for the app to be past the form."""
    from playwright.sync_api import expect

    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    with page.expect_navigation(timeout=30_000):
        page.get_by_role("button", name="Log in").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Log in to SafeLabel")).to_have_count(0)
    expect(page.locator('[data-testid="stSidebar"]').get_by_text(
        f"Signed in as {username}", exact=False)).to_be_visible()
