"""The Label page in its default mode draws the work component: AppTest cannot press its
keys, but it reads the data the page hands the browser (`proto.json`): the items claimed
(current and prefetched), their text as segments with hidden-character markers, masked
words, the hint wording, gate and blur flags, the rules and keys; and no st.button work
shortcuts beside it (the component is the only handler of work keys)."""
from __future__ import annotations

import json

import pytest

from store import projects
from store.imports import import_file
from tests.helpers import as_user, write_jsonl

ROWS = [
    {"id": "w1", "prompt": "<script>alert(1)</script> **bold** zero\u200bwidth",
     "response": "over\u202eride", "hint_severity": 0, "hint_source": "scorer"},
    {"id": "w2", "prompt": "a graphic prompt", "response": "r2", "hint_severity": 2},
    {"id": "w3", "prompt": "a worse prompt", "response": "r3", "hint_severity": 3},
    {"id": "w4", "prompt": "fourth", "response": "r4"},
]


@pytest.fixture
def component_mode(monkeypatch):
    monkeypatch.setenv("SAFELABEL_WORK_SURFACE", "component")


@pytest.fixture
def project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Safety", "label", "Guide", None, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "w.jsonl", ROWS))
    return pid


def component_data(at) -> dict:
    found = at.get("bidi_component")
    work = [json.loads(c.proto.json) for c in found if "work_surface" in c.proto.id]
    assert len(work) == 1, [c.proto.id for c in found]
    return work[0]


def test_the_page_hands_the_component_three_items_as_data(app_db, team, project, component_mode):
    at = as_user(app_db, "ann").run()
    assert not at.exception
    data = component_data(at)
    assert data["kind"] == "label" and data["user"] == team["ann"] and data["project"] == project
    items = data["items"]
    assert [i["external_id"] for i in items] == ["w1", "w2", "w3"]        # prefetch 3
    first = items[0]
    prompt, response = first["blocks"]
    assert prompt["role"] == "PROMPT" and response == {**response, "role": "RESPONSE", "reply": True}
    assert prompt["segments"] == [{"t": "<script>alert(1)</script> **bold** zero"},
                                  {"m": "⟦ZWSP⟧"}, {"t": "width"}]
    assert response["segments"] == [{"t": "over"}, {"m": "⟦RLO⟧"}, {"t": "ride"}]
    assert "1 zero-width character" in first["notice"]
    assert first["hint"] == ""                       # a hint of 0: no banner
    assert items[1]["hint"] == "severity hint (from the imported file) 2 moderate"
    assert items[1]["dimmed"] and not items[1]["gated"]
    assert items[2]["gated"]
    assert data["keys"]["safe"] == "G" and data["keys"]["note"] == "N"
    assert data["rules"]["categories"][0]["key"] == "1"


def test_no_work_shortcut_buttons_beside_the_component(app_db, team, project, component_mode):
    at = as_user(app_db, "ann").run()
    keys = [b.proto.shortcut for b in at.button if b.proto.shortcut]
    assert keys and {k.lower() for k in keys} == {"m"}, keys     # only the guidelines (M)
    assert not [b for b in at.button if b.label in ("Submit", "Skip", "Safe")]


def test_classic_mode_still_draws_the_st_buttons(app_db, team, project):
    at = as_user(app_db, "ann").run()     # the AppTest default (tests/conftest.app_env)
    assert [b for b in at.button if b.label == "Submit"]
    assert not [c for c in at.get("bidi_component") if "work_surface" in c.proto.id]


def test_the_compare_page_hands_the_component_pairs_in_the_persons_order(
        app_db, team, tmp_path, component_mode):
    from core.preference import left_response
    pid = projects.create_project(app_db, team["lead"], "Pairs", "compare", "Guide", None, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "p.jsonl", [
        {"id": f"p{i}", "prompt": f"q{i}", "response_a": f"alpha {i}", "response_b": f"beta {i}"}
        for i in range(4)]))
    at = as_user(app_db, "ann")
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    data = component_data(at)
    assert data["kind"] == "compare" and len(data["items"]) == 3
    for item in data["items"]:
        left = left_response(team["ann"], item["id"])
        n = item["external_id"][1:]
        a_text, b_text = [side["blocks"][0]["segments"][0]["t"] for side in item["sides"]]
        assert item["left"] == left
        assert (a_text, b_text) == ((f"alpha {n}", f"beta {n}") if left == "a"
                                    else (f"beta {n}", f"alpha {n}"))
        assert [s["name"] for s in item["sides"]] == ["A", "B"]
    assert [p["label"] for p in data["rules"]["scale"]][0] == "A much better"
    assert data["keys"]["note"] == "N" and "safe" not in data["keys"]
