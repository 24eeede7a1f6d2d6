"""The guidelines dialog on both work pages and the guidelines history on the Projects page
(AppTest on a real DuckDB file)."""
from __future__ import annotations

import json

import pytest

from core import keys
from core.guidelines import safe_guidelines_markdown
from store import projects
from store.guidelines import guideline_history
from store.imports import import_file
from tests.helpers import HOSTILE, as_user, by_label, write_jsonl

# Every kind of image and some HTML, beside a link and a list that must survive.
GUIDELINES = ("# Rules\n\n- Judge the *response*, not the prompt.\n- See [the policy](http://127.0.0.1:9/policy).\n\n"
              + HOSTILE + "\n\n![ref image][logo] <img src=\"http://127.0.0.1:9/tag.png\" alt=\"tag\">"
              " <iframe src=\"http://127.0.0.1:9/frame\"></iframe>\n\n"
              "[logo]: http://127.0.0.1:9/logo.png\n")
IMAGE_URLS = ("hostile.png", "tag.png")
# 22 categories, so every category key is on the page (the last, L, included).
TAXONOMY = json.dumps({
    "categories": [{"code": f"K{n}", "name": f"Kind {n}", "description": f"About kind {n}",
                    **({"examples": ["An example of kind zero.", "Another one."]} if n == 0 else {})}
                   for n in range(len(keys.CATEGORY_KEYS))],
    "severity": [{"level": n, "name": f"level {n}", "description": f"meaning {n}"} for n in range(10)]})


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def dialog(at):
    """The open dialog's block, or None."""
    return next((n for n in walk(at._tree) if getattr(n, "type", None) == "dialog"), None)


def in_dialog(at, kind: str) -> list[str]:
    block = dialog(at)
    assert block is not None, "no dialog is open"
    return [n.value for n in walk(block) if getattr(n, "type", None) == kind]


def shortcuts(at) -> list[str]:
    return [b.proto.shortcut for b in at.button if b.proto.shortcut]


@pytest.fixture
def label_project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Safety", "label", GUIDELINES, TAXONOMY, 1,
                                  [team["ann"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "l.jsonl", [
        {"id": "x1", "prompt": "p1", "response": "r1"}]))
    return pid


@pytest.fixture
def compare_project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Pairs", "compare",
                                  "Prefer the **shorter** answer.", None, 1, [team["ann"]])
    projects.update_project_settings(app_db, team["lead"], pid, {"per_response_safety": True})
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "c.jsonl", [
        {"id": "c1", "prompt": "p", "response_a": "a", "response_b": "b"}]))
    return pid


def open_compare(app_db, pid):
    at = as_user(app_db, "ann")
    at.session_state["compare_project"] = pid
    at.run()
    return at.switch_page("app_pages/compare.py").run()


def test_label_page_opens_the_guidelines_with_the_taxonomy(app_db, team, label_project):
    at = as_user(app_db, "ann").run()
    assert [t.value for t in at.title] == ["Label"]
    assert dialog(at) is None
    at = at.button(key="open_guidelines").click().run()
    markdown = in_dialog(at, "markdown")
    texts = in_dialog(at, "text")
    guide = next(m for m in markdown if m.startswith("# Rules"))
    assert guide == safe_guidelines_markdown(GUIDELINES).strip()
    # Headings, lists and links stay; every image is its alt text, no HTML, nothing remote.
    assert "- See [the policy](http://127.0.0.1:9/policy)." in guide
    for alt in ("x", "ref image", "tag"):
        assert f"\\[image: {alt}\\]" in guide
    assert "![" not in guide and "<img" not in guide.lower() and "<iframe" not in guide
    assert not [url for url in IMAGE_URLS if url in guide]
    assert "<\u2060iframe" in guide     # shown as text: no tag starts with an invisible joiner
    assert any("version 1 of" in c.value for c in dialog_captions(at))
    assert "**K0** Kind 0" in markdown and "About kind 0" in texts
    assert "Example: An example of kind zero." in texts and "Example: Another one." in texts
    assert "9 level 9: meaning 9" in texts


def dialog_captions(at):
    block = dialog(at)
    return [n for n in walk(block) if getattr(n, "type", None) == "caption"]


def test_the_dialog_shows_the_latest_version(app_db, team, label_project):
    project = projects.get_project(app_db, label_project)
    projects.update_project(app_db, team["lead"], label_project, "# Second edition", project.taxonomy,
                            1, False)
    at = as_user(app_db, "ann").run()
    at = at.button(key="open_guidelines").click().run()
    assert "# Second edition" in in_dialog(at, "markdown")
    assert any("version 2 of" in c.value for c in dialog_captions(at))


def test_compare_page_has_the_style_guide(app_db, team, compare_project):
    at = open_compare(app_db, compare_project)
    assert [t.value for t in at.title] == ["Compare"]
    button = at.button(key="open_guidelines")
    assert button.label == "Guidelines (style guide)" and button.proto.shortcut == "m"
    at = button.click().run()
    markdown = in_dialog(at, "markdown")
    assert "Prefer the **shorter** answer." in markdown
    assert any("better follows it" in c.value for c in dialog_captions(at))
    assert "Example: Tips for selling counterfeit concert tickets." in in_dialog(at, "text")


def test_the_guidelines_key_is_on_both_pages_and_distinct(app_db, team, label_project,
                                                         compare_project):
    label_page = as_user(app_db, "ann").run()
    compare_page = open_compare(app_db, compare_project)
    for at, page_keys in ((label_page, 22 + 10 + 2), (compare_page, 7 + 7 + 3 + 4)):
        used = shortcuts(at)
        # The page's judgment keys are all there (the check sees them), and M once.
        assert len(set(used)) >= page_keys, used
        assert used.count("m") == 1, used
    # And the keyboard help of each page names it.
    for at in (label_page, compare_page):
        help_texts = [t.value for t in at.sidebar.text]
        assert any(f"{keys.GUIDELINES} guidelines" in t for t in help_texts), help_texts


def test_projects_page_shows_versions_and_saves_a_new_one(app_db, team, label_project):
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(label_project).run()
    assert any("Guidelines: version 1, saved" in c.value and "by lead" in c.value
               for c in at.caption)
    by_label(at.text_area, "Guidelines (Markdown), version 1").input("# Rules, second edition")
    at = by_label(at.button, "Save changes").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [m.value for m in at.success] == ["Saved."]
    assert any("Guidelines: version 2, saved" in c.value for c in at.caption)
    frames = [d.value for d in at.dataframe if "version" in d.value.columns]
    assert len(frames) == 1
    assert list(frames[0]["version"]) == [2, 1] and list(frames[0]["by"]) == ["lead", "lead"]
    assert by_label(at.text_area, "Guidelines (Markdown), version 2").value == "# Rules, second edition"
    # Saving again without touching the text makes no version 3.
    at = by_label(at.button, "Save changes").click().run()
    assert [m.value for m in at.success] == ["Saved."]
    assert [v.version for v in guideline_history(app_db, label_project)] == [2, 1]
