"""Page visibility, for active time: how long this browser tab has been hidden.

Exposure is active time "page visible and the person active" (PRODUCT.md). The server sees
the person's actions; this small component adds what only the browser knows: while the tab
is hidden (another tab, a minimised window) nobody is reading. It reports the total hidden
milliseconds of the tab when the tab becomes visible again (one page rerun per return).
"""
from __future__ import annotations

import streamlit as st

# Trusted, static code (no item text ever reaches it). The counter lives on `window`, so it
# survives the component being drawn again on each page rerun.
_JS = """
export default function(component) {
  const { setStateValue } = component;
  if (window.__safelabelHidden === undefined) {
    const hidden = { total: 0, since: document.hidden ? Date.now() : null, report: null };
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) {
        hidden.since = Date.now();
      } else if (hidden.since !== null) {
        hidden.total += Date.now() - hidden.since;
        hidden.since = null;
        if (hidden.report) hidden.report(hidden.total);
      }
    });
    window.__safelabelHidden = hidden;
  }
  window.__safelabelHidden.report = (total) => setStateValue("hidden_ms", total);
}
"""

_tracker = st.components.v2.component("safelabel.page_visibility", js=_JS)
STATE_KEY = "page_hidden_ms"


def track_page_visibility() -> None:
    """Mount the tracker (page level, outside fragments); keeps the tab's total hidden time
    in `st.session_state[STATE_KEY]`."""
    result = _tracker(key="page_visibility", default={"hidden_ms": 0},
                      on_hidden_ms_change=lambda: None, height=0)
    st.session_state[STATE_KEY] = int(getattr(result, "hidden_ms", 0) or 0)


def hidden_ms() -> int:
    """The tab's total hidden milliseconds so far (0 where no browser reports it)."""
    return int(st.session_state.get(STATE_KEY, 0) or 0)
