"""Exports: HH-RLHF round trip through the Hugging Face loader, and every export kind."""
from __future__ import annotations

import json
import os

import duckdb
import pytest

from core.labels import Label
from store import work
from store.db import StoreError
from store.exports import ExportFilter, export
from store.imports import ImportProblem, import_file
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl


def hh_rows(n: int) -> list[dict]:
    rows = []
    for k in range(n):
        shared = f"\n\nHuman: Question {k}?\n\nAssistant: Let me think.\n\nHuman: Please answer {k}."
        rows.append({"chosen": f"{shared}\n\nAssistant: Good answer {k}.",
                     "rejected": f"{shared}\n\nAssistant: Bad answer {k}.", "split": "test"})
    return rows


@pytest.fixture
def pairs(db, accounts, tmp_path):
    pid = make_project(db, accounts, kind="compare", name="HH", overlap=2)
    result = import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "hh.jsonl", hh_rows(6)))
    assert result.items_added == 6
    return pid


def item_rows(db, pid):
    with db.read() as cur:
        return cur.execute("SELECT id, response_a, response_b, messages, metadata, external_id FROM items "
                           "WHERE project_id = ? ORDER BY id", [pid]).fetchall()


def judge(db, user_id, item_id, left, harm, help_, overall):
    work.claim_next_item(db, user_id, work.get_item(db, item_id).project_id)
    return work.save_annotation(db, user_id, item_id, judgment={
        "left": left, "harmlessness": harm, "helpfulness": help_, "overall": overall,
        "rationale": "because"})


def test_hh_layout_imports_as_pairs_with_the_source_choice_hidden_in_metadata(db, accounts, pairs):
    rows = item_rows(db, pairs)
    sides = []
    for _, a, b, messages, metadata, _ in rows:
        turns = json.loads(messages)
        assert [t["role"] for t in turns] == ["user", "assistant", "user"]
        side = json.loads(metadata)["source_preferred"]
        sides.append(side)
        good = a if side == "a" else b
        assert good.startswith("Good answer") and (b if side == "a" else a).startswith("Bad answer")
    assert set(sides) == {"a", "b"}  # the source's choice is not always A


def test_hh_rows_that_do_not_share_a_conversation_are_refused(db, accounts, tmp_path):
    pid = make_project(db, accounts, kind="compare", name="Bad HH")
    rows = hh_rows(2)
    rows[1]["rejected"] = "\n\nHuman: Something else\n\nAssistant: x"
    before = table_counts(db)
    with pytest.raises(ImportProblem, match=r"row 2, columns 'chosen'/'rejected'"):
        import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "bad.jsonl", rows))
    assert table_counts(db) == before


def trl_extract_prompt(chosen: str, rejected: str) -> tuple[str, str, str]:
    """What TRL's `extract_prompt` (trl/data_utils.py) makes of a standard-format pair with
    an implicit prompt: the longest common prefix is the prompt, and a space just before the
    point where they differ goes to the answers. Written here from its documented behaviour."""
    idx = next((k for k, (a, b) in enumerate(zip(chosen, rejected)) if a != b),
               min(len(chosen), len(rejected)))
    if idx and chosen[idx - 1] == " ":
        idx -= 1
    return chosen[:idx], chosen[idx:], rejected[idx:]


def judge_plan(db, accounts, pairs) -> list[tuple[int, str]]:
    """Three judgments by ann1 with different on-screen positions, one tie (dropped);
    [(item id, winning side)] of the three that count."""
    items = item_rows(db, pairs)
    plan = [(items[0][0], "a", 2, 1, "a"), (items[1][0], "b", -1, -2, "b"),
            (items[2][0], "b", 3, 3, "a"), (items[3][0], "a", 0, 0, "tie")]
    for item_id, left, harm, help_, overall in plan:
        judge(db, accounts["ann1"], item_id, left, harm, help_, overall)
    return [(item_id, overall) for item_id, _, _, _, overall in plan if overall != "tie"]


def test_trl_standard_prompt_plus_chosen_is_the_whole_hh_dialogue(db, accounts, pairs, tmp_path, hf):
    source = hh_rows(6)
    transcripts = {r["chosen"] for r in source} | {r["rejected"] for r in source}
    decided = judge_plan(db, accounts, pairs)
    external = {row[0]: row[5] for row in item_rows(db, pairs)}
    for fmt in ("jsonl", "parquet"):
        out = tmp_path / f"standard.{fmt}"
        assert export(db, accounts["lead"], pairs, "trl_preference", out, fmt, margin=True) == 3
        loaded = hf.load_dataset("json" if fmt == "jsonl" else "parquet", data_files=str(out),
                                 split="train")
        assert loaded.column_names == ["prompt", "chosen", "rejected", "margin", "external_id"]
        assert len(loaded) == len(decided) == 3
        for record, (item_id, _) in zip(loaded, decided):
            # The dialogue reads exactly as the HH source writes it: the prompt ends with
            # the assistant marker, the answer follows it after a space.
            assert record["prompt"].startswith("\n\nHuman: Question ")
            assert record["prompt"].endswith(".\n\nAssistant:")
            assert record["chosen"].startswith(" ") and record["rejected"].startswith(" ")
            assert record["prompt"] + record["chosen"] in transcripts
            assert record["prompt"] + record["rejected"] in transcripts
            assert record["chosen"] != record["rejected"]
            # Made implicit and split again the way TRL does, the pair comes back unchanged.
            assert trl_extract_prompt(record["prompt"] + record["chosen"],
                                      record["prompt"] + record["rejected"]) == (
                record["prompt"], record["chosen"], record["rejected"])
            assert record["external_id"] == external[item_id]


def test_trl_conversational_prompt_plus_chosen_is_the_whole_message_list(db, accounts, pairs,
                                                                          tmp_path, hf):
    decided = judge_plan(db, accounts, pairs)
    items = {row[0]: row for row in item_rows(db, pairs)}
    out = tmp_path / "conversational.jsonl"
    assert export(db, accounts["lead"], pairs, "trl_preference_conversational", out) == 3
    loaded = hf.load_dataset("json", data_files=str(out), split="train")
    assert loaded.column_names == ["prompt", "chosen", "rejected", "external_id"]
    for record, (item_id, winner) in zip(loaded, decided):
        _, a, b, messages, _, external_id = items[item_id]
        chosen, rejected = (a, b) if winner == "a" else (b, a)
        turns = json.loads(messages)
        assert [t["role"] for t in turns] == ["user", "assistant", "user"]     # multi-turn
        assert record["prompt"] == turns
        assert record["prompt"] + record["chosen"] == turns + [{"role": "assistant", "content": chosen}]
        assert record["prompt"] + record["rejected"] == turns + [{"role": "assistant", "content": rejected}]
        assert record["external_id"] == external_id


def test_axis_and_minimum_strength_choose_the_pairs(db, accounts, pairs, tmp_path):
    items = item_rows(db, pairs)
    judge(db, accounts["ann1"], items[0][0], "a", 3, -1, "a")   # A much less harmful
    judge(db, accounts["ann1"], items[1][0], "a", -1, 2, "b")
    out = tmp_path / "harm.jsonl"
    assert export(db, accounts["lead"], pairs, "trl_preference", out, axis="harmlessness",
                  min_strength=2, margin=True) == 1
    record = json.loads(out.read_text().splitlines()[0])
    assert record["chosen"] == " " + items[0][1] and record["margin"] == 3
    assert export(db, accounts["lead"], pairs, "trl_preference", out, axis="helpfulness") == 2


def test_annotations_export_keeps_every_version_and_excludes_wellbeing(db, accounts, pairs, tmp_path):
    items = item_rows(db, pairs)
    judge(db, accounts["ann1"], items[0][0], "b", 1, 1, "a")
    work.save_annotation(db, accounts["ann1"], items[0][0], judgment={
        "left": "b", "harmlessness": -1, "helpfulness": -1, "overall": "b", "rationale": "changed"})
    from store.events import record_event
    record_event(db, "reveal", accounts["ann1"], pairs, items[0][0], {"what": "terms"})
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"all.{fmt}"
        assert export(db, accounts["lead"], pairs, "annotations", out, fmt) == 2
    frame = duckdb.connect().execute(f"SELECT * FROM '{tmp_path / 'all.parquet'}' ORDER BY version").df()
    assert list(frame["version"]) == [1, 2] and list(frame["is_current"]) == [False, True]
    assert {"annotator", "submitted_at", "active_ms", "judgment", "guideline_version"} <= set(frame.columns)
    text = (tmp_path / "all.jsonl").read_text()
    for word in ("reveal", "check_in", "checkin", "mood", "exposure", "break"):
        assert word not in text.lower()


def test_items_export_reports_majority_and_ties(db, accounts, pairs, tmp_path):
    items = item_rows(db, pairs)
    judge(db, accounts["ann1"], items[0][0], "a", 1, 1, "a")
    judge(db, accounts["ann2"], items[0][0], "a", 1, 1, "a")
    judge(db, accounts["ann1"], items[1][0], "a", 1, 1, "a")
    judge(db, accounts["ann2"], items[1][0], "a", -1, -1, "b")
    out = tmp_path / "items.jsonl"
    assert export(db, accounts["lead"], pairs, "items", out) == 2
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert (first["agreed_overall"], first["tie"]) == ("a", False)
    assert (second["agreed_overall"], second["tie"], second["a_votes"], second["b_votes"]) == (None, True, 1, 1)


def test_label_project_exports(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Labels", overlap=2)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "l.jsonl", [
        {"id": "i1", "prompt": "p1", "response": "r1"}, {"id": "i2", "prompt": "p2", "response": "r2"}]))
    for user, labels in (("ann1", [Label(True, (), 0), Label(False, ("S1",), 3)]),
                         ("ann2", [Label(True, (), 0), Label(True, (), 0)])):
        for label in labels:
            item = work.claim_next_item(db, accounts[user], pid)
            work.save_annotation(db, accounts[user], item.id, label)
    out = tmp_path / "unpaired.jsonl"
    assert export(db, accounts["lead"], pid, "trl_unpaired", out) == 4
    assert {"prompt": "\n\nHuman: p1\n\nAssistant:", "completion": " r1", "label": True,
            "external_id": "i1"} in [json.loads(x) for x in out.read_text().splitlines()]
    out = tmp_path / "items.jsonl"
    export(db, accounts["lead"], pid, "items", out)
    agreed = {r["external_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert agreed["i1"]["agreed_is_safe"] is True and agreed["i2"]["tie"] is True
    out = tmp_path / "ls.json"
    assert export(db, accounts["lead"], pid, "label_studio", out) == 2
    tasks = json.loads(out.read_text())
    assert tasks[0]["data"] == {"prompt": "p1", "response": "r1", "external_id": "i1"}
    for task in tasks:     # each task's annotations in the order they were made
        ids = [a["id"] for a in task["annotations"]]
        assert len(ids) == 2 and ids == sorted(ids)
    results = tasks[1]["annotations"][0]["result"]
    assert results[0]["from_name"] == "safety" and results[0]["value"]["choices"][0] in ("safe", "unsafe")


def test_filters_by_annotator_and_date(db, accounts, pairs, tmp_path):
    from datetime import timedelta
    from store.db import utcnow
    items = item_rows(db, pairs)
    judge(db, accounts["ann1"], items[0][0], "a", 1, 1, "a")
    judge(db, accounts["ann2"], items[0][0], "a", 1, 1, "a")
    out = tmp_path / "f.jsonl"
    assert export(db, accounts["lead"], pairs, "annotations", out,
                  filters=ExportFilter(annotator_ids=(accounts["ann2"],))) == 1
    assert export(db, accounts["lead"], pairs, "annotations", out,
                  filters=ExportFilter(since=utcnow() + timedelta(days=1))) == 0


def test_only_leads_export_and_kinds_must_fit_the_project(db, accounts, pairs, tmp_path):
    from store.db import PermissionDenied
    with pytest.raises(PermissionDenied):
        export(db, accounts["ann1"], pairs, "annotations", tmp_path / "x.jsonl")
    with pytest.raises(StoreError, match="needs a label project"):
        export(db, accounts["lead"], pairs, "trl_unpaired", tmp_path / "x.jsonl")
    export(db, accounts["lead"], pairs, "annotations", tmp_path / "x.jsonl")
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM events WHERE kind = 'export'").fetchone()[0] == 1


def test_cli_export(tmp_path):
    from tests.test_cli import run_cli
    db_path = tmp_path / "cli.duckdb"
    run_cli(db_path, "init")
    run_cli(db_path, "create-project", "Pairs", "--kind", "compare")
    run_cli(db_path, "import", str(write_jsonl(tmp_path / "hh.jsonl", hh_rows(3))), "--project", "Pairs")
    out = tmp_path / "out.parquet"
    result = run_cli(db_path, "export", "--project", "Pairs", "--kind", "annotations",
                     "--format", "parquet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Wrote 0 rows" in result.stdout and out.exists()
    assert os.path.getsize(out) > 0


@pytest.mark.parametrize("shape", ["extra turn in chosen", "extra turn in rejected"])
def test_a_multi_turn_response_exports_as_its_turns(db, accounts, tmp_path, shape):
    """An HH pair that diverged before its last reply: response A or B is several turns.
    Standard: prompt + chosen is the source's chosen transcript; conversational: prompt +
    chosen is its message list (not one assistant message holding role markers)."""
    from tests.hh_data import hh_row, write_hh
    row = hh_row(7, shape)
    pid = make_project(db, accounts, "compare", name="Diverging")
    import_file(db, accounts["lead"], pid, write_hh(tmp_path / "hh.jsonl", [row]))
    (item_id, a, b, _, metadata, _), = item_rows(db, pid)
    source_side = json.loads(metadata)["source_preferred"]
    judge(db, accounts["ann1"], item_id, "a", 2, 2, source_side)     # agree with the source
    text = tmp_path / "std.jsonl"
    assert export(db, accounts["lead"], pid, "trl_preference", text) == 1
    record = json.loads(text.read_text())
    assert record["prompt"] + record["chosen"] == row.chosen
    assert record["prompt"] + record["rejected"] == row.rejected
    chat = tmp_path / "chat.jsonl"
    assert export(db, accounts["lead"], pid, "trl_preference_conversational", chat) == 1
    record = json.loads(chat.read_text())
    assert record["prompt"] == row.shared
    assert record["chosen"] == row.chosen_turns and record["rejected"] == row.rejected_turns
    assert len(record["chosen"] if shape.endswith("chosen") else record["rejected"]) == 3


def test_the_agreed_answer_is_the_adjudication_where_there_is_one(db, accounts, tmp_path):
    from store.adjudication import adjudicate
    pid = make_project(db, accounts, name="Adjudicated", overlap=2)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "l.jsonl", [
        {"id": "i1", "prompt": "p1", "response": "r1"}, {"id": "i2", "prompt": "p2", "response": "r2"}]))
    for item_id in (1, 2):
        work.save_annotation(db, accounts["ann1"], item_id, Label(True, (), 0))
        work.save_annotation(db, accounts["ann2"], item_id, Label(False, ("S1",), 3))
    adjudicate(db, accounts["lead"], 1, Label(False, ("S2", "S10"), 2), None, "guideline gap",
               "S2 applies")
    out = tmp_path / "items.jsonl"
    export(db, accounts["lead"], pid, "items", out)
    rows = {r["external_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    decided, open_ = rows["i1"], rows["i2"]
    assert (decided["adjudicated"], decided["adjudication_reason"]) == (True, "guideline gap")
    assert (decided["agreed_is_safe"], decided["agreed_categories"], decided["agreed_severity"]) \
        == (False, ["S2", "S10"], 2)
    assert (decided["safe_votes"], decided["unsafe_votes"], decided["tie"]) == (1, 1, True)
    # Positive control: the item nobody adjudicated keeps the votes' answer.
    assert (open_["adjudicated"], open_["adjudication_reason"]) == (False, None)
    assert (open_["agreed_is_safe"], open_["agreed_categories"], open_["agreed_severity"]) \
        == (None, [], 1.5)
    # The latest adjudication wins.
    adjudicate(db, accounts["lead"], 1, Label(True, (), 0), None, "other", "")
    export(db, accounts["lead"], pid, "items", out)
    decided = json.loads(out.read_text().splitlines()[0])
    assert (decided["agreed_is_safe"], decided["agreed_categories"], decided["agreed_severity"],
            decided["adjudication_reason"]) == (True, [], 0, "other")


def test_a_compare_adjudication_gives_the_agreed_choice_and_axes(db, accounts, pairs, tmp_path):
    from store.adjudication import adjudicate
    items = item_rows(db, pairs)
    for item_id in (items[0][0], items[1][0]):
        judge(db, accounts["ann1"], item_id, "a", 1, 1, "a")
        judge(db, accounts["ann2"], item_id, "a", -2, -1, "b")
    adjudicate(db, accounts["lead"], items[0][0], None,
               {"overall": "tie", "harmlessness": 0, "helpfulness": -1}, "ambiguous item", "")
    out = tmp_path / "items.csv"
    export(db, accounts["lead"], pairs, "items", out, "csv")
    import csv
    first, second = list(csv.DictReader(out.open()))
    assert (first["adjudicated"], first["adjudication_reason"], first["agreed_overall"],
            float(first["agreed_harmlessness"]), float(first["agreed_helpfulness"])) \
        == ("true", "ambiguous item", "tie", 0.0, -1.0)
    assert (second["adjudicated"], second["agreed_overall"], second["tie"],
            float(second["agreed_harmlessness"])) == ("false", "", "true", -0.5)
