"""`cli.py migrate-to postgresql://...`: a DuckDB installation moves into an empty PostgreSQL
database with every table equal, or nothing changes; the app then works on the target, and
every export reads the same from either store."""
from __future__ import annotations

import importlib.util
import json

import pytest

import cli
from core.export_kinds import kinds_for
from core.labels import Label
from store import projects, users
from store.db import open_database
from store.exports import export
from store.work_queue import WorkQueue
from tests.conftest import PASSWORD, STORES, ROOT, table_counts
from tests.pg import duckdb_copy_of

pytestmark = pytest.mark.skipif("postgresql" not in STORES, reason="PostgreSQL not installed")


def _fixture_builder():
    """The upgrade fixtures' builder (tests/fixtures/make_upgrade_fixture.py): real content in
    every table, made through the store's own functions."""
    spec = importlib.util.spec_from_file_location(
        "make_upgrade_fixture", ROOT / "tests" / "fixtures" / "make_upgrade_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


@pytest.fixture(params=["postgresql"])
def target(request) -> str:
    """An empty PostgreSQL schema's URL."""
    from tests.pg import fresh_schema_url
    url, drop = fresh_schema_url(request.getfixturevalue("pg_server"))
    request.addfinalizer(drop)
    return url


@pytest.fixture
def installation(tmp_path) -> tuple[str, dict[str, int]]:
    """A DuckDB installation with real content: (its file, the builder's ids)."""
    path = tmp_path / "source.duckdb"
    db = open_database(path)
    ids = _fixture_builder()(db, tmp_path)
    db.close()
    return str(path), ids


def rows_as_text(cur, table: str) -> list[tuple]:
    columns = [r[0] for r in cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " ORDER BY ordinal_position", [table]).fetchall()]
    select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
    return cur.execute(f'SELECT {select} FROM "{table}" ORDER BY ALL').fetchall()


def migrate_cli(source: str, url: str, capsys) -> tuple[int, str, str]:
    code = cli.main(["--db", source, "migrate-to", url])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_installation_moves_with_every_table_equal_and_the_app_works_on_it(
        installation, target, capsys):
    source, ids = installation
    source_db = open_database(source)
    source_counts = table_counts(source_db)
    with source_db.read() as cur:
        source_rows = {t: rows_as_text(cur, t) for t in source_counts}
    source_db.close()
    assert all(source_counts[t] > 0 for t in (          # real content, in every kind of table
        "users", "projects", "items", "annotations", "claims", "events", "flags", "exposures",
        "gold_answers", "adjudications", "messages", "message_reads", "guideline_versions",
        "checkins", "sessions", "vote_imports", "imported_annotators", "preferences",
        "imports", "qualification_decisions", "schema_version"))

    code, out, err = migrate_cli(source, target, capsys)
    assert code == 0, err
    for table, count in source_counts.items():   # the per-table report
        assert any(line.split()[:3] == [table, str(count), str(count)] and
                   line.split()[-1] == "ok" for line in out.splitlines()), table
    assert "every table matches" in out

    # Independently of the command's own checksums: every row of every table, as text; the
    # target has one event more, the move itself.
    copy = duckdb_copy_of(target)
    moves = copy.execute("SELECT id, user_id, details->>'source' FROM events"
                         " WHERE kind = 'migrated_in'").fetchall()
    assert len(moves) == 1 and moves[0][1] is None and moves[0][2] == "source.duckdb"
    assert moves[0][0] > max(r[0] for r in copy.execute(
        "SELECT id FROM events WHERE kind <> 'migrated_in'").fetchall())
    copy.execute("DELETE FROM events WHERE kind = 'migrated_in'")
    assert {t: len(rows_as_text(copy, t)) for t in source_counts} == source_counts
    for table, rows in source_rows.items():
        assert rows_as_text(copy, table) == rows, table

    # The store works on the target: a login checks, new rows get fresh ids.
    db = open_database(target)
    try:
        record = users.login_record(db, "ann1")
        assert users.check_password("fixture-password-1", record.password_hash)
        newcomer = users.create_user(db, ids["admin"], "newcomer", "New", PASSWORD, "annotator")
        assert newcomer > max(ids[n] for n in ("admin", "lead", "ann1", "ann2", "ann3", "gone"))
        fresh = projects.create_project(db, ids["lead"], "After the move", "label", "", None, 1,
                                        [newcomer])
        assert fresh > max(ids["label"], ids["compare"], ids["votes"])
    finally:
        db.close()


def test_people_claim_and_save_on_the_moved_database(installation, target, capsys):
    source, ids = installation
    assert migrate_cli(source, target, capsys)[0] == 0
    db = open_database(target)
    try:
        with db.read() as cur:
            before = cur.execute("SELECT count(*), max(id) FROM annotations").fetchone()
        queue = WorkQueue(db, ids["ann3"], ids["label"])
        shown = queue.claim()
        assert shown.current is not None
        done = queue.submit(shown.current.id, Label(True, (), 0), client_id="after-move-1")
        compare = WorkQueue(db, ids["ann2"], ids["compare"]).claim()
        assert compare.current is not None and compare.current.response_a
        with db.read() as cur:
            assert cur.execute("SELECT count(*) FROM annotations").fetchone()[0] == before[0] + 1
        assert done.annotation_id > before[1]     # the sequence was set past the copied ids
    finally:
        db.close()


def test_every_export_reads_the_same_from_either_store(installation, target, capsys, tmp_path):
    source, ids = installation
    assert migrate_cli(source, target, capsys)[0] == 0
    compared = 0
    for store, where in (("duckdb", source), ("postgresql", target)):
        db = open_database(where)
        try:
            for key in ("label", "compare", "votes"):
                project = projects.get_project(db, ids[key])
                for kind in kinds_for(project.kind):
                    for fmt in kind.formats:
                        export(db, ids["lead"], ids[key], kind.name,
                               tmp_path / store / f"{key}-{kind.name}.{fmt}", fmt)
        finally:
            db.close()
    for made in sorted((tmp_path / "duckdb").iterdir()):
        twin = tmp_path / "postgresql" / made.name
        if made.suffix == ".parquet":
            import duckdb
            with duckdb.connect() as con:
                read = "SELECT * FROM read_parquet(?)"
                assert con.execute(read, [str(twin)]).fetchall() == \
                    con.execute(read, [str(made)]).fetchall(), made.name
                assert con.execute(f"DESCRIBE {read}", [str(twin)]).fetchall() == \
                    con.execute(f"DESCRIBE {read}", [str(made)]).fetchall(), made.name
        else:
            assert twin.read_bytes() == made.read_bytes(), made.name
        compared += 1
    # Positive control: the files hold the fixture's work, in every kind.
    lines = (tmp_path / "duckdb" / "label-annotations.jsonl").read_text().splitlines()
    assert len(lines) >= 6 and json.loads(lines[0])["annotator"]
    assert compared >= 20


def test_a_target_that_holds_data_is_refused_and_nothing_changes(installation, target, capsys):
    source, _ = installation
    db = open_database(target)
    users.create_user(db, None, "already", "Already Here", PASSWORD, "admin")
    before = table_counts(db)
    db.close()
    code, out, err = migrate_cli(source, target, capsys)
    assert code == 1
    assert "already holds data:" in err and "users (1)" in err and "nothing was changed" in err
    db = open_database(target)
    try:
        assert table_counts(db) == before
    finally:
        db.close()


def test_a_target_at_another_schema_version_is_refused(installation, target, capsys):
    import psycopg

    source, _ = installation
    db = open_database(target)
    db.close()
    with psycopg.connect(target, autocommit=True) as conn:    # a later release made it
        conn.execute("INSERT INTO schema_version VALUES (999, 'from the future', now())")
    code, _, err = migrate_cli(source, target, capsys)
    assert code == 1 and "version 999" in err and "nothing was changed" in err
    copy = duckdb_copy_of(target)
    assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    assert copy.execute("SELECT count(*) FROM schema_version").fetchone()[0] > 1


def test_a_table_that_differs_after_the_copy_fails_the_move_and_keeps_nothing(
        installation, target, capsys, monkeypatch):
    from store import migrate_to

    checksum = migrate_to._checksum_sql

    def lose_a_user(source, columns):    # the target's users read back one short
        sql = checksum(source, columns)
        if source == "target_rows" and [c for c, _ in columns][:2] == ["id", "username"]:
            sql = sql.replace("SELECT count(*)", "SELECT count(*) - 1", 1)
        return sql

    monkeypatch.setattr(migrate_to, "_checksum_sql", lose_a_user)
    source, _ = installation
    code, out, err = migrate_cli(source, target, capsys)
    assert code == 1 and "1 table(s) differ" in err
    assert any(line.startswith("users ") and line.endswith("DIFFERENT")
               for line in out.splitlines())
    assert any(line.startswith("items ") and line.endswith("ok") for line in out.splitlines())
    copy = duckdb_copy_of(target)        # nothing was kept
    assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    assert copy.execute("SELECT count(*) FROM items").fetchone()[0] == 0
