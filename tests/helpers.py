"""Small writers of test files, so tests make their own data."""
from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

from store import users
from tests.conftest import ROOT


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def label_rows(n: int, prefix: str = "item") -> list[dict]:
    return [{"id": f"{prefix}-{i}", "prompt": f"prompt {i}", "response": f"response {i}"}
            for i in range(n)]


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def by_label(elements, label):
    matches = [e for e in elements if e.label == label]
    assert matches, f"no element labelled {label!r}"
    return matches[0]


def as_user(db, username: str) -> AppTest:
    """An app whose session is already logged in (skips the form)."""
    from store.sessions import start_session

    user = users.get_user_by_username(db, username)
    at = new_app()
    at.session_state["_sl_session"] = start_session(db, user.id)
    return at


# Strings a lead or a file could supply, each using a different piece of Markdown or
# Streamlit syntax that would fetch, link or restyle if rendered.
HOSTILE = "![x](http://127.0.0.1:9/hostile.png) [click](http://evil) **bold** :red[x]"
HOSTILE_ID = "**id** [a](http://evil) x@evil.com :material/home: $x^2$ <b>b</b>"
HOSTILE_COLUMN = "![c](http://127.0.0.1:9/column.png) www.evil.com `c`"
_PUNCTUATION = set(string.punctuation)
_JOINER = "\u2060"


def assert_literal(rendered: str, original: str) -> None:
    """`original` appears in `rendered` (Markdown that Streamlit renders) in a form that shows
    exactly as typed: every ASCII punctuation character backslash-escaped, and autolink
    patterns (://, www., name@) broken by an invisible word joiner. Whitespace runs may be
    collapsed to one space."""
    parts = [("\\\\" + re.escape(ch)) if ch in _PUNCTUATION else re.escape(ch)
             for ch in " ".join(original.split())]
    match = re.search(f"{_JOINER}?".join(parts), rendered)
    assert match, f"{original!r} is not shown literally in {rendered!r}"
    unescaped = re.sub(r"\\(.)", r"\1", match.group())
    assert not re.search(r"://|www\.|\w@", unescaped, re.IGNORECASE), \
        f"an autolink survives in {rendered!r}"


def shown(markdown: str) -> str:
    """The text a browser shows for escaped Markdown (backslash escapes and word joiners
    gone), for checking messages by their words."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(_JOINER, "")


@contextmanager
def held_by_another_process(db_path: Path):
    """A second process holding the DuckDB file open, as a second SafeLabel would."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read()", str(db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.stdin.close()      # the holder exits when its stdin closes
        holder.wait(timeout=30)
