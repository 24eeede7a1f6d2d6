"""Label and Compare pages, work component vs classic st.button page: key press to the next
item's text visible, and a selection key to its visible state, in Chromium.

    .venv/bin/python bench/bench_work_component.py [--items 1000000] [--n 100]

Builds one database (`--items` items in a label project and as many pairs in a compare
project, both open to all), then for each page and mode (the component, the default; the
classic page, SAFELABEL_WORK_SURFACE=classic: "before") starts a real `streamlit run`, logs
in a fresh annotator and does `--n` items: Label G (safe) then Enter; Compare 2, Shift+3, A,
then Enter (the selection measured is the first key). Times are taken inside the page: a capture-phase keydown listener installed
before the app stamps the key; a requestAnimationFrame loop checks the DOM every frame.
"frames" = animation frames from the key to the first frame whose DOM shows the change
(1 = the very next frame). Between items the script waits until the page is idle (the
component: "All saved"; classic: no script run), as a person takes more than a second.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from playwright.sync_api import sync_playwright  # noqa: E402

from bench_store import write_items  # noqa: E402
from store import projects, users  # noqa: E402
from store.bootstrap import open_app_database  # noqa: E402
from store.imports import import_file  # noqa: E402
from tests.browser import (CHROMIUM_ARGS, chromium_path, log_in, streamlit_server,  # noqa: E402
                           wait_idle)

PASSWORD = "bench-password"
INIT = """
window.__keyT = 0;
window.addEventListener('keydown', () => { window.__keyT = performance.now(); }, true);
// The work component's root (the page has other components, e.g. the visibility tracker).
const root = window.__work = () => {
  for (const h of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const w = h.shadowRoot && h.shadowRoot.querySelector('.work');
    if (w) return w;
  }
  return null;
};
window.__probe = {
  component_next: (prev) => { const w = root(); const box = w && w.querySelector('[data-role=item]');
    return !!box && box.dataset.itemId !== prev && box.textContent.includes('Question'); },
  component_selected: (sel) => { const w = root(); const b = w && w.querySelector(sel);
    return !!b && b.classList.contains('on'); },
  classic_next: (prev) => { const box = document.querySelector('[class*="st-key-item_"]');
    return !!box && !box.closest('[data-stale="true"]') && box.innerText.includes('Question')
      && box.innerText !== prev; },
  classic_selected: (sel) => !!document.querySelector(sel),
};
window.__current = () => { const w = root();
  if (w) return w.querySelector('[data-role=item]').dataset.itemId;
  const box = document.querySelector('[class*="st-key-item_"]'); return box ? box.innerText : ''; };
window.__watch = (probe, arg, timeoutMs) => {
  window.__result = new Promise((resolve) => {
    const start = performance.now();
    let frames = 0;
    const step = () => {
      if (window.__keyT >= start) {
        frames += 1;
        if (window.__probe[probe](arg)) { resolve({ms: performance.now() - window.__keyT, frames}); return; }
      }
      if (performance.now() - start > timeoutMs) { resolve(null); return; }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
};
"""


def write_pairs(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps({
                "id": f"pair-{n}",
                "prompt": f"Question {n}: how should I respond to a rude message from a coworker?",
                "response_a": f"Answer A {n}: stay calm and ask to talk it over in person.",
                "response_b": f"Answer B {n}: reply in kind so they learn their lesson."}) + "\n")


def build(tmp: Path, items: int, people: int, pages: list[str]) -> Path:
    db_path = tmp / "bench.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    for n in range(people):
        users.create_user(db, admin, f"bench{n}", f"Bench {n}", PASSWORD, "annotator")
    for page in pages:
        data = tmp / f"{page}.jsonl"
        (write_items if page == "label" else write_pairs)(data, items)
        pid = projects.create_project(db, admin, page.title(), page, "", None, 1, [],
                                      open_to_all=True)
        import_file(db, admin, pid, data)
        data.unlink()
    db.close()
    return db_path


# (keys for one item, the selector showing the first key's choice) per page and mode.
PLAN = {
    ("label", "component"): (["g"], ".work [data-role=safe]"),
    ("label", "classic"): (["g"], '[class*="st-key-safe_"] [data-testid="stBaseButton-primary"]'),
    ("compare", "component"): (["2", "Shift+3", "a"], ".work [data-harm='-2']"),
    ("compare", "classic"): (["2", "Shift+3", "a"],
                             '[class*="st-key-harmlessness_-2_"] [data-testid="stBaseButton-primary"]'),
}


def measure(page, probe: str, arg, key: str, timeout_ms: int = 30_000):
    page.evaluate("([p, a, t]) => window.__watch(p, a, t)", [probe, arg, timeout_ms])
    page.keyboard.press(key)
    return page.evaluate("window.__result")


def run(browser, url: str, username: str, kind: str, mode: str, n: int) -> dict:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.add_init_script(INIT)
    page.goto(url + ("/compare" if kind == "compare" else ""))
    wait_idle(page)
    log_in(page, username, PASSWORD)
    page.wait_for_timeout(1500)        # the cookie component's rerun after a load
    wait_idle(page)
    if page.get_by_role("button", name="Not now").count():
        page.get_by_role("button", name="Not now").click()      # the session check-in
        wait_idle(page)
    page.get_by_role("heading", name=kind.title(), exact=True).click()
    presses, selector = PLAN[(kind, mode)]
    selected, nxt, misses = [], [], 0
    for _ in range(n):
        previous = page.evaluate("window.__current()")
        for i, key in enumerate(presses):
            if i == 0:
                css = selector.replace(".work ", "") if mode == "component" else selector
                selected.append(measure(page, f"{mode}_selected", css, key))
            else:
                page.keyboard.press(key)
            if mode == "classic":
                wait_idle(page)
        result = measure(page, f"{mode}_next", previous, "Enter")
        misses += result is None
        nxt.append(result)
        if mode == "component":
            page.wait_for_function("() => window.__work().querySelector('[data-role=status]')"
                                   ".textContent === 'All saved'", timeout=30_000)
        wait_idle(page)
    page.close()
    return {"next": [r for r in nxt if r], "selected": [r for r in selected if r], "misses": misses}


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--modes", default="component,classic")
    parser.add_argument("--pages", default="label,compare")
    args = parser.parse_args()
    runs = [(page, mode) for page in args.pages.split(",") for mode in args.modes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="safelabel-bench-") as tmp:
        started = time.perf_counter()
        db_path = build(Path(tmp), args.items, len(runs), args.pages.split(","))
        build_s = time.perf_counter() - started
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for n, (kind, mode) in enumerate(runs):
                env = {"SAFELABEL_DEMO": "0", "SAFELABEL_WORK_SURFACE": mode}
                with streamlit_server(db_path, env) as server:
                    results[f"{kind} {mode}"] = run(browser, server.url, f"bench{n}", kind, mode,
                                                    args.n)
            browser.close()

    modes = list(results)
    print(f"\n{args.items:,} items per project, {args.n} items done per page and mode "
          f"(database built in {build_s:.0f} s)\n")
    print(f"{'measure':44} " + " ".join(f"{m:>18}" for m in modes) + "  target")
    rows = [
        ("Enter -> next item's text, p50 (ms)", "next", "ms", .5, "<= 50"),
        ("Enter -> next item's text, p95 (ms)", "next", "ms", .95, "<= 100"),
        ("Enter -> next item's text, frames p50/max", "next", "frames", None, ""),
        ("selection key -> visible, p50 (ms)", "selected", "ms", .5, ""),
        ("selection key -> visible, p95 (ms)", "selected", "ms", .95, ""),
        ("selection key -> visible, frames p50/max", "selected", "frames", None, "<= 1 frame"),
    ]
    for label, series, field, q, target in rows:
        cells = []
        for mode in modes:
            values = [r[field] for r in results[mode][series]]
            if q is None:
                cells.append(f"{statistics.median(values):g} / {max(values)}" if values else "-")
            else:
                cells.append(f"{pct(values, q):.1f}")
        print(f"{label:44} " + " ".join(f"{c:>18}" for c in cells) + f"  {target}")
    print(f"{'keys that timed out (no next item in 30 s)':44} "
          + " ".join(f"{results[m]['misses']:>18}" for m in modes))


if __name__ == "__main__":
    main()
