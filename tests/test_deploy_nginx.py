"""deploy/nginx.conf, the reverse-proxy example, run by Debian's nginx in front of a real
`streamlit run`: it passes `nginx -t`, sends the anti-framing and content-type headers, hides
/_stcore/metrics, refuses bodies over the cap and rate-limits uploads, and the app still works
through it (login over the proxied WebSocket, the login cookie's component frame, reload).

`make test` unpacks Debian's nginx package into .venv/nginx (`make nginx`: no root, no
service started); SAFELABEL_NGINX names another binary."""
from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from store import users
from store.bootstrap import open_app_database
from store.sessions import start_session
from tests.browser import (CHROMIUM_ARGS, chromium_path, free_port, log_in, streamlit_server,
                           streamlit_session, upload, wait_idle)
from tests.conftest import PASSWORD, ROOT

EXAMPLE = ROOT / "deploy" / "nginx.conf"
MB = 1024 * 1024


def nginx_binary() -> str | None:
    bundled = ROOT / ".venv" / "nginx" / "usr" / "sbin" / "nginx"
    return (os.environ.get("SAFELABEL_NGINX") or (str(bundled) if bundled.exists() else None)
            or shutil.which("nginx"))


pytestmark = [
    pytest.mark.skipif(nginx_binary() is None, reason="no nginx binary: `make nginx` unpacks Debian's"),
    # The proxy uses a certificate made by the test; requests are not verified against it.
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


def self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def proxy_config(tmp: Path, app_port: int, https_port: int, http_port: int) -> Path:
    """The example as shipped, with only its ports, upstream and certificate paths changed
    (each must occur exactly once: an edit of the example that moves them fails here), inside
    a main config like Debian's /etc/nginx/nginx.conf."""
    cert, key = self_signed(tmp)
    site = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("    listen [::]:443 ssl http2;\n", ""), ("    listen [::]:80;\n", ""),
                     ("server 127.0.0.1:8501;", f"server 127.0.0.1:{app_port};"),
                     ("/etc/ssl/certs/safelabel.example.org.pem", str(cert)),
                     ("/etc/ssl/private/safelabel.example.org.key", str(key))):
        assert site.count(old) == 1, f"{old!r} should occur once in {EXAMPLE}"
        site = site.replace(old, new)
    (tmp / "safelabel.conf").write_text(site, encoding="utf-8")
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {tmp / 'nginx.pid'};\nerror_log stderr;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log off;\n{temp_paths}\n    include {tmp / 'safelabel.conf'};\n}}\n",
        encoding="utf-8")
    return main


def test_the_example_passes_nginx_t(tmp_path):
    main = proxy_config(tmp_path, free_port(), free_port(), free_port())
    result = subprocess.run([nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(main)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


@contextmanager
def nginx(main: Path, https_port: int):
    process = subprocess.Popen([nginx_binary(), "-p", str(main.parent), "-c", str(main)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{https_port}/_stcore/health",
                                            context=ssl._create_unverified_context(), timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"nginx did not start: {process.stdout.read()}")
                time.sleep(0.2)
        yield f"https://127.0.0.1:{https_port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """(proxy URL, app URL): the app behind the example proxy."""
    tmp = tmp_path_factory.mktemp("nginx")
    db_path = tmp / "proxied.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    token = start_session(db, admin)
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4"}) as app:
        https_port = free_port()
        main = proxy_config(tmp, int(app.url.rsplit(":", 1)[1]), https_port, free_port())
        with nginx(main, https_port) as proxy:
            yield proxy, app.url, token


def get(url: str) -> requests.Response:
    return requests.get(url, verify=False, timeout=30)


def test_headers_and_metrics(proxied):
    proxy, app, _ = proxied
    page = get(proxy + "/")
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert get(app + "/").headers["X-Frame-Options"] == "DENY"   # serve.py's, not doubled
    assert get(app + "/_stcore/health").status_code == 200          # control: routes answer
    for path in ("/_stcore/metrics", "//_stcore/metrics", "/_stcore/%6Detrics"):
        assert get(proxy + path).status_code == 404              # hidden behind the proxy
        assert get(app + path).status_code in (400, 404)         # and never served by serve.py


def test_upload_cap_and_rate_limit(proxied):
    proxy, _, login = proxied
    with streamlit_session(proxy) as session_id:        # a script run over the proxied WebSocket
        assert upload(proxy, session_id, MB, login) == 204             # an upload goes through
    with requests.Session() as http:
        too_big = http.put(f"{proxy}/_stcore/upload_file/{session_id}/{uuid.uuid4()}",
                           headers={"Content-Length": str(202 * MB)}, verify=False, timeout=30)
        assert too_big.status_code == 413                       # nginx refuses before any byte
    statuses = [upload(proxy, "no-such-session", 10) for _ in range(12)]
    # A burst of uploads: the first few reach the app (which refuses them, 403 without a
    # login), the rest get 429 from nginx without reaching it.
    assert statuses[0] == 403, statuses
    assert 429 in statuses and statuses.count(403) <= 7, statuses


def test_the_app_works_through_the_proxy(proxied):
    proxy, _, _ = proxied
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.goto(proxy)
        wait_idle(page)
        log_in(page, "admin", PASSWORD)
        expect(page.get_by_text("Signed in as admin (admin)")).to_be_visible()
        # The session cookie came through the proxy from serve.py's route.
        cookie, = [c for c in context.cookies() if c["name"] == "safelabel_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.reload()
        wait_idle(page)
        expect(page.get_by_text("Signed in as admin (admin)")).to_be_visible()
        browser.close()
