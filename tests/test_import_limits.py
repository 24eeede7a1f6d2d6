"""Bounded imports: DuckDB's memory budget, and the limits checked before a file is read.

Each refusal names what is wrong, the limit and the file's figure, and writes nothing. The
files are small: limits are lowered through their settings where a test needs a file over
one, and the Parquet "bombs" hold one string many times by reference (dictionary encoding),
so neither the test nor the file holds the text they decode to.
"""
import json
import os
import stat

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from store import users
from store.db import StoreError, open_database
from store.imports import ImportProblem, import_file, read_preview
from tests.conftest import PASSWORD, make_project, table_counts
from tests.helpers import label_rows, write_jsonl

MB = 1024 * 1024


@pytest.fixture
def project(db, accounts):
    return make_project(db, accounts)


def imported(db, project_id) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM items WHERE project_id = ?", [project_id]).fetchone()[0]


def refused(db, lead, project_id, path, message, preview=True):
    """Preview and import both refuse with `message`; nothing is written."""
    before = table_counts(db)
    if preview:
        with pytest.raises(ImportProblem, match=message):
            read_preview(db, path)
    with pytest.raises(ImportProblem, match=message):
        import_file(db, lead, project_id, path)
    assert table_counts(db) == before


def repeated_text_parquet(path, rows, value_bytes, extra=None):
    """`rows` rows whose `prompt` is one `value_bytes` string, dictionary-encoded: the file is
    a few KB, its text `rows * value_bytes`."""
    value = pa.array(["x" * value_bytes])
    prompt = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), value)
    columns = {"prompt": prompt, **(extra or {})}
    pq.write_table(pa.table(columns), path, compression="zstd")
    return path


# DuckDB's budget --------------------------------------------------------------------------

def test_database_has_a_memory_budget_and_a_private_spill_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SAFELABEL_MEMORY_LIMIT", raising=False)
    db_path = tmp_path / "data" / "safelabel.duckdb"
    db_path.parent.mkdir()
    spill = db_path.with_name(db_path.name + ".spill")  # beside the file: same disk, same owner
    spill.mkdir()
    (spill / "duckdb_temp_storage_DEFAULT-0.tmp").write_bytes(b"left by a killed process")
    db = open_database(db_path)
    with db.read() as cur:  # a cursor, as every unit of work uses, sees the global settings
        limit, temp, threads, prefetch = cur.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory'),"
            " current_setting('threads'), current_setting('disable_parquet_prefetching')").fetchone()
    assert limit == "366.2 MiB"  # 384MB, the default
    assert temp == str(spill) and 1 <= threads <= 4 and prefetch is True
    assert stat.S_IMODE(os.stat(spill).st_mode) == 0o700
    assert list(spill.iterdir()) == []  # the stale spill file is gone
    # Positive control: the budget still reads what real files need. DuckDB's own writer
    # (an export read back, say) puts a row group's column in one page, read whole: 30,000
    # rows of 1 KB make pages of ~30 MB.
    accounts = {"lead": users.create_user(db, None, "lead", "Lead", PASSWORD, "lead")}
    project = make_project(db, accounts, members=())
    path = tmp_path / "duck.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT 'k' || i AS id, 'prompt ' || i || repeat('p', 300) AS prompt,"
        f" repeat('r', 700) || i AS response FROM range(30000) t(i)) TO '{path}' (FORMAT parquet)")
    assert import_file(db, accounts["lead"], project, path).items_added == 30000
    db.close()
    assert not spill.exists()
    assert db_path.exists()  # positive control: close removed the folder, not the data


def test_memory_budget_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("SAFELABEL_MEMORY_LIMIT", "1GB")
    db = open_database(tmp_path / "a.duckdb")
    with db.read() as cur:
        assert cur.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
    db.close()
    monkeypatch.setenv("SAFELABEL_MEMORY_LIMIT", "plenty")
    with pytest.raises(StoreError, match="SAFELABEL_MEMORY_LIMIT='plenty' is not a memory size"):
        open_database(tmp_path / "b.duckdb")


def test_a_file_that_needs_more_than_the_budget_is_refused_with_a_clear_message(
        tmp_path, monkeypatch, accounts, db):
    # Delta-encoded strings decode value by value: 1024 copies of 128 KB are 128 MB of text
    # in a 2 KB file; a 128MB budget cannot hold a batch of them, so DuckDB refuses, cleanly.
    path = tmp_path / "delta.parquet"
    schema = pa.schema([("prompt", pa.string())])
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=False,
                          column_encoding={"prompt": "DELTA_BYTE_ARRAY"}) as writer:
        for _ in range(4):
            writer.write_table(pa.table({"prompt": pa.array(["y" * 131072] * 256)}))
    assert path.stat().st_size < 16 * 1024
    db.close()
    monkeypatch.setenv("SAFELABEL_MEMORY_LIMIT", "128MB")
    small = open_database(db.path)
    project = make_project(small, accounts, name="Budget")
    refused(small, accounts["lead"], project, path,
            r"needs more memory than the database may use \(128MB, SAFELABEL_MEMORY_LIMIT\)",
            preview=False)
    fine = write_jsonl(tmp_path / "fine.jsonl", label_rows(3))
    assert import_file(small, accounts["lead"], project, fine).items_added == 3
    small.close()


# Parquet ----------------------------------------------------------------------------------

def test_parquet_that_decodes_to_more_text_than_the_limit_is_refused(db, accounts, project, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("SAFELABEL_IMPORT_MAX_MB", "1")
    bomb = repeated_text_parquet(tmp_path / "bomb.parquet", rows=512, value_bytes=64 * 1024)
    assert bomb.stat().st_size < 16 * 1024  # 32 MB of text in a few KB
    refused(db, accounts["lead"], project, bomb,
            r"holds 32 MB of text once decoded; an import may be at most 1 MB", preview=False)
    small = repeated_text_parquet(tmp_path / "small.parquet", rows=8, value_bytes=64 * 1024)
    assert import_file(db, accounts["lead"], project, small).rows_read == 8
    # Positive control with nested columns (sized through lists and structs): transcripts.
    messages = [[{"role": "user", "content": f"question {i}"},
                 {"role": "assistant", "content": f"answer {i}"}] for i in range(20)]
    chat = tmp_path / "chat.parquet"
    pq.write_table(pa.table({"id": [f"c{i}" for i in range(20)], "messages": messages,
                             "tags": [{"source": "web", "n": i} for i in range(20)]}), chat)
    columns, rows = read_preview(db, chat)
    assert columns == ["id", "messages", "tags"] and len(rows) == 5
    assert import_file(db, accounts["lead"], project, chat).items_added == 20
    with db.read() as cur:
        assert cur.execute("SELECT response FROM items WHERE external_id = 'c7'").fetchone()[0] == "answer 7"


def test_parquet_whose_metadata_declares_more_than_the_limit_is_refused(db, accounts, project,
                                                                       tmp_path, monkeypatch):
    monkeypatch.setenv("SAFELABEL_IMPORT_MAX_MB", "1")
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"prompt": ["z" * (2 * MB)]}), path, compression="zstd",
                   use_dictionary=False)
    assert path.stat().st_size < 64 * 1024
    refused(db, accounts["lead"], project, path, r"holds 2 MB once decompressed; an import may be at most 1 MB")
    pq.write_table(pa.table({"prompt": ["z" * (MB // 2)]}), path, compression="zstd",
                   use_dictionary=False)
    assert import_file(db, accounts["lead"], project, path).items_added == 1


def test_parquet_row_over_the_row_limit_is_refused_naming_the_row(db, accounts, project, tmp_path):
    # Row 2's `turns` list holds 300 references to a 64 KB string: 19 MB in one row, which
    # the import would otherwise keep as metadata.
    value = pa.array(["w" * 65536])
    turns = pa.ListArray.from_arrays(
        pa.array([0, 1, 301], pa.int32()),
        pa.DictionaryArray.from_arrays(pa.array([0] * 301, pa.int32()), value))
    path = tmp_path / "row.parquet"
    pq.write_table(pa.table({"prompt": ["a", "b"], "turns": turns}), path, compression="zstd")
    refused(db, accounts["lead"], project, path,
            r"row 2 holds 18\.8 MB; a row may hold at most 16 MB \(and 5 MB per text field\)")
    # Positive control: 20 references (1.3 MB) in that row import.
    turns = pa.ListArray.from_arrays(
        pa.array([0, 1, 21], pa.int32()),
        pa.DictionaryArray.from_arrays(pa.array([0] * 21, pa.int32()), value))
    pq.write_table(pa.table({"prompt": ["a", "b"], "turns": turns}), path, compression="zstd")
    assert import_file(db, accounts["lead"], project, path).items_added == 2


def test_parquet_with_more_rows_than_the_limit_is_refused_before_reading(db, accounts, project,
                                                                        tmp_path, monkeypatch):
    monkeypatch.setenv("SAFELABEL_IMPORT_MAX_ROWS", "100")
    path = tmp_path / "many.parquet"
    pq.write_table(pa.table({"prompt": [f"p{i}" for i in range(101)]}), path)
    refused(db, accounts["lead"], project, path,
            r"the file has 101 rows; an import may have at most 100 \(SAFELABEL_IMPORT_MAX_ROWS\)")
    pq.write_table(pa.table({"prompt": [f"p{i}" for i in range(100)]}), path)
    assert import_file(db, accounts["lead"], project, path).items_added == 100


# CSV ----------------------------------------------------------------------------------------

@pytest.mark.timeout(60)  # before the limit, DuckDB spent over a minute on this file
def test_csv_with_forty_thousand_columns_is_refused_from_its_header(db, accounts, project, tmp_path):
    path = tmp_path / "wide.csv"
    names = ["prompt"] + [f"c{i}" for i in range(39_999)]
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(["p"] + ["v"] * 39_999)
                                                        for _ in range(3)) + "\n", encoding="utf-8")
    refused(db, accounts["lead"], project, path,
            r"the file has 40,000 columns; an import may have at most 1,000")
    names = ["prompt"] + [f"c{i}" for i in range(999)]
    path.write_text(",".join(names) + "\n" + "\n".join(",".join([f"p{r}"] + ["v"] * 999)
                                                        for r in range(3)) + "\n", encoding="utf-8")
    assert import_file(db, accounts["lead"], project, path).items_added == 3


def test_csv_fields_up_to_the_text_limit_import_and_longer_ones_name_row_and_column(
        db, accounts, project, tmp_path):
    # DuckDB's CSV reader stops at 2 MB lines by default, which hid the 5 MB field limit
    # behind an error that quoted the whole line.
    ok = tmp_path / "three.csv"
    ok.write_text("id,prompt\n1,fine\n2," + "x" * (3 * MB) + "\n", encoding="utf-8")
    assert import_file(db, accounts["lead"], project, ok).items_added == 2
    big = tmp_path / "six.csv"
    big.write_text("id,prompt\n1,fine\n2," + "x" * (6 * MB) + "\n", encoding="utf-8")
    before = table_counts(db)
    with pytest.raises(ImportProblem, match=r"row 2, column 'prompt': is longer than 5 MB") as info:
        import_file(db, accounts["lead"], project, big)
    assert len(str(info.value)) < 500
    huge = tmp_path / "twenty.csv"
    huge.write_text("id,prompt\n1,fine\n2,fine\n3," + "x" * (20 * MB) + "\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match=r"line 4 is longer than 16 MB") as info:
        import_file(db, accounts["lead"], project, huge)
    assert len(str(info.value)) < 500
    assert table_counts(db) == before


# JSON -----------------------------------------------------------------------------------------

def test_jsonl_line_over_the_row_limit_is_refused_naming_the_line(db, accounts, project, tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"id": 1, "prompt": "fine"}) + "\n")
        out.write(json.dumps({"id": 2, "prompt": "x" * (20 * MB)}) + "\n")
    refused(db, accounts["lead"], project, path,
            r"line 2 holds 20 MB; a row may hold at most 16 MB \(and 5 MB per text field\)")
    path = write_jsonl(tmp_path / "three.jsonl", [{"id": 3, "prompt": "x" * (3 * MB)}])
    assert import_file(db, accounts["lead"], project, path).items_added == 1


def test_json_array_record_over_the_row_limit_is_refused(db, accounts, project, tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"id": 1, "prompt": "fine"}, {"id": 2, "prompt": "x" * (20 * MB)}]),
                    encoding="utf-8")
    refused(db, accounts["lead"], project, path,
            r"record 2 holds 20 MB; a row may hold at most 16 MB \(and 5 MB per text field\)")
    path.write_text(json.dumps(label_rows(4)), encoding="utf-8")
    assert import_file(db, accounts["lead"], project, path).items_added == 4


@pytest.mark.parametrize("shape", ["wide", "nested", "spread"])
def test_json_with_too_many_keys_is_refused_before_duckdb_infers_columns(db, accounts, project,
                                                                         tmp_path, shape):
    keys = {f"k{i}": "v" for i in range(5000)}
    if shape == "wide":
        rows = [{"prompt": "p", **keys}] * 3
    elif shape == "nested":
        rows = [{"prompt": "p", "meta": keys}] * 3
    else:  # few keys per line, new ones on every line
        rows = [{"prompt": "p", **{f"k{n}_{i}": "v" for i in range(5)}} for n in range(100)]
    path = write_jsonl(tmp_path / f"{shape}.jsonl", rows)
    refused(db, accounts["lead"], project, path,
            r"use[s]? \d[\d,]* different keys \(nested keys included\); a JSON import may use at most 200")
    # Positive control: transcripts (their keys count once) and 150 metadata keys import.
    rows = [{"id": f"m{n}", "messages": [{"role": "user", "content": "q"},
                                          {"role": "assistant", "content": f"a{n}"}],
             **{f"meta{i}": i for i in range(150)}} for n in range(50)]
    path = write_jsonl(tmp_path / "rich.jsonl", rows)
    assert import_file(db, accounts["lead"], project, path).items_added == 50


def test_metadata_columns_share_the_text_limit(db, accounts, project, tmp_path):
    path = write_jsonl(tmp_path / "meta.jsonl", [{"id": 1, "prompt": "a", "notes": "n"},
                                                 {"id": 2, "prompt": "b", "notes": "n" * (6 * MB)}])
    before = table_counts(db)
    with pytest.raises(ImportProblem, match=r"row 2: the columns kept as metadata hold more than 5 MB"):
        import_file(db, accounts["lead"], project, path)
    assert table_counts(db) == before
    path = write_jsonl(tmp_path / "meta_ok.jsonl", [{"id": 3, "prompt": "c", "notes": "n" * MB}])
    assert import_file(db, accounts["lead"], project, path).items_added == 1


# Every format ---------------------------------------------------------------------------------

def test_file_over_the_size_limit_is_refused_before_reading(db, accounts, project, tmp_path, monkeypatch):
    monkeypatch.setenv("SAFELABEL_IMPORT_MAX_MB", "1")
    path = write_jsonl(tmp_path / "big.jsonl", [{"id": i, "prompt": "p" * 1000} for i in range(2500)])
    size = f"{path.stat().st_size / MB:.1f}"
    assert size == "2.4"
    refused(db, accounts["lead"], project, path,
            rf"the file is {size} MB; an import may be at most 1 MB \(SAFELABEL_IMPORT_MAX_MB\)")
    path = write_jsonl(tmp_path / "one.jsonl", [{"id": i, "prompt": "p" * 1000} for i in range(900)])
    assert import_file(db, accounts["lead"], project, path).items_added == 900


def test_jsonl_with_more_rows_than_the_limit_is_refused(db, accounts, project, tmp_path, monkeypatch):
    monkeypatch.setenv("SAFELABEL_IMPORT_MAX_ROWS", "10")
    path = write_jsonl(tmp_path / "eleven.jsonl", label_rows(11))
    refused(db, accounts["lead"], project, path, r"the file has 11 rows; an import may have at most 10",
            preview=False)
    path = write_jsonl(tmp_path / "ten.jsonl", label_rows(10))
    assert import_file(db, accounts["lead"], project, path).items_added == 10
