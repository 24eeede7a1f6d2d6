"""Severity hints that learn: training data, stored models, re-scoring in bounded steps.

- Training data: per item, the latest answer of each annotator (a correction replaces the
  person's earlier answer; answers without a severity do not count). An item's severity is
  the lead's adjudication when there is one, else the UPPER MEDIAN of its annotators'
  severities: with one or two annotators that is the more severe answer (a hint that errs
  towards protecting people costs a click; one that errs the other way costs exposure),
  with three or more one outlier cannot move it. A category belongs to the item when at
  least half its annotators named it (again: either of two).
- A trained model is kept with its cross-validated evaluation (core/hint_model.py) in
  `hint_models`; its id is the model version that item hints name.
- Which hint is in use: per project setting `hint_choice` ("auto", the default, uses the
  model when its evaluation measured better than the keyword hint on the same items;
  "keywords" never uses a model). `hint_status` says which and why.
- Re-scoring: items still wanting answers whose hint came from keywords or an older model
  get the model's hint, `step` items at a time. Each step reads and predicts with no lock,
  then writes in ONE short transaction (one UPDATE from a list, with its audit event); the
  write lock is held only for that, so a submit waits at most one step's UPDATE. Hints from
  an imported column are never touched. When keywords are in use again, model hints go
  back to the keyword hint in the same kind of steps.
- The trigger (`upkeep`): a project with at least `hint_model_min_items` items with a
  severity (default 200) and no model, or 25% more such items than its model was trained
  on, gets a model. `HintWorker` runs `upkeep` for every project on a background thread of
  the app (started by components/db.py when it opens the database), never on a request;
  `cli.py train-hints` does the same on demand.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from core import hint_model
from core.hint_model import Evaluation, Example, HintModel
from core.hint_trust import hint_settings
from core.severity_hint import hint_from_score_sql, item_text_sql, project_score_sql
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.users import require_role

DEFAULT_STEP = 500          # items re-scored per write transaction
RETRAIN_GROWTH = 1.25       # retrain when labelled items grew by a quarter ...
RETRAIN_MIN_NEW = 50        # ... and by at least this many


@dataclass(frozen=True)
class StoredModel:
    version: int
    project_id: int
    kind: str
    library: str
    labelled_items: int           # items with a consensus severity when it was trained
    trained_on: int               # of which the model was fitted on (core.hint_model.sample)
    evaluation: Evaluation
    better: str
    train_seconds: float
    created_at: datetime


@dataclass(frozen=True)
class HintStatus:
    """Which hint a project's pages and queue use, and why, in words for a lead."""
    in_use: str                      # "model" or "keywords"
    model: StoredModel | None        # the latest model, if any
    labelled_items: int
    min_items: int
    choice: str
    confidence: float
    pending_items: int               # items whose hint is not yet the one in use

    @property
    def explanation(self) -> str:
        if self.choice == "keywords":
            return "Keyword hint in use: this project is set to use keywords only."
        if self.model is None:
            left = max(0, self.min_items - self.labelled_items)
            return (f"Keyword hint in use: a model is trained once {self.min_items:,} items have "
                    f"a severity ({self.labelled_items:,} so far, {left:,} to go).")
        if self.in_use == "model":
            return (f"Model hint in use (model version {self.model.version}, trained on "
                    f"{self.model.trained_on:,} items): it measured better than the keyword hint "
                    "on this project's own labels.")
        return (f"Keyword hint in use: the model (version {self.model.version}) did not measure "
                "better than the keyword hint on this project's labels.")


# -- training data -----------------------------------------------------------------------------

def _training_rows(cur: duckdb.DuckDBPyConnection, project_id: int,
                   settings: dict[str, Any]) -> list[tuple]:
    return cur.execute(f"""
        WITH latest AS (
            SELECT item_id, user_id, severity, categories,
                   row_number() OVER (PARTITION BY item_id, user_id
                                      ORDER BY version DESC, id DESC) AS newest
            FROM annotations WHERE project_id = ?),
        answers AS (
            SELECT item_id, list(severity ORDER BY severity) AS severities,
                   flatten(list(coalesce(categories, []))) AS named, count(*) AS people
            FROM latest WHERE newest = 1 AND severity IS NOT NULL GROUP BY item_id),
        adjudicated AS (
            SELECT item_id, severity, categories FROM adjudications WHERE project_id = ?
            QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY id DESC) = 1),
        gold AS (   -- each gold item's current expected answer (a removal ends it)
            SELECT item_id, severity, categories FROM (
                SELECT item_id, severity, categories, removed_at FROM gold_answers
                WHERE project_id = ?
                QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY id DESC) = 1)
            WHERE removed_at IS NULL)
        SELECT i.id, {item_text_sql('i')}, a.severities, a.named, a.people,
               coalesce(g.severity, d.severity),
               CASE WHEN g.item_id IS NOT NULL THEN g.categories ELSE d.categories END,
               {hint_from_score_sql(project_score_sql(settings, item_text_sql('i')))}
        FROM items i
        LEFT JOIN answers a ON a.item_id = i.id
        LEFT JOIN adjudicated d ON d.item_id = i.id AND d.severity IS NOT NULL
        LEFT JOIN gold g ON g.item_id = i.id
        WHERE i.project_id = ?
          -- A gold or qualification item's truth is the lead's expected answer, never the
          -- votes (people who fail a qualification answer these): without an expected
          -- severity it is left out.
          AND (g.item_id IS NULL OR g.severity IS NOT NULL)
          AND (a.item_id IS NOT NULL OR d.item_id IS NOT NULL OR g.item_id IS NOT NULL)
        ORDER BY i.id""", [project_id, project_id, project_id, project_id]).fetchall()


def consensus(severities: list[int], named: list[str], people: int
              ) -> tuple[int, tuple[str, ...]]:
    """(upper median severity, categories named by at least half the annotators)."""
    ordered = sorted(severities)
    severity = ordered[len(ordered) // 2]
    counts: dict[str, int] = {}
    for code in named:
        counts[code] = counts.get(code, 0) + 1
    return severity, tuple(sorted(c for c, n in counts.items() if 2 * n >= people))


@dataclass(frozen=True)
class TrainingData:
    item_ids: list[int]
    examples: list[Example]
    keyword_hints: list[int]      # the keyword scorer's hint of each (as at import, in SQL)


def training_data(db: Database, project_id: int) -> TrainingData:
    """Every item of the project with a severity to learn from, and its keyword hint: a gold
    item's expected answer, else a lead's adjudication, else the annotators' consensus."""
    with db.read() as cur:
        rows = _training_rows(cur, project_id, _project_settings(cur, project_id))
    ids, examples, keywords = [], [], []
    for (item_id, text, severities, named, people, adjudicated, adjudicated_categories,
         keyword_hint) in rows:
        keywords.append(int(keyword_hint))
        if adjudicated is not None:     # the gold answer, else a lead's adjudication
            severity, categories = int(adjudicated), tuple(sorted(adjudicated_categories or ()))
        else:
            severity, categories = consensus(severities, named or [], int(people))
        ids.append(int(item_id))
        examples.append(Example(text or "", int(severity), categories))
    return TrainingData(ids, examples, keywords)


def training_examples(db: Database, project_id: int) -> tuple[list[int], list[Example]]:
    """(item ids, examples): every item of the project with a consensus severity."""
    data = training_data(db, project_id)
    return data.item_ids, data.examples


def labelled_item_count(cur: duckdb.DuckDBPyConnection, project_id: int) -> int:
    return int(cur.execute(
        "SELECT count(DISTINCT item_id) FROM annotations WHERE project_id = ?"
        " AND severity IS NOT NULL", [project_id]).fetchone()[0])


# -- models ------------------------------------------------------------------------------------

_MODEL_COLUMNS = ("id, project_id, kind, library, labelled_items, trained_on, evaluation, better,"
                  " train_seconds, created_at")


def _stored(row: tuple) -> StoredModel:
    mid, pid, kind, library, labelled, trained_on, evaluation, better, seconds, created_at = row
    return StoredModel(int(mid), int(pid), kind, library, int(labelled), int(trained_on),
                       Evaluation.from_dict(json.loads(evaluation)), better, float(seconds),
                       created_at)


def latest_model(db: Database, project_id: int) -> StoredModel | None:
    with db.read() as cur:
        row = cur.execute(f"SELECT {_MODEL_COLUMNS} FROM hint_models WHERE project_id = ?"
                          " ORDER BY id DESC LIMIT 1", [project_id]).fetchone()
    return _stored(row) if row else None


_loaded: dict[tuple[str, int], HintModel] = {}
_loaded_lock = threading.Lock()


def load_model(db: Database, version: int) -> HintModel:
    """The trained model of that version (kept in memory after the first load)."""
    key = (db.path, version)
    with _loaded_lock:
        if key in _loaded:
            return _loaded[key]
    with db.read() as cur:
        row = cur.execute("SELECT model FROM hint_models WHERE id = ?", [version]).fetchone()
    if row is None:
        raise StoreError(f"no hint model version {version}")
    model = HintModel.from_bytes(bytes(row[0]))
    with _loaded_lock:
        _loaded.clear()            # one model in memory per process is plenty
        _loaded[key] = model
    return model


@dataclass(frozen=True)
class TrainResult:
    model: StoredModel
    evaluation: Evaluation


def train_and_store(db: Database, actor_id: int | None, project_id: int,
                    candidate: str = hint_model.DEFAULT_CANDIDATE,
                    isolated: bool = False) -> TrainResult:
    """Train a model on the project's labels, evaluate it by cross-validation beside the
    keyword hint, and store both (one transaction with its audit event). Slow (seconds to
    minutes): call it off the request path; `isolated` fits in a separate process (what the
    app's worker does, so pages keep answering). `actor_id` None is the server (CLI, worker)."""
    import sklearn

    with db.read() as cur:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        _project_settings(cur, project_id)      # StoreError for an unknown project
    started = time.perf_counter()
    data = training_data(db, project_id)
    examples = data.examples
    if len(examples) < hint_model.CV_FOLDS * 2:
        raise StoreError(f"too few labelled items to train a hint model ({len(examples)}; "
                         f"at least {hint_model.CV_FOLDS * 2} are needed)")
    fit = hint_model.fit_in_subprocess if isolated else hint_model.fit_and_evaluate
    try:
        fitted = fit(examples, data.keyword_hints, candidate)
    except (ValueError, RuntimeError) as exc:      # e.g. items with no words at all
        raise StoreError(f"could not train a hint model on these items: {exc}") from None
    evaluation = fitted.evaluation
    seconds = time.perf_counter() - started

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        version = int(cur.execute(
            "INSERT INTO hint_models (project_id, kind, library, labelled_items, trained_on,"
            " evaluation, better, model, train_seconds, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [project_id, fitted.kind, f"scikit-learn {sklearn.__version__}", len(examples),
             fitted.trained_on,
             json.dumps(evaluation.to_dict()), evaluation.better, fitted.blob, seconds, actor_id,
             utcnow()]).fetchone()[0])
        log_event(cur, "hint_model_trained", actor_id, project_id, details={
            "version": version, "items": len(examples), "better": evaluation.better,
            "seconds": round(seconds, 2)})
        return version

    version = db.write(work)
    stored = latest_model(db, project_id)
    assert stored is not None and stored.version == version
    return TrainResult(stored, evaluation)


# -- which hint is in use ------------------------------------------------------------------------

def _project_settings(cur: duckdb.DuckDBPyConnection, project_id: int) -> dict[str, Any]:
    row = cur.execute("SELECT settings FROM projects WHERE id = ?", [project_id]).fetchone()
    if row is None:
        raise StoreError("no such project")
    return json.loads(row[0] or "{}")


def _model_in_use(choice: str, model: StoredModel | None) -> int | None:
    return model.version if choice == "auto" and model and model.better == "model" else None


def _pending_sql(version: int | None) -> str:
    """Items of the project (`?`) whose hint is not yet the one in use."""
    if version is None:
        return "project_id = ? AND hint_source = 'model'"
    return ("project_id = ? AND coalesce(hint_source, 'scorer') IN ('scorer', 'model')"
            f" AND hint_model_version IS DISTINCT FROM {int(version)}"
            " AND done_count < (SELECT overlap FROM projects p WHERE p.id = items.project_id)")


def hint_status(db: Database, project_id: int) -> HintStatus:
    with db.read() as cur:
        settings = _project_settings(cur, project_id)
        labelled = labelled_item_count(cur, project_id)
    min_items, confidence, choice = hint_settings(settings)
    model = latest_model(db, project_id)
    version = _model_in_use(choice, model)
    with db.read() as cur:
        pending = int(cur.execute(f"SELECT count(*) FROM items WHERE {_pending_sql(version)}",
                                  [project_id]).fetchone()[0])
    return HintStatus("model" if version else "keywords", model, labelled, min_items, choice,
                      confidence, pending)


# -- re-scoring ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepResult:
    rows: int                 # items whose hint this step wrote
    version: int | None       # the model they now name (None: back to keywords)


def rescore_step(db: Database, project_id: int, step: int = DEFAULT_STEP) -> StepResult:
    """Bring at most `step` items to the hint in use: predict with no lock held, then write
    them in one short transaction. 0 rows: nothing left to do."""
    if step < 1:
        raise ValueError("a step re-scores at least one item")
    with db.read() as cur:
        settings = _project_settings(cur, project_id)
    _, _, choice = hint_settings(settings)
    version = _model_in_use(choice, latest_model(db, project_id))
    if version is None:
        with db.read() as cur:    # nothing to undo (the usual case): no write at all
            if not cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM items WHERE"
                               f" {_pending_sql(None)} LIMIT 1)", [project_id]).fetchone()[0]:
                return StepResult(0, None)
        return StepResult(_keyword_step(db, project_id, settings, step), None)
    with db.read() as cur:
        rows = cur.execute(f"SELECT id, {item_text_sql()} FROM items WHERE {_pending_sql(version)}"
                           " ORDER BY id LIMIT ?", [project_id, step]).fetchall()
    if not rows:
        return StepResult(0, version)
    predictions = load_model(db, version).predict([text or "" for _, text in rows])
    ids = [int(r[0]) for r in rows]

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        # Only rows still pending: an import or refresh in between may have changed them.
        changed = int(cur.execute(f"""
            UPDATE items SET hint_severity = u.severity, hint_confidence = u.confidence,
                hint_source = 'model', hint_model_version = ?,
                hint_category = CASE WHEN items.hint_category IS NULL
                                       OR items.hint_category_source = 'model'
                                     THEN u.category ELSE items.hint_category END,
                hint_category_source = CASE WHEN items.hint_category IS NULL
                                              OR items.hint_category_source = 'model'
                                            THEN CASE WHEN u.category IS NULL THEN NULL
                                                      ELSE 'model' END
                                            ELSE items.hint_category_source END
            FROM (SELECT unnest(?::BIGINT[]) AS id, unnest(?::INTEGER[]) AS severity,
                         unnest(?::DOUBLE[]) AS confidence, unnest(?::VARCHAR[]) AS category) u
            WHERE items.id = u.id AND {_pending_sql(version).replace('project_id', 'items.project_id', 1)}
            """, [version, ids, [p.severity for p in predictions],
                  [p.confidence for p in predictions], [p.category for p in predictions],
                  project_id]).fetchone()[0])
        log_event(cur, "hints_rescored", None, project_id,
                  details={"model_version": version, "items": changed})
        return changed

    return StepResult(db.write(work), version)


def _keyword_step(db: Database, project_id: int, settings: dict[str, Any], step: int) -> int:
    """Give up to `step` model-hinted items their keyword hint back (one transaction)."""
    score = project_score_sql(settings)

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        changed = int(cur.execute(
            f"UPDATE items SET hint_severity = {hint_from_score_sql('s._score')},"
            " hint_source = 'scorer', hint_confidence = NULL, hint_model_version = NULL,"
            " hint_category = CASE WHEN items.hint_category_source = 'model' THEN NULL"
            "                      ELSE items.hint_category END,"
            " hint_category_source = NULL"
            f" FROM (SELECT id, {score} AS _score FROM items WHERE {_pending_sql(None)}"
            "       ORDER BY id LIMIT ?) s WHERE items.id = s.id",
            [project_id, step]).fetchone()[0])
        if changed:
            log_event(cur, "hints_rescored", None, project_id,
                      details={"model_version": None, "items": changed})
        return changed

    return db.write(work)


def set_hint_settings(db: Database, actor_id: int, project_id: int, min_items: int,
                      confidence: float, choice: str) -> None:
    """A lead changes the hint settings (see core/hint_trust.SETTING_RULES)."""
    from store.projects import update_project_settings

    update_project_settings(db, actor_id, project_id, {
        "hint_model_min_items": min_items, "hint_confidence": confidence, "hint_choice": choice})


# -- the trigger -----------------------------------------------------------------------------------

def training_due(db: Database, project_id: int) -> bool:
    with db.read() as cur:
        settings = _project_settings(cur, project_id)
        labelled = labelled_item_count(cur, project_id)
    min_items, _, choice = hint_settings(settings)
    if choice == "keywords" or labelled < min_items:
        return False
    model = latest_model(db, project_id)
    return model is None or (labelled >= model.labelled_items * RETRAIN_GROWTH
                             and labelled - model.labelled_items >= RETRAIN_MIN_NEW)


@dataclass(frozen=True)
class UpkeepResult:
    trained: TrainResult | None
    rescored: int


def upkeep(db: Database, project_id: int, step: int = DEFAULT_STEP,
           max_steps: int | None = 1, train: bool = True, isolated: bool = False) -> UpkeepResult:
    """Train when due (and `train`; in a separate process when `isolated`), then run up to
    `max_steps` re-scoring steps (None: until done)."""
    trained = None
    if train and training_due(db, project_id):
        trained = train_and_store(db, None, project_id, isolated=isolated)
    rescored, steps = 0, 0
    while max_steps is None or steps < max_steps:
        done = rescore_step(db, project_id, step).rows
        rescored, steps = rescored + done, steps + 1
        if done == 0:
            break
    return UpkeepResult(trained, rescored)


def active_label_projects(db: Database) -> list[int]:
    with db.read() as cur:
        return [int(r[0]) for r in cur.execute(
            "SELECT id FROM projects WHERE archived_at IS NULL AND kind = 'label'"
            " ORDER BY id").fetchall()]


# The advisory lock key of a hint worker's round (store/postgres.py PostgresDatabase.exclusive).
HINT_ROUND_LOCK = 72110520


class HintWorker:
    """A daemon thread that keeps every project's hints up to date: trains when due and
    re-scores one step per project per round, resting `idle_seconds` when a round found
    nothing to do. Errors are printed and the project is tried again next round; a stopped
    worker finishes its current step first."""

    def __init__(self, db: Database, idle_seconds: float = 30.0, step: int = DEFAULT_STEP,
                 isolated: bool = True) -> None:
        self.db, self.idle_seconds, self.step = db, idle_seconds, step
        # Fit in a separate process (the app's pages keep the GIL); tests may fit in-thread.
        self.isolated = isolated
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.rounds = 0
        self.rounds_elsewhere = 0       # rounds left to another process's worker
        # project -> labelled items when its training failed: not retried until that changes
        # (a failing fit would otherwise burn a core every round).
        self.failed: dict[int, int] = {}
        self._thread = threading.Thread(target=self._run, name="safelabel-hints", daemon=True)

    def start(self) -> HintWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = 60.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def run_round(self) -> int:
        """One round over the projects; returns the items re-scored (or trained on). With
        several app processes on one PostgreSQL database each has a worker, but only one at
        a time runs a round (the others find it taken, do nothing and rest): N processes
        must not train the same model N times."""
        with self.db.exclusive(HINT_ROUND_LOCK) as our_turn:
            if not our_turn:
                self.rounds_elsewhere += 1
                return 0
            return self._round()

    def _round(self) -> int:
        work = 0
        for project_id in active_label_projects(self.db):
            if self._stop.is_set():
                break
            with self.db.read() as cur:
                labelled = labelled_item_count(cur, project_id)
            try:
                result = upkeep(self.db, project_id, self.step, max_steps=1,
                                train=self.failed.get(project_id) != labelled,
                                isolated=self.isolated)
            except Exception as exc:  # noqa: BLE001 - a bad project must not stop the others
                self.failed[project_id] = labelled
                print(f"SafeLabel hint worker: project {project_id}: {exc}", flush=True)
                continue
            work += result.rescored + (result.trained.model.trained_on if result.trained else 0)
        self.rounds += 1
        return work

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = self.run_round()
            if not busy:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()


_workers: dict[str, HintWorker] = {}
_workers_lock = threading.Lock()


def start_hint_worker(db: Database, idle_seconds: float = 30.0) -> HintWorker:
    """The database's one hint worker, started on first call."""
    with _workers_lock:
        worker = _workers.get(db.path)
        if worker is None or not worker._thread.is_alive():
            worker = _workers[db.path] = HintWorker(db, idle_seconds).start()
        return worker


def stop_hint_workers() -> None:
    with _workers_lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.stop()
