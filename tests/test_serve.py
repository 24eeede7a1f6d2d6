"""serve.py's own checks: the cookie as Streamlit reads it, the cookie routes answer only the
app's page, and the upload gate and metrics block hold under a base URL path."""
from __future__ import annotations

import requests
from starlette.requests import Request

from store import users
from store.bootstrap import open_app_database
from store.sessions import start_session
from tests.browser import streamlit_server, streamlit_session, upload
from tests.conftest import PASSWORD


def _scope(headers: dict[str, str], path: str = "/") -> dict:
    return {"type": "http", "method": "POST", "path": path,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


def test_the_session_cookie_is_found_beside_cookies_a_strict_parser_rejects():
    import serve
    for header in ('foo={"a":1}; safelabel_session=TOK', "a=b c; safelabel_session=TOK",
                   "safelabel_session=TOK"):
        assert serve._session_token(_scope({"Cookie": header})) == "TOK", header
    assert serve._session_token(_scope({"Cookie": "other=1"})) is None
    assert serve._session_token(_scope({})) is None


def test_the_cookie_routes_answer_only_a_json_post_from_the_apps_own_page():
    import serve
    page = {"Host": "labels.example:8501", "Origin": "http://labels.example:8501",
            "Content-Type": "application/json"}
    assert serve._same_origin_json(Request(_scope(page)))                     # control
    assert not serve._same_origin_json(Request(_scope({**page, "Origin": "https://evil.example"})))
    assert not serve._same_origin_json(Request(_scope({**page, "Content-Type": "text/plain"})))
    no_origin = {k: v for k, v in page.items() if k != "Origin"}
    assert not serve._same_origin_json(Request(_scope(no_origin)))


def test_uploads_and_metrics_stay_closed_under_a_base_url_path(tmp_path):
    db_path = tmp_path / "base.duckdb"
    db = open_app_database(db_path, demo=False)
    lead = users.create_user(db, None, "lead", "Lead", PASSWORD, "lead")
    token = start_session(db, lead)
    db.close()
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0"},
                          options=["--server.baseUrlPath", "safelabel"]) as server:
        base = server.url + "/safelabel"
        with streamlit_session(base) as session_id:
            assert upload(base, session_id, 10) == 403                  # nobody logged in
            assert upload(base, session_id, 10, token) == 204           # control: a lead
        assert requests.get(base + "/_stcore/health", timeout=30).status_code == 200
        for path in ("/_stcore/metrics", "/_stcore/metrics/"):
            assert requests.get(base + path, timeout=30).status_code == 404
        refused = requests.post(server.url + "/_safelabel/session", data='{"activation": "x"}',
                                headers={"Content-Type": "text/plain"}, timeout=30)
        assert refused.status_code == 403
