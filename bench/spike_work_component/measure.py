"""Measure the spike: key press -> next item's text visible, selection key -> visible state.

  .venv/bin/python bench/spike_work_component/measure.py [--items 50] [--options "--runner.postScriptGC false"]

Times are taken inside the page: a capture-phase keydown listener (installed before the app)
stamps the key event; a requestAnimationFrame loop then checks the DOM each frame. "frames" = the
number of animation frames from the key event to the first frame whose DOM shows the change
(1 = drawn in the very next frame). Keys are sent by Playwright (CDP), one at a time.
"""
from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))
from tests.browser import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402

INIT = """
window.__keyT = 0;
window.addEventListener('keydown', (e) => { window.__keyT = performance.now(); }, true);
window.__root = () => {
  const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
  return host && host.shadowRoot;
};
window.__probe = {
  component_text: (arg) => { const r = window.__root(); const t = r && r.querySelector('.text');
                             return !!t && t.textContent.startsWith(arg); },
  component_sel: (arg) => { const r = window.__root(); const t = r && r.querySelector(arg);
                            return !!t && t.classList.contains('on'); },
  component_saved: (arg) => { const r = window.__root(); const t = r && r.querySelector('[data-role=status]');
                              return !!t && t.textContent === 'all saved'; },
  button_text: (arg) => [...document.querySelectorAll('[data-testid="stText"]')]
                          .some((e) => e.textContent.startsWith(arg)),
  button_sel: (arg) => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
                          .some((e) => e.textContent.includes(arg)),
};
window.__watch = (probe, arg, timeoutMs) => {
  window.__result = new Promise((resolve) => {
    const start = performance.now();
    let frames = 0;
    const step = () => {
      if (window.__keyT >= start) {            // the key has been pressed
        frames += 1;
        if (window.__probe[probe](arg)) {
          resolve({ms: performance.now() - window.__keyT, frames});
          return;
        }
      }
      if (performance.now() - start > timeoutMs) { resolve(null); return; }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
};
"""


def measure(page, probe: str, arg: str, key: str, timeout_ms: int = 5000):
    page.evaluate("([p, a, t]) => window.__watch(p, a, t)", [probe, arg, timeout_ms])
    page.keyboard.press(key)
    return page.evaluate("window.__result")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(rows):
    rows = [r for r in rows if r]
    if not rows:
        return {"n": 0}
    ms = [r["ms"] for r in rows]
    fr = [r["frames"] for r in rows]
    return {"n": len(rows), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(pct(ms, .95), 1),
            "max_ms": round(max(ms), 1), "frames_p50": statistics.median(fr), "frames_max": max(fr)}


def serve(options: list[str]):
    port = free_port()
    log = open(f"/tmp/spike-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *options],
        cwd=HERE, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(150):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}"


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.add_init_script(INIT)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog {d.message}"), d.dismiss()))
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]')
    page.wait_for_selector('[data-test-script-state="notRunning"]')
    return page, errors


def run_component(browser, url, n):
    page, errors = open_page(browser, url)
    page.wait_for_selector(".work .text")
    page.wait_for_function("() => window.__root().querySelector('.work').dataset.calls >= '1'")
    sel, nxt, ack, misses = [], [], [], 0
    for i in range(n):
        sel.append(measure(page, "component_sel", '[data-role="verdict-safe"]', "g"))
        # wait for the prefetched list to be topped up (a person takes >= 1 s per item)
        page.wait_for_function("() => window.__root().querySelector('.work').dataset.itemId !== ''")
        r = measure(page, "component_text", f"item {i + 1:05d}", "Enter")
        nxt.append(r)
        a = page.evaluate("() => new Promise((res) => { const t0 = window.__keyT; const s = () => "
                          "window.__probe.component_saved() ? res(performance.now() - t0) : "
                          "requestAnimationFrame(s); s(); })")
        ack.append({"ms": a, "frames": 0})
        page.wait_for_timeout(150)      # let the rerun with the new list land
    # fast pace: G, Enter every 60 ms, no waiting for the server
    burst_start = n
    for i in range(20):
        page.keyboard.press("g")
        page.keyboard.press("Enter")
        page.wait_for_timeout(60)
        if page.evaluate("() => window.__root().querySelector('.text').textContent.startsWith('Loading')"):
            misses += 1
    page.wait_for_function("() => window.__probe.component_saved()", timeout=10000)
    page.wait_for_timeout(500)
    # keys in text fields: inside (note) and outside (st.text_input) must not act
    before = page.evaluate("() => window.__root().querySelector('.work').dataset.itemId")
    page.locator('[data-role="note"]').click()
    page.keyboard.type("gu123")
    page.keyboard.press("Shift+Digit2")
    page.keyboard.press("Enter")
    page.get_by_label("A text field outside the component").click()
    page.keyboard.type("gu123")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    after = page.evaluate("() => window.__root().querySelector('.work').dataset.itemId")
    on = page.evaluate("() => window.__root().querySelectorAll('.ctl.on').length")
    saved = page.locator('[data-testid="stCaptionContainer"]').first.text_content()
    injected = page.evaluate("() => ({pwned: window.__pwned || null, "
                             "imgs: window.__root().querySelectorAll('.text *').length})")
    page.close()
    return {"select_key": summary(sel), "enter_to_next": summary(nxt), "enter_to_ack": summary(ack),
            "burst_prefetch_misses_of_20": misses, "burst_submitted_from": burst_start,
            "typing_in_fields_changed_item": before != after, "selected_after_typing": on,
            "server_caption": saved, "injected": injected, "errors": errors}


def run_button(browser, url, n):
    page, errors = open_page(browser, url + "/?mode=button")
    page.wait_for_selector('[data-testid="stText"]')
    page.wait_for_timeout(1000)    # the first shortcut right after load was lost without this
    sel, nxt = [], []
    for i in range(n):
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # focus: body
        sel.append(measure(page, "button_sel", "verdict: safe", "g"))
        page.wait_for_selector('[data-test-script-state="notRunning"]')
        current = page.locator('[data-testid="stText"]').first.text_content()
        nxt.append(measure(page, "button_text", f"item {int(current[5:10]) + 1:05d}", "Enter"))
        page.wait_for_selector('[data-test-script-state="notRunning"]')
        page.wait_for_timeout(150)
    saved = page.locator('[data-testid="stCaptionContainer"]').first.text_content()
    page.close()
    return {"select_key": summary(sel), "enter_to_next": summary(nxt), "server_caption": saved,
            "errors": errors}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--options", default="")
    ap.add_argument("--mode", choices=["both", "component", "button"], default="both")
    args = ap.parse_args()
    out = {"options": args.options}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for mode in (["component", "button"] if args.mode == "both" else [args.mode]):
            proc, url = serve(shlex.split(args.options))   # a fresh server (fresh queue) per mode
            try:
                out[mode] = (run_component if mode == "component" else run_button)(browser, url, args.items)
                print(mode, json.dumps(out[mode]), file=sys.stderr)
            finally:
                proc.terminate()
                proc.wait()
        browser.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
