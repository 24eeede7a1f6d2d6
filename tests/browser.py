"""Helpers for browser tests: a real `streamlit run` on 127.0.0.1 and Debian's Chromium."""
from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.conftest import ROOT


class Server(NamedTuple):
    url: str
    pid: int
    log: Path      # the server's console output (stdout and stderr)

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


# What the tests serve: the one place to change when the app gets another entry point.
APP_SCRIPT = ROOT / "serve.py"


@contextmanager
def streamlit_server(db_path: Path, env: dict[str, str] | None = None,
                     options: list[str] | None = None, port: int | None = None):
    """Start the app on a free port (or `port`: a restarted server at the same address);
    yield its URL and pid; stop it afterwards. Every other setting comes from the
    repository's .streamlit/config.toml (the server runs in ROOT), unless `options` (extra
    command-line flags) say otherwise."""
    port = port or free_port()
    log_path = Path(os.environ.get("SAFELABEL_SERVER_LOG") or db_path.parent / f"streamlit-{port}.log")
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         *(options or [])],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SAFELABEL_DB": str(db_path), **(env or {})})
    url = f"http://127.0.0.1:{port}"
    flags = list(options or [])
    base = ("/" + flags[flags.index("--server.baseUrlPath") + 1].strip("/")
            if "--server.baseUrlPath" in flags else "")
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start: {log_path.read_text()}")
            time.sleep(0.2)
        yield Server(url, process.pid, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def streamlit_session(url: str):
    """A session as a browser opens one (WebSocket, first script run); yields its id, which
    the upload route requires, and keeps the session alive meanwhile."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    # Self-signed certificates (the proxy tests) are fine here.
    tls = {"ssl": ssl._create_unverified_context()} if url.startswith("https://") else {}
    with connect(re.sub(r"^http", "ws", url) + "/_stcore/stream", subprotocols=["streamlit"],
                 open_timeout=30, **tls) as ws:
        rerun = BackMsg()
        rerun.rerun_script.SetInParent()
        ws.send(rerun.SerializeToString())
        while True:
            message = ForwardMsg.FromString(ws.recv(timeout=60))
            if message.WhichOneof("type") == "new_session":
                yield message.new_session.initialize.session_id
                return


def upload(url: str, session_id: str, size: int, login: str | None = None) -> int:
    """PUT a file of `size` bytes to the upload route as the browser does; the status code.
    `login` is a SafeLabel session token (uploads need a lead's: see serve.py)."""
    import requests
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    token = generate_xsrf_token_string()     # the route compares header and cookie
    response = requests.put(
        f"{url}/_stcore/upload_file/{session_id}/{uuid.uuid4()}",
        files={"file": ("items.jsonl", b"x" * size, "application/jsonl")},
        headers={"X-Xsrftoken": token},
        cookies={"_streamlit_xsrf": token, **({"safelabel_session": login} if login else {})},
        timeout=60,
        verify=False)
    return response.status_code


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


def wait_until(condition, timeout: float = 15.0) -> None:
    """Poll `condition` (something outside the page, say the browser's cookie jar) until it
    holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def session_cookies(context) -> list[dict]:
    """The browser context's SafeLabel session cookie(s) (HttpOnly: only the browser sees it)."""
    return [c for c in context.cookies() if c["name"] == "safelabel_session"]
