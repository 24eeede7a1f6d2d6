"""The SafeLabel server: the Streamlit app (app.py) plus what a page script cannot do.

`streamlit run serve.py` (what `make run` does) serves app.py through this `st.App`, which adds:
- the HTTP routes that set and delete the HttpOnly session cookie (components/auth.py),
- uploads only from a logged-in lead or admin (anyone else could fill the server's memory),
- anti-framing and content-type headers on every response, and no public metrics,
- a plain message instead of a traceback when a page fails (details go to the server log).
"""
from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import streamlit as st
from streamlit.config import get_option
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from components import session_binding
from components.auth import ACTIVATE_PATH, LOGOUT_PATH, SESSION_COOKIE
from components.db import get_db
from core import config
from core.roles import has_role
from store import sessions, users

log = logging.getLogger("safelabel")

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
# Custom components of the iframe kind are framed by the app's own page.
COMPONENT_HEADERS = [
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
UPLOAD_PREFIX = "/_stcore/upload_file"
BLOCKED_PATHS = ("/_stcore/metrics",)


def _is_https(request_scheme: str, headers) -> bool:
    if request_scheme == "https":
        return True
    return config.trusted_proxy() and headers.get("x-forwarded-proto", "") == "https"


async def activate_session(request: Request) -> JSONResponse:
    """Trade the one-time token from a login for the HttpOnly session cookie."""
    if not _same_origin_json(request):
        return JSONResponse({"ok": False}, status_code=403)
    body = await request.body()
    try:
        activation = json.loads(body[:1024]).get("activation") if len(body) <= 1024 else None
    except (ValueError, AttributeError):
        activation = None
    result = await run_in_threadpool(sessions.activate_session, get_db(), str(activation or ""))
    if result is None:
        return JSONResponse({"ok": False}, status_code=403, headers={"Cache-Control": "no-store"})
    token, left = result
    response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
    response.set_cookie(SESSION_COOKIE, token, max_age=int(left.total_seconds()), path="/",
                        httponly=True, samesite="strict",
                        secure=_is_https(request.url.scheme, request.headers))
    return response


async def clear_session_cookie(request: Request) -> JSONResponse:
    """Log-out: end the session the cookie names (if still live) and delete the cookie."""
    if not _same_origin_json(request):
        return JSONResponse({"ok": False}, status_code=403)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(sessions.end_session, get_db(), token, "logout")
    response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_is_https(request.url.scheme, request.headers))
    return response


def _session_token(scope) -> str | None:
    """The SafeLabel session cookie of an HTTP or WebSocket request, if any (parsed as
    leniently as Streamlit parses it, so another cookie on the host cannot hide it)."""
    header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie"), "")
    return cookie_parser(header).get(SESSION_COOKIE) or None


def _same_origin_json(request: Request) -> bool:
    """The cookie routes answer only the app's own page: a JSON POST whose Origin is this
    host (a cross-site form can send neither), on top of the SameSite=Strict cookie."""
    origin = request.headers.get("origin")
    if not origin or urlsplit(origin).netloc != request.headers.get("host"):
        return False
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/json"


def _app_path(path: str) -> str:
    """The path below `server.baseUrlPath`, so the checks hold under a base path too."""
    base = "/" + str(get_option("server.baseUrlPath") or "").strip("/")
    if base != "/" and (path == base or path.startswith(base + "/")):
        return path[len(base):] or "/"
    return path


def _reattach_only_with_the_cookie(scope):
    """A WebSocket that names an existing Streamlit session (third Sec-WebSocket-Protocol
    entry) gets it only if it carries the login cookie that session is bound to; otherwise
    the id is dropped and Streamlit opens a fresh, logged-out session."""
    headers = list(scope.get("headers", []))
    for n, (key, value) in enumerate(headers):
        if key != b"sec-websocket-protocol":
            continue
        entries = value.decode("latin-1").split(",")
        if len(entries) >= 3 and entries[2].strip():
            if not session_binding.may_attach(entries[2].strip(), _session_token(scope)):
                headers[n] = (key, ",".join(entries[:2]).encode("latin-1"))
                return {**scope, "headers": headers}
    return scope


def _may_upload(token: str | None) -> bool:
    db = get_db()
    user_id = sessions.session_user_id(db, token)
    user = users.get_user(db, user_id) if user_id else None
    return user is not None and has_role(user.role, "lead")


class Guard:
    """ASGI middleware: security headers on every response, blocked paths, and uploads only
    from a live lead/admin session (checked before Streamlit reads the body)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":
            await self.app(_reattach_only_with_the_cookie(scope), receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _app_path(scope.get("path", ""))
        extra = COMPONENT_HEADERS if path.startswith("/component/") else SECURITY_HEADERS
        names = {name for name, _ in extra}

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(k, v) for k, v in message.get("headers", [])
                                      if k.lower() not in names] + extra
            await send(message)

        if path.startswith(BLOCKED_PATHS):
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send_with_headers)
            return
        if path.startswith(UPLOAD_PREFIX) and scope.get("method") in ("PUT", "POST"):
            if not await run_in_threadpool(_may_upload, _session_token(scope)):
                await PlainTextResponse("Uploads need a logged-in lead.", status_code=403)(
                    scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


def show_plain_error(exc: Exception) -> bool:
    """A page failed: log the details on the server, show the person a plain message."""
    log.error("page error", exc_info=exc)
    st.error("Something went wrong on this page. Nothing you saved is lost; reload the page "
             "to carry on. The details are in the server's log.")
    return True


app = st.App(
    "app.py",
    routes=[Route(ACTIVATE_PATH, activate_session, methods=["POST"]),
            Route(LOGOUT_PATH, clear_session_cookie, methods=["POST"])],
    middleware=[Middleware(Guard)],
    on_script_error=show_plain_error,
)
