"""Browser benchmark: press the submit key, time until the next item's text is on screen.

    .venv/bin/python bench/bench_browser.py [--items 100000] [--annotations 0] [--n 100]

Builds a database in a temp dir (`--annotations N` marks the first N items as already
labeled, by another person, in bulk), starts a real `streamlit run` on 127.0.0.1, logs in
with Debian's Chromium, and for each of `--n` items presses G (safe), then Enter, timing from
the Enter key to the next item's prompt being visible. Prints p50/p95 and the server's RSS.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SAFELABEL_BCRYPT_ROUNDS", "4")

from playwright.sync_api import sync_playwright  # noqa: E402

from bench_store import percentile, prefill_annotations, write_items  # noqa: E402
from store import projects, users  # noqa: E402
from store.bootstrap import open_app_database  # noqa: E402
from store.imports import import_file  # noqa: E402
from tests.browser import CHROMIUM_ARGS, chromium_path, streamlit_server, wait_idle  # noqa: E402

NEXT_ITEM_JS = """prev => {
  const box = document.querySelector('[class*="st-key-item_"]');
  if (!box || box.closest('[data-stale="true"]')) return false;
  const text = box.innerText;
  return text.includes('Question') && text !== prev;
}"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build(tmp: Path, items: int, annotations: int) -> Path:
    db_path = tmp / "bench.duckdb"
    data = tmp / "items.jsonl"
    write_items(data, items)
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", "bench-password", "admin")
    users.create_user(db, admin, "bench", "Bench", "bench-password", "annotator")
    pid = projects.create_project(db, admin, "Bench", "label", "", None, 1, [], open_to_all=True)
    import_file(db, admin, pid, data)
    if annotations:
        prefill_annotations(db, pid, admin, annotations)
    db.close()
    data.unlink()
    return db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotations", type=int, default=0)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="safelabel-bench-") as tmp:
        started = time.perf_counter()
        db_path = build(Path(tmp), args.items, args.annotations)
        build_s = time.perf_counter() - started
        # The classic st.button page (bench_work_component.py measures the component).
        with streamlit_server(db_path, {"SAFELABEL_DEMO": "0",
                                        "SAFELABEL_WORK_SURFACE": "classic"}) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(server.url)
            wait_idle(page)
            page.get_by_label("Username", exact=True).fill("bench")
            page.get_by_role("textbox", name="Password").fill("bench-password")
            page.keyboard.press("Enter")
            wait_idle(page)
            page.wait_for_timeout(1500)
            wait_idle(page)
            page.get_by_role("heading", name="Label", exact=True).click()
            rss_start = rss_mb(server.pid)
            timings = []
            for _ in range(args.n):
                previous = page.locator('[class*="st-key-item_"]').first.inner_text()
                page.keyboard.press("g")
                wait_idle(page)
                t0 = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_function(NEXT_ITEM_JS, arg=previous, polling="raf", timeout=30_000)
                timings.append((time.perf_counter() - t0) * 1000)
                wait_idle(page)
            rss_end = rss_mb(server.pid)
            browser.close()

    print(f"\nSafeLabel browser benchmark: {args.items:,} items, {args.annotations:,} prior "
          f"annotations, {args.n} submits (database built in {build_s:.1f} s)\n")
    print(f"{'what':34} {'result':>18}  target")
    print(f"{'-' * 34} {'-' * 18}  {'-' * 30}")
    print(f"{'submit key -> next item, p50':34} {percentile(timings, .5):15.0f} ms  <= 150 ms")
    print(f"{'submit key -> next item, p95':34} {percentile(timings, .95):15.0f} ms  <= 300 ms")
    print(f"{'submit key -> next item, max':34} {max(timings):15.0f} ms")
    print(f"{'server RSS after login / at end':34} {rss_start:7.0f} / {rss_end:5.0f} MB  <= 400 MB")


if __name__ == "__main__":
    main()
