import subprocess, sys, time, urllib.request, socket
from playwright.sync_api import sync_playwright
sys.path.insert(0, "/work/wt-spike")
from tests.browser import CHROMIUM_ARGS, free_port
port = free_port()
p = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
    "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
    "--server.fileWatcherType", "none"], stdout=open("/tmp/spike_smoke.log", "w"), stderr=subprocess.STDOUT)
try:
    for _ in range(100):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health").read() == b"ok": break
        except OSError: time.sleep(0.2)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = b.new_page()
        page.on("console", lambda m: print("CONSOLE", m.type, m.text))
        page.on("pageerror", lambda e: print("PAGEERROR", e))
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector('[data-test-script-state="notRunning"]')
        page.wait_for_selector(".text")
        print("text:", page.locator(".text").text_content())
        page.keyboard.press("g"); page.wait_for_timeout(50)
        print("safe on:", page.locator('[data-role="verdict-safe"]').get_attribute("class"))
        page.keyboard.press("Enter")
        print("after enter:", page.locator(".text").text_content())
        page.wait_for_timeout(1500)
        print("status:", page.locator('[data-role="status"]').text_content(), page.locator(".work").get_attribute("data-calls"))
        print(page.locator('[data-testid="stCaptionContainer"]').all_text_contents())
        print("pwned:", page.evaluate("window.__pwned"))
        b.close()
finally:
    p.terminate(); p.wait()
print(open("/tmp/spike_smoke.log").read()[-2000:])
