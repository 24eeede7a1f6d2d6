"""My items with AppTest: an item labeled in one login is listed in the next one, opened on
its work page, corrected (version 2 supersedes version 1), and the page returns to the
current item. Nobody sees or corrects another person's items."""
from __future__ import annotations

import pytest

from core.labels import Label
from store import projects, work
from store.imports import import_file
from tests.conftest import table_counts
from tests.helpers import as_user, write_jsonl

MY_ITEMS = "app_pages/my_items.py"


def label_project(app_db, team, tmp_path, name: str, prefix: str, n: int = 3) -> int:
    pid = projects.create_project(app_db, team["lead"], name, "label", "", None, 1,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / f"{prefix}.jsonl", [
        {"id": f"{prefix}{k}", "prompt": f"{name} prompt {k}", "response": f"{name} reply {k}"}
        for k in range(n)]))
    return pid


@pytest.fixture
def two_projects(app_db, team, tmp_path) -> tuple[int, int]:
    """Two label projects; the work below happens in the second, so opening an item must
    switch the label page's project picker away from its default (the first)."""
    return (label_project(app_db, team, tmp_path, "First", "f"),
            label_project(app_db, team, tmp_path, "Second", "s"))


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def press(at, key: str):
    return at.button(key=key).click().run()


def submit_key(at) -> str:
    return next(b.key for b in at.button
                if b.key and b.key.startswith("submit_") and not b.key.startswith("submit_text"))


def shown_item(at) -> int:
    return int(submit_key(at).split("_")[1])


def versions(app_db, item_id: int) -> list[tuple]:
    with app_db.read() as cur:
        return cur.execute("SELECT id, user_id, version, supersedes, is_safe, categories, severity"
                           " FROM annotations WHERE item_id = ? ORDER BY version",
                           [item_id]).fetchall()


def open_from_my_items(at, item_id: int, page: str = "app_pages/label.py"):
    """Click Open: the page switches itself (the caller checks the run's elements). AppTest
    keeps requesting the page its own switch_page() last named on every later run, so it is
    told to follow the switch, as the browser's address does, for the presses that follow."""
    at = press(at, f"my_items_open_{item_id}")
    return at.switch_page(page)   # takes effect at the next run


def my_items(app_db, username: str):
    at = as_user(app_db, username)
    at.run()
    return at.switch_page(MY_ITEMS).run()


def test_an_item_labeled_in_one_login_is_corrected_from_my_items_in_the_next(
        app_db, team, two_projects):
    _, second = two_projects
    first_login = as_user(app_db, "ann")
    first_login.session_state["label_project"] = second
    first_login.run()
    labeled = shown_item(first_login)
    first_login = press(first_login, f"safe_{labeled}")
    first_login = press(first_login, f"submit_{labeled}")
    current = shown_item(first_login)       # the next item, claimed for ann
    assert current != labeled
    [(v1, *_)] = versions(app_db, labeled)
    external_id = work.get_item(app_db, labeled).external_id

    at = my_items(app_db, "ann")               # a new login: nothing of the first session
    assert not at.exception
    assert any(external_id in t and "version 1" in t for t in texts(at))
    assert "Your answer: safe · severity 0" in texts(at)
    at = open_from_my_items(at, labeled)
    assert [t.value for t in at.title] == ["Label"]
    assert at.selectbox(key="label_project").value == second
    assert any(f"Correcting item {external_id}" in i.value for i in at.info)
    assert at.button(key=f"safe_{labeled}").proto.type == "primary"   # pre-filled: version 1
    at = press(at, f"unsafe_{labeled}")
    at = press(at, f"cat_S5_{labeled}")
    at = press(at, f"sev_2_{labeled}")
    at = press(at, f"submit_{labeled}")
    assert not at.exception and not at.error
    assert any("Correction saved" in s.value for s in at.success)
    assert versions(app_db, labeled) == [
        (v1, team["ann"], 1, None, True, [], 0),
        (versions(app_db, labeled)[1][0], team["ann"], 2, v1, False, ["S5"], 2)]
    assert shown_item(at) == current           # back at the current item
    assert not any("Correcting item" in i.value for i in at.info)
    assert work.latest_annotation(app_db, current, team["ann"]) is None

    listed = my_items(app_db, "ann")
    assert "Your answer: unsafe · S5 · severity 2" in texts(listed)
    assert any(external_id in t and "version 2" in t for t in texts(listed))


def test_another_persons_items_never_appear(app_db, team, two_projects):
    first, _ = two_projects
    mine = work.claim_next_item(app_db, team["ann"], first)
    work.save_annotation(app_db, team["ann"], mine.id, Label(True, (), 0))
    theirs = work.claim_next_item(app_db, team["ann2"], first)
    work.save_annotation(app_db, team["ann2"], theirs.id, Label(False, ("S1",), 3))
    at = my_items(app_db, "ann")
    body = " ".join(texts(at))
    assert mine.external_id in body                      # positive control
    assert theirs.external_id not in body and "S1" not in body
    assert not [b for b in at.button if b.key == f"my_items_open_{theirs.id}"]
    other = my_items(app_db, "ann2")
    assert theirs.external_id in " ".join(texts(other))  # it is listed for its owner


def test_a_forged_request_for_someone_elses_item_changes_nothing(app_db, team, two_projects):
    first, _ = two_projects
    theirs = work.claim_next_item(app_db, team["ann2"], first)
    work.save_annotation(app_db, team["ann2"], theirs.id, Label(False, ("S1",), 3))
    at = as_user(app_db, "ann")
    at.session_state["label_project"] = first
    at.session_state["work_correction"] = ("label", first, theirs.id)
    at.run()
    assert any("nothing to correct" in e.value for e in at.error)
    assert not any("Correcting item" in i.value for i in at.info)
    own = shown_item(at)                                 # the person's own current item instead
    assert own != theirs.id and work.get_item(app_db, own).project_id == first
    before = table_counts(app_db)
    at = press(at, f"safe_{own}")
    at = press(at, f"submit_{own}")
    assert table_counts(app_db)["annotations"] == before["annotations"] + 1
    assert work.latest_annotation(app_db, own, team["ann"]).version == 1
    assert work.latest_annotation(app_db, theirs.id, team["ann"]) is None
    assert [v[1] for v in versions(app_db, theirs.id)] == [team["ann2"]]


def test_next_leaves_a_correction_unsaved(app_db, team, two_projects):
    first, _ = two_projects
    done = work.claim_next_item(app_db, team["ann"], first)
    work.save_annotation(app_db, team["ann"], done.id, Label(True, (), 0))
    at = my_items(app_db, "ann")
    at = open_from_my_items(at, done.id)
    assert shown_item(at) == done.id
    before = table_counts(app_db)
    at = press(at, f"fwd_{done.id}")
    assert shown_item(at) != done.id
    assert not any("Correcting item" in i.value for i in at.info)
    assert [v[2] for v in versions(app_db, done.id)] == [1]
    assert table_counts(app_db)["annotations"] == before["annotations"]


def test_filters_on_the_page(app_db, team, two_projects):
    first, second = two_projects
    safe = work.claim_next_item(app_db, team["ann"], first)
    work.save_annotation(app_db, team["ann"], safe.id, Label(True, (), 0))
    unsafe = work.claim_next_item(app_db, team["ann"], second)
    work.save_annotation(app_db, team["ann"], unsafe.id, Label(False, ("S1",), 1))

    def listed(at) -> set[int]:
        return {int(b.key.rsplit("_", 1)[1]) for b in at.button
                if b.key and b.key.startswith("my_items_open_")}

    at = my_items(app_db, "ann")
    assert listed(at) == {safe.id, unsafe.id}
    at.selectbox(key="my_items_answer").set_value("unsafe").run()
    assert listed(at) == {unsafe.id}
    at.selectbox(key="my_items_answer").set_value(None).run()
    at.selectbox(key="my_items_project").set_value(first).run()
    assert listed(at) == {safe.id}
    at.selectbox(key="my_items_project").set_value(None).run()
    at.text_input(key="my_items_search").input(unsafe.external_id.upper()).run()
    assert listed(at) == {unsafe.id}
    at.text_input(key="my_items_search").input("no such thing").run()
    assert listed(at) == set()
    assert any("Nothing in these dates" in i.value for i in at.info)


def test_severe_and_explicit_previews_stay_hidden(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Severe", "label", "", None, 1, [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "sev.jsonl", [
        {"id": "sev", "prompt": "graphic words here", "response": "r", "hint_severity": 4},
        {"id": "mild", "prompt": "why is he such a fucking idiot", "response": "r",
         "hint_severity": 0}]))
    for _ in range(2):
        item = work.claim_next_item(app_db, team["ann"], pid)
        work.save_annotation(app_db, team["ann"], item.id, Label(True, (), 0))
    body = " ".join(texts(my_items(app_db, "ann")))
    assert "sev" in body and "mild" in body              # both listed
    assert "graphic words here" not in body and "text hidden: severity 4" in body
    assert "fucking" not in body and "why is he such a f****** idiot" in body


def test_a_comparison_opens_on_the_compare_page_and_is_corrected(app_db, team, tmp_path):
    label_project(app_db, team, tmp_path, "Labels first", "l")   # the picker's default kind
    pid = projects.create_project(app_db, team["lead"], "Pairs", "compare", "", None, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "pairs.jsonl", [
        {"id": f"pair{k}", "prompt": f"Pair prompt {k}", "response_a": "Alpha", "response_b": "Beta"}
        for k in range(2)]))
    item = work.claim_next_item(app_db, team["ann"], pid)
    work.save_annotation(app_db, team["ann"], item.id, judgment={
        "left": "a", "harmlessness": -1, "helpfulness": -1, "overall": "b", "rationale": None})
    at = my_items(app_db, "ann")
    assert "Your answer: overall B better · harmlessness: B slightly better · helpfulness: B slightly better" \
        in texts(at)
    at = open_from_my_items(at, item.id, "app_pages/compare.py")
    assert [t.value for t in at.title] == ["Compare"]
    assert at.selectbox(key="compare_project").value == pid
    assert any("Correcting item pair" in i.value for i in at.info)
    at = press(at, f"overall_tie_{item.id}")
    at = press(at, f"submit_{item.id}")
    assert any("Correction saved" in s.value for s in at.success)
    history = work.annotation_history(app_db, item.id, team["ann"])
    assert [(a.version, a.judgment["overall"]) for a in history] == [(1, "b"), (2, "tie")]
    assert history[1].supersedes == history[0].id
    assert shown_item(at) != item.id                      # back at the current item
