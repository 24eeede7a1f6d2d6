"""Imports of every format, and every kind of bad input leaving the database unchanged:
HH-RLHF rows as they really are, every problem in one pass, taking the valid rows."""
import json
import subprocess
import sys
import tempfile

import duckdb
import pytest

from core.formats import hh_text, split_hh
from store.imports import PAGE, ImportProblem, import_file, read_preview
from store.work import claim_next_item
from tests.conftest import ROOT, make_project, table_counts
from tests.hh_data import DIVERGING, hh_row, hh_rows, write_hh
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
    "malformed json": ("bad.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": \n', r"row 2: not valid JSON"),
    "json line not an object": ("arr.jsonl", b'{"id": 1, "prompt": "a"}\n[1, 2]\n', "must be a JSON object"),
    "csv with a ragged row": ("ragged.csv", b"id,prompt\n1,a\n2,b,extra\n",
                              r"row 2 \(line 3\): has 3 values; the header names 2 columns"),
    "csv with an unterminated quote": ("quote.csv", b'id,prompt\n1,a\n2,"b\n', "unterminated quote"),
    "missing prompt column": ("nocol.jsonl", b'{"id": 1, "text": "a"}\n', "needs a 'prompt' or a 'messages' column"),
    "empty prompt in row 3": ("blank.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 3, "prompt": "  "}\n',
                              r"row 3, column 'prompt': is empty"),
    "null prompt in row 2": ("null.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": null}\n', r"row 2, column 'prompt'"),
    "duplicate ids": ("dup.jsonl", b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 1, "prompt": "c"}\n',
                      r"row 3, column 'id': has the same id '1' as row 1"),
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


# -- HH-RLHF as it really is ------------------------------------------------------------------
def hh_items(db, project_id):
    with db.read() as cur:
        rows = cur.execute("SELECT messages, response_a, response_b, metadata FROM items "
                           "WHERE project_id = ? ORDER BY id", [project_id]).fetchall()
    return [(json.loads(m), a, b, json.loads(meta)) for m, a, b, meta in rows]


def as_chosen_rejected(a, b, meta):
    """(chosen, rejected) responses of an item, whichever side each was shown on."""
    return (a, b) if meta["source_preferred"] == "a" else (b, a)


@pytest.mark.parametrize("shape", ["normal", "extra turn in chosen", "extra turn in rejected",
                                   "no blank line before Human", "Human glued to the reply",
                                   "earlier reply differs", "empty chosen reply",
                                   "empty rejected reply"])
def test_hh_row_shapes_split_at_the_last_shared_human_turn(db, accounts, pair_project, tmp_path,
                                                           shape):
    row = hh_row(7, shape)
    path = write_hh(tmp_path / "hh.jsonl", [row, hh_row(8)])  # and a plain row beside it
    result = import_file(db, accounts["lead"], pair_project, path)
    assert (result.rows_read, result.items_added, result.rows_rejected) == (2, 2, 0)
    messages, a, b, meta = hh_items(db, pair_project)[0]
    assert messages == row.shared
    assert as_chosen_rejected(a, b, meta) == (hh_text(row.chosen_turns), hh_text(row.rejected_turns))
    # A response of several turns keeps them apart in metadata, for the Compare page.
    turns = meta.get("response_turns", {})
    chosen_side, rejected_side = ("a", "b") if meta["source_preferred"] == "a" else ("b", "a")
    assert turns.get(chosen_side, row.chosen_turns[:1]) == row.chosen_turns
    assert turns.get(rejected_side, row.rejected_turns[:1]) == row.rejected_turns
    assert all(len(t) > 1 for t in turns.values())
    if shape in DIVERGING:
        assert turns, "a diverging pair has a response of several turns"
    else:
        assert not turns
    if shape.startswith("empty"):
        assert "" in (a, b)                      # kept, not refused and not dropped
    assert hh_items(db, pair_project)[1][0] == hh_row(8).shared          # positive control


def test_hh_split_examples():
    # Extra turn in chosen: the shared part ends with the first Human turn.
    pair = split_hh("\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: More?\n\nAssistant: Yes",
                    "\n\nHuman: Hi\n\nAssistant: Go away")
    assert pair.shared == [{"role": "user", "content": "Hi"}]
    assert hh_text(pair.chosen) == "Hello\n\nHuman: More?\n\nAssistant: Yes"
    assert hh_text(pair.rejected) == "Go away"
    # A marker after one newline (no blank line) is a marker.
    pair = split_hh("\n\nHuman: Hi\n\nAssistant: Hello\nHuman: More?\n\nAssistant: Yes",
                    "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: More?\n\nAssistant: No")
    assert [t["content"] for t in pair.shared] == ["Hi", "Hello", "More?"]
    # An empty last reply is a reply.
    assert split_hh("\n\nHuman: Hi\n\nAssistant:", "\n\nHuman: Hi\n\nAssistant: Hey").chosen == [
        {"role": "assistant", "content": ""}]


UNSPLITTABLE = [
    ({"chosen": "\n\nHuman: A\n\nAssistant: x", "rejected": "\n\nHuman: B\n\nAssistant: y"},
     "columns 'chosen'/'rejected': chosen and rejected differ before their first Assistant reply"),
    ({"chosen": "\n\nHuman: A", "rejected": "\n\nHuman: A\n\nAssistant: y"},
     "column 'chosen': the chosen transcript does not end with an Assistant reply"),
    ({"chosen": "no markers at all", "rejected": "\n\nHuman: A\n\nAssistant: y"},
     "column 'chosen': not a transcript of 'Human: ...' / 'Assistant: ...' turns"),
    ({"chosen": "\n\nHuman: A\n\nAssistant: x", "rejected": None}, "column 'rejected': is empty"),
]


def test_hh_rows_that_cannot_be_split_are_all_listed(db, accounts, pair_project, tmp_path):
    rows = [{"chosen": hh_row(0).chosen, "rejected": hh_row(0).rejected}]
    rows += [bad for bad, _ in UNSPLITTABLE]
    path = write_jsonl(tmp_path / "hh.jsonl", rows)
    before = table_counts(db)
    with pytest.raises(ImportProblem) as info:
        import_file(db, accounts["lead"], pair_project, path)
    problem = info.value
    assert (problem.total, problem.bad_rows) == (4, 4)
    for number, (_, message) in enumerate(UNSPLITTABLE, start=2):
        assert f"row {number}, {message}" in str(problem)
    assert "row 1," not in str(problem)                                   # the good row
    assert table_counts(db) == before


# -- every problem in one pass ------------------------------------------------------------------
SEVERAL_BAD = (b'{"id": 1, "prompt": "fine"}\n'
               b'{"id": 2, "prompt": "  "}\n'
               b'{"id": 3, "prompt": "ok", "hint_severity": "high"}\n'
               b'this line is not JSON\n'
               b'\n'
               b'{"id": 1, "prompt": "same id again"}\n'
               b'{"id": 6, "prompt": "fine too"}\n'
               b'{"id": 7, "prompt": "cut o')


def test_several_bad_rows_are_all_listed_in_one_message(db, accounts, project, tmp_path):
    path = tmp_path / "several.jsonl"
    path.write_bytes(SEVERAL_BAD)
    before = table_counts(db)
    with pytest.raises(ImportProblem) as info:
        import_file(db, accounts["lead"], project, path)
    problem = info.value
    assert [str(p) for p in problem.problems] == [
        "row 2, column 'prompt': is empty",
        "row 3, column 'hint_severity': must be a whole number from 0 to 9",
        "row 4: not valid JSON (Expecting value, character 1)",
        "row 5, column 'id': has the same id '1' as row 1",
        "row 7 (line 8): not valid JSON: the file ends inside this record (it is cut off)"]
    assert (problem.total, problem.bad_rows) == (5, 5)
    message = str(problem)
    assert message.startswith("'several.jsonl': 5 problems in 5 rows. Nothing was imported")
    assert "--skip-bad" in message
    assert all(str(p) in message for p in problem.problems)
    assert table_counts(db) == before


def test_a_hundred_problems_and_the_total(db, accounts, project, tmp_path):
    rows = [{"id": n, "prompt": "" if n % 2 else f"p{n}"} for n in range(1, 301)]
    path = write_jsonl(tmp_path / "many.jsonl", rows)
    with pytest.raises(ImportProblem) as info:
        import_file(db, accounts["lead"], project, path)
    problem = info.value
    assert problem.total == 150 and len(problem.problems) == 150
    lines = str(problem).splitlines()
    assert lines[0].startswith("'many.jsonl': 150 problems in 150 rows.")
    assert lines[1] == "  row 1, column 'prompt': is empty"
    assert lines[100] == "  row 199, column 'prompt': is empty"
    assert lines[101:] == ["  \u2026 and 50 more"]


def test_csv_records_that_cannot_be_read_keep_the_other_rows_numbers(db, accounts, project, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text('id,prompt\n1,a\n2,b,extra\n\n3,"two\nlines"\n4,\n5,"open\n', encoding="utf-8")
    with pytest.raises(ImportProblem) as info:
        import_file(db, accounts["lead"], project, path)
    assert [str(p) for p in info.value.problems] == [
        "row 2 (line 3): has 3 values; the header names 2 columns",
        "row 4, column 'prompt': is empty",
        "row 5 (line 8): a quoted value is not closed (unterminated quote) before the end of the file"]


# -- taking the good rows -------------------------------------------------------------------------
def test_skip_bad_imports_the_valid_rows_and_writes_the_rest_aside(db, accounts, project, tmp_path):
    path = tmp_path / "several.jsonl"
    path.write_bytes(SEVERAL_BAD)
    before = table_counts(db)
    rejects = tmp_path / "out" / "set-aside.jsonl"
    rejects.parent.mkdir()
    result = import_file(db, accounts["lead"], project, path, skip_bad=True, rejects_path=rejects)
    assert (result.rows_read, result.items_added, result.duplicates_skipped,
            result.rows_rejected, result.problems_total) == (7, 2, 0, 5, 5)
    assert result.rejects_path == str(rejects)
    after = table_counts(db)
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    assert changed == {"items": 2, "imports": 1, "events": 1}
    assert [r[:2] for r in items(db, project)] == [("1", "fine"), ("6", "fine too")]
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [line["row"] for line in lines] == [2, 3, 4, 5, 7]
    assert lines[0] == {"row": 2, "problems": [{"column": "prompt", "problem": "is empty"}],
                        "record": {"id": 2, "prompt": "  ", "hint_severity": None}}
    assert lines[2] == {"row": 4, "line": 4, "text": "this line is not JSON",
                        "problems": [{"column": None, "problem":
                                      "not valid JSON (Expecting value, character 1)"}]}
    assert lines[4]["text"] == '{"id": 7, "prompt": "cut o'
    with db.read() as cur:
        record = cur.execute("SELECT rows_read, items_added, duplicates_skipped, rows_rejected "
                             "FROM imports").fetchone()
        details = json.loads(cur.execute("SELECT details FROM events WHERE kind = 'import'")
                             .fetchone()[0])
    assert record == (7, 2, 0, 5)
    assert (details["rejected"], details["added"]) == (5, 2)


def test_skip_bad_default_rejects_file_is_beside_the_file(db, accounts, project, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("id,prompt\n1,a\n2,\n", encoding="utf-8")
    result = import_file(db, accounts["lead"], project, path, skip_bad=True)
    assert result.rejects_path == str(tmp_path / "items.rejects.jsonl")
    assert json.loads((tmp_path / "items.rejects.jsonl").read_text())["record"] == {"id": "2", "prompt": None}


def test_skip_bad_with_no_valid_row_imports_nothing(db, accounts, project, tmp_path):
    path = write_jsonl(tmp_path / "none.jsonl", [{"id": 1, "prompt": ""}, {"id": 2, "prompt": " "}])
    before = table_counts(db)
    with pytest.raises(ImportProblem, match="2 problems: no row can be imported"):
        import_file(db, accounts["lead"], project, path, skip_bad=True)
    assert table_counts(db) == before
    assert not (tmp_path / "none.rejects.jsonl").exists()


def test_a_file_without_problems_writes_no_rejects_file(db, accounts, project, tmp_path):
    path = write_jsonl(tmp_path / "fine.jsonl", label_rows(3))
    result = import_file(db, accounts["lead"], project, path, skip_bad=True)
    assert (result.items_added, result.rows_rejected, result.rejects_path) == (3, 0, None)
    assert not (tmp_path / "fine.rejects.jsonl").exists()
    assert (tmp_path / "fine.jsonl").exists()                             # positive control


# -- messages name the person's things ----------------------------------------------------------
def test_messages_name_the_persons_file_the_broken_record_and_the_pages_control(
        db, accounts, project, tmp_path):
    copy = tmp_path / "safelabel-upload-x1y2z3.jsonl"      # what an upload is saved as
    copy.write_bytes(b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b"}\n{"id": 3, "prompt": "c')
    with pytest.raises(ImportProblem) as info:
        import_file(db, accounts["lead"], project, copy, file_name="my items.jsonl", controls=PAGE)
    message = str(info.value)
    assert message.startswith("'my items.jsonl': 1 problem in 1 row.")
    assert "row 3: not valid JSON: the file ends inside this record" in message
    assert "safelabel-upload" not in message and "row 4" not in message and "line 4" not in message
    assert "Import the valid rows and set the rest aside" in message and "--skip-bad" not in message
    with pytest.raises(ImportProblem) as info:
        import_file(db, accounts["lead"], project, write_jsonl(tmp_path / "q.jsonl", [{"q": "x"}]),
                    file_name="questions.jsonl", controls=PAGE)
    assert str(info.value).startswith("'questions.jsonl': the file needs a 'prompt'")
    assert "the mapping form" in str(info.value) and "--map" not in str(info.value)
    with pytest.raises(ImportProblem, match="--map COLUMN=FIELD"):          # the CLI's default
        import_file(db, accounts["lead"], project, tmp_path / "q.jsonl")


@pytest.mark.parametrize("body, row, problem", [
    ('[{"id": 1, "prompt": "a"},\n{"id": 2, "prompt": },\n{"id": 3, "prompt": "c"}]', 2,
     "not valid JSON (Expecting value, character 21 of the record)"),
    ('[{"id": 1, "prompt": "a"},\n{"id": 2, "prompt": "b"},\n{"id": 3, "prompt": "c', 3,
     "not valid JSON: the file ends inside this record (it is cut off)"),
    ('[{"id": 1, "prompt": "a"} {"id": 2, "prompt": "b"}]', 1,
     "is not followed by a comma or the closing ]"),
])
def test_a_broken_json_array_names_the_broken_record(db, accounts, project, tmp_path, body, row,
                                                     problem):
    path = tmp_path / "safelabel-upload-q1.json"
    path.write_text(body, encoding="utf-8")
    before = table_counts(db)
    for call in (lambda: read_preview(db, path, file_name="array.json"),
                 lambda: import_file(db, accounts["lead"], project, path, file_name="array.json")):
        with pytest.raises(ImportProblem) as info:
            call()
        assert str(info.value).startswith(f"'array.json': row {row}: {problem}. A JSON array "
                                          "cannot be read past a broken record")
    assert table_counts(db) == before
    path.write_text('[{"id": 1, "prompt": "a"},\n{"id": 2, "prompt": "b"}]', encoding="utf-8")
    assert import_file(db, accounts["lead"], project, path).items_added == 2   # positive control


def test_preview_names_the_persons_file(db, tmp_path):
    copy = tmp_path / "safelabel-upload-abc.jsonl"
    copy.write_bytes(b"")
    with pytest.raises(ImportProblem) as info:
        read_preview(db, copy, file_name="mine.jsonl")
    assert str(info.value) == "'mine.jsonl': the file is empty"
    copy.write_bytes(b'{"id": 1, "prompt": "a"}\n{"id": 2, "prompt": "b')
    assert read_preview(db, copy, file_name="mine.jsonl") == (["id", "prompt"], [(1, "a"), (None, None)])


# -- nothing left behind, nothing heavy loaded ------------------------------------------------------
def test_an_import_leaves_no_file_in_the_temp_folder(db, accounts, pair_project, tmp_path,
                                                     monkeypatch):
    import store.imports as imports

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen = []
    repair = imports._repair_jsonl

    def spy(path, repaired, found):
        seen.append(repaired)
        return repair(path, repaired, found)

    monkeypatch.setattr(imports, "_repair_jsonl", spy)
    rows = [json.dumps({"chosen": r.chosen, "rejected": r.rejected}) for r in hh_rows(20)]
    path = tmp_path / "hh.jsonl"
    path.write_text("\n".join(rows[:10] + ["{broken"] + rows[10:]) + "\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match="row 11: not valid JSON"):
        import_file(db, accounts["lead"], pair_project, path)
    result = import_file(db, accounts["lead"], pair_project, path, skip_bad=True,
                         rejects_path=tmp_path / "rejects.jsonl")
    assert result.items_added == 20
    # Positive control: the copies were made in that folder, and are gone.
    assert len(seen) == 2 and all(p.parent.parent == scratch for p in seen)
    assert list(scratch.iterdir()) == []


def test_importing_the_module_loads_no_pandas():
    code = ("import sys; import store.imports; "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    control = subprocess.run([sys.executable, "-c", "import sys, pandas; print('pandas' in sys.modules)"],
                             capture_output=True, text=True, timeout=60)
    assert control.stdout.strip() == "True"
