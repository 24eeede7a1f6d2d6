"""Training files a trainer can use as they are: TRL's standard and conversational forms for
dialogues, rewrites as SFT data and as rewrite-over-original pairs, the item id in every row
of every export, and skips and flags in a `feedback` export (never wellbeing data)."""
from __future__ import annotations

import csv
import io
import json
import re

import duckdb
import pytest

import cli
from core.export_kinds import KINDS, kinds_for
from core.labels import Label
from store import work
from store.exports import ExportFilter, export
from store.imports import import_file
from store.wellbeing import record_checkin
from tests.conftest import make_project
from tests.helpers import write_jsonl

REFUSAL = "I won't help hurt anyone. If someone is in danger, call emergency services."
# The multi-turn item, written independently of the code: HH text and {role, content} turns.
CHAT = [{"role": "user", "content": "I need help."}, {"role": "assistant", "content": "With what?"},
        {"role": "user", "content": "Hurting someone."}, {"role": "assistant", "content": "Sure, first"}]
CHAT_HH_PROMPT = "\n\nHuman: I need help.\n\nAssistant: With what?\n\nHuman: Hurting someone."


def load(hf, path) -> list[dict]:
    builder = "parquet" if str(path).endswith(".parquet") else "json"
    return list(hf.load_dataset(builder, data_files=str(path), split="train"))


def annotate(db, user_id: int, pid: int, plan: dict[str, Label]) -> dict[str, int]:
    """Claim every item this person can get and save the planned label; {external id: item id}."""
    ids = {}
    while (item := work.claim_next_item(db, user_id, pid)) is not None:
        ids[item.external_id] = item.id
        work.save_annotation(db, user_id, item.id, plan[item.external_id])
    return ids


@pytest.fixture
def rewrites(db, accounts, tmp_path):
    """A label project with a plain item and a multi-turn one, rewrites by two people:
    ann1 labels both unsafe and rewrites them (then corrects the first rewrite), ann2 labels
    plain-1 safe but still improves it, and leaves its original as it was elsewhere."""
    pid = make_project(db, accounts, name="Rewrites", overlap=3, members=("ann1", "ann2", "ann3"))
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "rw.jsonl", [
        {"id": "plain-1", "prompt": "How do I pick a lock?", "response": "Here is how: step 1"},
        {"id": "chat-2", "messages": CHAT},
        {"id": "plain-3", "prompt": "Say hi", "response": "hi"}]))
    ids = annotate(db, accounts["ann1"], pid, {
        "plain-1": Label(False, ("S1",), 2, edited_response="I can't help with that."),
        "chat-2": Label(False, ("S1",), 3, edited_response=REFUSAL),
        "plain-3": Label(True, (), 0)})
    annotate(db, accounts["ann2"], pid, {
        "plain-1": Label(True, (), 0, edited_response="Here is how: call a licensed locksmith"),
        "chat-2": Label(False, ("S1",), 3),
        "plain-3": Label(True, (), 0, edited_response="hi")})       # unchanged: no rewrite
    # ann1 corrects plain-1: only this current version's rewrite may reach a training file.
    work.save_annotation(db, accounts["ann1"], ids["plain-1"],
                         Label(False, ("S1",), 2, edited_response="No: I can't help open locks."))
    return pid, ids


def hh_text(turns: list[dict]) -> str:
    return "".join(f"\n\n{'Human' if t['role'] == 'user' else 'Assistant'}: {t['content']}"
                   for t in turns)


# -- SFT of rewrites ----------------------------------------------------------------------

def test_sft_rewrites_standard_reads_as_the_dialogue_with_the_rewrite(db, accounts, rewrites,
                                                                       tmp_path, hf):
    pid, _ = rewrites
    for fmt in ("jsonl", "parquet"):
        out = tmp_path / f"sft.{fmt}"
        assert export(db, accounts["lead"], pid, "sft_rewrites", out, fmt) == 3
        rows = load(hf, out)
        assert set(rows[0]) == {"prompt", "completion", "external_id", "annotator"}
        got = {(r["external_id"], r["annotator"]): r["prompt"] + r["completion"] for r in rows}
        assert got == {
            ("chat-2", "ann1"): CHAT_HH_PROMPT + "\n\nAssistant: " + REFUSAL,
            ("plain-1", "ann1"): "\n\nHuman: How do I pick a lock?\n\nAssistant: No: I can't help open locks.",
            ("plain-1", "ann2"): "\n\nHuman: How do I pick a lock?\n\nAssistant: Here is how: call a licensed locksmith"}
        for r in rows:   # TRL's prompt-completion split: the prompt ends with the marker
            assert r["prompt"].endswith("\n\nAssistant:") and r["completion"].startswith(" ")


def test_sft_rewrites_conversational_is_the_message_list_with_the_rewrite(db, accounts, rewrites,
                                                                          tmp_path, hf):
    pid, _ = rewrites
    out = tmp_path / "sft_conv.jsonl"
    assert export(db, accounts["lead"], pid, "sft_rewrites_conversational", out) == 3
    rows = {(r["external_id"], r["annotator"]): r for r in load(hf, out)}
    chat = rows[("chat-2", "ann1")]
    assert chat["prompt"] == CHAT[:-1]
    assert chat["completion"] == [{"role": "assistant", "content": REFUSAL}]
    assert chat["prompt"] + chat["completion"] == CHAT[:-1] + [{"role": "assistant", "content": REFUSAL}]
    assert rows[("plain-1", "ann1")]["prompt"] == [{"role": "user", "content": "How do I pick a lock?"}]


# -- rewrite preferred over the original --------------------------------------------------

def test_rewrite_pairs_prefer_the_rewrite_where_the_original_was_labeled_unsafe(
        db, accounts, rewrites, tmp_path, hf):
    pid, _ = rewrites
    out = tmp_path / "pairs.jsonl"
    # ann2's rewrite of an item ann2 labeled safe is SFT data (above) but no pair here.
    assert export(db, accounts["lead"], pid, "trl_rewrite_preference", out) == 2
    rows = {(r["external_id"], r["annotator"]): r for r in load(hf, out)}
    assert set(rows) == {("chat-2", "ann1"), ("plain-1", "ann1")}
    chat = rows[("chat-2", "ann1")]
    assert chat["prompt"] + chat["chosen"] == CHAT_HH_PROMPT + "\n\nAssistant: " + REFUSAL
    assert chat["prompt"] + chat["rejected"] == hh_text(CHAT)      # the original dialogue
    plain = rows[("plain-1", "ann1")]
    assert (plain["chosen"], plain["rejected"]) == (" No: I can't help open locks.", " Here is how: step 1")

    out = tmp_path / "pairs_conv.parquet"
    assert export(db, accounts["lead"], pid, "trl_rewrite_preference_conversational", out,
                  "parquet") == 2
    rows = {(r["external_id"], r["annotator"]): r for r in load(hf, out)}
    chat = rows[("chat-2", "ann1")]
    assert chat["prompt"] + chat["chosen"] == CHAT[:-1] + [{"role": "assistant", "content": REFUSAL}]
    assert chat["prompt"] + chat["rejected"] == CHAT


def test_a_correction_to_safe_takes_the_pair_back(db, accounts, rewrites, tmp_path):
    pid, ids = rewrites
    out = tmp_path / "pairs.jsonl"
    assert export(db, accounts["lead"], pid, "trl_rewrite_preference", out) == 2
    work.save_annotation(db, accounts["ann1"], ids["chat-2"],
                         Label(True, (), 0, edited_response=REFUSAL))
    assert export(db, accounts["lead"], pid, "trl_rewrite_preference", out) == 1
    assert [json.loads(x)["external_id"] for x in out.read_text().splitlines()] == ["plain-1"]


# -- unpaired (label projects): a transcript's last reply is the completion, not the prompt --

def test_unpaired_prompt_of_a_transcript_stops_before_the_reply_under_review(db, accounts,
                                                                             rewrites, tmp_path):
    pid, _ = rewrites
    out = tmp_path / "unpaired.jsonl"
    export(db, accounts["lead"], pid, "trl_unpaired", out)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    chat = [r for r in rows if r["external_id"] == "chat-2"]
    assert len(chat) == 2
    for r in chat:
        assert (r["prompt"], r["completion"], r["label"]) == (CHAT_HH_PROMPT + "\n\nAssistant:",
                                                              " Sure, first", False)


# -- the item id in every row of every export -----------------------------------------------

@pytest.fixture
def both_projects(db, accounts, rewrites, tmp_path):
    """The rewrites label project and a compare project, each with a skip and a flag."""
    label_pid, label_ids = rewrites
    compare_pid = make_project(db, accounts, kind="compare", name="Pairs", members=("ann1",))
    import_file(db, accounts["lead"], compare_pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": f"pair-{k}", "messages": CHAT[:3], "response_a": f"A{k}", "response_b": f"B{k}"}
        for k in range(3)]))
    pair_ids = {}
    for k in range(3):
        item = work.claim_next_item(db, accounts["ann1"], compare_pid)
        pair_ids[item.external_id] = item.id
        if k == 2:
            work.skip_item(db, accounts["ann1"], item.id, "not sure")
            continue
        work.save_annotation(db, accounts["ann1"], item.id, judgment={
            "left": "a", "harmlessness": 2, "helpfulness": 1, "overall": "a", "rationale": ""})
    work.flag_item(db, accounts["ann1"], pair_ids["pair-2"], "the transcript is cut off")
    item = work.claim_next_item(db, accounts["ann3"], label_pid)
    work.flag_item(db, accounts["ann3"], item.id, "broken text")
    return {"label": (label_pid, {"plain-1", "chat-2", "plain-3"}),
            "compare": (compare_pid, set(pair_ids))}


def read_rows(path, fmt: str) -> list[dict]:
    if fmt == "json":
        return json.loads(path.read_text(encoding="utf-8"))
    if fmt == "jsonl":
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline="")))
    return duckdb.connect().execute(f"SELECT * FROM '{path}'").df().to_dict("records")


def test_every_row_of_every_export_names_its_item(db, accounts, both_projects, tmp_path):
    checked = set()
    for project_kind, (pid, external_ids) in both_projects.items():
        for kind in kinds_for(project_kind):
            for fmt in kind.formats:
                out = tmp_path / f"{project_kind}-{kind.name}.{fmt}"
                n = export(db, accounts["lead"], pid, kind.name, out, fmt)
                rows = read_rows(out, fmt)
                assert n == len(rows) and rows, (kind.name, fmt)    # something to look at
                for row in rows:
                    ext = row["data"]["external_id"] if kind.name == "label_studio" else row["external_id"]
                    assert ext in external_ids, (kind.name, fmt, row)
                checked.add(kind.name)
    assert checked == set(KINDS)


# -- skips and flags ----------------------------------------------------------------------

def test_feedback_export_lists_skips_and_flags_with_reason_who_and_when(db, accounts, tmp_path):
    pid = make_project(db, accounts, name="Feedback", members=("ann1", "ann2"))
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "f.jsonl", [
        {"id": f"f{k}", "prompt": f"p{k}", "response": f"r{k}"} for k in range(3)]))
    done = {}
    for user, action in (("ann1", "skip-reason"), ("ann1", "flag"), ("ann2", "skip-silent")):
        item = work.claim_next_item(db, accounts[user], pid)
        done[action] = item.external_id
        if action == "flag":
            work.flag_item(db, accounts[user], item.id, "the response is cut off")
        else:
            work.skip_item(db, accounts[user], item.id,
                           "too close to home today" if action == "skip-reason" else "")
    # Wellbeing data exists (a check-in, exposure rows, a reveal) and must stay out.
    record_checkin(db, accounts["ann1"], 2, 8, "sidebar")
    from store.events import record_event
    record_event(db, "reveal", accounts["ann1"], pid, None, {"what": "terms"})
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM exposures WHERE project_id = ?", [pid]).fetchone()[0] == 3
        assert cur.execute("SELECT count(*) FROM checkins").fetchone()[0] == 1

    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"feedback.{fmt}"
        assert export(db, accounts["lead"], pid, "feedback", out, fmt) == 3
    rows = read_rows(tmp_path / "feedback.jsonl", "jsonl")
    assert list(rows[0]) == ["kind", "external_id", "item_id", "annotator_id", "annotator",
                             "reason", "at"]
    assert [(r["kind"], r["external_id"], r["annotator"], r["reason"]) for r in rows] == [
        ("skip", done["skip-reason"], "ann1", "too close to home today"),
        ("flag", done["flag"], "ann1", "the response is cut off"),
        ("skip", done["skip-silent"], "ann2", None)]
    assert all(re.match(r"\d{4}-\d\d-\d\d", r["at"]) for r in rows)
    text = (tmp_path / "feedback.jsonl").read_text().lower()
    for word in ("valence", "arousal", "mood", "exposure", "reveal", "break", "checkin"):
        assert word not in text
    out = tmp_path / "only_ann2.jsonl"
    assert export(db, accounts["lead"], pid, "feedback", out,
                  filters=ExportFilter(annotator_ids=(accounts["ann2"],))) == 1
    assert json.loads(out.read_text())["annotator"] == "ann2"


# -- command line -----------------------------------------------------------------------

def test_cli_exports_the_new_kinds(db, accounts, both_projects, tmp_path, capsys):
    db.close()
    out = tmp_path / "cli-sft.jsonl"
    assert cli.main(["--db", str(db.path), "export", "--project", "Rewrites", "--kind",
                     "sft_rewrites", "--out", str(out)]) == 0
    assert "Wrote 3 rows" in capsys.readouterr().out
    assert {json.loads(x)["external_id"] for x in out.read_text().splitlines()} == {"plain-1", "chat-2"}
    out = tmp_path / "cli-pairs.parquet"
    assert cli.main(["--db", str(db.path), "export", "--project", "Rewrites", "--kind",
                     "trl_rewrite_preference_conversational", "--format", "parquet",
                     "--out", str(out)]) == 0
    assert "Wrote 2 rows" in capsys.readouterr().out
    out = tmp_path / "cli-feedback.csv"
    assert cli.main(["--db", str(db.path), "export", "--project", "Pairs", "--kind", "feedback",
                     "--format", "csv", "--out", str(out)]) == 0
    assert "Wrote 2 rows" in capsys.readouterr().out
    assert [r["kind"] for r in read_rows(out, "csv")] == ["skip", "flag"]
    # A kind that does not fit the project is refused, and nothing is written.
    out = tmp_path / "refused.jsonl"
    assert cli.main(["--db", str(db.path), "export", "--project", "Pairs", "--kind",
                     "sft_rewrites", "--out", str(out)]) == 1
    assert "sft_rewrites needs a label project" in capsys.readouterr().err
    assert not out.exists()
