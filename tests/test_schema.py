from store.db import open_database
from store.schema import MIGRATIONS, current_version, migrate


def test_migrations_from_empty_then_rerun_is_a_no_op(tmp_path):
    path = tmp_path / "fresh.duckdb"
    db = open_database(path)
    assert current_version(db) == MIGRATIONS[-1][0]
    assert migrate(db) == []
    db.close()
    # Reopening the file applies nothing either, and the tables are still there.
    again = open_database(path)
    assert migrate(again) == []
    with again.read() as cur:
        tables = {r[0] for r in cur.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"users", "projects", "project_members", "items", "claims", "annotations", "events",
            "imports", "flags", "settings", "schema_version"} <= tables
    again.close()


def test_database_folder_is_created(tmp_path):
    db = open_database(tmp_path / "deep" / "er" / "x.duckdb")
    assert (tmp_path / "deep" / "er" / "x.duckdb").exists()
    db.close()
