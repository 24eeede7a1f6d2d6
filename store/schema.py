"""Schema and ordered migrations. Each migration runs once, in order, inside a transaction.

To change the schema, append a new entry to MIGRATIONS; never edit one that has shipped.
"""
from __future__ import annotations

import duckdb

from store.db import Database, utcnow

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
    CREATE TABLE settings (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    );

    CREATE SEQUENCE user_ids START 1;
    CREATE TABLE users (
        id INTEGER PRIMARY KEY DEFAULT nextval('user_ids'),
        username VARCHAR NOT NULL UNIQUE,
        name VARCHAR NOT NULL,
        password_hash VARCHAR NOT NULL,
        role VARCHAR NOT NULL CHECK (role IN ('annotator', 'lead', 'admin')),
        active BOOLEAN NOT NULL DEFAULT TRUE,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        last_failed_login TIMESTAMP,
        created_at TIMESTAMP NOT NULL
    );

    CREATE SEQUENCE project_ids START 1;
    CREATE TABLE projects (
        id INTEGER PRIMARY KEY DEFAULT nextval('project_ids'),
        name VARCHAR NOT NULL UNIQUE,
        kind VARCHAR NOT NULL CHECK (kind IN ('label', 'compare')),
        guidelines VARCHAR NOT NULL DEFAULT '',
        taxonomy JSON NOT NULL,
        overlap INTEGER NOT NULL DEFAULT 1 CHECK (overlap >= 1),
        open_to_all BOOLEAN NOT NULL DEFAULT FALSE,
        settings JSON NOT NULL DEFAULT '{}',
        created_by INTEGER,
        created_at TIMESTAMP NOT NULL
    );

    CREATE TABLE project_members (
        project_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        added_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project_id, user_id)
    );

    -- Items are never deleted or edited by people; open_slots / done_count / touched_by are
    -- the work queue's bookkeeping, kept beside the item so a claim is one filtered scan.
    CREATE SEQUENCE item_ids START 1;
    CREATE TABLE items (
        id BIGINT PRIMARY KEY DEFAULT nextval('item_ids'),
        project_id INTEGER NOT NULL,
        external_id VARCHAR NOT NULL,
        prompt VARCHAR,
        response VARCHAR,
        response_a VARCHAR,
        response_b VARCHAR,
        messages JSON,
        metadata JSON,
        hint_category VARCHAR,
        hint_severity INTEGER,
        import_id INTEGER,
        open_slots INTEGER NOT NULL,
        done_count INTEGER NOT NULL DEFAULT 0,
        touched_by VARCHAR NOT NULL DEFAULT ','
    );

    CREATE SEQUENCE import_ids START 1;
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY DEFAULT nextval('import_ids'),
        project_id INTEGER NOT NULL,
        file_name VARCHAR NOT NULL,
        file_format VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        items_added BIGINT NOT NULL,
        duplicates_skipped BIGINT NOT NULL,
        user_id INTEGER,
        imported_at TIMESTAMP NOT NULL
    );

    -- Active claims only: a row lives from claim to submit, skip or expiry.
    CREATE TABLE claims (
        item_id BIGINT NOT NULL,
        project_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        claimed_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP NOT NULL
    );

    -- Append-only: a correction is a new row with version + 1 that names what it supersedes.
    CREATE SEQUENCE annotation_ids START 1;
    CREATE TABLE annotations (
        id BIGINT NOT NULL DEFAULT nextval('annotation_ids'),
        item_id BIGINT NOT NULL,
        project_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        supersedes BIGINT,
        is_safe BOOLEAN,
        categories VARCHAR[],
        severity INTEGER,
        note VARCHAR,
        edited_response VARCHAR,
        edit_distance INTEGER,
        judgment JSON,
        shown_at TIMESTAMP,
        submitted_at TIMESTAMP NOT NULL,
        active_ms BIGINT
    );

    CREATE SEQUENCE flag_ids START 1;
    CREATE TABLE flags (
        id BIGINT NOT NULL DEFAULT nextval('flag_ids'),
        item_id BIGINT NOT NULL,
        project_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        reason VARCHAR NOT NULL,
        flagged_at TIMESTAMP NOT NULL
    );

    CREATE SEQUENCE event_ids START 1;
    CREATE TABLE events (
        id BIGINT NOT NULL DEFAULT nextval('event_ids'),
        happened_at TIMESTAMP NOT NULL,
        user_id INTEGER,
        kind VARCHAR NOT NULL,
        project_id INTEGER,
        item_id BIGINT,
        details JSON
    );
    """),
    (2, "per-person preferences", """
    CREATE TABLE preferences (
        user_id INTEGER NOT NULL,
        key VARCHAR NOT NULL,
        value JSON NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    """),
    (3, "wellbeing: exposures, check-ins, where a severity hint came from", """
    -- 'import' (a column of the file) or 'scorer' (the offline explicitness score).
    ALTER TABLE items ADD COLUMN hint_source VARCHAR;
    UPDATE items SET hint_source = 'import' WHERE hint_severity IS NOT NULL;

    -- Append-only: the time a person spent with an item (submitted, corrected, skipped or
    -- flagged) at the severity it counts at (the label's, else the item's hint).
    CREATE SEQUENCE exposure_ids START 1;
    CREATE TABLE exposures (
        id BIGINT NOT NULL DEFAULT nextval('exposure_ids'),
        user_id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        item_id BIGINT NOT NULL,
        severity INTEGER,
        hint_category VARCHAR,
        outcome VARCHAR NOT NULL,
        active_ms BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP NOT NULL
    );

    -- Private mood check-ins; never exported, shown to leads only as the person allows.
    CREATE SEQUENCE checkin_ids START 1;
    CREATE TABLE checkins (
        id BIGINT NOT NULL DEFAULT nextval('checkin_ids'),
        user_id INTEGER NOT NULL,
        checked_at TIMESTAMP NOT NULL,
        valence INTEGER NOT NULL CHECK (valence BETWEEN 1 AND 9),
        arousal INTEGER NOT NULL CHECK (arousal BETWEEN 1 AND 9),
        moment VARCHAR NOT NULL
    );
    """),
    (4, "server-side login sessions and login throttling; no signing key in the data file", """
    -- One row per login. Only SHA-256s are stored: of the session token (kept in an HttpOnly
    -- cookie, made when the browser trades the one-time activation token for it) and of that
    -- activation token, so reading this file gives no way in. Ending a session (log-out, password reset, role change, deactivation) sets
    -- ended_at; rows are kept as the login history.
    CREATE SEQUENCE session_ids START 1;
    CREATE TABLE sessions (
        id BIGINT PRIMARY KEY DEFAULT nextval('session_ids'),
        token_sha256 VARCHAR UNIQUE,
        user_id INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP NOT NULL,
        activation_sha256 VARCHAR,
        activated_at TIMESTAMP,
        client VARCHAR,
        ended_at TIMESTAMP,
        ended_why VARCHAR
    );
    CREATE INDEX sessions_user ON sessions (user_id);

    -- Failed logins per throttle key (a name at an address, an address, a name), for the
    -- growing delays of core/accounts.py. Keys exist for unknown names too.
    CREATE TABLE login_failures (
        key VARCHAR PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failed TIMESTAMP NOT NULL
    );

    -- The old cookie-signing key let anyone who could read this file forge a login.
    DELETE FROM settings WHERE key = 'cookie_key';
    """),
    (5, "archived projects; removed import batches", """
    -- An archived project is read-only: hidden from the work pages, still exported.
    ALTER TABLE projects ADD COLUMN archived_at TIMESTAMP;
    -- A removed import keeps its row (who imported what, and who removed it); its items go.
    ALTER TABLE imports ADD COLUMN removed_at TIMESTAMP;
    ALTER TABLE imports ADD COLUMN removed_by INTEGER;
    """),
    (6, "rows an import set aside", """
    -- An import that took the valid rows and wrote the others to a rejects file.
    ALTER TABLE imports ADD COLUMN rows_rejected BIGINT DEFAULT 0;
    """),
    (7, "gold answers, qualification attempts and decisions; gold flags on items", """
    -- The work queue's view of gold (kept beside the item like open_slots): a gold item has
    -- no open slots, so the normal claim never serves it; the gold and qualification paths
    -- find it by these flags. gold_answers below is the record; these follow its latest row.
    ALTER TABLE items ADD COLUMN gold BOOLEAN DEFAULT FALSE;
    ALTER TABLE items ADD COLUMN qualification BOOLEAN DEFAULT FALSE;

    -- Append-only: the expected answer of a gold item. The latest row per item wins; a
    -- removal is a new row with removed_at set (the earlier answers are kept).
    CREATE SEQUENCE gold_answer_ids START 1;
    CREATE TABLE gold_answers (
        id BIGINT NOT NULL DEFAULT nextval('gold_answer_ids'),
        item_id BIGINT NOT NULL,
        project_id INTEGER NOT NULL,
        is_safe BOOLEAN,
        categories VARCHAR[],
        severity INTEGER,
        judgment JSON,
        explanation VARCHAR NOT NULL DEFAULT '',
        qualification BOOLEAN NOT NULL DEFAULT FALSE,
        set_by INTEGER,
        set_at TIMESTAMP NOT NULL,
        removed_at TIMESTAMP
    );

    -- One row per finished qualification attempt (the person answered every item of the
    -- project's qualification set).
    CREATE SEQUENCE qualification_attempt_ids START 1;
    CREATE TABLE qualification_attempts (
        id BIGINT NOT NULL DEFAULT nextval('qualification_attempt_ids'),
        project_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        score DOUBLE NOT NULL,
        threshold DOUBLE NOT NULL,
        passed BOOLEAN NOT NULL,
        items INTEGER NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL
    );

    -- Append-only: a lead lets a person try again ('retake') or waives the qualification.
    CREATE SEQUENCE qualification_decision_ids START 1;
    CREATE TABLE qualification_decisions (
        id BIGINT NOT NULL DEFAULT nextval('qualification_decision_ids'),
        project_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        decision VARCHAR NOT NULL CHECK (decision IN ('retake', 'waive')),
        reason VARCHAR NOT NULL,
        decided_by INTEGER NOT NULL,
        decided_at TIMESTAMP NOT NULL
    );
    """),
    (8, "adjudications: a lead's answer for an item", """
    -- Append-only: a lead who changes their mind adds a row; the latest row per item (the
    -- highest id) is the item's adjudicated answer. Label projects fill is_safe, categories
    -- and severity; compare projects fill judgment (overall, harmlessness, helpfulness).
    CREATE SEQUENCE adjudication_ids START 1;
    CREATE TABLE adjudications (
        id BIGINT NOT NULL DEFAULT nextval('adjudication_ids'),
        item_id BIGINT NOT NULL,
        project_id INTEGER NOT NULL,
        lead_id INTEGER NOT NULL,
        is_safe BOOLEAN,
        categories VARCHAR[],
        severity INTEGER,
        judgment JSON,
        reason VARCHAR NOT NULL CHECK (reason IN
            ('ambiguous item', 'guideline gap', 'annotator error', 'other')),
        note VARCHAR,
        decided_at TIMESTAMP NOT NULL
    );
    """),
    (9, "threads: messages between an annotator and the leads about one item, read markers", """
    -- Append-only. A thread is (item_id, annotator_id): one annotator and the leads talking
    -- about one item. Messages by the annotator are theirs (question, flag_note); messages by
    -- anyone else are a lead's (reply, feedback). A feedback names the answer it is about.
    CREATE SEQUENCE message_ids START 1;
    CREATE TABLE messages (
        id BIGINT PRIMARY KEY DEFAULT nextval('message_ids'),
        item_id BIGINT NOT NULL,
        project_id INTEGER NOT NULL,
        annotator_id INTEGER NOT NULL,
        author_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL CHECK (kind IN ('question', 'reply', 'feedback', 'flag_note')),
        body VARCHAR NOT NULL,
        annotation_id BIGINT,
        created_at TIMESTAMP NOT NULL
    );
    -- No secondary index: measured with 100,000 messages, DuckDB's index scan for one
    -- annotator's rows took longer than the plain scan (bench/bench_threads.py).

    -- How far each person has read each thread (a marker, moved forward only).
    CREATE TABLE message_reads (
        user_id INTEGER NOT NULL,
        item_id BIGINT NOT NULL,
        annotator_id INTEGER NOT NULL,
        last_read_id BIGINT NOT NULL,
        read_at TIMESTAMP NOT NULL,
        PRIMARY KEY (user_id, item_id, annotator_id)
    );
    """),
    (10, "versioned guidelines; the version each annotation was made under", """
    -- Append-only: every text the guidelines of a project have had. projects.guidelines
    -- stays the current text (the highest version), written in the same transaction.
    CREATE TABLE guideline_versions (
        project_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        text VARCHAR NOT NULL,
        created_by INTEGER,
        created_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project_id, version)
    );
    INSERT INTO guideline_versions (project_id, version, text, created_by, created_at)
    SELECT id, 1, guidelines, created_by, created_at FROM projects;
    -- NULL on annotations made before guidelines were versioned: which text was shown then
    -- is not known.
    ALTER TABLE annotations ADD COLUMN guideline_version INTEGER;
    """),
    (11, "imported votes: vote import batches, and which annotations each brought", """
    -- A file of votes made elsewhere (a spreadsheet, a Label Studio export), imported into a
    -- project as annotations (store/annotation_imports.py). Kept beside `imports`, whose rows
    -- are item batches that can be removed; work people did is never removed.
    CREATE SEQUENCE vote_import_ids START 1;
    CREATE TABLE vote_imports (
        id INTEGER PRIMARY KEY DEFAULT nextval('vote_import_ids'),
        project_id INTEGER NOT NULL,
        file_name VARCHAR NOT NULL,
        file_format VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        votes_added BIGINT NOT NULL,
        votes_corrected BIGINT NOT NULL,
        votes_unchanged BIGINT NOT NULL,
        accounts_created BIGINT NOT NULL,
        user_id INTEGER,
        imported_at TIMESTAMP NOT NULL
    );
    -- NULL for votes given in SafeLabel.
    ALTER TABLE annotations ADD COLUMN vote_import_id INTEGER;
    """),
    (12, "which account a vote import made for each annotator name", """
    -- A vote import makes an inactive account for a name no username matches; a later
    -- import of the same name must find it again, also after an admin activated it.
    CREATE TABLE imported_annotators (
        name VARCHAR PRIMARY KEY,
        user_id INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    INSERT INTO imported_annotators
        SELECT name, min(id), min(created_at) FROM users
        WHERE password_hash = '!imported-annotator:no-password' GROUP BY name;
    """),
    (13, "answers the work component sent, by the browser's answer id (idempotent re-sends)", """
    -- The work component (components/work_surface.py) keeps answers in the browser until the
    -- server acknowledges them and sends them again after a dropped connection or a reload.
    -- A row here is written in the same transaction as the annotation, skip, flag or reveal
    -- it brought, so a re-sent answer is acknowledged and never makes a second row.
    CREATE TABLE client_answers (
        client_id VARCHAR NOT NULL,
        user_id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        item_id INTEGER,
        kind VARCHAR NOT NULL,
        annotation_id INTEGER,
        received_at TIMESTAMP NOT NULL,
        PRIMARY KEY (user_id, client_id)
    );
    """),
    (14, "learnt severity hints: trained models with their evaluation; each hint's confidence", """
    -- A hint model trained on a project's labels (store/hint_models.py). Its id is the model
    -- version an item's hint names. `better` says which of model and keyword hint measured
    -- better by cross-validation on the same items; `evaluation` holds the figures shown.
    CREATE SEQUENCE hint_model_ids START 1;
    CREATE TABLE hint_models (
        id INTEGER PRIMARY KEY DEFAULT nextval('hint_model_ids'),
        project_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        library VARCHAR NOT NULL,
        labelled_items INTEGER NOT NULL,
        trained_on INTEGER NOT NULL,
        evaluation JSON NOT NULL,
        better VARCHAR NOT NULL CHECK (better IN ('model', 'keywords')),
        model BLOB NOT NULL,
        train_seconds DOUBLE NOT NULL,
        created_by INTEGER,
        created_at TIMESTAMP NOT NULL
    );
    -- hint_source gains 'model' (besides 'import' and 'scorer'); a model hint names its model
    -- (hint_model_version = hint_models.id) and how sure it is (P(severity >= the hint), or
    -- for a hint of 0, P(severity is 0)). Keyword and imported hints have no confidence.
    ALTER TABLE items ADD COLUMN hint_confidence DOUBLE;
    ALTER TABLE items ADD COLUMN hint_model_version INTEGER;
    -- 'model' when the model wrote hint_category; NULL when it came from the file (or none):
    -- a file's category is never overwritten, and going back to keywords clears only the
    -- model's.
    ALTER TABLE items ADD COLUMN hint_category_source VARCHAR;
    """),
    (15, "wellness plans: the categories each person opted out of, per project", """
    -- Private to the person: the queue reads a person's own row; leads get counts per
    -- category only (store/wellness.py). Appended, never updated: the latest row of a
    -- (person, project) is their plan, the earlier ones its history.
    CREATE TABLE opt_outs (
        user_id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        categories VARCHAR[] NOT NULL,
        set_at TIMESTAMP NOT NULL
    );
    """),
]


def _ensure_version_table(cursor: duckdb.DuckDBPyConnection) -> None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )


def current_version(db: Database) -> int:
    with db.read() as cursor:
        _ensure_version_table(cursor)
        row = cursor.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def migrate(db: Database, up_to: int | None = None) -> list[int]:
    """Apply every migration newer than the file's version (up to version `up_to`, when
    given: the schema an older release made); return the versions applied."""
    applied: list[int] = []
    for version, description, sql in MIGRATIONS:
        if up_to is not None and version > up_to:
            break
        def apply(cursor: duckdb.DuckDBPyConnection, version=version, description=description,
                  sql=sql) -> bool:
            db.migration_lock(cursor)
            _ensure_version_table(cursor)
            done = cursor.execute(
                "SELECT count(*) FROM schema_version WHERE version = ?", [version]
            ).fetchone()[0]
            if done:
                return False
            cursor.execute(sql)
            cursor.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                           [version, description, utcnow()])
            return True

        if db.write(apply):
            applied.append(version)
    return applied
