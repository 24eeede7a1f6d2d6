"""kill -9 of the app process while 5 sessions submit (one repetition of bench/bench_crash.py):
every acknowledged answer is in the reopened file exactly once, nothing is half-written, the
file opens without repair, and the sessions carry on after the restart."""
from __future__ import annotations

import random
import shutil

import duckdb
import pytest

from bench.bench_crash import check, make_database, resume, run_and_kill
from tests.conftest import STORES


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A database whose driver process was killed -9 mid-submit, and what it acknowledged."""
    db_path = tmp_path_factory.mktemp("crash") / "crash.duckdb"
    project_id, people = make_database(db_path, items=200, overlap=2, sessions=5)
    rep = run_and_kill(db_path, project_id, people, min_acks=25, max_delay=0.3,
                       rng=random.Random(), timeout=60)
    return db_path, project_id, people, rep


def test_every_acknowledged_answer_survives_kill_9_exactly_once(crashed):
    db_path, project_id, people, rep = crashed
    assert rep.errors == []
    assert not rep.finished_before_kill          # the kill landed while sessions were submitting
    assert len(rep.acks) >= 25
    assert {a.kind for a in rep.acks} == {"submit", "skip"}
    assert len({a.user_id for a in rep.acks}) >= 2   # sessions were at work side by side
    figures, problems = check(db_path, project_id, rep.acks)
    assert problems == []
    assert figures["acked_submits"] > 0
    assert figures["annotations"] >= figures["acked_submits"]
    # After the restart every session claims again (its held claims come back) and submits.
    after = resume(db_path, project_id, people)
    assert len(after) == len(people)
    figures, problems = check(db_path, project_id, rep.acks + after)
    assert problems == []


def test_the_check_finds_a_lost_a_doubled_and_a_half_written_answer(crashed, tmp_path):
    """Positive controls: the same check on copies of the crashed file with one acknowledged
    answer deleted, one doubled, and one answer's event missing reports each."""
    db_path, project_id, _, rep = crashed
    submit = next(a for a in rep.acks if a.kind == "submit")
    damage = {
        "acknowledged submits missing": "DELETE FROM annotations WHERE id = {id}",
        "(item, person, version) twice":
            "INSERT INTO annotations SELECT * REPLACE (id + 1000000 AS id) FROM annotations"
            " WHERE id = {id}",
        "annotations without exactly one submit event":
            "DELETE FROM events WHERE kind = 'submit' AND item_id = {item} AND user_id = {user}",
        "items whose bookkeeping does not add up":
            "UPDATE items SET done_count = done_count + 1 WHERE id = {item}",
    }
    for expected, sql in damage.items():
        copy = tmp_path / f"copy{len(expected)}.duckdb"
        shutil.copy(db_path, copy)
        wal = db_path.with_name(db_path.name + ".wal")
        if wal.exists():
            shutil.copy(wal, copy.with_name(copy.name + ".wal"))
        with duckdb.connect(str(copy)) as con:
            con.execute(sql.format(id=submit.annotation_id, item=submit.item_id,
                                   user=submit.user_id))
        _, problems = check(copy, project_id, rep.acks)
        assert any(p.startswith(expected) for p in problems), (expected, problems)


@pytest.mark.skipif("postgresql" not in STORES, reason="PostgreSQL is not installed")
def test_kill_9_of_one_of_three_app_processes_on_postgresql(request):
    """PostgreSQL: three driver processes (app processes) share the 5 sessions; one is
    killed -9 mid-submit, the other two carry on and are then killed too. Every acknowledged
    answer is in the database exactly once, nothing half-written; after a restart every
    session claims and submits again. Control: one acknowledged answer deleted is reported."""
    from tests.pg import fresh_schema_url

    url, drop = fresh_schema_url(request.getfixturevalue("pg_server"))
    request.addfinalizer(drop)
    project_id, people = make_database(url, items=200, overlap=2, sessions=5)
    rep = run_and_kill(url, project_id, people, min_acks=25, max_delay=0.3,
                       rng=random.Random(), timeout=90, drivers=3, survivor_acks=10)
    assert rep.errors == []
    assert not rep.finished_before_kill
    assert {a.kind for a in rep.acks} == {"submit", "skip"}
    assert len({a.user_id for a in rep.acks}) >= 3      # sessions of several processes
    figures, problems = check(url, project_id, rep.acks)
    assert problems == []
    assert figures["acked_submits"] > 0
    after = resume(url, project_id, people)
    assert len(after) == len(people)
    _, problems = check(url, project_id, rep.acks + after)
    assert problems == []
    submit = next(a for a in rep.acks if a.kind == "submit")
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM annotations WHERE id = %s", [submit.annotation_id])
    _, problems = check(url, project_id, rep.acks)
    assert any(p.startswith("acknowledged submits missing") for p in problems), problems
