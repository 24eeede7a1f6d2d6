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


def migrate(db: Database) -> list[int]:
    """Apply every migration newer than the file's version; return the versions applied."""
    applied: list[int] = []
    for version, description, sql in MIGRATIONS:
        def apply(cursor: duckdb.DuckDBPyConnection, version=version, description=description,
                  sql=sql) -> bool:
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
