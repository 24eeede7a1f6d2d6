"""The Import page in Chromium against a real server: the 2,312-row HH-RLHF file into a compare
project; a file with several bad rows listed, then imported without them, the rejects file
downloaded; and no upload left in the server's temp folder."""
from __future__ import annotations

import json

from playwright.sync_api import expect, sync_playwright

from store import projects, users
from store.bootstrap import open_app_database
from tests.browser import (CHROMIUM_ARGS, chromium_path, log_in, query_copy, streamlit_server,
                           wait_idle)
from tests.conftest import PASSWORD
from tests.hh_data import hh_rows, write_hh
from tests.test_imports import SEVERAL_BAD

SKIP_BAD = "Import the valid rows and set the rest aside"


def choose_project(page, name: str) -> None:
    page.get_by_role("combobox", name="Into project").click()
    page.get_by_role("option", name=name).click()
    wait_idle(page)


def upload(page, path) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    wait_idle(page)
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()


def test_hh_file_and_bad_rows_through_the_import_page(tmp_path):
    db_path = tmp_path / "import.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    users.create_user(db, admin, "lead", "Lead", PASSWORD, "lead")
    pairs = projects.create_project(db, admin, "HH pairs", "compare", "", None, 1, [])
    labels = projects.create_project(db, admin, "Labels", "label", "", None, 1, [])
    db.close()
    hh_file = write_hh(tmp_path / "harmless-base-test.jsonl")
    several = tmp_path / "several.jsonl"
    several.write_bytes(SEVERAL_BAD)
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    env = {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4", "TMPDIR": str(server_tmp)}
    with streamlit_server(db_path, env) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        page.goto(server.url + "/import")
        wait_idle(page)
        log_in(page, "lead", PASSWORD)
        expect(page.get_by_role("heading", name="Import items")).to_be_visible()
        choose_project(page, "HH pairs (compare)")
        upload(page, hh_file)
        expect(page.get_by_text("chosen / rejected transcripts (Anthropic HH-RLHF)",
                                exact=False)).to_be_visible()
        page.get_by_role("button", name="Import", exact=True).click()
        wait_idle(page, timeout=120_000)
        expect(page.get_by_text("Read 2,312 rows: added 2,312 items, skipped 0 already present.")
               ).to_be_visible()

        # A fresh page (the same login): its project box is at the top, not scrolled away,
        # which would close the box's list as it opens.
        page.goto(server.url + "/import")
        wait_idle(page)
        choose_project(page, "Labels (label)")
        upload(page, several)
        page.get_by_role("button", name="Import", exact=True).click()
        wait_idle(page)
        alert = page.locator("[data-testid='stAlert']").filter(has_text="Nothing was imported")
        expect(alert).to_contain_text("'several.jsonl': 5 problems in 5 rows.")
        expect(alert).to_contain_text(f"use the option \u201c{SKIP_BAD}\u201d")
        expect(page.get_by_text("What is wrong: 5 problems, by row", exact=False)).to_be_visible()
        expect(page.get_by_role("button", name="Download the list of problems (CSV)")).to_be_visible()

        page.get_by_text(SKIP_BAD, exact=True).click()
        wait_idle(page)
        page.get_by_role("button", name="Import", exact=True).click()
        wait_idle(page)
        expect(page.get_by_text("Read 7 rows: added 2 items, skipped 0 already present.")).to_be_visible()
        expect(page.get_by_text("Set aside 5 rows with problems", exact=False)).to_be_visible()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the rows set aside (JSONL)").click()
        assert download.value.suggested_filename == "several.rejects.jsonl"
        rejects = [json.loads(line) for line in
                   open(download.value.path(), encoding="utf-8").read().splitlines()]
        assert [r["row"] for r in rejects] == [2, 3, 4, 5, 7]
        browser.close()
        # The server wrote the uploads (three reads of two files) and its lists only there,
        # and removed them: nothing is left.
        assert list(server_tmp.iterdir()) == []

    rows = query_copy(db_path, f"SELECT project_id, count(*) FROM items GROUP BY project_id "
                               f"ORDER BY project_id")
    assert rows == [(pairs, 2312), (labels, 2)]
    expected = hh_rows()
    shared = query_copy(db_path, f"SELECT messages FROM items WHERE project_id = {pairs} ORDER BY id")
    assert [json.loads(m) for (m,) in shared] == [r.shared for r in expected]
    assert query_copy(db_path, "SELECT rows_read, items_added, rows_rejected FROM imports "
                               "ORDER BY id") == [(2312, 2312, 0), (7, 2, 5)]
