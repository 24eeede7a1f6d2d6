"""The server's own limits, over HTTP against a real `streamlit run`: Streamlit's upload route
takes files from any session, logged in or not, so its size cap (server.maxUploadSize in
.streamlit/config.toml) is what bounds one request; the repository's defaults are documented
values."""
from __future__ import annotations

import http.client
import tomllib
import uuid
from urllib.parse import urlsplit

import pytest
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

from store import users
from store.bootstrap import open_app_database
from store.sessions import start_session
from tests.browser import streamlit_server, streamlit_session, upload
from tests.conftest import PASSWORD, ROOT

MB = 1024 * 1024
DEFAULT_UPLOAD_MB = 200        # README "Running for a team"; PRODUCT.md's largest import file


def repo_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_the_repository_config_has_the_documented_defaults():
    config = repo_config()
    assert config["server"]["maxUploadSize"] == DEFAULT_UPLOAD_MB
    assert config["server"]["address"] == "127.0.0.1"           # localhost unless told otherwise
    assert config["client"]["showErrorDetails"] == "none"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "maxUploadSize" in readme and "make run ADDRESS=0.0.0.0" in readme


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    """A database with a lead and a live session of theirs (uploads need one)."""
    path = tmp_path_factory.mktemp("limits") / "limits.duckdb"
    db = open_app_database(path, demo=False)
    lead = users.create_user(db, None, "lead", "Lead", PASSWORD, "lead")
    token = start_session(db, lead)
    db.close()
    return path, token


def test_an_upload_over_the_limit_is_refused(db_path):
    db_path, token = db_path
    # A 1 MB cap keeps the test cheap; the refusal is the same at any cap.
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0"},
                          options=["--server.maxUploadSize", "1"]) as server, \
            streamlit_session(server.url) as session_id:
        assert upload(server.url, session_id, MB // 2, token) == 204      # under the cap: taken
        assert upload(server.url, session_id, 2 * MB, token) == 413       # over it: refused


def test_the_default_config_refuses_a_body_over_200_mb_before_reading_it(db_path):
    """With the repository's config (no override), a request declaring a body over the
    default cap gets 413 at once, without the server waiting for (or holding) the body."""
    db_path, login = db_path
    with streamlit_server(db_path, {"SAFELABEL_DEMO": "0"}) as server, \
            streamlit_session(server.url) as session_id:
        assert upload(server.url, session_id, MB, login) == 204   # positive control
        token = generate_xsrf_token_string()
        parts = urlsplit(server.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.putrequest("PUT", f"/_stcore/upload_file/{session_id}/{uuid.uuid4()}")
        for header, value in (("Content-Type", "multipart/form-data; boundary=x"),
                              ("Content-Length", str((DEFAULT_UPLOAD_MB + 1) * MB)),
                              ("X-Xsrftoken", token),
                              ("Cookie", f"_streamlit_xsrf={token}; safelabel_session={login}")):
            connection.putheader(header, value)
        connection.endheaders()                                          # and no body at all
        assert connection.getresponse().status == 413
        connection.close()
