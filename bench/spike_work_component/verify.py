"""Check API behaviour of st.components.v2 in a real browser (facts for the README)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from measure import CHROMIUM_ARGS, chromium_path, open_page, serve, sync_playwright  # noqa: E402

G = "() => ({mounts: window.__spikeMounts, calls: window.__spikeCalls, cleanups: window.__spikeCleanups || 0, parents: window.__spikeParents.size, item: window.__root().querySelector('.work').dataset.itemId, caption: document.querySelector('[data-testid=stCaptionContainer]').textContent})"


def submit_once(page):
    page.keyboard.press("g")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__probe.component_saved()", timeout=10000)
    page.wait_for_timeout(400)


def main():
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        proc, url = serve([])
        try:
            # 1. keyed: same parentElement, default() re-called per data change, cleanup?
            page, errors = open_page(browser, url + "/?debug=1")
            page.wait_for_selector(".work .text"); page.wait_for_timeout(500)
            out["keyed_start"] = page.evaluate(G)
            for _ in range(3):
                submit_once(page)
            out["keyed_after_3_submits"] = page.evaluate(G)
            # 2. two triggers sent back to back, each with one answer: does Python see both?
            items = page.evaluate("() => window.__root().querySelector('.work').dataset.itemId")
            page.evaluate("""() => { window.__spikeSend('submit', {answers: [{id: 'dbl-a', item_id: 'nope-a', verdict: 'safe', categories: [], severity: 0}]});
                                     window.__spikeSend('submit', {answers: [{id: 'dbl-b', item_id: 'nope-b', verdict: 'safe', categories: [], severity: 0}]}); }""")
            page.wait_for_timeout(1500)
            out["two_triggers_same_tick"] = page.evaluate(
                "() => { const r = window.__root(); return r.querySelector('[data-role=message]').textContent }")
            # 3. a trigger, a 30 ms pause, another trigger (second arrives while the first run is going)
            page.evaluate("""async () => { window.__spikeSend('submit', {answers: [{id: 'gap-a', item_id: 'nope-c', verdict: 'safe', categories: [], severity: 0}]});
                                     await new Promise(r => setTimeout(r, 30));
                                     window.__spikeSend('submit', {answers: [{id: 'gap-b', item_id: 'nope-d', verdict: 'safe', categories: [], severity: 0}]}); }""")
            page.wait_for_timeout(1500)
            out["errors"] = errors
            page.close()
            # 4. unkeyed: data change -> new identity -> remount?
            page, errors = open_page(browser, url + "/?debug=1&key=none")
            page.wait_for_selector(".work .text"); page.wait_for_timeout(500)
            out["unkeyed_start"] = page.evaluate(G)
            for _ in range(2):
                submit_once(page)
            out["unkeyed_after_2_submits"] = page.evaluate(G)
            out["unkeyed_errors"] = errors
            page.close()
        finally:
            proc.terminate(); proc.wait()
        browser.close()
    print(json.dumps(out, indent=1))
    print(open(f"/tmp/spike-{url.rsplit(':', 1)[1]}.log").read()[-3000:])


if __name__ == "__main__":
    main()
