"""The app's database handle: one per file and process, kept when a visitor's browser asks
Streamlit to clear its caches, and a plain message (no traceback) while another process
holds the file."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from streamlit.runtime.app_session import AppSession

from components.db import close_all, get_db
from store.db import open_database
from tests.helpers import held_by_another_process, new_app, shown


def test_a_clients_clear_cache_message_keeps_the_database_handle(app_env):
    db = get_db()
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    # What Streamlit 1.67 runs for a browser's "clear_cache" BackMsg (AppSession.handle_backmsg
    # -> _handle_clear_cache_request): clears st.cache_data and st.cache_resource process-wide.
    AppSession._handle_clear_cache_request(SimpleNamespace(_session_state={}))
    again = get_db()
    assert again is db
    assert again.write(lambda cur: cur.execute("SELECT 1").fetchone()[0]) == 1


def test_close_all_forgets_the_handle_for_tests(app_env):
    db = get_db()
    close_all()
    assert get_db() is not db            # positive control: the registry can be reset


@pytest.mark.duckdb_only(reason="the file lock is DuckDB's; PostgreSQL takes many processes")
def test_page_says_plainly_that_another_process_holds_the_file(app_env):
    open_database(app_env).close()        # the file exists, as after `cli.py init`
    with held_by_another_process(app_env):
        at = new_app().run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.error) == 1
        message = shown(at.error[0].value)
        assert message.startswith(f"Another SafeLabel process holds the database file {app_env.name}.")
        assert str(app_env.parent) not in message         # no server folders for visitors
    # Once the other process has stopped, the same server opens the file on the next run.
    at = new_app().run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Set up SafeLabel"]


def test_page_says_plainly_that_the_postgresql_server_cannot_be_reached(
        pg_server, monkeypatch, capsys):
    """A PostgreSQL URL whose server is down: one plain message (not the DuckDB file-lock
    one), no traceback, and the password in the URL reaches neither the page nor the log."""
    from tests.pg import free_port
    from tests.conftest import SETUP_TOKEN

    close_all()
    monkeypatch.setenv("SAFELABEL_DEMO", "0")
    monkeypatch.setenv("SAFELABEL_SETUP_TOKEN", SETUP_TOKEN)
    monkeypatch.setenv("SAFELABEL_DB", f"postgresql://safelabel:s3cret-pw@127.0.0.1:{free_port()}/x")
    at = new_app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    message = shown(at.error[0].value)
    assert message.startswith("The database server (PostgreSQL) cannot be reached.")
    log = capsys.readouterr().err
    assert "cannot open postgresql://safelabel:***@127.0.0.1" in log      # it was logged...
    assert "s3cret-pw" not in message + log                                # ...without it
    # Positive control: a reachable server opens and the app asks for its first admin.
    close_all()
    from tests.pg import fresh_schema_url
    url, drop = fresh_schema_url(pg_server)
    monkeypatch.setenv("SAFELABEL_DB", url)
    try:
        at = new_app().run()
        assert not at.exception and not at.error
        assert [t.value for t in at.title] == ["Set up SafeLabel"]
    finally:
        close_all()
        drop()
