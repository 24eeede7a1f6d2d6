"""PostgreSQL helpers for the tests: a free port, and a fresh schema per test."""
from __future__ import annotations

import socket
import uuid
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_schema_url(url: str) -> tuple[str, Callable[[], None]]:
    """A URL whose connections work in a new, empty schema, and the function that drops it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return f"{url}?options=-csearch_path%3D{schema}", drop
