"""SafeLabel as a small cluster on one machine, for trying the multi-process layout:
a PostgreSQL cluster, N app processes and nginx in front with sticky sessions.

    python deploy/run_cluster.py [--processes 3] [--address 127.0.0.1] [--port 8501]
                                 [--folder .cluster] [--pg-port 5433] [--app-port 8511]

(`make run-cluster N=3` runs it.) Everything it keeps is in `--folder`: the PostgreSQL data
(fsync on; it survives restarts, so the next run finds the same database), the nginx
configuration it writes from deploy/nginx-cluster.conf, and each process's log. It runs
`cli.py init` once against the database (which prints the first-admin setup token while no
account exists), starts the app processes on 127.0.0.1 at `--app-port` and up, then nginx
on `--address`:`--port`, and prints the address. Ctrl+C (or SIGTERM) stops nginx, the app
processes and PostgreSQL, in that order; if one of them stops on its own, the rest are
stopped too (its log says why).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy import local_postgres  # noqa: E402

TEMPLATE = ROOT / "deploy" / "nginx-cluster.conf"


def nginx_binary() -> str:
    bundled = ROOT / ".venv" / "nginx" / "usr" / "sbin" / "nginx"
    found = (os.environ.get("SAFELABEL_NGINX") or (str(bundled) if bundled.exists() else None)
             or shutil.which("nginx"))
    if not found:
        raise SystemExit("nginx is not installed: `make nginx` unpacks Debian's into .venv/nginx")
    return found


def streamlit_binary() -> list[str]:
    return [sys.executable, "-m", "streamlit"]


@dataclass
class Cluster:
    url: str                                  # the proxy: what people open
    database: str                             # the PostgreSQL URL every process uses
    app_urls: list[str]                       # each app process, directly (127.0.0.1)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)   # name -> process
    folder: Path = Path(".cluster")


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{url} did not start (log {log}):\n{tail}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_config(folder: Path, address: str, port: int, app_ports: list[int]) -> Path:
    """deploy/nginx-cluster.conf with its upstream servers and listen address filled in,
    inside a main configuration that runs nginx without root from `folder`."""
    site = TEMPLATE.read_text(encoding="utf-8")
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;"
                        for p in app_ports)
    for marker, text in (("    # @servers@", servers), ("    # @listen@", f"    listen {address}:{port};")):
        if site.count(marker) != 1:
            raise RuntimeError(f"{marker.strip()!r} should occur once in {TEMPLATE}")
        site = site.replace(marker, text)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "safelabel-cluster.conf").write_text(site, encoding="utf-8")
    temp_paths = "\n".join(f"    {kind}_temp_path {folder / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    log_format cluster '$remote_addr [$time_local] \"$request\" $status"
        " route=$safelabel_route upstream=$upstream_addr';\n"
        f"    access_log {folder / 'access.log'} cluster;\n{temp_paths}\n"
        f"    include {folder / 'safelabel-cluster.conf'};\n}}\n",
        encoding="utf-8")
    return main


@contextmanager
def cluster(folder: Path, processes: int = 3, address: str = "127.0.0.1", port: int = 8501,
            app_port: int = 8511, pg_port: int = 5433, database: str | None = None,
            env: dict[str, str] | None = None, init: bool = True,
            app_ports: list[int] | None = None) -> Iterator[Cluster]:
    """Start the cluster (PostgreSQL unless `database` names one already running, `cli.py
    init` when `init`, the app processes at `app_ports` or `app_port` and up, nginx); yield
    it; stop everything on the way out."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    app_ports = app_ports or [app_port + n for n in range(processes)]
    with ExitStack() as stack:
        if database is None:
            database = local_postgres.start(folder / "postgres", pg_port)     # fsync on
            stack.callback(local_postgres.stop, folder / "postgres")
        app_env = {**os.environ, "SAFELABEL_DB": database,
                   # No demo unless asked for: a shared database is a team's, not a demo.
                   "SAFELABEL_DEMO": os.environ.get("SAFELABEL_DEMO", "0"),
                   # The app sits behind the proxy: logins are throttled by X-Real-IP.
                   "SAFELABEL_TRUSTED_PROXY": "1", **(env or {})}
        if init:
            subprocess.run([sys.executable, str(ROOT / "cli.py"), "init"], cwd=ROOT,
                           env=app_env, check=True)
        result = Cluster(f"http://{address}:{port}", database,
                         [f"http://127.0.0.1:{p}" for p in app_ports], folder=folder)
        for p in app_ports:
            log_path = folder / f"app-{p}.log"
            log = stack.enter_context(open(log_path, "w"))
            process = subprocess.Popen(
                [*streamlit_binary(), "run", str(ROOT / "serve.py"), "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(p),
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, env=app_env, stdout=log, stderr=subprocess.STDOUT,
                # Its own session: Ctrl+C reaches this script, which stops things in order.
                start_new_session=True)
            stack.callback(_stop, process)
            result.processes[f"app {p}"] = process
        for p, url in zip(app_ports, result.app_urls):
            _wait_healthy(url, result.processes[f"app {p}"], folder / f"app-{p}.log")
        main = nginx_config(folder / "nginx", address, port, app_ports)
        proxy_log = folder / "nginx" / "console.log"
        proxy_out = stack.enter_context(open(proxy_log, "w"))
        proxy = subprocess.Popen([nginx_binary(), "-p", str(folder / "nginx"), "-c", str(main)],
                                 stdout=proxy_out, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(_stop, proxy)     # callbacks run last-in first-out: nginx stops first
        result.processes["nginx"] = proxy
        _wait_healthy(result.url, proxy, folder / "nginx" / "error.log", timeout=30)
        yield result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", "-n", type=int, default=3)
    parser.add_argument("--address", default="127.0.0.1", help="where nginx listens")
    parser.add_argument("--port", type=int, default=8501, help="where nginx listens")
    parser.add_argument("--folder", default=str(ROOT / ".cluster"))
    parser.add_argument("--pg-port", type=int, default=5433)
    parser.add_argument("--app-port", type=int, default=8511,
                        help="the first app process's port (127.0.0.1); the next ones follow")
    args = parser.parse_args()
    if args.processes < 1:
        raise SystemExit("--processes must be at least 1")
    if not local_postgres.available():
        raise SystemExit("PostgreSQL is not installed: `make postgresql` installs Debian's")

    stopping = threading.Event()

    def on_signal(signum, _frame) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with cluster(Path(args.folder), args.processes, args.address, args.port, args.app_port,
                 args.pg_port) as running:
        print(f"\nSafeLabel cluster: {args.processes} app process(es) on PostgreSQL "
              f"({running.database}), behind nginx.\nOpen {running.url}\n"
              f"Logs in {running.folder}. Ctrl+C stops everything.", flush=True)
        while not stopping.wait(1.0):
            ended = [name for name, p in running.processes.items() if p.poll() is not None]
            if ended:
                print(f"{', '.join(ended)} stopped on its own (see its log in "
                      f"{running.folder}); stopping the rest.", flush=True)
                break
        print("Stopping nginx, the app processes and PostgreSQL…", flush=True)
    print("Stopped.")


if __name__ == "__main__":
    main()
