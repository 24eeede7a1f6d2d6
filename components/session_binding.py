"""Which login each live Streamlit session belongs to, for the server's connection check.

A browser that reconnects names its Streamlit session by id, and anyone who learns the id
(upload URLs, proxy logs) could name it too. The page script checks the login cookie on
every full run, but widget callbacks run before the script and a fragment rerun never runs
it, so the check must happen where the connection is made: serve.py asks `may_attach` and
lets a client reattach to a bound session only when it carries that session's cookie.
In-process memory: sessions live in this process anyway.
"""
from __future__ import annotations

import hashlib
import threading

_lock = threading.Lock()
_bound: dict[str, str] = {}     # Streamlit session id -> SHA-256 of what the client must hold


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def bind(streamlit_session_id: str, cookie_token: str | None) -> None:
    """From now on only a client holding `cookie_token` may reattach to this session; with
    None (a login waiting for its cookie) no client may."""
    with _lock:
        _bound[streamlit_session_id] = _digest(cookie_token) if cookie_token else ""


def unbind(streamlit_session_id: str) -> None:
    with _lock:
        _bound.pop(streamlit_session_id, None)


def may_attach(streamlit_session_id: str, cookie_token: str | None) -> bool:
    """May a connection holding `cookie_token` take over this (existing) session?"""
    with _lock:
        required = _bound.get(streamlit_session_id)
    if required is None:
        return True                  # nobody is logged in there
    return bool(required) and bool(cookie_token) and _digest(cookie_token) == required
