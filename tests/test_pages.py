"""Page tests with streamlit.testing.v1.AppTest against a real DuckDB file."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.navigation import page_specs_for
from store import projects, users
from store.imports import import_file
from tests.conftest import PASSWORD, ROOT, SETUP_TOKEN
from tests.helpers import as_user, by_label, new_app, write_jsonl


def titles(at) -> list[str]:
    return [t.value for t in at.title]


def login(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    at.run()
    by_label(at.text_input, "Username").input(username)
    by_label(at.text_input, "Password").input(password)
    return by_label(at.button, "Log in").click().run()


@pytest.fixture
def team(app_db):
    admin = users.create_user(app_db, None, "admin", "Admin", PASSWORD, "admin")
    ids = {"admin": admin,
           "lead": users.create_user(app_db, admin, "lead", "Lead", PASSWORD, "lead"),
           "ann": users.create_user(app_db, admin, "ann", "Ann", PASSWORD, "annotator")}
    return ids


def test_first_admin_setup_refuses_a_wrong_token_and_accepts_the_right_one(app_db):
    at = new_app().run()
    assert titles(at) == ["Set up SafeLabel"]
    fields = {"Admin username": "boss", "Display name": "Boss", "Password": PASSWORD,
              "Repeat password": PASSWORD}
    for label, value in fields.items():
        by_label(at.text_input, label).input(value)
    by_label(at.text_input, "Setup token").input("guess")
    at = by_label(at.button, "Create admin account").click().run()
    assert any("setup token is not right" in e.value for e in at.error)
    assert users.count_users(app_db) == 0
    by_label(at.text_input, "Setup token").input(SETUP_TOKEN)
    at = by_label(at.button, "Create admin account").click().run()
    assert not at.error
    assert users.get_user_by_username(app_db, "boss").role == "admin"
    at.run()
    assert "Username" in [t.label for t in at.text_input]  # the login form now


def test_login_with_the_right_password_and_not_with_a_wrong_one(app_db, team):
    at = login(new_app(), "ann", "wrong-password")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert at.session_state["authentication_status"] is False
    with app_db.read() as cur:
        assert cur.execute("SELECT failures FROM login_failures WHERE key = 'user:ann@local'"
                           ).fetchone()[0] == 1
    at = login(new_app(), "ann")
    assert at.session_state["authentication_status"] is True
    assert titles(at) == ["Label"]
    with app_db.read() as cur:
        kinds = [r[0] for r in cur.execute("SELECT kind FROM events WHERE user_id = ? ORDER BY id",
                                           [team["ann"]]).fetchall()]
        live = cur.execute("SELECT count(*) FROM sessions WHERE user_id = ? AND ended_at IS NULL",
                           [team["ann"]]).fetchone()[0]
    assert "login_failed" in kinds and kinds[-1] == "login"
    assert live == 1


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(app_db, team):
    known = login(new_app(), "ann", "wrong-password")
    unknown = login(new_app(), "nobody", "wrong-password")
    assert [e.value for e in unknown.error] == [e.value for e in known.error]


def test_repeated_failures_slow_down_that_name_but_not_others(app_db, team):
    for _ in range(4):
        at = login(new_app(), "lead", "not-the-password")
        assert [e.value for e in at.error] == ["Username or password is incorrect."]
    at = login(new_app(), "lead", PASSWORD)   # right password, but asked too soon
    assert any("Too many failed logins. Wait" in e.value for e in at.error)
    assert at.session_state["authentication_status"] is not True
    for _ in range(4):
        login(new_app(), "ghost", "not-the-password")
    ghost = login(new_app(), "ghost", "not-the-password")   # no such account: same answer
    assert any("Too many failed logins. Wait" in e.value for e in ghost.error)
    other = login(new_app(), "ann")           # another person at the same address
    assert other.session_state["authentication_status"] is True


def test_navigation_per_role():
    def titles_for(role):
        return {spec.title for spec in page_specs_for(role)}
    assert titles_for("annotator") == {"Label", "Compare", "Inbox", "My items", "Dashboard"}
    assert titles_for("lead") == {"Label", "Compare", "Inbox", "My items", "Dashboard",
                                  "Projects", "Import", "Export", "Review"}
    assert titles_for("admin") == {"Label", "Compare", "Inbox", "My items", "Dashboard",
                                   "Projects", "Import", "Export", "Review", "Users"}


@pytest.mark.parametrize("page", ["app_pages/users.py", "app_pages/projects.py",
                                  "app_pages/import_data.py", "app_pages/export.py"])
def test_annotator_cannot_open_lead_or_admin_pages_by_switch_page(app_db, team, page):
    at = as_user(app_db, "ann").run()
    assert titles(at) == ["Label"]
    try:
        at.switch_page(page).run()
    except ValueError as exc:  # AppTest refuses pages st.navigation did not register
        assert "Could not find a navigation page" in str(exc)
    else:
        assert titles(at) in ([], ["Label"])
        assert not [b for b in at.button if b.label in ("Create account", "Create project", "Import")]


@pytest.mark.parametrize("page, role", [("app_pages/users.py", "admin"), ("app_pages/projects.py", "lead"),
                                        ("app_pages/import_data.py", "lead"),
                                        ("app_pages/export.py", "lead")])
def test_pages_check_the_role_themselves(app_db, team, page, role):
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["sl_user"] = users.get_user(app_db, team["ann"])
    at.run()
    assert any(f"needs the {role} role" in e.value for e in at.error)
    assert not at.text_input and not at.button


def test_lead_creates_a_project(app_db, team):
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    assert titles(at) == ["Projects"]
    by_label(at.text_input, "Name").input("Pilot study")
    by_label(at.radio, "Kind").set_value("compare")
    by_label(at.number_input, "Overlap (annotators per item)").set_value(2)
    by_label(at.multiselect, "Assigned annotators").set_value([team["ann"]])
    at = by_label(at.button, "Create project").click().run()
    assert not at.error, [e.value for e in at.error]
    project = projects.get_project_by_name(app_db, "Pilot study")
    assert (project.kind, project.overlap) == ("compare", 2)
    assert projects.member_ids(app_db, project.id) == [team["ann"]]


def test_lead_gets_a_clear_error_for_a_bad_taxonomy(app_db, team):
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    by_label(at.text_input, "Name").input("Broken")
    by_label(at.text_area, "Taxonomy (YAML)").input("categories: [")
    at = by_label(at.button, "Create project").click().run()
    assert any("not valid YAML" in e.value for e in at.error)
    assert projects.get_project_by_name(app_db, "Broken") is None


def test_admin_creates_an_account(app_db, team):
    at = as_user(app_db, "admin").run()
    at.switch_page("app_pages/users.py").run()
    by_label(at.text_input, "Username").input("newbie")
    by_label(at.text_input, "Display name").input("New Bie")
    by_label(at.text_input, "Initial password").input(PASSWORD)
    at = by_label(at.button, "Create account").click().run()
    assert users.get_user_by_username(app_db, "newbie").role == "annotator"


@pytest.fixture
def label_project(app_db, team, tmp_path):
    pid = projects.create_project(app_db, team["lead"], "Safety", "label", "Guide", None, 1,
                                  [team["ann"]])
    rows = [{"id": "x1", "prompt": "<script>alert(1)</script> **bold** :red[x]",
             "response": "<img src=x onerror=alert(1)>"},
            {"id": "x2", "prompt": "second prompt", "response": "second response"}]
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "l.jsonl", rows))
    return pid


def test_label_page_shows_item_text_literally(app_db, team, label_project):
    at = as_user(app_db, "ann").run()
    texts = [t.value for t in at.text]
    assert "<script>alert(1)</script> **bold** :red[x]" in texts
    assert "<img src=x onerror=alert(1)>" in texts
    assert not any("script" in m.value for m in at.markdown)


def test_lead_edits_work_page_settings(app_db, team):
    pid = projects.create_project(app_db, team["lead"], "Settings", "compare", "", None, 1, [])
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/projects.py").run()
    at.selectbox(key="edit_project").set_value(pid).run()
    by_label(at.text_area, "Extra words to mask (one per line)").input("zorblax\nfoo-bar")
    by_label(at.selectbox, "Rationale required (compare projects)").set_value("always")
    by_label(at.number_input, "Daily cap, severity 4 (min)").set_value(60)
    by_label(at.number_input, "Break length (min)").set_value(5)
    at = by_label(at.button, "Save changes").click().run()
    assert not at.error, [e.value for e in at.error]
    settings = projects.get_project(app_db, pid).settings
    assert settings["mask_terms"] == ["zorblax", "foo-bar"] and settings["rationale"] == "always"
    assert settings["wellbeing"]["cap_severity_4_minutes"] == 60
    assert settings["wellbeing"]["break_minutes"] == 5
    assert settings["wellbeing"]["run_length"] == 8          # untouched values keep the default
    at = at.button(key=f"rescore_{pid}").click().run()
    assert any("Recomputed the severity hint of 0 items" in s.value for s in at.success)


def test_bad_project_settings_are_refused(app_db, team):
    from store.db import StoreError
    pid = projects.create_project(app_db, team["lead"], "S2", "label", "", None, 1, [])
    with pytest.raises(StoreError, match="rationale must be one of"):
        projects.update_project_settings(app_db, team["lead"], pid, {"rationale": "sometimes"})
    with pytest.raises(StoreError, match="unknown project setting"):
        projects.update_project_settings(app_db, team["lead"], pid, {"colour": "red"})
