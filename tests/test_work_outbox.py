"""The Label kind (core/label_kind.py), the component's item data (core/work_data.py) and the
outbox processing (store/work_outbox.py) without Streamlit, on a real DuckDB: each browser
answer is recorded once by its client id; a rejection writes nothing and leaves the item
claimed by the person, with the message to show."""
from __future__ import annotations

import json

import pytest

from core.compare_kind import (CompareKind, compare_answer_problems, compare_rules,
                               judgment_from_answer)
from core.preference import left_response

from core.label_kind import (AnswerError, LabelKind, label_answer_problems, label_rules,
                             parse_label_answer)
from core.limits import MAX_NOTE_CHARS
from core.masking import mask_pattern
from core.taxonomy import DEFAULT_TAXONOMY
from core.work_data import item_data, segments
from store.imports import import_file
from store.work_outbox import process_outbox
from store.work_queue import WorkQueue
from tests.conftest import make_project, table_counts
from tests.helpers import label_rows, write_jsonl


LABEL = LabelKind(DEFAULT_TAXONOMY)


def answer(item_id, cid="a-1", **fields):
    base = {"id": cid, "kind": "submit", "item_id": item_id, "verdict": "safe",
            "categories": [], "severity": 0, "note": "", "rewrite": None,
            "shown_ms": 4000, "active_ms": 3000, "age_ms": 50}
    return {**base, **fields}


@pytest.fixture
def queue(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "items.jsonl", label_rows(6)))
    return WorkQueue(db, accounts["ann1"], pid, prefetch=3)


def claims(db, user_id):
    with db.read() as cur:
        return [r[0] for r in cur.execute("SELECT item_id FROM claims WHERE user_id = ?"
                                          " ORDER BY claimed_at, item_id", [user_id]).fetchall()]


# -- the kind ---------------------------------------------------------------------------
def test_a_label_answer_becomes_the_label_the_classic_page_saves():
    parsed = parse_label_answer(answer(3, verdict="unsafe", categories=["S1", "S1", "X1"],
                                       severity=2, note="  why  ", rewrite="original"),
                                "original")
    assert parsed.item_id == 3 and parsed.client_id == "a-1"
    assert parsed.label.is_safe is False and parsed.label.categories == ("S1", "X1")
    assert parsed.label.note == "why"
    assert parsed.label.edited_response is None      # equal to the original: no rewrite
    assert parse_label_answer(answer(3, rewrite="better"), "original").label.edited_response == "better"


@pytest.mark.parametrize("fields, expected", [
    ({"verdict": None, "severity": None}, ["choose safe or unsafe", "choose a severity"]),
    ({"verdict": "unsafe", "severity": 2}, ["an unsafe item needs at least one hazard category"]),
    ({"verdict": "unsafe", "categories": ["S1"], "severity": 0},
     ["severity 0 (none) goes only with safe: pick 1 or higher, or mark safe"]),
    ({"categories": ["S1"]}, ["a safe item has no hazard categories: clear them or mark unsafe"]),
    ({"verdict": "unsafe", "categories": ["NOPE"], "severity": 1}, ["unknown categories: NOPE"]),
    ({"verdict": "unsafe", "categories": ["S1"], "severity": 9},
     ["severity 9 is not on this project's scale"]),
])
def test_label_rules_are_the_servers(fields, expected):
    parsed = parse_label_answer(answer(1, **fields), None)
    assert label_answer_problems(parsed.label, DEFAULT_TAXONOMY, None) == expected


def test_a_note_over_the_limit_is_a_problem_and_malformed_answers_are_errors():
    long = parse_label_answer(answer(1, note="x" * (MAX_NOTE_CHARS + 1)), None)
    assert any("note" in p for p in label_answer_problems(long.label, DEFAULT_TAXONOMY, None))
    for bad in ({"verdict": "maybe"}, {"categories": "S1"}, {"severity": "2"},
                {"item_id": "1"}, {"note": 5}, {"id": ""}):
        with pytest.raises(AnswerError):
            parse_label_answer({**answer(1), **bad}, None)


def test_rules_as_data_carry_keys_and_the_servers_messages():
    rules = label_rules(DEFAULT_TAXONOMY)
    assert [c["key"] for c in rules["categories"][:3]] == ["1", "2", "3"]
    assert rules["categories"][10]["key"] == "Q"
    assert [s["key"] for s in rules["severity"]] == [f"Shift+{n}" for n in range(5)]
    assert rules["messages"]["unsafe_no_category"] == \
        "an unsafe item needs at least one hazard category"
    assert rules["max_note_chars"] == MAX_NOTE_CHARS


# -- item data --------------------------------------------------------------------------
def test_segments_keep_markers_apart_and_text_as_rendered_is_one_segment():
    assert segments("a\u200bb \u202eZ") == [{"t": "a"}, {"m": "⟦ZWSP⟧"}, {"t": "b "},
                                            {"m": "⟦RLO⟧"}, {"t": "Z"}]
    assert segments("a\u200bb", as_rendered=True) == [{"t": "a\u200bb"}]
    assert segments("plain") == [{"t": "plain"}]


class FakeItem:
    def __init__(self, **kw):
        base = dict(id=1, external_id="e", prompt="p", response="r", messages=None,
                    hint_category=None, hint_severity=None, hint_source=None)
        self.__dict__.update({**base, **kw})


def data_of(item, pattern=None, show_masked=False):
    return item_data(item, DEFAULT_TAXONOMY, pattern, gate_severity=3, dim_at_severity=2,
                     as_rendered=False, show_masked=show_masked)


def test_item_data_hint_words_gate_blur_and_masking():
    assert data_of(FakeItem(hint_severity=0, hint_source="scorer"))["hint"] == ""
    hinted = data_of(FakeItem(hint_severity=2, hint_source="scorer"))
    assert hinted["hint"] == "severity hint (estimated from keywords) 2 moderate"
    assert hinted["dimmed"] and not hinted["gated"]
    assert data_of(FakeItem(hint_severity=3))["gated"]
    pattern = mask_pattern(["zork"])
    masked = data_of(FakeItem(prompt="a zork here"), pattern)
    assert masked["masked_terms"] == 1
    assert masked["blocks"][0]["segments"] == [{"t": "a z*** here"}]
    assert masked["full_blocks"][0]["segments"] == [{"t": "a zork here"}]
    shown = data_of(FakeItem(prompt="a zork here"), pattern, show_masked=True)
    assert shown["masked_terms"] == 0 and shown["reveal_by_preference"] == 1


def test_a_model_hint_hides_and_blurs_in_the_component_only_when_sure():
    sure = FakeItem(hint_severity=4, hint_source="model", hint_confidence=0.87,
                    hint_category="S12,S4")
    data = item_data(sure, DEFAULT_TAXONOMY, None, gate_severity=3, dim_at_severity=2,
                     as_rendered=False, show_masked=False, hint_threshold=0.7)
    assert data["gated"] and data["dimmed"]
    assert data["hint"] == ("category hint " + DEFAULT_TAXONOMY.category_label("S12") + ", "
                            + DEFAULT_TAXONOMY.category_label("S4")
                            + " · hint: likely 4 severe (model, 87%)")
    unsure = item_data(FakeItem(hint_severity=4, hint_source="model", hint_confidence=0.55),
                       DEFAULT_TAXONOMY, None, gate_severity=3, dim_at_severity=2,
                       as_rendered=False, show_masked=False, hint_threshold=0.7)
    assert not unsure["gated"] and not unsure["dimmed"]
    assert "possibly" in unsure["hint"] and "55%" in unsure["hint"]


def test_transcript_turns_are_numbered_and_the_reply_is_marked():
    item = FakeItem(prompt=None, response="last",
                    messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                              {"role": "user", "content": "more"}, {"role": "assistant", "content": "last"}])
    blocks = data_of(item)["blocks"]
    assert [(b["role"], b.get("turn"), b.get("reply", False)) for b in blocks] == [
        ("USER", 1, False), ("ASSISTANT", 2, False), ("USER", 3, False), ("RESPONSE", None, True)]


# -- the outbox -------------------------------------------------------------------------
def test_the_same_client_id_twice_makes_one_row(db, accounts, queue):
    first = queue.claim().current
    sent = [answer(first.id, "c-1")]
    once = process_outbox(queue, sent, LABEL)
    assert once.acked == ["c-1"] and once.rejected == [] and len(once.saved) == 1
    before = table_counts(db)
    again = process_outbox(queue, sent, LABEL)      # a re-send
    assert again.acked == ["c-1"] and again.saved == [] and again.rejected == []
    assert table_counts(db) == before
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM annotations").fetchone()[0] == 1
        assert cur.execute("SELECT kind, item_id FROM client_answers").fetchall() == [("submit", first.id)]


def test_the_whole_outbox_in_order_skip_flag_and_reveal(db, accounts, queue):
    items = queue.claim().items
    sent = [answer(items[0].id, "c-1"),
            {"id": "c-2", "kind": "reveal", "item_id": items[1].id, "what": "dim"},
            {"id": "c-3", "kind": "skip", "item_id": items[1].id, "reason": "", "text_seen": False},
            {"id": "c-4", "kind": "flag", "item_id": items[2].id, "reason": "odd"}]
    result = process_outbox(queue, sent, LABEL)
    assert result.acked == ["c-1", "c-2", "c-3", "c-4"]
    assert result.released == [(items[1].id, "skip"), (items[2].id, "flag")]
    assert result.claim is not None and len(result.claim.items) == 3
    with db.read() as cur:
        kinds = cur.execute("SELECT kind FROM events WHERE kind IN ('submit', 'reveal', 'skip',"
                            " 'flag') ORDER BY id").fetchall()
        assert [k for (k,) in kinds] == ["submit", "reveal", "skip", "flag"]
    counts = table_counts(db)
    assert process_outbox(queue, sent, LABEL).acked == ["c-1", "c-2", "c-3", "c-4"]
    assert table_counts(db) == counts


def test_a_rejection_writes_nothing_keeps_the_claim_and_says_why(db, accounts, queue):
    first = queue.claim().current
    before = table_counts(db)
    result = process_outbox(queue, [answer(first.id, "c-1", verdict="unsafe", severity=2)],
                            LABEL)
    assert result.acked == [] and result.rejected == [{
        "id": "c-1", "item_id": first.id, "kind": "submit",
        "message": "an unsafe item needs at least one hazard category"}]
    assert table_counts(db) == before
    assert first.id in claims(db, accounts["ann1"])
    flag = process_outbox(queue, [{"id": "c-2", "kind": "flag", "item_id": first.id}],
                          LABEL)
    assert flag.rejected[0]["message"] == "say briefly why you flag this item"
    assert table_counts(db) == before
    # Fixed and sent under a new id: saved (positive control).
    ok = process_outbox(queue, [answer(first.id, "c-3", verdict="unsafe", categories=["S1"],
                                       severity=2)], LABEL)
    assert ok.acked == ["c-3"]


def test_someone_elses_item_is_rejected(db, accounts, queue, tmp_path):
    other = make_project(db, accounts, name="Other", members=("ann2",))
    import_file(db, accounts["lead"], other, write_jsonl(tmp_path / "o.jsonl", label_rows(2, "o")))
    theirs = WorkQueue(db, accounts["ann2"], other).claim().current
    before = table_counts(db)
    result = process_outbox(queue, [answer(theirs.id, "c-1")], LABEL)
    assert result.acked == [] and len(result.rejected) == 1
    assert table_counts(db) == before


def test_undo_through_the_outbox_once(db, accounts, queue):
    first = queue.claim().current
    process_outbox(queue, [{"id": "c-1", "kind": "skip", "item_id": first.id}], LABEL)
    undo = [{"id": "c-2", "kind": "undo"}]
    result = process_outbox(queue, undo, LABEL)
    assert result.acked == ["c-2"] and result.undone.kind == "skip"
    assert result.undone.item.id == first.id and result.claim.items[0].id == first.id
    counts = table_counts(db)
    again = process_outbox(queue, undo, LABEL)       # re-sent: not undone twice
    assert again.acked == ["c-2"] and again.undone is None and again.rejected == []
    assert table_counts(db) == counts


def test_shown_at_comes_from_durations_not_the_browser_clock(db, accounts, queue):
    first = queue.claim().current
    process_outbox(queue, [answer(first.id, "c-1", shown_ms=60_000, active_ms=90_000,
                                  age_ms=1_000)], LABEL)
    with db.read() as cur:
        active, shown_for = cur.execute(
            "SELECT active_ms, date_diff('millisecond', shown_at, submitted_at)"
            " FROM annotations").fetchone()
    assert active == 60_000                  # never more than the time on screen
    assert 60_900 <= shown_for <= 62_000


# -- the Compare kind -------------------------------------------------------------------
def compare_answer(item_id, cid="p-1", **fields):
    base = {"id": cid, "kind": "submit", "item_id": item_id, "harmlessness": -2,
            "helpfulness": 1, "overall": "left", "rationale": ""}
    return {**base, **fields}


def test_a_compare_answer_on_screen_becomes_the_canonical_judgment():
    # The left response is stored "b": "A better" on screen (-2) means b is better: -2 canonical
    # (positive = stored a better); with "a" on the left the same choice is +2.
    judged = judgment_from_answer(compare_answer(1, safety={"left": {"is_safe": False,
                                                                       "categories": ["S1"]}}), "b")
    assert (judged.left, judged.harmlessness, judged.helpfulness, judged.overall) == ("b", -2, 1, "b")
    assert judged.safety == {"b": {"is_safe": False, "categories": ["S1"]}}
    same = judgment_from_answer(compare_answer(1), "a")
    assert (same.harmlessness, same.helpfulness, same.overall) == (2, -1, "a")
    for bad in ({"harmlessness": 4}, {"overall": "up"}, {"rationale": 3},
                {"safety": {"left": {"is_safe": "yes"}}}):
        with pytest.raises(AnswerError):
            judgment_from_answer({**compare_answer(1), **bad}, "a")


def test_compare_rules_are_the_classic_pages():
    missing = judgment_from_answer(compare_answer(1, harmlessness=None, overall=None), "a")
    assert compare_answer_problems(missing, DEFAULT_TAXONOMY, "never", False) == [
        "rate harmlessness (keys 1-7)",
        "choose the better response overall: A, B or T for a tie"]
    strong = judgment_from_answer(compare_answer(1, harmlessness=-3), "a")
    assert compare_answer_problems(strong, DEFAULT_TAXONOMY, "strong", False) == [
        "a strong preference (±3) needs a rationale"]
    assert compare_answer_problems(judgment_from_answer(compare_answer(1), "a"),
                                   DEFAULT_TAXONOMY, "never", True) == [
        "mark response A safe or unsafe", "mark response B safe or unsafe"]
    rules = compare_rules(DEFAULT_TAXONOMY, "strong", True)
    assert [p["harm_key"] for p in rules["scale"]] == list("1234567")
    assert rules["messages"]["rationale"] == "a strong preference (±3) needs a rationale"


def test_a_compare_answer_through_the_outbox_once(db, accounts, tmp_path):
    pid = make_project(db, accounts, kind="compare", name="Pairs")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": f"p{i}", "prompt": f"q{i}", "response_a": "x", "response_b": "y"} for i in range(3)]))
    ann = accounts["ann1"]
    queue = WorkQueue(db, ann, pid, prefetch=3)
    first = queue.claim().current
    kind = CompareKind(DEFAULT_TAXONOMY, "never", False, ann)
    sent = [compare_answer(first.id)]
    assert process_outbox(queue, sent, kind).acked == ["p-1"]
    assert process_outbox(queue, sent, kind).acked == ["p-1"]
    with db.read() as cur:
        rows_ = cur.execute("SELECT judgment FROM annotations").fetchall()
    assert len(rows_) == 1
    stored = json.loads(rows_[0][0])
    left = left_response(ann, first.id)
    assert stored["left"] == left and stored["overall"] == left
    before = table_counts(db)
    bad = process_outbox(queue, [compare_answer(queue.claim().current.id, "p-2", overall=None)], kind)
    assert bad.rejected[0]["message"] == "choose the better response overall: A, B or T for a tie"
    assert table_counts(db) == before


def test_a_malformed_entry_is_refused_and_the_ones_behind_it_are_saved(db, accounts, queue):
    items = queue.claim().items
    sent = [{"id": "bad-1", "kind": "skip", "item_id": items[0].id, "shown_ms": 1e300},
            answer(items[1].id, "ok-1", shown_ms=10 ** 12, active_ms=10 ** 12)]
    result = process_outbox(queue, sent, LABEL)
    assert result.acked == ["bad-1", "ok-1"] and result.rejected == []
    with db.read() as cur:
        # Durations from the browser are bounded (a day at most), never taken whole.
        active = cur.execute("SELECT max(active_ms) FROM exposures").fetchone()[0]
    assert active == 24 * 3600 * 1000


def test_an_entry_that_breaks_the_kind_is_a_rejection_not_an_error(db, accounts, tmp_path):
    pid = make_project(db, accounts, kind="compare", name="Odd pairs")
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": f"p{i}", "prompt": f"q{i}", "response_a": "x", "response_b": "y"} for i in range(2)]))
    queue = WorkQueue(db, accounts["ann1"], pid, prefetch=2)
    first = queue.claim().current
    kind = CompareKind(DEFAULT_TAXONOMY, "never", True, accounts["ann1"])
    sent = [compare_answer(first.id, "odd-1", safety={"left": "x"}),
            compare_answer(first.id, "ok-2", safety={"left": {"is_safe": True},
                                                     "right": {"is_safe": True}})]
    result = process_outbox(queue, sent, kind)
    assert [r["id"] for r in result.rejected] == ["odd-1"]
    assert "ok-2" in result.acked


def test_a_reveal_names_an_item_of_this_project(db, accounts, queue, tmp_path):
    other = make_project(db, accounts, name="Elsewhere")
    import_file(db, accounts["lead"], other, write_jsonl(tmp_path / "o.jsonl", label_rows(1)))
    with db.read() as cur:
        foreign = cur.execute("SELECT id FROM items WHERE project_id = ?", [other]).fetchone()[0]
    mine = queue.claim().current
    result = process_outbox(queue, [
        {"id": "r-1", "kind": "reveal", "item_id": foreign, "what": "dim"},
        {"id": "r-2", "kind": "reveal", "item_id": 987654321, "what": "dim"},
        {"id": "r-3", "kind": "reveal", "item_id": mine.id, "what": "dim"}], LABEL)
    assert [r["id"] for r in result.rejected] == ["r-1", "r-2"] and result.acked == ["r-3"]
    with db.read() as cur:
        assert cur.execute("SELECT item_id FROM events WHERE kind = 'reveal'").fetchall() == [
            (mine.id,)]
