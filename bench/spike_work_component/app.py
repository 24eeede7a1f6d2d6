"""Spike: a st.components.v2 work component that owns the work keys and prefetches.

Run:  streamlit run bench/spike_work_component/app.py   (?mode=button for the st.button baseline)
Nothing here is imported by the app; it is a measured prototype for issue 12.
"""
from __future__ import annotations

import threading
from collections import deque
from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent
N_ITEMS = 400
CATEGORIES = ["violence", "self-harm", "hate"]
RULES = {"categories": CATEGORIES, "severities": [0, 1, 2, 3],
         # unsafe needs >= 1 category and severity >= 1; safe needs no category and severity 0
         "unsafe_min_severity": 1}

# Inline strings read from files: a path/glob for js/css only works for *installed* packages
# that declare an asset_dir in pyproject.toml (streamlit/components/v2/__init__.py docstring).
work_component = st.components.v2.component(
    "safelabel_spike.work",
    html=(HERE / "work.html").read_text(),
    css=(HERE / "work.css").read_text(),
    js=(HERE / "work.js").read_text(),
)


class ToyQueue:
    """Process-wide, thread-safe toy queue: claim in order, record answers idempotently."""

    def __init__(self, n: int) -> None:
        hostile = ['<img src=x onerror="window.__pwned=1">', "**bold?** <script>alert(1)</script>",
                   "rtl\u202eevil\u202c text", "zero\u200bwidth"]
        self.items = [{"id": f"it-{i:05d}",
                       "text": f"item {i:05d}: {hostile[i % len(hostile)]} lorem ipsum dolor"}
                      for i in range(n)]
        self.next_index = 0
        self.answers: dict[str, dict] = {}      # answer id -> row (the idempotency key)
        self.done_items: dict[str, str] = {}    # item id -> answer id
        self.lock = threading.Lock()

    def claim(self, n: int) -> list[dict]:
        with self.lock:
            out = self.items[self.next_index:self.next_index + n]
            self.next_index += len(out)
            return out

    def record(self, answer: dict, claimed: set[str]) -> str:
        """'saved', 'duplicate' or an error message (validated again on the server)."""
        with self.lock:
            if answer.get("id") in self.answers:
                return "duplicate"
            item_id = answer.get("item_id")
            if item_id not in claimed:
                return "not your item"
            if item_id in self.done_items:
                return "item already answered"
            error = validate(answer)
            if error:
                return error
            self.answers[answer["id"]] = dict(answer)
            self.done_items[item_id] = answer["id"]
            return "saved"


def validate(a: dict) -> str | None:
    cats, sev = a.get("categories") or [], a.get("severity")
    if a.get("verdict") == "safe":
        return None if not cats and sev in (None, 0) else "safe takes no category and severity 0"
    if a.get("verdict") == "unsafe":
        if not cats or not set(cats) <= set(CATEGORIES):
            return "unsafe needs a category"
        return None if isinstance(sev, int) and sev >= RULES["unsafe_min_severity"] else "unsafe needs severity 1-3"
    return "choose a verdict"


@st.cache_resource
def queue() -> ToyQueue:
    return ToyQueue(N_ITEMS)


def session() -> dict:
    ss = st.session_state
    if "spike" not in ss:
        ss.spike = {"items": queue().claim(2), "claimed": set(), "acked": deque(maxlen=200),
                    "rejected": [], "saved": 0, "dups": 0}
        ss.spike["claimed"].update(i["id"] for i in ss.spike["items"])
    return ss.spike


def on_submit_unkeyed() -> None:
    st.session_state.unkeyed_callbacks = st.session_state.get("unkeyed_callbacks", 0) + 1


def on_submit(payload: dict | None = None) -> None:
    """Trigger callback: runs before the fragment body, so the data drawn this run is fresh.
    With key="work", st.session_state["work"] holds the state and this run's trigger values."""
    payload = payload or st.session_state["work"].get("submit") or {}
    s = session()
    for answer in payload.get("answers", []):     # the whole outbox: triggers coalesce
        status = queue().record(answer, s["claimed"])
        if status in ("saved", "duplicate"):
            s["acked"].append(answer["id"])
            s["dups"] += status == "duplicate"
            if status == "saved":
                s["saved"] += 1
                s["items"] = [i for i in s["items"] if i["id"] != answer["item_id"]]
        else:
            s["rejected"].append({"answer_id": answer["id"], "message": status})
            print(f"spike: rejected {answer.get('id')}: {status}", flush=True)
    missing = 2 - len(s["items"])
    if missing > 0:
        fresh = queue().claim(missing)
        s["claimed"].update(i["id"] for i in fresh)
        s["items"] += fresh


@st.fragment
def component_area() -> None:
    s = session()
    keyed = st.query_params.get("key") != "none"    # ?key=none: the unkeyed variant (verify.py)
    result = work_component(key="work" if keyed else None,
                   data={"items": s["items"], "rules": RULES, "acked": list(s["acked"]),
                         "rejected": s["rejected"][-20:], "debug": "debug" in st.query_params},
                   on_submit_change=on_submit if keyed else on_submit_unkeyed)
    if not keyed and result.submit:     # no key: read the trigger from the return value, then
        on_submit(result.submit)        # draw again (the data above is one answer behind)
        st.rerun(scope="fragment")
    st.session_state.fragment_runs = st.session_state.get("fragment_runs", 0) + 1
    st.caption(f"saved on the server: {s['saved']} · duplicates acknowledged: {s['dups']} · "
               f"full runs: {st.session_state.full_runs} · fragment runs: {st.session_state.fragment_runs}")


# ---- baseline: plain st.button round trips in a fragment (what the pages do today) ----
def b_set(field: str, value) -> None:
    sel = st.session_state.bsel
    if field == "cat":
        sel["cats"] = sorted(set(sel["cats"]) ^ {value})
    else:
        sel[field] = value


def b_submit() -> None:
    s, sel = session(), st.session_state.bsel
    item = s["items"][0]
    answer = {"id": f"b-{item['id']}", "item_id": item["id"], "verdict": sel["verdict"],
              "categories": sel["cats"], "severity": sel["severity"]}
    if queue().record(answer, s["claimed"]) == "saved":
        s["saved"] += 1
        s["items"] = s["items"][1:] + queue().claim(1)
        s["claimed"].update(i["id"] for i in s["items"])
        st.session_state.bsel = {"verdict": None, "cats": [], "severity": None}


@st.fragment
def button_area() -> None:
    s = session()
    st.session_state.setdefault("bsel", {"verdict": None, "cats": [], "severity": None})
    sel = st.session_state.bsel
    st.text(s["items"][0]["text"])
    cols = st.columns(6)
    cols[0].button("Safe", shortcut="g", on_click=b_set, args=("verdict", "safe"),
                   type="primary" if sel["verdict"] == "safe" else "secondary")
    cols[1].button("Unsafe", shortcut="u", on_click=b_set, args=("verdict", "unsafe"),
                   type="primary" if sel["verdict"] == "unsafe" else "secondary")
    for n, cat in enumerate(CATEGORIES, 1):
        cols[1 + n].button(cat, shortcut=str(n), on_click=b_set, args=("cat", cat),
                           type="primary" if cat in sel["cats"] else "secondary")
    cols[5].button("Submit", shortcut="Enter", on_click=b_submit)
    st.caption(f"verdict: {sel['verdict']} · saved on the server: {s['saved']}")


st.session_state.full_runs = st.session_state.get("full_runs", 0) + 1
st.title("Work component spike")
st.text_input("A text field outside the component (keys must not fire here)", key="outside")
if st.query_params.get("mode") == "button":
    button_area()
else:
    component_area()
