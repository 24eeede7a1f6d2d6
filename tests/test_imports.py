"""Imports of every format, and every kind of bad input leaving the database unchanged."""
import json

import duckdb
import pytest

from store.imports import ImportProblem, import_file, read_preview
from store.work import claim_next_item
from tests.conftest import make_project, table_counts
from tests.helpers import label_rows, write_jsonl


@pytest.fixture
def project(db, accounts):
    return make_project(db, accounts)


@pytest.fixture
def pair_project(db, accounts):
    return make_project(db, accounts, kind="compare", name="Pairs")


def items(db, project_id):
    with db.read() as cur:
        return cur.execute("SELECT external_id, prompt, response, response_a, response_b, messages,"
                           " metadata, hint_category, hint_severity FROM items WHERE project_id = ?"
                           " ORDER BY id", [project_id]).fetchall()


def test_jsonl_import_and_reimport_adds_nothing(db, accounts, project, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"id": 1, "prompt": "p1", "response": "r1", "source": "web", "hint_severity": 3,
         "hint_category": "S1"},
        {"id": 2, "prompt": "p2", "response": "r2", "source": "api"}])
    result = import_file(db, accounts["lead"], project, path)
    assert (result.rows_read, result.items_added, result.duplicates_skipped) == (2, 2, 0)
    rows = items(db, project)
    assert rows[0][:3] == ("1", "p1", "r1")
    assert json.loads(rows[0][6]) == {"source": "web"}
    assert rows[0][7:] == ("S1", 3)
    again = import_file(db, accounts["lead"], project, path)
    assert (again.items_added, again.duplicates_skipped) == (0, 2)
    assert len(items(db, project)) == 2


def test_csv_import_keeps_quotes_newlines_and_text_ids(db, accounts, project, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,prompt,response\n007,"He said ""hi""\nthen left",ok\n008,second,fine\n',
                    encoding="utf-8")
    import_file(db, accounts["lead"], project, path)
    rows = items(db, project)
    assert rows[0][:3] == ("007", 'He said "hi"\nthen left', "ok")


def test_parquet_import(db, accounts, project, tmp_path):
    path = tmp_path / "a.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT 'k' || i AS id, 'prompt ' || i AS prompt, 'resp ' || i AS response "
        f"FROM range(5) t(i)) TO '{path}' (FORMAT parquet)")
    assert import_file(db, accounts["lead"], project, path).items_added == 5
    assert items(db, project)[4][:3] == ("k4", "prompt 4", "resp 4")


def test_items_without_ids_are_keyed_by_content(db, accounts, project, tmp_path):
    path = write_jsonl(tmp_path / "noid.jsonl", [{"prompt": "same", "response": "x"},
                                                 {"prompt": "same", "response": "x"},
                                                 {"prompt": "other", "response": "x"}])
    result = import_file(db, accounts["lead"], project, path)
    assert (result.items_added, result.duplicates_skipped) == (2, 1)
    assert import_file(db, accounts["lead"], project, path).items_added == 0
    assert all(r[0].startswith("sha256:") for r in items(db, project))


def test_chat_transcripts_import_with_the_last_assistant_turn_as_response(db, accounts, project, tmp_path):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                {"role": "user", "content": "how do I X?"}, {"role": "assistant", "content": "like so"}]
    path = write_jsonl(tmp_path / "chat.jsonl", [{"id": "c1", "messages": messages}])
    import_file(db, accounts["lead"], project, path)
    row = items(db, project)[0]
    assert json.loads(row[5]) == messages and row[2] == "like so"
    csv_path = tmp_path / "chat.csv"
    csv_path.write_text('id,messages\nc2,"' + json.dumps(messages).replace('"', '""') + '"\n',
                        encoding="utf-8")
    import_file(db, accounts["lead"], project, csv_path)
    assert json.loads(items(db, project)[1][5]) == messages


def test_compare_pairs_and_column_mapping(db, accounts, pair_project, tmp_path):
    path = write_jsonl(tmp_path / "pairs.jsonl", [{"q": "which?", "left": "A text", "right": "B text"}])
    result = import_file(db, accounts["lead"], pair_project, path,
                         mapping={"prompt": "q", "response_a": "left", "response_b": "right"})
    assert result.items_added == 1
    assert items(db, pair_project)[0][1:5] == ("which?", None, "A text", "B text")


def test_imported_items_are_served(db, accounts, project, tmp_path):
    import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "x.jsonl", label_rows(3)))
    assert claim_next_item(db, accounts["ann1"], project).prompt == "prompt 0"


def test_preview_shows_first_rows_without_importing(db, accounts, project, tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", label_rows(10))
    before = table_counts(db)
    columns, rows = read_preview(db, path, limit=3)
    assert columns == ["id", "prompt", "response"] and len(rows) == 3
    assert table_counts(db) == before


BAD_INPUTS = {
    "empty file": ("empty.jsonl", b"", "the file is empty"),
    "header only": ("header.csv", b"id,prompt\n", "no rows"),
    "invalid utf-8": ("latin.csv", "id,prompt\n1,ok\n2,caf\xe9\n".encode("latin-1"), r"not valid UTF-8 \(line 3\)"),
    "malformed json": ("bad.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": \n', "could not read the file"),
    "json line not an object": ("arr.jsonl", b'{"id": 1, "prompt": "a"}\n[1, 2]\n', "must be a JSON object"),
    "csv with a ragged row": ("ragged.csv", b"id,prompt\n1,a\n2,b,extra\n", "Line: 3"),
    "csv with an unterminated quote": ("quote.csv", b'id,prompt\n1,a\n2,"b\n', "unterminated quote"),
    "missing prompt column": ("nocol.jsonl", b'{"id": 1, "text": "a"}\n', "needs a 'prompt' or a 'messages' column"),
    "empty prompt in row 3": ("blank.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 3, "prompt": "  "}\n',
                              r"row 3, column 'prompt': is empty"),
    "null prompt in row 2": ("null.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": null}\n', r"row 2, column 'prompt'"),
    "duplicate ids": ("dup.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 1, "prompt": "c"}\n',
                      r"rows 1 and 3 have the same id '1'"),
    "prompt is an object": ("obj.jsonl", b'{"id": 1, "prompt": {"x": 1}}\n', "not text"),
    "bad transcript": ("chat.jsonl", b'{"id": 1, "messages": [{"role": "user", "content": "a"}]}\n{"id": 2, "messages": [{"who": "x"}]}\n',
                       r"row 2, column 'messages'"),
    "transcript not json": ("chat.csv", b'id,messages\n1,"[{""role"": ""user"", ""content"": ""a""}]"\n2,not json\n',
                            r"row 2, column 'messages': not valid JSON"),
    "severity hint not a number": ("sev.jsonl", b'{"id": 1, "prompt": "a", "hint_severity": "high"}\n',
                                   r"row 1, column 'hint_severity'"),
    "unknown extension": ("items.txt", b"hello\n", "unknown file type"),
    "huge row": ("huge.jsonl", None, r"row 2, column 'prompt': is longer than 5 MB"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_clear_message_and_changes_nothing(db, accounts, project, tmp_path, case):
    name, content, message = BAD_INPUTS[case]
    path = tmp_path / name
    if content is None:
        content = (json.dumps({"id": 1, "prompt": "fine"}) + "\n"
                   + json.dumps({"id": 2, "prompt": "x" * (6 * 1024 * 1024)}) + "\n").encode()
    path.write_bytes(content)
    before = table_counts(db)
    with pytest.raises(ImportProblem, match=message):
        import_file(db, accounts["lead"], project, path)
    assert table_counts(db) == before


def test_one_megabyte_of_text_imports(db, accounts, project, tmp_path):
    big = "word " * 210_000
    import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "big.jsonl", [{"id": "big", "prompt": big}]))
    assert items(db, project)[0][1] == big


def test_compare_project_needs_both_responses(db, accounts, pair_project, tmp_path):
    before = table_counts(db)
    with pytest.raises(ImportProblem, match="response_a, response_b"):
        import_file(db, accounts["lead"], pair_project, write_jsonl(tmp_path / "x.jsonl", label_rows(2)))
    path = write_jsonl(tmp_path / "y.jsonl", [{"prompt": "p", "response_a": "a", "response_b": ""}])
    with pytest.raises(ImportProblem, match=r"row 1, column 'response_b': is empty"):
        import_file(db, accounts["lead"], pair_project, path)
    assert table_counts(db) == before


def test_mapping_to_a_missing_column_is_refused(db, accounts, project, tmp_path):
    with pytest.raises(ImportProblem, match="no column 'question'"):
        import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "x.jsonl", label_rows(1)),
                    mapping={"prompt": "question"})


def test_only_leads_import(db, accounts, project, tmp_path):
    from store.db import PermissionDenied
    with pytest.raises(PermissionDenied):
        import_file(db, accounts["ann1"], project, write_jsonl(tmp_path / "x.jsonl", label_rows(1)))
