"""Severity hints that learn (core/hint_model.py, store/hint_models.py): training data,
cross-validated quality against the keyword hint on the shipped set, bounded re-scoring
under concurrent submits, the keyword fallback, the trigger, the CLI and the pages."""
from __future__ import annotations

import json
import shutil
import threading

import pytest

from core.hint_model import Example, train
from core.hint_trust import trusted_hint
from core.labels import Label
from core.severity_hint import severity_hint
from store import hint_models, projects, work
from store.adjudication import adjudicate
from store.db import StoreError, open_database
from store.imports import import_file
from store.work_queue import WorkQueue
from tests.conftest import make_project, table_counts
from tests.hint_data import LABELLED, hint_rows, labelled_project, make_accounts
from tests.helpers import as_user, by_label, write_jsonl


def wait_until(condition, timeout: float = 120.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory):
    """A database with the shipped set as project "Hints" (600 of 720 items labelled) and a
    model trained on it; each test copies the file and so has its own state."""
    folder = tmp_path_factory.mktemp("trained")
    db = open_database(folder / "trained.duckdb")
    accounts = make_accounts(db)
    pid = labelled_project(db, accounts, folder)
    result = hint_models.train_and_store(db, None, pid)
    db.close()
    return folder / "trained.duckdb", accounts, pid, result.evaluation


@pytest.fixture
def trained(trained_file, tmp_path):
    path, accounts, pid, evaluation = trained_file
    shutil.copy(path, tmp_path / "copy.duckdb")
    db = open_database(tmp_path / "copy.duckdb")
    yield db, accounts, pid
    db.close()


def hints(db, pid):
    with db.read() as cur:
        return {r[0]: r[1:] for r in cur.execute(
            "SELECT external_id, hint_source, hint_severity, hint_confidence, hint_model_version,"
            " hint_category FROM items WHERE project_id = ? ORDER BY id", [pid]).fetchall()}


# -- core ------------------------------------------------------------------------------------

def test_trusted_hint_acts_only_on_a_confident_model_and_words_say_how_sure():
    label = lambda level: f"{level} high"   # noqa: E731
    sure = trusted_hint(3, "model", 0.87, 0.7, label)
    unsure = trusted_hint(3, "model", 0.55, 0.7, label)
    keywords = trusted_hint(3, "scorer", None, 0.7, label)
    assert (sure.acted_on, sure.words) == (3, "hint: likely 3 high (model, 87%)")
    assert unsure.acted_on is None and "possibly 3 high (model, only 55% sure" in unsure.words
    assert (keywords.acted_on, keywords.words) == (3, "severity hint (estimated from keywords) 3 high")
    assert trusted_hint(0, "model", 0.9, 0.7, label).words is None
    assert trusted_hint(3, "model", 0.55, 0.5, label).acted_on == 3     # the project's threshold


def test_training_is_deterministic_and_a_model_survives_serialisation():
    rows = hint_rows()[:200]
    examples = [Example(r["prompt"] + " " + r["response"], r["severity"], tuple(r["categories"]))
                for r in rows]
    first, second = train(examples), train(examples)
    texts = [e.text for e in examples[:20]]
    assert first.predict(texts) == second.predict(texts)
    from core.hint_model import HintModel
    assert HintModel.from_bytes(first.to_bytes()).predict(texts) == first.predict(texts)
    with pytest.raises(ValueError):
        HintModel.from_bytes(b"not a model")


def test_shipped_set_is_what_its_generator_writes():
    from tests.fixtures.make_hint_set import OUT, generate, render
    assert OUT.read_text(encoding="utf-8") == render(generate())


# -- training data -----------------------------------------------------------------------------

def test_consensus_is_the_upper_median_of_latest_answers_and_an_adjudication_wins(db, accounts, tmp_path):
    pid = make_project(db, accounts, overlap=3)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "i.jsonl", [
        {"id": "a", "prompt": "one"}, {"id": "b", "prompt": "two"}, {"id": "c", "prompt": "three"}]))
    with db.read() as cur:
        ids = dict(cur.execute("SELECT external_id, id FROM items").fetchall())
    unsafe = lambda s, *c: Label(False, c or ("S1",), s)   # noqa: E731
    # a: 1, 3 and 4 -> 3 (upper median); ann1's first answer 4 is corrected to 1.
    work.save_annotation(db, accounts["ann1"], ids["a"], unsafe(4))
    work.save_annotation(db, accounts["ann1"], ids["a"], unsafe(1), correction=True)
    work.save_annotation(db, accounts["ann2"], ids["a"], unsafe(3, "S1", "S2"))
    work.save_annotation(db, accounts["ann3"], ids["a"], unsafe(4, "S2"))
    # b: 0 and 2 -> 2 (of two answers, the more severe); c: adjudicated 1 over a 4.
    work.save_annotation(db, accounts["ann1"], ids["b"], Label(True, (), 0))
    work.save_annotation(db, accounts["ann2"], ids["b"], unsafe(2, "X2"))
    work.save_annotation(db, accounts["ann1"], ids["c"], unsafe(4))
    adjudicate(db, accounts["lead"], ids["c"], Label(True, (), 1), None, "annotator error")
    item_ids, examples = hint_models.training_examples(db, pid)
    got = {i: (e.severity, e.categories) for i, e in zip(item_ids, examples)}
    assert got == {ids["a"]: (3, ("S1", "S2")), ids["b"]: (2, ("X2",)), ids["c"]: (1, ())}


def test_gold_and_qualification_items_learn_the_expected_answer_never_the_votes(db, accounts, tmp_path):
    from store.gold import set_gold
    pid = make_project(db, accounts, overlap=3)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "q.jsonl", [
        {"id": "q", "prompt": "quiz"}, {"id": "g", "prompt": "gold"},
        {"id": "x", "prompt": "ordinary"}]))
    with db.read() as cur:
        ids = dict(cur.execute("SELECT external_id, id FROM items").fetchall())
    set_gold(db, accounts["lead"], ids["q"], Label(True, (), 0), None, "benign", qualification=True)
    set_gold(db, accounts["lead"], ids["g"], Label(False, ("S1",), 2), None, "moderate")
    for ann in ("ann1", "ann2"):     # everyone answers wrongly (say, failing a qualification)
        for item in ("q", "g", "x"):
            work.save_annotation(db, accounts[ann], ids[item], Label(False, ("S4",), 4))
    item_ids, examples = hint_models.training_examples(db, pid)
    got = {i: (e.severity, e.categories) for i, e in zip(item_ids, examples)}
    # The quiz and gold items learn the lead's answers; the ordinary item (positive
    # control) learns the votes.
    assert got == {ids["q"]: (0, ()), ids["g"]: (2, ("S1",)), ids["x"]: (4, ("S4",))}


# -- quality on the shipped set --------------------------------------------------------------------

def test_model_beats_the_keyword_hint_on_the_shipped_set(trained_file):
    _, _, _, evaluation = trained_file
    model, keywords = evaluation.model[3], evaluation.keywords[3]
    assert evaluation.items == LABELLED and model.positives == keywords.positives > 100
    assert model.recall > keywords.recall + 0.5
    assert model.false_alarm_rate <= keywords.false_alarm_rate
    assert evaluation.model[2].recall > evaluation.keywords[2].recall
    assert evaluation.better == "model"
    # The keyword figures are the keyword scorer's own hints on the same items.
    rows = hint_rows()[:LABELLED]
    flagged = sum(severity_hint(r["prompt"] + " " + r["response"]) >= 3
                  for r in rows if r["severity"] >= 3)
    assert keywords.caught == flagged
    assert {c.code for c in evaluation.categories} >= {"S1", "S2", "S11"}


def test_status_says_which_hint_is_in_use(trained):
    db, accounts, pid = trained
    status = hint_models.hint_status(db, pid)
    assert status.in_use == "model" and status.pending_items == 720 - LABELLED
    assert "Model hint in use (model version 1, trained on 600 items)" in status.explanation
    hint_models.set_hint_settings(db, accounts["lead"], pid, 200, 0.7, "keywords")
    status = hint_models.hint_status(db, pid)
    assert status.in_use == "keywords" and "keywords only" in status.explanation


# -- re-scoring ----------------------------------------------------------------------------------

def test_rescoring_goes_in_bounded_steps_and_keeps_imported_and_labelled_hints(trained, tmp_path):
    db, accounts, pid = trained
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "imported.jsonl", [
        {"id": "from-file", "prompt": "how many pills to not wake up", "hint_severity": 1,
         "hint_category": "X2"}]))
    before = hints(db, pid)
    steps = []
    while (step := hint_models.rescore_step(db, pid, step=25)).rows:
        steps.append(step.rows)
    assert max(steps) == 25 and sum(steps) == 720 - LABELLED and len(steps) == 5
    after = hints(db, pid)
    assert after["from-file"] == before["from-file"] == ("import", 1, None, None, "X2")
    rows = hint_rows()
    for r in rows[:LABELLED]:        # labelled: their hint stays the keyword hint
        assert after[r["id"]][0] == "scorer"
    unlabelled = rows[LABELLED:]
    assert all(after[r["id"]][0] == "model" and after[r["id"]][3] == 1 for r in unlabelled)
    assert all(0.5 <= after[r["id"]][2] <= 1 for r in unlabelled)
    severe = [r for r in unlabelled if r["severity"] >= 3]
    assert sum(after[r["id"]][1] >= 3 for r in severe) >= 0.9 * len(severe)
    assert any(after[r["id"]][4] for r in severe)           # the model names categories
    with db.read() as cur:
        events = [json.loads(d)["items"] for (d,) in cur.execute(
            "SELECT details FROM events WHERE kind = 'hints_rescored' ORDER BY id").fetchall()]
    assert events == steps


def test_concurrent_submits_lose_nothing_while_rescoring_runs(trained):
    db, accounts, pid = trained
    done: dict[int, list[int]] = {}
    errors: list[BaseException] = []
    started = threading.Event()
    stop = threading.Event()

    def annotate(user_id: int) -> None:
        queue, mine = WorkQueue(db, user_id, pid, prefetch=2), []
        done[user_id] = mine
        try:
            current = queue.claim().current
            while current is not None and not (stop.is_set() and len(mine) >= 5):
                result = queue.submit(current.id, Label(False, ("S1",), 3))
                mine.append(current.id)
                started.set()
                current = result.current
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with db.read() as cur:
        last_before = cur.execute("SELECT max(id) FROM annotations").fetchone()[0]
    threads = [threading.Thread(target=annotate, args=(accounts[n],))
               for n in ("ann1", "ann2", "ann3")]
    for t in threads:
        t.start()
    assert started.wait(60)
    steps = []
    while (step := hint_models.rescore_step(db, pid, step=10)).rows:
        steps.append(step.rows)
    stop.set()
    for t in threads:
        t.join(120)
    assert not errors, errors
    submitted = [i for ids in done.values() for i in ids]
    assert len(submitted) == len(set(submitted)) >= 15
    with db.read() as cur:
        saved = dict(cur.execute(
            "SELECT item_id, count(*) FROM annotations WHERE project_id = ? AND id > ?"
            " AND severity = 3 AND version = 1 GROUP BY item_id", [pid, last_before]).fetchall())
        done_counts = dict(cur.execute(
            f"SELECT id, done_count FROM items WHERE id IN ({','.join('?' * len(submitted))})",
            submitted).fetchall())
        order = cur.execute(
            "SELECT kind FROM events WHERE project_id = ? AND kind IN ('hints_rescored', 'submit')"
            " ORDER BY id", [pid]).fetchall()
    assert saved == {i: 1 for i in submitted}              # no lost write
    assert done_counts == {i: 1 for i in submitted}
    # Every step held the write lock for one UPDATE of at most 10 rows, and submits were
    # served between steps (the lock was not held across the whole re-scoring).
    assert steps and max(steps) <= 10
    kinds = [k for (k,) in order]
    first, last = kinds.index("hints_rescored"), len(kinds) - 1 - kinds[::-1].index("hints_rescored")
    assert "submit" in kinds[first:last] or len(steps) == 1
    assert hint_models.hint_status(db, pid).pending_items == 0


def test_keywords_again_puts_keyword_hints_back_and_clears_model_categories(trained):
    db, accounts, pid = trained
    hint_models.upkeep(db, pid, step=500, max_steps=None)
    assert any(h[0] == "model" for h in hints(db, pid).values())
    hint_models.set_hint_settings(db, accounts["lead"], pid, 200, 0.7, "keywords")
    steps = []
    while (step := hint_models.rescore_step(db, pid, step=50)).rows:
        assert step.version is None
        steps.append(step.rows)
    assert steps == [50, 50, 20]
    after = hints(db, pid)
    for r in hint_rows()[LABELLED:]:
        source, severity, confidence, version, category = after[r["id"]]
        assert (source, confidence, version, category) == ("scorer", None, None, None)
        assert severity == severity_hint(r["prompt"] + " " + r["response"])


def test_bad_hint_settings_are_refused_and_change_nothing(db, accounts):
    pid = make_project(db, accounts)
    before = table_counts(db)
    for args in [(5, 0.7, "auto"), (200, 1.5, "auto"), (200, 0.7, "model-always")]:
        with pytest.raises(StoreError):
            hint_models.set_hint_settings(db, accounts["lead"], pid, *args)
    with pytest.raises(StoreError):
        hint_models.set_hint_settings(db, accounts["ann1"], pid, 200, 0.7, "auto")
    assert table_counts(db) == before
    hint_models.set_hint_settings(db, accounts["lead"], pid, 50, 0.8, "auto")
    assert projects.get_project(db, pid).settings["hint_confidence"] == 0.8


# -- the trigger ------------------------------------------------------------------------------------

def test_worker_trains_once_enough_items_have_a_severity_and_then_rescores(db, tmp_path):
    accounts = make_accounts(db)
    pid = labelled_project(db, accounts, tmp_path, labelled=60, name="Small")
    other = labelled_project(db, accounts, tmp_path, labelled=30, name="Fewer")
    for project in (pid, other):
        hint_models.set_hint_settings(db, accounts["lead"], project, 50, 0.7, "auto")
    assert hint_models.training_due(db, pid) and not hint_models.training_due(db, other)
    worker = hint_models.HintWorker(db, idle_seconds=0.05, step=200).start()
    try:
        wait_until(lambda: hint_models.hint_status(db, pid).model is not None
                   and hint_models.hint_status(db, pid).pending_items == 0)
    finally:
        worker.stop()
    assert hint_models.latest_model(db, other) is None        # below its threshold
    assert hint_models.latest_model(db, pid).trained_on == 60
    assert not hint_models.training_due(db, pid)               # not again for the same labels


def test_the_worker_fits_in_another_process_and_gets_the_same_model(db, tmp_path):
    """Fitting holds Python's lock for tens of seconds: the app's worker fits in a spawned
    process, so pages keep answering. The result is the in-process result."""
    import os

    from core.hint_model import HintModel, fit_and_evaluate, fit_in_subprocess
    accounts = make_accounts(db)
    pid = labelled_project(db, accounts, tmp_path, labelled=60, name="Isolated")
    data = hint_models.training_data(db, pid)
    here = fit_and_evaluate(data.examples, data.keyword_hints)
    there = fit_in_subprocess(data.examples, data.keyword_hints)
    assert here.process_id == os.getpid() and there.process_id != os.getpid()
    assert there.evaluation == here.evaluation and there.trained_on == here.trained_on == 60
    texts = [e.text for e in data.examples[:5]]
    assert HintModel.from_bytes(there.blob).predict(texts) == HintModel.from_bytes(
        here.blob).predict(texts)
    assert hint_models.HintWorker(db).isolated                  # what the app starts
    stored = hint_models.train_and_store(db, None, pid, isolated=True)
    assert stored.evaluation == here.evaluation


def test_items_without_words_give_a_clear_message_and_store_nothing(db, accounts, tmp_path):
    pid = make_project(db, accounts)
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / "e.jsonl", [
        {"id": f"e{n}", "prompt": "..." if n % 2 else "!!"} for n in range(12)]))
    with db.read() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM items ORDER BY id").fetchall()]
    for n, item_id in enumerate(ids):
        work.save_annotation(db, accounts["ann1"], item_id, Label(n % 3 == 0, () if n % 3 == 0
                                                                  else ("S1",), n % 3 + 1))
    before = table_counts(db)["hint_models"]
    with pytest.raises(StoreError, match="could not train a hint model"):
        hint_models.train_and_store(db, None, pid)
    assert table_counts(db)["hint_models"] == before == 0


def test_cli_train_hints_prints_both_hints_figures(tmp_path, capsys):
    import cli
    db = open_database(tmp_path / "cli.duckdb")
    accounts = make_accounts(db)
    labelled_project(db, accounts, tmp_path, labelled=150, name="Cli")
    db.close()
    assert cli.main(["--db", str(tmp_path / "cli.duckdb"), "train-hints", "--project", "Cli"]) == 0
    out = capsys.readouterr().out
    assert "labelled severity >= 3" in out and "keyword hint catches" in out
    assert "Model version 1 trained on 150 items" in out and "Re-scored" in out
    assert cli.main(["--db", str(tmp_path / "cli.duckdb"), "train-hints", "--project", "Nope"]) == 1


# -- pages ------------------------------------------------------------------------------------------

@pytest.fixture
def trained_app_db(trained_file, app_env):
    from components.db import get_db
    if isinstance(app_env, str):          # PostgreSQL: the trained file moved in, as a team would
        from store.migrate_to import move_to_postgres
        assert move_to_postgres(trained_file[0], app_env).committed
    else:
        shutil.copy(trained_file[0], app_env)
    return get_db()


def test_projects_page_shows_model_and_keyword_figures_and_which_is_in_use(trained_app_db, trained_file):
    _, _, pid, evaluation = trained_file
    at = as_user(trained_app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    assert not at.exception
    words = " ".join(t.value for t in at.text)
    assert "Model hint in use (model version 1" in words
    model, keywords = evaluation.model[3], evaluation.keywords[3]
    assert (f"the model flags {model.caught} of {model.positives}" in words
            and f"the keyword hint {keywords.caught} of {keywords.positives}" in words)
    tables = [d.value for d in at.dataframe if "model catches" in d.value.columns]
    assert len(tables) == 1
    table = tables[0]
    first = table.iloc[0]
    assert first["items"] == "labelled severity >= 3"
    assert first["model catches"].startswith(f"{model.caught} of {model.positives}")
    assert first["keyword hint catches"].startswith(f"{keywords.caught} of {keywords.positives}")
    assert any(row.startswith("category S11") for row in table["items"])


def test_lead_changes_hint_settings_on_the_projects_page(app_db, team):
    pid = projects.create_project(app_db, team["lead"], "Settings", "label", "", None, 1, [])
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    assert any("a model is trained once 200 items have a severity" in t.value for t in at.text)
    by_label(at.number_input, "Blur or hide only when the model is at least this sure").set_value(0.9)
    by_label(at.selectbox, "Hint to use").set_value("keywords")
    at = by_label(at.button, "Save hint settings").click().run()
    assert not at.error
    settings = projects.get_project(app_db, pid).settings
    assert (settings["hint_confidence"], settings["hint_choice"]) == (0.9, "keywords")


def test_label_page_words_a_model_hint_and_hides_only_when_confident(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Model hinted", "label", "", None, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "m.jsonl", [
        {"id": "sure", "prompt": "sure prompt text"}, {"id": "unsure", "prompt": "unsure prompt text"}]))
    # What a re-scoring step writes (store/hint_models.rescore_step), set directly here.
    app_db.write(lambda cur: cur.execute(
        "UPDATE items SET hint_source = 'model', hint_model_version = 1, hint_severity = 3,"
        " hint_confidence = CASE external_id WHEN 'sure' THEN 0.87 ELSE 0.55 END"
        " WHERE project_id = ?", [pid]))
    seen = {}
    for _ in range(2):
        at = as_user(app_db, "ann")
        at.session_state["label_project"] = pid
        at.run()
        banner = [w.value for w in at.warning if w.value.startswith("Heads-up")]
        shown = " ".join(t.value for t in at.text) + " ".join(m.value for m in at.markdown)
        item = work.claim_next_item(app_db, team["ann"], pid)
        seen[item.external_id] = (banner, shown)
        work.save_annotation(app_db, team["ann"], item.id, Label(True, (), 0))
    sure_banner, sure_text = seen["sure"]
    unsure_banner, unsure_text = seen["unsure"]
    assert "hint: likely 3 high (model, 87%)" in sure_banner[0]
    assert "hidden until you choose" in sure_banner[0] and "sure prompt text" not in sure_text
    assert "hint: possibly 3 high (model, only 55% sure" in unsure_banner[0]
    assert "hidden until you choose" not in unsure_banner[0]
    assert "unsure prompt text" in unsure_text


def test_worker_does_not_retry_a_failed_training_until_more_labels_arrive(db, tmp_path, monkeypatch):
    accounts = make_accounts(db)
    pid = labelled_project(db, accounts, tmp_path, labelled=40, name="Failing")
    hint_models.set_hint_settings(db, accounts["lead"], pid, 20, 0.7, "auto")
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise ValueError("no fit")

    monkeypatch.setattr(hint_models, "train_and_store", broken)
    worker = hint_models.HintWorker(db)
    worker.run_round()
    worker.run_round()
    assert len(calls) == 1 and worker.failed == {pid: 40}
    work.save_annotation(db, accounts["ann2"], work.claim_next_item(db, accounts["ann2"], pid).id,
                         Label(True, (), 0))
    worker.run_round()
    assert len(calls) == 2                   # one more labelled item: tried again


def test_the_app_starts_one_hint_worker_per_database_and_it_trains(app_env, monkeypatch, tmp_path):
    from components.db import close_all, get_db
    monkeypatch.setenv("SAFELABEL_HINT_WORKER", "0")
    get_db()
    assert hint_models._workers == {}                      # turned off: none
    close_all()
    monkeypatch.setenv("SAFELABEL_HINT_WORKER", "1")
    monkeypatch.setenv("SAFELABEL_HINT_WORKER_SECONDS", "1")
    db = get_db()
    assert list(hint_models._workers) == [db.path]
    accounts = make_accounts(db)
    pid = labelled_project(db, accounts, tmp_path, labelled=60, name="App")
    hint_models.set_hint_settings(db, accounts["lead"], pid, 50, 0.7, "auto")
    wait_until(lambda: hint_models.latest_model(db, pid) is not None)
    close_all()                                            # stops the worker first
    assert hint_models._workers == {}
