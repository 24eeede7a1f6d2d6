"""Several app processes on one PostgreSQL database: the claim is a real queue (a row another
transaction is claiming is skipped, not waited on), and only one process's hint worker runs
a round at a time. Each app process has its own `PostgresDatabase` (its own pool); here two
handles on one schema stand in for two processes."""
from __future__ import annotations

import re
import threading

import psycopg
import pytest

from store import hint_models, work
from store.db import open_database
from bench.seed import add_items
from tests.conftest import make_project


@pytest.fixture
def db(request):
    """This module is about several processes on one PostgreSQL database (one DuckDB file
    has one process): its `db` (and so `accounts`) is PostgreSQL's only."""
    from tests.pg import fresh_schema_url

    url, drop = fresh_schema_url(request.getfixturevalue("pg_server"))
    database = open_database(url)
    yield database
    database.close()
    drop()


@pytest.fixture
def pg_db(db):
    assert db.backend == "postgresql"
    return db


def test_a_claim_skips_the_row_another_claim_holds(pg_db, accounts, tmp_path):
    """While another transaction holds the row lock on the item next in line (a claim in
    flight in another process), a claim takes the item after it at once instead of waiting
    for that transaction (and then failing to serialise)."""
    db = pg_db
    pid = make_project(db, accounts, overlap=1)
    add_items(db, accounts["lead"], pid, 5)
    with db.read() as cur:
        first, second = [r[0] for r in cur.execute(
            "SELECT id FROM items WHERE project_id = ? ORDER BY id LIMIT 2", [pid]).fetchall()]
    other = psycopg.connect(db.url)
    try:
        other.execute("BEGIN")
        other.execute("SELECT id FROM items WHERE id = %s FOR UPDATE", [first])
        served: list = []
        claimer = threading.Thread(
            target=lambda: served.append(work.claim_next_item(db, accounts["ann1"], pid)),
            daemon=True)
        claimer.start()
        claimer.join(timeout=20)      # without SKIP LOCKED it waits for `other` to end
        blocked = claimer.is_alive()
    finally:
        other.rollback()
        other.close()
    claimer.join(timeout=60)
    assert not blocked, "the claim waited for the row another transaction holds"
    assert [i.id for i in served] == [second]
    # Once the lock is gone the first item is served again (to the next person).
    assert work.claim_next_item(db, accounts["ann2"], pid).id == first


def test_one_hint_worker_round_at_a_time_across_processes(pg_db, monkeypatch):
    """Two processes' workers on one database: while one holds the round, the other does
    nothing (no training, no re-scoring); once it is free, the other's round runs (the
    control), and it lets go of the round when done."""
    db = pg_db
    looked_at: list[int] = []
    monkeypatch.setattr(hint_models, "active_label_projects",
                        lambda _db: looked_at.append(1) or [])
    other_process = open_database(db.url)
    try:
        worker = hint_models.HintWorker(db, step=200, isolated=False)
        with other_process.exclusive(hint_models.HINT_ROUND_LOCK) as theirs:
            assert theirs
            assert worker.run_round() == 0
            assert (worker.rounds, worker.rounds_elsewhere, looked_at) == (0, 1, [])
        worker.run_round()
        assert (worker.rounds, worker.rounds_elsewhere, looked_at) == (1, 1, [1])
        with other_process.exclusive(hint_models.HINT_ROUND_LOCK) as theirs:
            assert theirs                 # the worker let go of the round when it ended
    finally:
        other_process.close()


def test_on_duckdb_the_one_process_always_has_the_round(tmp_path):
    duck = open_database(tmp_path / "one.duckdb")
    try:
        assert duck.backend == "duckdb"
        with duck.exclusive(hint_models.HINT_ROUND_LOCK) as ours:
            assert ours
    finally:
        duck.close()


def test_queue_writes_take_turns_across_processes(pg_db, accounts):
    """While another process is in its turn of the work queue (holds the queue lock), a
    claim waits for it instead of running alongside (and retrying on conflicts); it goes
    ahead as soon as the turn ends."""
    from store.postgres import QUEUE_LOCK

    db = pg_db
    pid = make_project(db, accounts, overlap=1)
    add_items(db, accounts["lead"], pid, 3)
    # Control: with nobody in a turn a claim goes straight through.
    assert work.claim_next_item(db, accounts["ann1"], pid) is not None
    other = psycopg.connect(db.url, autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", [QUEUE_LOCK])
        served: list = []
        claimer = threading.Thread(
            target=lambda: served.append(work.claim_next_item(db, accounts["ann2"], pid)),
            daemon=True)
        claimer.start()
        claimer.join(timeout=3)       # bounded: it must still be waiting after this
        waited = claimer.is_alive()
        other.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", [QUEUE_LOCK])
        claimer.join(timeout=60)
    finally:
        other.close()
    assert waited, "the claim ran while another process held the queue's turn"
    assert not claimer.is_alive() and served and served[0] is not None


def test_translation_fixes_found_by_the_cluster_work():
    """Two generic translations this work needed: a FROM subquery without an alias (DuckDB and
    PostgreSQL 16 accept it, Debian 12's PostgreSQL 15 does not) gets one, and a named DuckDB
    parameter (`$viewer`, store/threads.py) stays a psycopg placeholder, not an escaped `%`."""
    from store.pg_dialect import translate

    (sql,) = translate("SELECT count(*) FROM (SELECT item_id FROM annotations GROUP BY item_id)")
    assert re.search(r"\) AS _sq\d+$", sql), sql
    (sql,) = translate("SELECT * FROM (SELECT 1) t")
    assert sql == "SELECT * FROM (SELECT 1) AS t"          # an alias of its own is kept
    (sql,) = translate("SELECT count(*) FROM m WHERE m.user_id = $viewer AND m.body LIKE '%a%'")
    assert "%(viewer)s" in sql and "%%(viewer)s" not in sql and "'%%a%%'" in sql
