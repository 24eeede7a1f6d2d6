"""store/staging.py: imports read and check their file in DuckDB on both stores; on PostgreSQL
in a scratch DuckDB whose prepared rows reach the write's transaction by COPY."""
import json
from datetime import datetime
from pathlib import Path

import duckdb
import psycopg
import pytest

from store.db import spill_directory
from store.imports import ImportProblem, import_file, refresh_severity_hints
from store.staging import staging_cursor, temp_rows, write_staged
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl

# Values text COPY must carry unchanged: escapes, separators, quotes, non-ASCII, empty vs NULL.
AWKWARD = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", "quote ' and \"", "",
           "\u00e9t\u00e9 \u4e2d\u6587 \U0001F600", "a,b|c", None]


def _conflict(db):
    """The error a write is retried on, for this store."""
    if db.backend == "postgresql":
        return psycopg.errors.SerializationFailure("could not serialize access")
    return duckdb.TransactionException("TransactionContext Error: Conflict on update")


def test_staged_rows_reach_the_write_as_they_were(db, tmp_path):
    with staging_cursor(db, tmp_path) as cur:
        cur.execute("CREATE TEMP TABLE sample (n BIGINT, text VARCHAR, doc JSON, tags VARCHAR[],"
                    " flag BOOLEAN, seen_at TIMESTAMP, score INTEGER)")
        rows = [(k, text, json.dumps({"k": text, "nested": [1, {"q": "\"'"}]}) if text else None,
                 [text or "", "x y"] if k % 2 else ([] if k % 3 else None), k % 2 == 0,
                 datetime(2026, 1, 2, 3, 4, 5, 678900), None if k == 3 else k * 10)
                for k, text in enumerate(AWKWARD)]
        cur.executemany("INSERT INTO sample VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        expected = cur.execute("SELECT n, text, CAST(doc AS VARCHAR), tags, flag, seen_at, score"
                               " FROM sample ORDER BY n").fetchall()
        seen = write_staged(db, cur, lambda w: w.execute(
            "SELECT n, text, CAST(doc AS VARCHAR), tags, flag, seen_at, score FROM sample ORDER BY n"
        ).fetchall(), ["sample"])
    assert len(expected) == len(AWKWARD)
    assert [tuple(r) for r in seen] == [tuple(r) for r in expected]


def test_a_retried_write_sees_the_staged_rows_again_and_keeps_one_attempt(db, accounts,
                                                                           tmp_path):
    attempts = []

    def work(cur):
        staged = cur.execute("SELECT count(*) FROM prepared").fetchone()[0]
        cur.execute("INSERT INTO settings VALUES (?, ?)", [f"staged-{len(attempts)}", "1"])
        attempts.append(staged)
        if len(attempts) == 1:
            raise _conflict(db)
        return staged

    before = table_counts(db)
    with staging_cursor(db, tmp_path) as cur:
        cur.execute("CREATE TEMP TABLE prepared AS SELECT range AS n FROM range(5)")
        assert write_staged(db, cur, work, ["prepared"]) == 5
    assert attempts == [5, 5]
    with db.read() as cur:
        keys = [r[0] for r in cur.execute(
            "SELECT key FROM settings WHERE key LIKE 'staged-%' ORDER BY key").fetchall()]
    assert keys == ["staged-1"]         # the failed attempt left nothing
    assert table_counts(db)["settings"] == before["settings"] + 1


def test_the_staging_database_keeps_the_memory_budget_and_spills_privately(db, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("SAFELABEL_MEMORY_LIMIT", "200MB")
    folder = tmp_path / "scratch"
    folder.mkdir(mode=0o700)
    with staging_cursor(db, folder) as cur:
        limit, temp = cur.execute("SELECT current_setting('memory_limit'),"
                                  " current_setting('temp_directory')").fetchone()
        reads = cur.execute("SELECT count(*) FROM read_json_objects(?)",
                            [str(write_jsonl(tmp_path / "a.jsonl", [{"a": 1}, {"a": 2}]))]
                            ).fetchone()[0]
    assert reads == 2
    if db.backend == "duckdb":
        # The store's own cursor: its budget and spill folder were set when it was opened.
        assert temp == str(spill_directory(db.path))
    else:
        # A scratch database per import, inside the budget of the moment, spilling into the
        # import's private folder (which goes with it).
        assert limit == "190.7 MiB"
        assert Path(temp) == folder / "duckdb.spill"


def test_import_leaves_no_temp_tables_behind(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    rows = [{"id": f"r{n}", "prompt": f"p{n}"} for n in range(3)]
    rows[0].update(gold_is_safe="unsafe", gold_categories="S1, S10", gold_severity=3,
                   gold_explanation="targets\ta group,\nand \\ quotes \"'")
    result = import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "g.jsonl", rows))
    assert result.items_added == 3
    with db.read() as cur:
        gold = cur.execute("SELECT categories, explanation FROM gold_answers").fetchall()
        assert [tuple(g) for g in gold] == [(["S1", "S10"], "targets\ta group,\nand \\ quotes \"'")]
        if db.backend == "postgresql":
            # Every session's temp tables show in pg_class, this one's and the pool's others.
            leftovers = cur.execute(
                "SELECT relname FROM pg_class WHERE relpersistence = 't'"
                " AND relname IN ('new_rows', 'gold_rows', 'imported_annotations')").fetchall()
            assert leftovers == []
    # A second import on the same pooled connections makes its tables again.
    again = import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "h.jsonl", [
        {"id": "r9", "prompt": "p9"}]))
    assert again.items_added == 1


def test_rows_given_column_wise_keep_lists_of_lists(db, accounts):
    """PostgreSQL flattens a list of lists in unnest; the rows go in by COPY there."""
    def work(cur):
        temp_rows(db, cur, "given", {"n": "INTEGER", "tags": "VARCHAR[]", "note": "VARCHAR"},
                  {"n": [1, 2, 3], "tags": [["a", "b"], [], None], "note": ["x", None, "\t"]})
        rows = cur.execute("SELECT n, tags, note FROM given ORDER BY n").fetchall()
        cur.execute("DROP TABLE given")
        return rows

    assert [tuple(r) for r in db.write(work)] == [(1, ["a", "b"], "x"), (2, [], None),
                                                   (3, None, "\t")]


def test_a_nul_character_in_item_text_is_named_on_postgresql_and_kept_on_duckdb(
        db, accounts, tmp_path):
    pid = make_project(db, accounts)
    path = write_jsonl(tmp_path / "nul.jsonl", [{"id": "a", "prompt": "x\u0000y"},
                                                {"id": "b", "prompt": "fine"}])
    if db.backend == "postgresql":
        before = table_counts(db)
        with pytest.raises(ImportProblem, match=r"row 1, column 'prompt': holds the NUL"):
            import_file(db, accounts["lead"], pid, path)
        assert table_counts(db) == before
        # Positive control: the other row goes in when asked to set the bad one aside.
        result = import_file(db, accounts["lead"], pid, path, skip_bad=True,
                             rejects_path=tmp_path / "rejects.jsonl")
        assert (result.items_added, result.rows_rejected) == (1, 1)
    else:
        assert import_file(db, accounts["lead"], pid, path).items_added == 2


def test_refreshing_hints_scores_in_duckdb_on_either_store(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "a.jsonl", [
        {"id": "a", "prompt": "how to kill", "response": "murder and rape"},
        {"id": "b", "prompt": "a calm question", "response": "a kind answer"},
        {"id": "c", "prompt": "x", "hint_severity": 2}]))
    db.write(lambda cur: cur.execute("UPDATE items SET hint_severity = 0"
                                     " WHERE external_id IN ('a', 'b')"))
    assert refresh_severity_hints(db, accounts["lead"], pid) == 2   # the imported hint is kept
    with db.read() as cur:
        hints = dict(cur.execute("SELECT external_id, hint_severity FROM items").fetchall())
    assert hints == {"a": 4, "b": 0, "c": 2}


def test_a_project_archived_while_the_file_is_read_refuses_the_write(db, accounts, tmp_path,
                                                                    monkeypatch):
    """The checks run again inside the write (another app process may act meanwhile)."""
    from store import imports, projects

    pid = make_project(db, accounts)
    real = imports._prepare_new_rows

    def archive_meanwhile(cur, settings):
        projects.set_archived(db, accounts["lead"], pid, True)
        real(cur, settings)

    monkeypatch.setattr(imports, "_prepare_new_rows", archive_meanwhile)
    with pytest.raises(ImportProblem, match="archived"):
        import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "a.jsonl", [
            {"id": "a", "prompt": "p"}]))
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM items").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM imports").fetchone()[0] == 0
    # Positive control: unarchived, the same file goes in.
    projects.set_archived(db, accounts["lead"], pid, False)
    monkeypatch.setattr(imports, "_prepare_new_rows", real)
    assert import_file(db, accounts["lead"], pid, tmp_path / "a.jsonl").items_added == 1


def test_a_nul_character_in_a_vote_is_named_on_postgresql_and_kept_on_duckdb(
        db, accounts, tmp_path):
    from store.annotation_imports import import_annotations

    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "items.jsonl", [
        {"id": "a", "prompt": "p"}, {"id": "b", "prompt": "q"}]))
    path = write_jsonl(tmp_path / "votes.jsonl", [
        {"id": "a", "user": "ann1", "is_safe": True, "note": "fine"},
        {"id": "b", "user": "ann1", "is_safe": True, "note": "bad\u0000note"}])
    if db.backend == "postgresql":
        before = table_counts(db)
        with pytest.raises(ImportProblem, match=r"row 2, column 'note': holds the NUL"):
            import_annotations(db, accounts["lead"], pid, path)
        assert table_counts(db) == before
        # Positive control: without the character the same votes go in.
        write_jsonl(path, [{"id": "a", "user": "ann1", "is_safe": True, "note": "fine"},
                           {"id": "b", "user": "ann1", "is_safe": True, "note": "badnote"}])
    assert import_annotations(db, accounts["lead"], pid, path).votes_added == 2
