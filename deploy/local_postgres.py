"""A PostgreSQL cluster in a project folder, from Debian's packages: for the tests, the
benches and `make run-cluster`. Not for production (there, use the distribution's service).

    python deploy/local_postgres.py start DIR PORT   # prints the database URL
    python deploy/local_postgres.py stop DIR

PostgreSQL refuses to run as root, so as root the cluster runs as Debian's `postgres` account
(created by the package). It listens on 127.0.0.1 only and trusts local connections: a
throwaway cluster for one machine, never one reachable from a network.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

USER = "safelabel"
DATABASE = "safelabel"


def bin_dir() -> Path | None:
    """Debian's PostgreSQL binaries (the newest installed version), if any."""
    base = Path("/usr/lib/postgresql")
    versions = sorted((p for p in base.glob("*/bin/initdb")), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def available() -> bool:
    return bin_dir() is not None


def _as_owner(args: list[str], folder: Path) -> list[str]:
    if os.geteuid() != 0:
        return args
    shutil.chown(folder, "postgres", "postgres")
    return ["runuser", "-u", "postgres", "--", *args]


def url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://{USER}@127.0.0.1:{port}/{database}"


def start(folder: str | Path, port: int, fast: bool = False) -> str:
    """Create (first time) and start the cluster in `folder`; return the database URL.

    `fast` turns off fsync: for tests only, where a crash of the machine may lose the data.
    The crash bench keeps fsync on (it kills the app, not the database server).
    """
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust",
                                  "-U", USER, "-E", "UTF8", "--no-sync", "--locale=C"], folder),
                       check=True, stdout=subprocess.DEVNULL, cwd="/")
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
               " -c shared_buffers=128MB")
    if fast:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    status = subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "status"],
                                      folder), capture_output=True, cwd="/")
    if status.returncode != 0:
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
                                  "-l", str(folder / "server.log"), "-w", "-t", "60", "start"],
                                 folder), check=True, stdout=subprocess.DEVNULL, cwd="/")
    _ensure_database(port)
    return url(port)


def _ensure_database(port: int) -> None:
    import psycopg

    with psycopg.connect(url(port, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [DATABASE]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def stop(folder: str | Path) -> None:
    binaries = bin_dir()
    data = Path(folder).resolve() / "data"
    if binaries is None or not (data / "postmaster.pid").exists():
        return
    subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                              "stop"], Path(folder).resolve()),
                   check=False, stdout=subprocess.DEVNULL, cwd="/")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "start":
        print(start(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5432))
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        stop(sys.argv[2])
    else:
        sys.exit(__doc__)
