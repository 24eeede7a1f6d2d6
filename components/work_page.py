"""What the label and compare pages share: project picker, sidebar help, per-project work
state, hint-before-text gate, masked-word reveal, and the action row (submit, skip, flag,
previous/next). Each page supplies only its own judgment controls."""
from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st

from components.auth import forget_person, require_live_session, session_is_live
from components.breaks import Breaks
from components.gold_feedback import (qualification_notice, remember_gold_feedback,
                                     show_gold_feedback)
from components.checkin import checkin_prompt, checkin_waiting, end_of_day, sidebar_checkin
from components.guidelines import guidelines_button
from components.item_view import masked_term_count, preference_toggle, rendered_text_toggle
from components.visibility import track_page_visibility
from components.wellness import informed_start
from components.judgment import Draft, drop_draft, get_draft
from components.thread import ask_a_lead
from core import keys
from core.hint_trust import TrustedHint
from core.limits import MAX_REASON_CHARS
from core.masking import project_mask_pattern
from core.work_data import hint_words
from core.work_data import trusted as trusted_hint_of
from core.queue import DEFAULT_PREFETCH, UNDO_WINDOW_SECONDS
from core.text import markdown_literal
from core.wellbeing import policy_from_settings
from store.db import Database, StoreError, utcnow
from store.events import record_event
from store.preferences import LAST_WORK_PREF, get_preference, set_preference
from store.projects import Project, items_left_for, project_progress, projects_for_user
from store.users import User
from store.wellbeing import WellbeingStatus
from store.work import AnnotationRecord, Item, annotations_today, get_item, latest_annotation
from store.work_queue import ClaimResult, Timing, WorkQueue

SHOW_MASKED_PREF = "show_masked_terms"
LAST_WORK_KEY = "_sl_last_work"       # what this session last stored, to write only changes
# (page kind, project id, item id) a page outside the work pages (My items) asks the work
# page to open for correction; WorkSession takes it over on its next run.
CORRECTION_REQUEST = "work_correction"


def request_correction(kind: str, project_id: int, item_id: int) -> None:
    """Have the `kind` work page open this person's earlier item for correction, in its
    project (call before st.switch_page to that page)."""
    st.session_state[f"{kind}_project"] = project_id   # the page's project picker
    st.session_state[CORRECTION_REQUEST] = (kind, project_id, item_id)


def pick_project(db: Database, user: User, kind: str, keyboard_help: str) -> Project:
    """Sidebar: project picker, guidelines and taxonomy (a dialog), keys, masking and
    hidden-character preferences."""
    projects = {p.id: p for p in projects_for_user(db, user, kind=kind)}
    if not projects:
        noun = "labeling" if kind == "label" else "comparison"
        st.info(f"No {noun} project is assigned to you yet. A lead can add you to one.")
        st.stop()
    key = f"{kind}_project"
    if key not in st.session_state:
        last = get_preference(db, user.id, LAST_WORK_PREF, None) or {}
        if last.get("kind") == kind and last.get("project_id") in projects:
            st.session_state[key] = last["project_id"]
    project_id = st.sidebar.selectbox("Project", list(projects), key=key,
                                      format_func=lambda pid: projects[pid].name)
    project = projects[project_id]
    remember_place(db, user, kind, project_id)
    guidelines_button(db, project)
    with st.sidebar.expander("Keyboard"):
        st.text(keyboard_help)

    preference_toggle(db, user, "Show masked words without asking", SHOW_MASKED_PREF,
                      "pref_show_masked",
                      "Off by default. Every item shown unmasked is recorded as a reveal.")
    rendered_text_toggle(db, user)
    return project


def remember_place(db: Database, user: User, kind: str, project_id: int) -> None:
    """Keep the page and project the person works in (a preference), when it changed."""
    place = {"kind": kind, "project_id": int(project_id)}
    if st.session_state.get(LAST_WORK_KEY) != place:
        set_preference(db, user.id, LAST_WORK_PREF, place)
        st.session_state[LAST_WORK_KEY] = place


@st.cache_data(ttl=5, show_spinner=False)
def _cached_progress(_db: Database, db_path: str, project_id: int):
    return project_progress(_db, project_id)


@st.cache_data(ttl=5, show_spinner=False)
def _cached_left_for(_db: Database, db_path: str, project_id: int, user_id: int) -> int:
    return items_left_for(_db, project_id, user_id)


class WorkSession:
    """One person's work in one project in this browser session."""

    def __init__(self, db: Database, user: User, project: Project, page: str) -> None:
        self.db, self.user, self.project = db, user, project
        self.pattern: re.Pattern[str] | None = project_mask_pattern(project.settings)
        self.gate_severity = int(project.settings.get("hide_text_at_severity", 3))
        self.policy = policy_from_settings(project.settings)
        pages = st.session_state.setdefault(page, {})
        self.state = pages.setdefault(project.id, {"current": None, "done": [], "view": None,
                                                   "target": None, "today": None, "messages": {}})
        request = st.session_state.get(CORRECTION_REQUEST)
        if request and request[0] == page:
            del st.session_state[CORRECTION_REQUEST]
            if request[1] == project.id:
                # An item from My items, corrected in place of the current one.
                self.state["target"], self.state["view"] = request[2], None
        self.breaks = Breaks(db, user, project, self.policy, self.state)
        # The person holds the item shown and the next one (claimed, routed by the wellbeing
        # rules); after a submit the next one simply becomes current.
        self.queue = WorkQueue(db, user.id, project.id, prefetch=DEFAULT_PREFETCH)

    def run(self, work_area: Callable[[], None]) -> None:
        """The page body: wellbeing in the sidebar, then the end-of-day screen, a due
        check-in, and the break timer or the work area (a fragment). Before a person's first
        item in the project: the informed-start screen, and nothing else (nothing claimed)."""
        if not informed_start(self.db, self.user, self.project):
            return
        track_page_visibility()
        sidebar_checkin(self.db, self.user)
        self.breaks.my_day()
        if end_of_day(self.db, self.user):
            if not self.state.get("left"):
                # Ending the day: the next item, never shown, goes back to the pool.
                self.queue.release_prefetched()
                self.state["left"] = True
            return
        self.state["left"] = False
        # One container whether or not a check-in is due: the work area after it keeps its
        # place in the page, so the work component is not mounted afresh (losing the choices
        # made in the browser) when the check-in goes.
        with st.container():
            checkin_prompt(self.db, self.user, self.policy)
        if self.breaks.on_break():
            self.breaks.break_screen()
        else:
            work_area()

    # -- queue and navigation -------------------------------------------------------------
    def current_item(self) -> Item | None:
        if self.state["current"] is None:
            self.state["current"] = self.queue.claim().current
        return self.state["current"]

    @property
    def correcting(self) -> bool:
        return self.state["view"] is not None or self.state.get("target") is not None

    def viewed_item_id(self) -> int:
        """The item being corrected: one from My items, or one of this session's."""
        if self.state.get("target") is not None:
            return self.state["target"]
        return self.state["done"][self.state["view"]]

    def stop_correcting(self) -> None:
        self.state["view"] = self.state["target"] = None

    def say(self, notice: str | None = None, problems: list[str] | None = None) -> None:
        self.state["messages"] = {"notice": notice, "problems": problems or []}

    def take_messages(self) -> dict:
        messages = self.state.get("messages") or {}
        self.state["messages"] = {}
        return messages

    def open_item(self, prefill: Callable[[Draft, AnnotationRecord], None]
                  ) -> tuple[Item, Draft, dict] | None:
        """Start a fragment run: progress line, break prompt, notices, and the item to show
        (the current claim, or an earlier item being corrected, its draft pre-filled by
        `prefill`). None when nothing is left (a message says so)."""
        require_live_session(self.db)
        status = self.breaks.status()
        if status.on_break_until is not None:
            st.rerun()   # a break just started: the page draws the break screen instead
        if checkin_waiting(self.db, self.user, self.policy):
            st.rerun()   # the hourly check-in is due: the page draws it above the work
        self.progress_line(status)
        messages = self.take_messages()
        if messages.get("notice"):
            st.success(messages["notice"])
        show_gold_feedback(self.state)
        if self.correcting:
            opened = self._open_correction(prefill)
            if opened is not None:
                return opened[0], opened[1], messages
        self.breaks.break_prompt(status)
        item = self.current_item()
        if item is None:
            self.nothing_left(status)
            return None
        if status.caps_reached:
            # A weekly budget frees up as its oldest days leave the 7-day window, not tomorrow.
            until = ("for the rest of today" if status.daily_caps_reached
                     else "until older days drop out of the 7-day window")
            st.info(self.breaks.cap_words(status) + f" Only lighter items are served to you "
                    f"{until}.", icon=":material/health_and_safety:")
        return item, get_draft(item.id), messages

    def _open_correction(self, prefill: Callable[[Draft, AnnotationRecord], None]
                         ) -> tuple[Item, Draft] | None:
        """The earlier item being corrected, its draft pre-filled from the person's latest
        version; None (and back to the current item) if it is not theirs in this project."""
        item = get_item(self.db, self.viewed_item_id())
        saved = latest_annotation(self.db, item.id, self.user.id) if item else None
        if saved is None or item.project_id != self.project.id:
            self.stop_correcting()
            st.error("You have not worked on that item in this project, so there is nothing "
                     "to correct. Here is your current item.")
            return None
        fresh = f"draft_{item.id}" not in st.session_state
        draft = get_draft(item.id)
        if fresh:
            prefill(draft, saved)
            # Text the person judged severe starts dimmed again.
            draft.text_shown = not self._severe(item, saved.severity)
        st.info(f"Correcting item {markdown_literal(item.external_id)}, which you did earlier "
                f"(version {saved.version}). Saving adds a new version; the old one is kept.")
        return item, draft

    def submit(self, item: Item, draft: Draft, problems: list[str], **annotation) -> None:
        """Submit callback of both work pages: show the rule `problems` if any, else save the
        label or judgment with its timing and move on. A first submit claims the next item
        in the same transaction (one commit)."""
        if not self.live():
            return
        if problems:
            draft.touch()
            self.say(problems=problems)
            return
        correcting = self.correcting
        now = utcnow()
        timing = Timing(draft.shown_at, draft.active_ms(now))
        try:
            if correcting:
                self.queue.correct(item.id, timing=timing, now=now, **annotation)
            else:
                result = self.queue.submit(item.id, timing=timing, now=now, **annotation)
        except StoreError as exc:
            self.say(problems=[str(exc)])
            return
        drop_draft(item.id)
        if correcting:
            self.stop_correcting()
            self.state["undo"] = None
            self.say(f"Correction saved for item {markdown_literal(item.external_id)} "
                     "(the earlier version is kept).")
            return
        remember_gold_feedback(self.db, self.state, self.project, self.user, item, annotation)
        self.state["done"].append(item.id)
        if self.state["today"] is not None:
            self.state["today"] += 1
        self.moved_on(result, "submit")
        self.say(f"Saved item {markdown_literal(item.external_id)}.")

    def moved_on(self, result: ClaimResult, undoable: str | None) -> None:
        """After a submit, skip or flag: the queue's next item becomes current, with the
        wellbeing status it was routed by; `undoable` ("submit", "skip") offers Undo."""
        self.state["current"] = result.current
        self.breaks.routed(result.status)
        self.state["undo"] = {"kind": undoable, "at": utcnow()} if undoable else None

    def _timing(self, item: Item) -> dict:
        """When the item was shown, the active time so far and whether its text could be read
        (exposure counts skips and flags too)."""
        draft = get_draft(item.id)
        return {"shown_at": draft.shown_at, "active_ms": draft.active_ms(utcnow()),
                "text_seen": draft.text_shown or not self._severe(item)}

    def live(self) -> bool:
        """Callbacks run before the page's login check: act only for a live login (else the
        run that follows shows the login form)."""
        if session_is_live(self.db):
            return True
        forget_person()
        return False

    def skip(self, item: Item) -> None:
        if not self.live():
            return
        try:
            result = self.queue.skip(item.id, st.session_state.get(f"reason_{item.id}", "") or "",
                                     Timing(**self._timing(item)))
        except StoreError as exc:
            self.say(problems=[str(exc)])
            return
        drop_draft(item.id)
        self.moved_on(result, "skip")
        self.say("Skipped. Skipping is never counted against you.")

    def flag(self, item: Item) -> None:
        if not self.live():
            return
        try:
            result = self.queue.flag(item.id, st.session_state.get(f"reason_{item.id}", "") or "",
                                     Timing(**self._timing(item)))
        except StoreError as exc:
            self.say(problems=[f"{exc}: type it in the reason box first."])
            return
        drop_draft(item.id)
        self.moved_on(result, None)
        self.say("Flagged for a lead. Thank you.")

    def undo(self) -> None:
        """Undo the last submit (the item comes back as a correction, its answer filled in)
        or skip (the item comes back as the current one, if nobody else took it)."""
        if not self.live():
            return
        self.state["undo"] = None
        try:
            result = self.queue.undo_last()
        except StoreError as exc:
            self.say(problems=[str(exc)])
            return
        if result.kind == "submit":
            drop_draft(result.item.id)      # filled in afresh from the saved answer
            self.state["target"], self.state["view"] = result.item.id, None
            self.say("Undone: correct your answer below; saving adds a new version.")
        else:
            self.state["current"] = result.current
            self.breaks.routed(result.status)
            self.say(f"Undone: item {markdown_literal(result.item.external_id)} is back.")

    def undo_button(self) -> None:
        """Undo (Z), for a short while after a submit or skip."""
        offer = self.state.get("undo")
        if not offer or (utcnow() - offer["at"]).total_seconds() > UNDO_WINDOW_SECONDS:
            return
        st.button(f"Undo {offer['kind']}", key="undo_last", shortcut=keys.UNDO,
                  on_click=self.undo,
                  help="Brings back the item you just submitted (to correct it) or skipped.")

    def go_back(self) -> None:
        self.state["target"] = None   # from an item of My items: as if from the current one
        if self.state["done"]:
            position = len(self.state["done"]) if self.state["view"] is None else self.state["view"]
            self.state["view"] = max(0, position - 1)

    def go_forward(self) -> None:
        if self.state.get("target") is not None:
            self.stop_correcting()     # leave an item of My items unchanged
        elif self.state["view"] is not None:
            nxt = self.state["view"] + 1
            self.state["view"] = None if nxt >= len(self.state["done"]) else nxt

    def reveal(self, item: Item, draft: Draft, what: str, count: int = 0) -> None:
        if not self.live():
            return
        if what in ("text", "dim"):
            draft.text_shown = True
        else:
            draft.revealed = True
        draft.touch()
        record_event(self.db, "reveal", self.user.id, self.project.id, item.id,
                     {"what": what, **({"terms": count} if count else {})})

    def _severe(self, item: Item, label_severity: int | None = None) -> bool:
        levels = [v for v in (self.trusted(item).acted_on, label_severity) if v is not None]
        return bool(levels) and max(levels) >= self.policy.dim_at_severity

    def dimmed(self, item: Item, draft: Draft) -> bool:
        """True while the text is to be shown blurred (severe hint or label, not revealed)."""
        return not draft.text_shown and self._severe(item)

    def unblur_button(self, item: Item, draft: Draft) -> None:
        st.button("Unblur the text", key=f"unblur_{item.id}", shortcut=keys.REVEAL,
                  on_click=self.reveal, args=(item, draft, "dim"),
                  help="The text is blurred because of its severity. Skipping is always fine.")

    # -- drawing ---------------------------------------------------------------------------
    def progress_line(self, status: WellbeingStatus) -> None:
        if self.state["today"] is None:
            self.state["today"] = annotations_today(self.db, self.user.id, self.project.id)
        progress = _cached_progress(self.db, self.db.path, self.project.id)
        left = _cached_left_for(self.db, self.db.path, self.project.id, self.user.id)
        due = (f"break due in about {status.minutes_until_break:.0f} min of harmful content"
               if status.minutes_until_break >= 1 else "break due now")
        st.text(f"{self.state['today']} done today · {left:,} left for you · "
                f"{progress.items_done:,} of {progress.items:,} items complete in "
                f"{self.project.name} · {due}")

    def nothing_left(self, status: WellbeingStatus) -> None:
        done = len(self.state["done"])
        if qualification_notice(self.db, self.user, self.project):
            pass
        elif status.caps_reached:
            st.info(self.breaks.cap_words(status) + " There is nothing lighter left for you in this "
                    "project today. Thank you for your work; please look after yourself.",
                    icon=":material/health_and_safety:")
        else:
            st.success("Nothing left for you in this project. "
                       + (f"You did {done} items this session. " if done else "") + "Thank you!")
        if done:
            st.button("Previous", key="back_done", shortcut=keys.PREVIOUS, on_click=self.go_back)
        self.undo_button()

    def trusted(self, item: Item) -> TrustedHint:
        return trusted_hint_of(item, self.project.taxonomy,
                               self.project.settings.get("hint_confidence"))

    def hint_gate(self, item: Item, draft: Draft) -> bool:
        """Show any hint above the text; True when the text may be shown now."""
        # The same hint line as the work component (core/work_data.hint_words: every category
        # named, the wording and whether to act from core/hint_trust.py); category and
        # severity names are the lead's or the file's text, shown literally in the (Markdown)
        # banner.
        words = hint_words(item, self.project.taxonomy, self.project.settings.get("hint_confidence"),
                           markdown_literal)
        acted_on = self.trusted(item).acted_on
        gated = (not self.correcting and not draft.text_shown and acted_on is not None
                 and acted_on >= self.gate_severity)
        if words:
            st.warning(f"Heads-up: {words}."
                       + (" The text is hidden until you choose to see it; skipping is always fine."
                          if gated else ""), icon=":material/warning:")
        if gated:
            show_col, skip_col, _ = st.columns([1, 1, 3])
            show_col.button("Show the text", key=f"show_{item.id}", shortcut=keys.REVEAL,
                            type="primary", on_click=self.reveal, args=(item, draft, "text"))
            skip_col.button("Skip", key=f"skip_gate_{item.id}", shortcut=keys.SKIP,
                            on_click=self.skip, args=(item,))
        return not gated

    def masking(self, item: Item, draft: Draft) -> tuple[bool, int]:
        """(revealed, number of masked terms); applies the per-person preference."""
        hidden = masked_term_count(item, self.pattern)
        prefer = st.session_state.get("pref_show_masked", False)
        if hidden and prefer and not draft.revealed:
            draft.revealed = True
            record_event(self.db, "reveal", self.user.id, self.project.id, item.id,
                         {"what": "terms", "terms": hidden, "by": "preference"})
        return draft.revealed or prefer, hidden

    def show_text(self, item: Item, draft: Draft, messages: dict,
                  draw: Callable[[bool, bool], None]) -> tuple[bool, int, bool]:
        """The item as `draw(revealed, dimmed)` draws it, masked and blurred as this person and
        project want, the matching reveal button (V), and the last submit's problems.
        Returns (revealed, masked term count, dimmed)."""
        revealed, hidden_terms = self.masking(item, draft)
        dimmed = self.dimmed(item, draft)
        draw(revealed, dimmed)
        if dimmed:
            self.unblur_button(item, draft)
        else:
            self.reveal_button(item, draft, hidden_terms, revealed)
        for problem in messages.get("problems", []):
            # Problems quote taxonomy codes and store messages (names, ids).
            st.error(markdown_literal(problem))
        return revealed, hidden_terms, dimmed

    def reveal_button(self, item: Item, draft: Draft, hidden: int, revealed: bool) -> None:
        if hidden and not revealed:
            st.button(f"Reveal {hidden} masked word{'s' if hidden > 1 else ''}",
                      key=f"reveal_{item.id}", shortcut=keys.REVEAL,
                      on_click=self.reveal, args=(item, draft, "terms", hidden))

    def action_row(self, item: Item, on_submit: Callable[[], None]) -> None:
        correcting = self.correcting
        submit_col, text_submit_col, skip_col, flag_col, back_col, fwd_col, undo_col = st.columns(
            [1.2, 1.8, 1, 1, 1.1, 1, 1.3])
        submit_col.button("Save correction" if correcting else "Submit", type="primary",
                          key=f"submit_{item.id}", shortcut=keys.SUBMIT, width="stretch",
                          on_click=on_submit)
        text_submit_col.button("Submit (in a text box)", key=f"submit_text_{item.id}",
                               shortcut=keys.SUBMIT_FROM_TEXT, width="stretch", type="tertiary",
                               on_click=on_submit)
        if not correcting:
            skip_col.button("Skip", key=f"skip_{item.id}", shortcut=keys.SKIP, width="stretch",
                            on_click=self.skip, args=(item,))
            flag_col.button("Flag", key=f"flag_{item.id}", shortcut=keys.FLAG, width="stretch",
                            on_click=self.flag, args=(item,))
        back_col.button("Previous", key=f"back_{item.id}", shortcut=keys.PREVIOUS, width="stretch",
                        on_click=self.go_back,
                        disabled=not self.state["done"] or self.state["view"] == 0)
        fwd_col.button("Next", key=f"fwd_{item.id}", shortcut=keys.NEXT, width="stretch",
                       on_click=self.go_forward, disabled=not correcting)
        if not correcting:
            with undo_col:
                self.undo_button()
        if not correcting:
            st.text_input("Reason (optional for skip, needed for flag)", key=f"reason_{item.id}",
                          max_chars=MAX_REASON_CHARS)
        ask_a_lead(self.db, self.user, item)   # a popover; draws without a query
