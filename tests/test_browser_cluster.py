"""Two annotators through two different app processes behind nginx, on one PostgreSQL
(deploy/run_cluster.py, the layout `make run-cluster` starts): each browser is routed to its
own process and stays there (its WebSocket too: nginx's access log names the process of every
connection), both label through the work component side by side, and the database shows no
item served to both (overlap 1), every answer once, the queue's bookkeeping whole."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from bench.seed import add_items
from deploy.run_cluster import cluster
from store import projects, users
from store.bootstrap import open_app_database
from store.db import open_database
from tests.browser import free_port, log_in, wait_idle, wait_until
from tests.conftest import PASSWORD, STORES
from tests.test_deploy_nginx import nginx_binary

pytestmark = [
    pytest.mark.skipif(nginx_binary() is None, reason="no nginx binary: `make nginx`"),
    pytest.mark.skipif("postgresql" not in STORES, reason="PostgreSQL is not installed"),
]

ITEMS, EACH = 30, 8
UPSTREAM = "X-SafeLabel-Upstream"


@pytest.fixture
def shared_database(request):
    """A fresh PostgreSQL schema with an admin, two annotators and a project of overlap 1."""
    from tests.pg import fresh_schema_url

    url, drop = fresh_schema_url(request.getfixturevalue("pg_server"))
    request.addfinalizer(drop)
    db = open_app_database(url, demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    people = {name: users.create_user(db, admin, name, name.title(), PASSWORD, "annotator")
              for name in ("ann_a", "ann_b")}
    pid = projects.create_project(db, admin, "Shared", "label", "", None, 1, list(people.values()))
    add_items(db, admin, pid, ITEMS)
    db.close()
    return url, pid, people


def routes_to_two_processes(proxy: str) -> dict[str, str]:
    """Two route cookie values nginx sends to two different app processes: {route: upstream}."""
    found: dict[str, str] = {}
    for n in range(64):
        route = f"route-{n}"
        answer = requests.get(proxy + "/", cookies={"safelabel_route": route}, timeout=30)
        assert answer.status_code == 200 and "Set-Cookie" not in answer.headers  # kept as is
        if answer.headers[UPSTREAM] not in found.values():
            found[route] = answer.headers[UPSTREAM]
        if len(found) == 2:
            return found
    raise AssertionError("64 routes all hashed to one process")


def current_item(page) -> str:
    """The item on screen; waits for one (after quick answers the prefetched items can run
    out, and the next comes with the server's acknowledgement)."""
    item = page.locator(".work [data-role=item]")
    expect(item).to_contain_text(re.compile(r"Question \d+"), timeout=30_000)
    return re.search(r"Question \d+", item.inner_text()).group(0)


def test_two_annotators_through_two_processes_share_one_queue(tmp_path, browser, shared_database):
    url, pid, people = shared_database
    env = {"SAFELABEL_DEMO": "0", "SAFELABEL_BCRYPT_ROUNDS": "4", "SAFELABEL_HINT_WORKER": "0"}
    with cluster(tmp_path / "cluster", processes=2, port=free_port(), database=url, env=env,
                 init=False, app_ports=[free_port(), free_port()]) as running:
        # A browser without a route gets one from nginx, and keeps it (the sticky cookie).
        first = requests.get(running.url + "/", timeout=30)
        assert re.match(r"safelabel_route=[0-9a-f]{32}; Path=/; HttpOnly",
                        first.headers["Set-Cookie"])
        routes = routes_to_two_processes(running.url)
        assert set(routes.values()) == {u.removeprefix("http://") for u in running.app_urls}
        pages = {}
        for (route, upstream), name in zip(routes.items(), ("ann_a", "ann_b")):
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.add_cookies([{"name": "safelabel_route", "value": route,
                                  "url": running.url}])
            page = context.new_page()
            answer = page.goto(running.url)
            assert answer.headers[UPSTREAM.lower()] == upstream
            wait_idle(page)
            log_in(page, name, PASSWORD)
            expect(page.locator(".work")).to_be_visible()
            pages[name] = (page, route, upstream)
        # Both label side by side: one answer each in turn, by the keyboard ("g": safe).
        labelled: dict[str, list[str]] = {name: [] for name in pages}
        for _ in range(EACH):
            for name, (page, _, _) in pages.items():
                item = current_item(page)
                page.get_by_role("heading", name="Label", exact=True).click()
                page.keyboard.press("g")
                page.keyboard.press("Enter")
                expect(page.locator(".work [data-role=item]")).not_to_contain_text(item + ":")
                labelled[name].append(item)
        for page, _, _ in pages.values():
            expect(page.locator(".work [data-role=status]")).to_have_text("All saved",
                                                                          timeout=15_000)
            page.context.close()
        # Each browser's WebSocket went to its own process (logged when it closed).
        log = running.folder / "nginx" / "access.log"

        def streams() -> dict[str, set[str]]:
            seen: dict[str, set[str]] = {}
            for line in log.read_text().splitlines():
                match = re.search(r'"GET /_stcore/stream [^"]*" 101 route=(\S+) upstream=(\S+)', line)
                if match:
                    seen.setdefault(match.group(1), set()).add(match.group(2))
            return seen

        wait_until(lambda: all(route in streams() for route in routes))
        assert {route: streams()[route] for route in routes} == {
            route: {upstream} for route, upstream in routes.items()}

    assert all(len(set(items)) == EACH for items in labelled.values())
    assert not set(labelled["ann_a"]) & set(labelled["ann_b"])       # what the pages showed
    db = open_database(url)
    try:
        with db.read() as cur:
            answered = dict(cur.execute(
                "SELECT user_id, count(*) FROM annotations WHERE project_id = ? GROUP BY user_id",
                [pid]).fetchall())
            served_to_both = cur.execute(
                "SELECT count(*) FROM (SELECT item_id FROM events WHERE project_id = ? AND"
                " kind = 'claim' GROUP BY item_id HAVING count(DISTINCT user_id) > 1) AS t",
                [pid]).fetchone()[0]
            answered_twice = cur.execute(
                "SELECT count(*) FROM (SELECT item_id FROM annotations WHERE project_id = ?"
                " GROUP BY item_id HAVING count(*) > 1) AS t", [pid]).fetchone()[0]
            claimed = cur.execute(
                "SELECT count(DISTINCT item_id) FROM events WHERE project_id = ? AND kind = 'claim'",
                [pid]).fetchone()[0]
            bookkeeping = cur.execute(
                "SELECT count(*) FROM items i LEFT JOIN (SELECT item_id, count(*) AS n FROM"
                " annotations GROUP BY item_id) a ON a.item_id = i.id LEFT JOIN (SELECT item_id,"
                " count(*) AS n FROM claims GROUP BY item_id) c ON c.item_id = i.id"
                " WHERE i.project_id = ? AND i.open_slots + i.done_count + coalesce(c.n, 0) <> 1",
                [pid]).fetchone()[0]
    finally:
        db.close()
    # Positive controls: both people's answers arrived, and claims were logged (prefetch too).
    assert answered == {people["ann_a"]: EACH, people["ann_b"]: EACH}
    assert claimed >= 2 * EACH
    assert (served_to_both, answered_twice, bookkeeping) == (0, 0, 0)
