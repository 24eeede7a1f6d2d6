"""The work component on the Label and Compare pages: the item, its judgment controls and
their keys in the browser (components/work_surface/work.js), with prefetched items and an acknowledged
outbox (store/work_outbox.py). The only handler of work keys on the page it runs on.

Data sent to the browser (`surface_data`):

    {"kind": "label" | "compare", "user": 3, "project": 7,
     "items": [item_data, ...],        # claimed for the person, the one to show first first
     "rules": label_rules(...) | compare_rules(...), "keys": LABEL_KEYS | COMPARE_KEYS,
     "acked": ["<client id>", ...],     # recently acknowledged entries
     "rejected": [{"id", "item_id", "kind", "message"}, ...],
     "show_first": item id | None, "seq": n}   # bring this item to the front once (undo)

The browser sends the trigger `sync` = {"entries": [...]}, its whole outbox each time.

`SAFELABEL_WORK_SURFACE=classic` keeps the st.button pages (the AppTest page tests run in
it: AppTest cannot drive a component).
"""
from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Any

import streamlit as st

from components.auth import require_live_session
from components.checkin import checkin_waiting
from components.gold_feedback import (qualification_notice, remember_gold_feedback,
                                     show_gold_feedback)
from components.item_view import text_as_rendered
from components.judgment import drop_draft
from components.thread import ask_a_lead
from components.work_page import WorkSession
from core.compare_kind import COMPARE_KEYS, CompareKind, compare_rules
from core.label_kind import LABEL_KEYS, LabelKind, label_rules
from core.preference import left_response
from core.limits import max_rewrite_chars
from core.queue import UNDO_WINDOW_SECONDS, WORK_SURFACE_PREFETCH
from core.text import markdown_literal
from core.work_data import item_data
from store.work import Item
from store.work_outbox import AnswerKind, OutboxResult, process_outbox

_HERE = Path(__file__).parent / "work_surface"
# Strings, not paths: a path works only for a component in an installed package.
_component = st.components.v2.component(
    "safelabel.work_surface",
    html=(_HERE / "work.html").read_text(encoding="utf-8"),
    css=(_HERE / "work.css").read_text(encoding="utf-8"),
    js=(_HERE / "work.js").read_text(encoding="utf-8"),
)
ACKED_KEPT = 200        # acknowledged ids sent back (the browser drops each once)
REJECTED_KEPT = 20


def surface_mode() -> str:
    """"component" (the default) or "classic" (SAFELABEL_WORK_SURFACE=classic)."""
    mode = os.environ.get("SAFELABEL_WORK_SURFACE", "component").strip().lower()
    return "classic" if mode == "classic" else "component"


def component_key(project_id: int, kind: str = "label") -> str:
    return f"work_surface_{kind}_{int(project_id)}"


def label_surface(work: WorkSession) -> WorkSurface:
    """The Label page's component."""
    taxonomy = work.project.taxonomy
    return WorkSurface(work, LabelKind(taxonomy), label_rules(taxonomy), LABEL_KEYS)


def compare_surface(work: WorkSession, rationale_rule: str, ask_safety: bool) -> WorkSurface:
    """The Compare page's component: which response is on the left is the person's
    (core.preference.left_response), decided on the server."""
    taxonomy = work.project.taxonomy
    return WorkSurface(work, CompareKind(taxonomy, rationale_rule, ask_safety, work.user.id),
                       compare_rules(taxonomy, rationale_rule, ask_safety), COMPARE_KEYS)


class WorkSurface:
    """The component's server side for one person and project in this browser session: the
    items handed out, what was acknowledged, and the trigger callback. `kind` says how an
    answer is built and checked (core.label_kind.LabelKind, core.compare_kind.CompareKind),
    `rules` and `keys` go to the browser as data."""

    def __init__(self, work: WorkSession, kind: AnswerKind, rules: dict[str, Any],
                 keys: dict[str, str]) -> None:
        self.work, self.kind, self.rules, self.keys = work, kind, rules, keys
        work.queue.prefetch = WORK_SURFACE_PREFETCH
        self.state = work.state.setdefault("surface", {
            "items": None, "acked": deque(maxlen=ACKED_KEPT), "rejected": [], "seq": 0,
            "show_first": None, "cache": {}})
        self.key = component_key(work.project.id, kind.name)

    # -- the trigger ----------------------------------------------------------------------
    def on_sync(self) -> None:
        """The browser sent its outbox: record it (idempotently), keep the results for the
        data this run draws. Runs before the fragment body."""
        payload = (st.session_state.get(self.key) or {}).get("sync") or {}
        if not self.work.live():
            return          # not acknowledged: the browser sends it again after login
        items = {it.id: it for it in self.state["items"] or []}
        if isinstance(payload.get("shown"), int):
            self.state["shown"] = payload["shown"]
        result = process_outbox(self.work.queue, payload.get("entries"), self.kind, items.get)
        self.apply(result)

    def apply(self, result: OutboxResult) -> None:
        work, state = self.work, self.state
        state["acked"].extend(result.acked)
        state["rejected"] = (state["rejected"] + result.rejected)[-REJECTED_KEPT:]
        for item, _annotation_id, fields in result.saved:
            remember_gold_feedback(work.db, work.state, work.project, work.user, item, fields)
            work.state["done"].append(item.id)
            if work.state["today"] is not None:
                work.state["today"] += 1
        if result.claim is not None:
            state["items"] = list(result.claim.items)
            work.state["current"] = result.claim.current
            work.breaks.routed(result.claim.status)
        undone = result.undone
        if undone is not None:
            if undone.kind == "submit":
                # A submit undone opens as a correction (the classic controls, pre-filled).
                drop_draft(undone.item.id)
                work.state["target"], work.state["view"] = undone.item.id, None
                work.say("Undone: correct your answer below; saving adds a new version.")
            else:
                state["show_first"] = undone.item.id
                state["seq"] += 1

    # -- drawing --------------------------------------------------------------------------
    def items(self) -> list[Item]:
        if self.state["items"] is None:
            claimed = self.work.queue.claim()
            self.state["items"] = list(claimed.items)
            self.work.breaks.routed(claimed.status)
        return self.state["items"]

    def shown_item(self) -> Item | None:
        """The item the browser last said it shows (sent with each outbox), else the first
        one handed out: what "Ask a lead about this item" is about."""
        items = self.state["items"] or []
        shown = self.state.get("shown")
        return next((it for it in items if it.id == shown), items[0] if items else None)

    def item_data(self, item: Item) -> dict[str, Any]:
        """An item for the browser, kept per item and per the person's display choices."""
        work = self.work
        show_masked = bool(st.session_state.get("pref_show_masked", False))
        rendered = text_as_rendered()
        key = (item.id, rendered, show_masked)
        cache = self.state["cache"]
        if key not in cache:
            left = (left_response(work.user.id, item.id) if self.kind.name == "compare"
                    else None)
            data = item_data(item, work.project.taxonomy, work.pattern,
                             gate_severity=work.gate_severity,
                             dim_at_severity=work.policy.dim_at_severity,
                             as_rendered=rendered, show_masked=show_masked, left=left,
                             hint_threshold=work.project.settings.get("hint_confidence"))
            data["max_rewrite_chars"] = max_rewrite_chars(item.response)
            # The person's display choices: the browser draws the item again when they change.
            data["view"] = f"{int(rendered)}{int(show_masked)}"
            cache[key] = data
        return cache[key]

    def data(self) -> dict[str, Any]:
        items = self.items()
        live = {it.id for it in items}
        self.state["cache"] = {k: v for k, v in self.state["cache"].items() if k[0] in live}
        return {
            "kind": self.kind.name, "user": self.work.user.id, "project": self.work.project.id,
            "items": [self.item_data(it) for it in items],
            "rules": self.rules, "keys": self.keys,
            "acked": list(self.state["acked"]), "rejected": self.state["rejected"],
            "show_first": self.state["show_first"], "seq": self.state["seq"],
            "undo_seconds": UNDO_WINDOW_SECONDS,
        }

    def draw(self) -> None:
        """The work area with the component: wellbeing notices first (a due break or
        check-in reruns the page, which draws them at page level), then the component."""
        work = self.work
        require_live_session(work.db)
        status = work.breaks.status()
        if status.on_break_until is not None:
            st.rerun()
        if checkin_waiting(work.db, work.user, work.policy):
            st.rerun()
        # Everything above the component in one container, whatever it holds this run: the
        # component keeps its place in the page and is never mounted afresh (which would
        # lose the choices made in the browser and, for a moment, run two of it).
        with st.container():
            work.progress_line(status)
            messages = work.take_messages()
            if messages.get("notice"):
                st.success(messages["notice"])
            for problem in messages.get("problems", []):
                st.error(markdown_literal(problem))
            show_gold_feedback(work.state)
            work.breaks.break_prompt(status)
            if status.caps_reached:
                st.info(work.breaks.cap_words(status) + " Only lighter items are served to you "
                        "for the rest of today.", icon=":material/health_and_safety:")
            data = self.data()
            if not data["items"]:
                qualification_notice(work.db, work.user, work.project)
        _component(key=self.key, data=data, on_sync_change=self.on_sync)
        shown = self.shown_item()
        if shown is not None:
            ask_a_lead(work.db, work.user, shown)     # a popover; draws without a query
        if work.state["done"]:
            st.button("Correct the previous item", key="surface_back", on_click=work.go_back,
                      help="Opens the last item you submitted in this session to correct it.")
