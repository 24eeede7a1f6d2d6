"""A database made by an earlier release migrates in place with nothing lost.

Each fixture tests/fixtures/upgrade_v<N>.duckdb.gz was made by that release's own code
(tests/fixtures/make_upgrade_fixture.py says how), with a manifest of every table's rows and
of what that release's reads answered. A copy is opened with today's `open_database`, which
migrates it; then every old row must still be there unchanged, the schema must be the newest,
the app's main reads and writes must work on it, and opening it again must change nothing.

On PostgreSQL the same: the fixture's rows are brought into a schema built only up to the
fixture's version (migrations 1..N), and `open_database` migrates that in place.
"""
from __future__ import annotations

import gzip
import json
import shutil
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest

from core.labels import Label
from store import dashboard, projects, threads, users, work
from store.dashboard_filter import DashboardFilter
from store.db import open_database
from store.exports import export
from store.history import item_history
from store.schema import MIGRATIONS, current_version, migrate
from store.work_queue import WorkQueue
from tests.conftest import STORES, table_counts
from tests.pg import duckdb_copy_of, make_schema_at_version

FIXTURES = Path(__file__).parent / "fixtures"
UPGRADES = sorted(FIXTURES.glob("upgrade_v*.duckdb.gz"))
NEWEST = MIGRATIONS[-1][0]
# Tables a later migration fills from the old rows, with what they must then hold.
BACKFILLED = {
    "imported_annotators": "SELECT name, min(id) FROM users WHERE password_hash ="
                           " '!imported-annotator:no-password' GROUP BY name ORDER BY ALL",
}


def unpack(fixture: Path, into: Path) -> Path:
    target = into / "safelabel.duckdb"
    with gzip.open(fixture, "rb") as packed, open(target, "wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def manifest_of(fixture: Path) -> dict:
    return json.loads(fixture.with_name(fixture.name.replace(".duckdb.gz", ".manifest.json"))
                      .read_text(encoding="utf-8"))


def rows_as_text(cur, table: str, columns: list[str]) -> list[list]:
    select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in columns)
    return [list(r) for r in cur.execute(f'SELECT {select} FROM "{table}" ORDER BY ALL').fetchall()]


def bring_into_postgres(fixture_file: Path, url: str, version: int) -> None:
    """The fixture's rows in a PostgreSQL schema built only up to the fixture's version
    (migrations 1..version), as a PostgreSQL installation of that release would hold them."""
    from store.migrate_to import copy_tables

    make_schema_at_version(url, version)
    with duckdb.connect(str(fixture_file), read_only=True) as raw:
        report = copy_tables(raw, url)
    assert report.committed and report.equal


@contextmanager
def rows_reader(db):
    """A DuckDB cursor over the store's tables, for checks that read rows as DuckDB's text:
    the file itself, or a copy of the PostgreSQL schema's tables read as Arrow."""
    if db.backend == "duckdb":
        with db.read() as cur:
            yield cur
    else:
        copy = duckdb_copy_of(db.url)
        try:
            yield copy
        finally:
            copy.close()


@pytest.fixture(params=[(store, fixture) for store in STORES for fixture in UPGRADES],
                ids=[f"{store}-{fixture.name.split('.')[0]}" for store in STORES
                     for fixture in UPGRADES])
def upgraded(request, tmp_path):
    """(database opened and migrated by today's code, its manifest, its path or URL): the
    fixture's file itself, or its rows in PostgreSQL at the fixture's schema version."""
    store, fixture = request.param
    manifest = manifest_of(fixture)
    path = unpack(fixture, tmp_path)
    # The copy really is the old release's file: its schema stops at the manifest's version.
    with duckdb.connect(str(path)) as raw:
        assert raw.execute("SELECT max(version) FROM schema_version").fetchone()[0] == \
            manifest["schema_version"] < NEWEST
    if store == "postgresql":
        from tests.pg import fresh_schema_url
        url, drop = fresh_schema_url(request.getfixturevalue("pg_server"))
        request.addfinalizer(drop)
        bring_into_postgres(path, url, manifest["schema_version"])
        copy = duckdb_copy_of(url)      # the old release's schema, with the file's rows
        assert copy.execute("SELECT max(version) FROM schema_version").fetchone()[0] == \
            manifest["schema_version"]
        assert copy.execute("SELECT count(*) FROM annotations").fetchone()[0] == \
            len(manifest["tables"]["annotations"]["rows"]) > 0
        copy.close()
        path = url
    db = open_database(path)
    yield db, manifest, path
    db.close()


def test_there_are_fixtures_of_the_last_two_schema_versions():
    assert [p.name for p in UPGRADES] == ["upgrade_v11.duckdb.gz", "upgrade_v12.duckdb.gz"]
    assert all(p.stat().st_size < 1_000_000 for p in UPGRADES)


def test_every_old_row_survives_unchanged_and_the_schema_is_the_newest(upgraded):
    db, manifest, _ = upgraded
    assert current_version(db) == NEWEST
    with rows_reader(db) as cur:
        versions = [r[0] for r in cur.execute(
            "SELECT version FROM schema_version ORDER BY version").fetchall()]
        assert versions == [v for v, _, _ in MIGRATIONS]
        tables = {r[0] for r in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            " AND table_type = 'BASE TABLE'").fetchall()}
        assert set(manifest["tables"]) <= tables
        for table, old in manifest["tables"].items():
            now = rows_as_text(cur, table, old["columns"])
            if table == "schema_version":     # the old versions' rows, then the new ones
                assert [r for r in now if r in old["rows"]] == old["rows"]
                assert len(now) == NEWEST
            else:
                assert now == old["rows"], table
        # Tables the later migrations added start empty, or hold what they backfilled.
        for table in tables - set(manifest["tables"]):
            if table in BACKFILLED:
                expected = cur.execute(BACKFILLED[table]).fetchall()
                assert expected       # the fixture has something to backfill
                assert cur.execute(f'SELECT name, user_id FROM "{table}" ORDER BY ALL'
                                   ).fetchall() == expected
            else:
                assert cur.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0, table
    counts = {t: len(v["rows"]) for t, v in manifest["tables"].items()}
    assert all(counts[t] > 0 for t in (
        "users", "projects", "items", "annotations", "claims", "events", "exposures", "flags",
        "gold_answers", "adjudications", "messages", "message_reads", "guideline_versions",
        "checkins", "sessions", "vote_imports", "imported_annotators", "qualification_decisions",
        "preferences", "imports") if t in counts)


def test_key_values_read_back_through_todays_code(upgraded):
    db, manifest, _ = upgraded
    ids = manifest["ids"]
    # Accounts: passwords still check, roles and the inactive account kept.
    ann1 = users.get_user_by_username(db, "ann1")
    assert ann1.id == ids["ann1"] and ann1.role == "annotator"
    record = users.login_record(db, "ann1")
    assert users.check_password(manifest["password"], record.password_hash)
    assert not users.check_password("wrong-password-1", record.password_hash)
    assert users.get_user(db, ids["gone"]).active is False
    assert users.get_user(db, ids["lead"]).role == "lead"
    # Projects: kinds, overlap, settings, archive, guidelines version 2.
    label = projects.get_project(db, ids["label"])
    assert (label.kind, label.overlap) == ("label", 2)
    assert label.settings["mask_terms"] == ["spanner"]
    assert projects.get_project(db, ids["compare"]).kind == "compare"
    assert projects.get_project(db, ids["votes"]).archived
    from store.guidelines import current_guidelines
    current = current_guidelines(db, ids["label"])
    assert current.version == 2 and "Version two" in current.text
    with db.read() as cur:
        # Hints: the file's hint kept as imported, a keyword hint as scored; the new columns
        # the later migrations added are empty on old items.
        hints = dict((e, (s, c, src, conf)) for e, s, c, src, conf in cur.execute(
            "SELECT external_id, hint_severity, hint_category, hint_source, hint_confidence"
            " FROM items WHERE project_id = ?", [ids["label"]]).fetchall())
        assert hints["L2"] == (3, "S1", "import", None)
        assert hints["L0"][2] == "scorer"
        # The correction: ann2's second version supersedes the first.
        versions = cur.execute(
            "SELECT version, supersedes, categories FROM annotations WHERE user_id = ?"
            " AND project_id = ? ORDER BY version", [ids["ann2"], ids["label"]]).fetchall()
    first, second = versions[0], next(v for v in versions if v[0] == 2)
    assert first[1] is None and second[1] is not None and second[2] == ["S10", "S1"]
    # A thread reads back, for its annotator.
    with db.read() as cur:
        item_l0 = cur.execute("SELECT id FROM items WHERE external_id = 'L0'").fetchone()[0]
    messages = threads.thread(db, ids["ann1"], item_l0, ids["ann1"])
    assert [m.body for m in messages] == ["Is a chain tip really safe?",
                                          "Yes: it is ordinary advice."]
    assert threads.unread_count(db, ids["ann1"]) == 0
    history = " | ".join(f"{e.who} {e.what} {e.details}" for e in item_history(db, item_l0))
    assert "Is a chain tip really safe?" in history and "ann2" in history


def test_the_apps_main_reads_and_writes_work_on_the_upgraded_file(upgraded, tmp_path):
    db, manifest, _ = upgraded
    ids = manifest["ids"]
    # Progress as the old release reported it.
    for key, old in manifest["reads"]["progress"].items():
        progress = projects.project_progress(db, ids[key])
        assert {k: getattr(progress, k) for k in old} == old, key
    # Exports: the same rows (by item, annotator, version, kind) as the old release wrote.
    for name, old in manifest["reads"]["exports"].items():
        key, kind = name.split("/")
        out = tmp_path / f"{key}-{kind}.jsonl"
        assert export(db, ids["lead"], ids[key], kind, out) == old["count"], name
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert sorted([r.get("external_id"), r.get("annotator"), r.get("version"), r.get("kind")]
                      for r in rows) == old["rows"], name
    assert manifest["reads"]["exports"]["label/annotations"]["count"] > 0   # compared real rows
    # Every export kind of each project runs on the old data.
    from core.export_kinds import kinds_for
    for key in ("label", "compare"):
        project = projects.get_project(db, ids[key])
        for kind in kinds_for(project.kind):
            export(db, ids["lead"], ids[key], kind.name, tmp_path / f"all-{key}-{kind.name}.json")
    # The dashboard's aggregates, a lead's view.
    everything = DashboardFilter(date(2000, 1, 1), date(2100, 1, 1))
    tables = dashboard.all_aggregates(db, everything, workers=2, team=True)
    assert tables and sum(len(t) for t in tables.values()) > 0
    # ann3 held claims in the old file: claiming gives them an item (theirs or fresh) and a
    # submit with a client answer id (a table the old file did not have) is recorded once.
    queue = WorkQueue(db, ids["ann3"], ids["label"])
    shown = queue.claim()
    assert shown.current is not None
    done = queue.submit(shown.current.id, Label(True, (), 0), client_id="after-upgrade-1")
    assert work.latest_annotation(db, shown.current.id, ids["ann3"]).id == done.annotation_id
    compare = WorkQueue(db, ids["ann2"], ids["compare"]).claim()
    assert compare.current is not None and compare.current.response_a


def test_a_second_open_is_a_no_op(upgraded):
    db, _, path = upgraded
    before = table_counts(db)
    with db.read() as cur:
        versions = cur.execute("SELECT * FROM schema_version ORDER BY version").fetchall()
    db.close()
    again = open_database(path)
    try:
        assert migrate(again) == []
        assert table_counts(again) == before
        with again.read() as cur:
            assert cur.execute("SELECT * FROM schema_version ORDER BY version").fetchall() \
                == versions
    finally:
        again.close()
