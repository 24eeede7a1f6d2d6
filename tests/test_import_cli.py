"""`cli.py import` as a separate process: the HH-RLHF file, every problem listed, --skip-bad
with its rejects file, and the database row counts around it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from store.db import open_database
from tests.conftest import ROOT, table_counts
from tests.hh_data import write_hh
from tests.test_imports import SEVERAL_BAD


def run_cli(db_path, *args):
    env = {**os.environ, "SAFELABEL_DB": str(db_path), "SAFELABEL_DEMO": "0"}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, env=env, timeout=300)


def counts(db_path) -> dict[str, int]:
    db = open_database(db_path)
    try:
        return table_counts(db)
    finally:
        db.close()


def project(tmp_path, kind: str):
    db_path = tmp_path / "cli.duckdb"
    assert run_cli(db_path, "init").returncode == 0
    made = run_cli(db_path, "create-project", "Target", "--kind", kind)
    assert made.returncode == 0, made.stderr
    return db_path


def test_the_hh_rlhf_file_imports_from_the_command_line(tmp_path):
    db_path = project(tmp_path, "compare")
    data = write_hh(tmp_path / "harmless-base-test.jsonl")
    result = run_cli(db_path, "import", str(data), "--project", "Target")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Read 2312 rows: added 2312 items, skipped 0 already present."
    assert counts(db_path)["items"] == 2312


def test_every_problem_is_listed_and_nothing_is_written(tmp_path):
    db_path = project(tmp_path, "label")
    data = tmp_path / "several.jsonl"
    data.write_bytes(SEVERAL_BAD)
    before = counts(db_path)
    result = run_cli(db_path, "import", str(data), "--project", "Target")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: 'several.jsonl': 5 problems in 5 rows. Nothing was imported: correct the file, "
        "or use --skip-bad to import the valid rows and set these aside.",
        "  row 2, column 'prompt': is empty",
        "  row 3, column 'hint_severity': must be a whole number from 0 to 9",
        "  row 4: not valid JSON (Expecting value, character 1)",
        "  row 5, column 'id': has the same id '1' as row 1",
        "  row 7 (line 8): not valid JSON: the file ends inside this record (it is cut off)"]
    assert counts(db_path) == before
    assert not (tmp_path / "several.rejects.jsonl").exists()


def test_skip_bad_imports_the_rest_and_writes_the_rejects_beside_the_file(tmp_path):
    db_path = project(tmp_path, "label")
    data = tmp_path / "several.jsonl"
    data.write_bytes(SEVERAL_BAD)
    before = counts(db_path)
    result = run_cli(db_path, "import", str(data), "--project", "Target", "--skip-bad")
    assert result.returncode == 0, result.stderr
    rejects = tmp_path / "several.rejects.jsonl"
    out = result.stdout.splitlines()
    assert out[:2] == ["Read 7 rows: added 2 items, skipped 0 already present.",
                       f"Set aside 5 rows with 5 problems, written with their reasons to {rejects}:"]
    assert out[2:] == ["  row 2, column 'prompt': is empty",
                       "  row 3, column 'hint_severity': must be a whole number from 0 to 9",
                       "  row 4: not valid JSON (Expecting value, character 1)",
                       "  row 5, column 'id': has the same id '1' as row 1",
                       "  row 7 (line 8): not valid JSON: the file ends inside this record (it is cut off)"]
    lines = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(line["row"], line["problems"][0]["problem"]) for line in lines][:2] == [
        (2, "is empty"), (3, "must be a whole number from 0 to 9")]
    after = counts(db_path)
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == {
        "items": 2, "imports": 1, "events": 1}


def test_rejects_path_and_its_guard(tmp_path):
    db_path = project(tmp_path, "label")
    data = tmp_path / "several.jsonl"
    data.write_bytes(SEVERAL_BAD)
    alone = run_cli(db_path, "import", str(data), "--project", "Target",
                    "--rejects", str(tmp_path / "x.jsonl"))
    assert alone.returncode == 1 and "add --skip-bad" in alone.stderr
    chosen = tmp_path / "elsewhere" / "bad-rows.jsonl"
    chosen.parent.mkdir()
    result = run_cli(db_path, "import", str(data), "--project", "Target", "--skip-bad",
                     "--rejects", str(chosen))
    assert result.returncode == 0, result.stderr
    assert len(chosen.read_text(encoding="utf-8").splitlines()) == 5
    assert not (tmp_path / "several.rejects.jsonl").exists()
