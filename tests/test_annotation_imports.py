"""Importing votes made elsewhere (issue 11): CSV, JSONL and Label Studio JSON give the same
votes, bookkeeping and agreement as the same votes entered through the store's save path;
unknown annotators become inactive accounts; every problem is listed and nothing changes."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.agreement import krippendorff_alpha
from core.labels import Label
from core.preference import Judgment
from store import projects, users, work
from store.agreement_data import agreement_questions
from store.annotation_imports import IMPORTED_ACCOUNT_HASH, import_annotations
from store.db import PermissionDenied
from store.exports import export
from store.imports import ImportProblem, import_file
from tests.conftest import make_project, table_counts
from tests.helpers import write_jsonl

ITEMS = [f"i{n}" for n in range(6)]
# (item, annotator, is_safe, categories, severity): three people, agreeing on some items.
LABEL_VOTES = [
    ("i0", "ann1", True, (), 0), ("i0", "ann2", True, (), 0), ("i0", "ann3", False, ("S1",), 2),
    ("i1", "ann1", False, ("S1", "S10"), 3), ("i1", "ann2", False, ("S1",), 3),
    ("i1", "ann3", False, ("S10",), 2),
    ("i2", "ann1", False, ("S12",), 4), ("i2", "ann2", False, ("S12",), 4),
    ("i3", "ann1", True, (), 0), ("i3", "ann2", False, ("X2",), 1), ("i3", "ann3", True, (), 1),
    ("i4", "ann2", False, ("S10", "X1"), 3), ("i4", "ann3", False, ("X1",), 3),
    ("i5", "ann1", True, (), 0), ("i5", "ann3", True, (), 0),
]
# (item, annotator, overall, harmlessness, helpfulness, rationale)
COMPARE_VOTES = [
    ("i0", "ann1", "a", 2, 1, ""), ("i0", "ann2", "a", 3, 0, "clearly safer"),
    ("i0", "ann3", "tie", 0, 0, ""),
    ("i1", "ann1", "b", -1, -2, ""), ("i1", "ann2", "b", -2, -2, ""),
    ("i2", "ann1", "a", 1, -1, "safer but less useful"), ("i2", "ann2", "b", -1, 1, ""),
    ("i2", "ann3", "a", 1, 0, ""),
    ("i3", "ann2", "tie", 0, 0, ""), ("i3", "ann3", "tie", 0, 1, ""),
]


def project_with_items(db, accounts, tmp_path, name: str, kind: str = "label",
                       overlap: int = 3) -> int:
    pid = make_project(db, accounts, kind=kind, overlap=overlap, name=name)
    rows = [{"id": i, "prompt": f"prompt {i}",
             **({"response": f"r {i}"} if kind == "label"
                else {"response_a": f"a {i}", "response_b": f"b {i}"})} for i in ITEMS]
    import_file(db, accounts["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", rows))
    return pid


def item_ids(db, pid) -> dict[str, int]:
    with db.read() as cur:
        return dict(cur.execute("SELECT external_id, id FROM items WHERE project_id = ?",
                                [pid]).fetchall())


def enter_label_votes(db, accounts, pid, votes=LABEL_VOTES) -> None:
    """The votes through the store's own save path (what the work pages call)."""
    ids = item_ids(db, pid)
    for item, who, is_safe, categories, severity in votes:
        work.save_annotation(db, accounts[who], ids[item], Label(is_safe, categories, severity))


def enter_compare_votes(db, accounts, pid, votes=COMPARE_VOTES) -> None:
    ids = item_ids(db, pid)
    for item, who, overall, harm, help_, rationale in votes:
        left = "b"     # as shown: a canonical judgment does not depend on it
        work.save_annotation(db, accounts[who], ids[item], judgment=Judgment(
            left, harm, help_, overall, rationale).to_dict())


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def label_csv(path: Path, votes=LABEL_VOTES) -> Path:
    return write_csv(path, ["item_id", "annotator", "is_safe", "categories", "severity"],
                     [[i, who, "safe" if s else "unsafe", ";".join(c), sev]
                      for i, who, s, c, sev in votes])


def agreement_table(db, pid) -> list[tuple]:
    """Every question's raters, ratings (items in import order) and alpha."""
    project = projects.get_project(db, pid)
    table = []
    for q in agreement_questions(db, project):
        alpha = krippendorff_alpha(q.ratings, q.level)
        table.append((q.name, q.level, q.raters, q.ratings,
                      None if alpha.value is None else round(alpha.value, 12), alpha.units,
                      alpha.reason))
    return table


def bookkeeping(db, pid) -> list[tuple]:
    """Per item (by external id): done_count, open_slots, and the people in touched_by."""
    with db.read() as cur:
        rows = cur.execute("SELECT external_id, done_count, open_slots, touched_by FROM items "
                           "WHERE project_id = ? ORDER BY external_id", [pid]).fetchall()
    return [(e, d, o, sorted(t.strip(",").split(",")) if t.strip(",") else [])
            for e, d, o, t in rows]


def test_a_csv_of_label_votes_gives_the_same_agreement_and_bookkeeping_as_the_save_path(
        db, accounts, tmp_path):
    entered = project_with_items(db, accounts, tmp_path, "Entered")
    enter_label_votes(db, accounts, entered)
    imported = project_with_items(db, accounts, tmp_path, "Imported")
    result = import_annotations(db, accounts["lead"], imported, label_csv(tmp_path / "v.csv"))
    assert (result.rows_read, result.votes_added, result.votes_unchanged) == (15, 15, 0)
    assert result.accounts_created == []          # ann1..ann3 are matched by username
    table = agreement_table(db, entered)
    assert [row[4] for row in table[:2]] != [None, None]   # real coefficients compared
    assert agreement_table(db, imported) == table
    assert bookkeeping(db, imported) == bookkeeping(db, entered)
    assert projects.project_progress(db, imported) == projects.project_progress(db, entered)


def test_jsonl_votes_with_lists_and_booleans_import_alike(db, accounts, tmp_path):
    entered = project_with_items(db, accounts, tmp_path, "Entered")
    enter_label_votes(db, accounts, entered)
    imported = project_with_items(db, accounts, tmp_path, "Imported")
    path = write_jsonl(tmp_path / "v.jsonl", [
        {"id": i, "user": who, "is_safe": s, "categories": list(c), "severity": sev,
         "submitted_at": "2025-03-01T10:00:00+01:00"} for i, who, s, c, sev in LABEL_VOTES])
    import_annotations(db, accounts["lead"], imported, path)
    assert agreement_table(db, imported) == agreement_table(db, entered)
    with db.read() as cur:
        assert cur.execute("SELECT DISTINCT CAST(submitted_at AS VARCHAR) FROM annotations "
                           "WHERE project_id = ?", [imported]).fetchall() == [("2025-03-01 09:00:00",)]


def test_our_label_studio_export_reads_back_as_the_same_votes(db, accounts, tmp_path):
    entered = project_with_items(db, accounts, tmp_path, "Entered")
    enter_label_votes(db, accounts, entered)
    exported = tmp_path / "ls.json"
    export(db, accounts["lead"], entered, "label_studio", exported)
    fresh = project_with_items(db, accounts, tmp_path, "Fresh")
    result = import_annotations(db, accounts["lead"], fresh, exported)
    assert (result.votes_added, result.accounts_created) == (15, [])
    assert agreement_table(db, fresh) == agreement_table(db, entered)
    assert bookkeeping(db, fresh) == bookkeeping(db, entered)


def test_compare_votes_from_csv_and_label_studio_match_the_save_path(db, accounts, tmp_path):
    entered = project_with_items(db, accounts, tmp_path, "Entered", "compare")
    enter_compare_votes(db, accounts, entered)
    table = agreement_table(db, entered)
    assert table[0][0] == "harmlessness" and table[0][4] is not None
    from_csv = project_with_items(db, accounts, tmp_path, "FromCsv", "compare")
    import_annotations(db, accounts["lead"], from_csv, write_csv(
        tmp_path / "c.csv", ["item_id", "annotator", "overall", "harmlessness", "helpfulness",
                             "rationale"], [list(v) for v in COMPARE_VOTES]))
    assert agreement_table(db, from_csv) == table
    exported = tmp_path / "ls.json"
    export(db, accounts["lead"], entered, "label_studio", exported)
    from_ls = project_with_items(db, accounts, tmp_path, "FromLs", "compare")
    import_annotations(db, accounts["lead"], from_ls, exported)
    assert agreement_table(db, from_ls) == table
    with db.read() as cur:
        rationales = cur.execute("SELECT judgment->>'rationale' FROM annotations WHERE project_id"
                                 " = ? AND judgment->>'rationale' IS NOT NULL ORDER BY 1",
                                 [from_ls]).fetchall()
    assert rationales == [("clearly safer",), ("safer but less useful",)]


def test_a_real_label_studio_export_names_items_and_people_its_own_ways(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    tasks = [
        {"id": 901, "data": {"id": "i0", "text": "..."}, "annotations": [
            {"id": 1, "completed_by": {"id": 7, "email": "Dana.Pilot@example.org"},
             "result": [{"from_name": "verdict", "to_name": "text", "type": "choices",
                         "value": {"choices": ["Unsafe"]}},
                        {"from_name": "hazards", "to_name": "text", "type": "choices",
                         "value": {"choices": ["S1", "Hate"]}},
                        {"from_name": "severity", "to_name": "text", "type": "rating",
                         "value": {"rating": 3}}]},
            {"id": 2, "completed_by": 8, "created_username": " eve@example.org, 8",
             "result": [{"from_name": "safety", "type": "choices",
                         "value": {"choices": ["safe"]}}]},
            {"id": 3, "completed_by": 9, "was_cancelled": True, "result": []},
            {"id": 4, "completed_by": 9,
             "result": [{"from_name": "safety", "type": "choices", "value": {"choices": ["safe"]}},
                        {"from_name": "bbox", "type": "rectanglelabels",
                         "value": {"rectanglelabels": ["x"]}}]}]},
        {"id": 902, "data": {"external_id": "i1"}, "annotations": [
            {"completed_by": {"id": 3, "username": "ann2"},
             "result": [{"from_name": "safety", "type": "choices", "value": {"choices": ["safe"]}}]}]},
        {"id": 903, "data": {"external_id": "i2"}},          # not annotated: nothing to import
    ]
    path = tmp_path / "project-1-at-2025.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    result = import_annotations(db, accounts["lead"], pid, path)
    assert (result.votes_added, result.cancelled_skipped) == (4, 1)
    assert sorted(result.accounts_created) == ["dana.pilot-example.org", "eve-example.org",
                                               "labelstudio-user-9"]
    with db.read() as cur:
        rows = cur.execute("SELECT i.external_id, u.username, a.is_safe, a.categories, a.severity"
                           " FROM annotations a JOIN items i ON i.id = a.item_id JOIN users u"
                           " ON u.id = a.user_id WHERE a.project_id = ? ORDER BY 1, 2",
                           [pid]).fetchall()
    assert rows == [("i0", "dana.pilot-example.org", False, ["S1", "S10"], 3),
                    ("i0", "eve-example.org", True, [], None),
                    ("i0", "labelstudio-user-9", True, [], None),
                    ("i1", "ann2", True, [], None)]


def test_unknown_annotators_become_inactive_accounts_that_cannot_log_in(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    path = label_csv(tmp_path / "v.csv", [("i0", "Dana Pilot", True, (), 0),
                                          ("i1", "dana pilot", True, (), 0),
                                          ("i0", "ANN1", True, (), 0),
                                          ("i2", "张伟", False, ("S1",), 2)])
    result = import_annotations(db, accounts["lead"], pid, path)
    assert len(result.accounts_created) == 2
    dana = users.get_user_by_username(db, "dana-pilot")
    assert (dana.role, dana.active, dana.name) == ("annotator", False, "Dana Pilot")
    other = users.get_user_by_username(db, [u for u in result.accounts_created if u != "dana-pilot"][0])
    assert other.username.startswith("annotator-") and other.name == "张伟"
    for user in (dana, other):
        assert users.login_record(db, user.username) is None
        with db.read() as cur:
            stored = cur.execute("SELECT password_hash FROM users WHERE id = ?",
                                 [user.id]).fetchone()[0]
        assert stored == IMPORTED_ACCOUNT_HASH and not users.check_password("", stored)
    # Positive control: a real account logs in by the same function.
    assert users.login_record(db, "ann1") is not None
    with db.read() as cur:
        per_person = dict(cur.execute("SELECT u.username, count(*) FROM annotations a JOIN users u"
                                      " ON u.id = a.user_id WHERE a.project_id = ? GROUP BY 1",
                                      [pid]).fetchall())
    assert per_person == {"dana-pilot": 2, "ann1": 1, other.username: 1}
    # Another file naming the same people finds the same accounts.
    again = import_annotations(db, accounts["lead"], pid, label_csv(
        tmp_path / "w.csv", [("i3", "Dana Pilot", True, (), 0), ("i3", "张伟", True, (), 0)]))
    assert (again.accounts_created, again.votes_added) == ([], 2)


def test_a_username_taken_by_someone_else_gets_a_suffix(db, accounts, tmp_path):
    users.create_user(db, accounts["admin"], "dana-pilot", "Dana Other", "correct-horse-9", "annotator")
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    result = import_annotations(db, accounts["lead"], pid,
                                label_csv(tmp_path / "v.csv", [("i0", "Dana Pilot", True, (), 0)]))
    (made,) = result.accounts_created
    assert made.startswith("dana-pilot-") and users.get_user_by_username(db, made).name == "Dana Pilot"


def test_every_problem_is_listed_and_nothing_changes(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    path = write_csv(tmp_path / "bad.csv",
                     ["item_id", "annotator", "is_safe", "categories", "severity", "extra"], [
        ["i0", "ann1", "unsafe", "S1", "2", "x"],                 # fine
        ["nope", "ann1", "unsafe", "S1", "2", ""],                # unknown item
        ["i1", "ann1", "unsafe", "S99; S1", "2", ""],             # unknown category
        ["i2", "New Person", "maybe", "", "7", ""],               # bad verdict, bad severity
        ["i0", "ann1", "safe", "", "0", ""],                      # second vote, same person
        ["i3", "", "safe", "S1", "0", ""],                        # no annotator; safe + category
    ])
    before = table_counts(db)
    with pytest.raises(ImportProblem) as caught:
        import_annotations(db, accounts["lead"], pid, path)
    problem = caught.value
    listed = {(p.row, p.column) for p in problem.problems}
    assert listed == {(2, "item_id"), (3, "categories"), (4, "is_safe"), (4, "severity"),
                      (5, "item_id"), (6, "annotator"), (6, "categories")}
    text = str(problem)
    assert "'bad.csv': 7 problems in 5 rows. Nothing was imported" in text
    assert "no item with id 'nope'" in text and "'S99'" in text and "votes on item 'i0' again" in text
    assert table_counts(db) == before
    assert users.get_user_by_username(db, "new-person") is None
    # Positive control: the good row alone imports.
    import_annotations(db, accounts["lead"], pid, write_csv(tmp_path / "good.csv",
                       ["item_id", "annotator", "is_safe", "categories", "severity"],
                       [["i0", "ann1", "unsafe", "S1", "2"]]))
    assert table_counts(db)["annotations"] == before["annotations"] + 1


def test_a_file_without_an_answer_column_or_an_unreadable_one_is_refused(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    before = table_counts(db)
    with pytest.raises(ImportProblem, match="no answer column"):
        import_annotations(db, accounts["lead"], pid,
                           write_csv(tmp_path / "x.csv", ["item_id", "annotator"], [["i0", "ann1"]]))
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": {}}', encoding="utf-8")
    with pytest.raises(ImportProblem, match="JSON array of tasks"):
        import_annotations(db, accounts["lead"], pid, broken)
    lines = tmp_path / "v.jsonl"
    lines.write_text('{"item_id": "i0", "annotator": "ann1", "is_safe": true}\nnot json\n',
                     encoding="utf-8")
    with pytest.raises(ImportProblem, match="row 2 \\(line 2\\)|row 2: not valid JSON"):
        import_annotations(db, accounts["lead"], pid, lines)
    assert table_counts(db) == before


def test_a_reimport_adds_nothing_and_a_corrected_file_appends_versions(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    path = label_csv(tmp_path / "v.csv")
    import_annotations(db, accounts["lead"], pid, path)
    before = table_counts(db)
    shape = bookkeeping(db, pid)
    again = import_annotations(db, accounts["lead"], pid, path)
    assert (again.votes_added, again.votes_corrected, again.votes_unchanged) == (0, 0, 15)
    after = table_counts(db)
    assert after["annotations"] == before["annotations"] and bookkeeping(db, pid) == shape
    assert after["vote_imports"] == before["vote_imports"] + 1     # the attempt is recorded
    corrected = list(LABEL_VOTES)
    corrected[0] = ("i0", "ann1", False, ("S2",), 1)
    result = import_annotations(db, accounts["lead"], pid, label_csv(tmp_path / "w.csv", corrected))
    assert (result.votes_added, result.votes_corrected, result.votes_unchanged) == (0, 1, 14)
    ids = item_ids(db, pid)
    history = work.annotation_history(db, ids["i0"], accounts["ann1"])
    assert [(h.version, h.is_safe) for h in history] == [(1, True), (2, False)]
    assert history[1].supersedes == history[0].id
    assert bookkeeping(db, pid) == shape        # a correction is no new vote


def test_only_leads_import_votes(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    path = label_csv(tmp_path / "v.csv")
    before = table_counts(db)
    with pytest.raises(PermissionDenied):
        import_annotations(db, accounts["ann1"], pid, path)
    assert table_counts(db) == before
    assert import_annotations(db, accounts["admin"], pid, path).votes_added == 15


def test_the_queue_does_not_serve_imported_items_to_their_voters(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot", overlap=2)
    ids = item_ids(db, pid)
    held = work.claim_next_item(db, accounts["ann2"], pid)      # a claim the import uses up
    votes = [(i, "ann1", True, (), 0) for i in ITEMS] + [(held.external_id, "ann2", True, (), 0)]
    import_annotations(db, accounts["lead"], pid, label_csv(tmp_path / "v.csv", votes))
    assert work.claim_next_item(db, accounts["ann1"], pid) is None
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
        slots = dict(cur.execute("SELECT external_id, open_slots FROM items WHERE project_id = ?",
                                 [pid]).fetchall())
    assert slots == {i: (0 if i == held.external_id else 1) for i in ITEMS}
    progress = projects.project_progress(db, pid)
    assert (progress.items_done, progress.annotations) == (1, 7)
    served = work.claim_next_item(db, accounts["ann2"], pid)   # positive control
    assert served is not None and served.id != ids[held.external_id]


def test_the_annotations_export_includes_imported_votes(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    import_annotations(db, accounts["lead"], pid, label_csv(
        tmp_path / "v.csv", [("i0", "Dana Pilot", False, ("S1",), 2), ("i0", "ann1", True, (), 0)]))
    out = tmp_path / "all.jsonl"
    assert export(db, accounts["lead"], pid, "annotations", out) == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(r["external_id"], r["annotator"], r["is_safe"]) for r in rows} == {
        ("i0", "dana-pilot", False), ("i0", "ann1", True)}


def test_an_import_is_one_event_and_archived_projects_refuse(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "Pilot")
    import_annotations(db, accounts["lead"], pid, label_csv(tmp_path / "v.csv"))
    with db.read() as cur:
        kinds = [r[0] for r in cur.execute("SELECT kind FROM events WHERE kind IN "
                                           "('annotations_imported', 'submit')").fetchall()]
    assert kinds == ["annotations_imported"]
    projects.set_archived(db, accounts["lead"], pid, True)
    with pytest.raises(ImportProblem, match="archived"):
        import_annotations(db, accounts["lead"], pid, label_csv(tmp_path / "w.csv"))


def test_the_import_page_imports_votes_and_lists_problems(app_db, team, tmp_path):
    from tests.helpers import as_user, by_label, shown

    pid = projects.create_project(app_db, team["lead"], "Pilot", "label", "", None, 2,
                                  [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / "items.jsonl", [
        {"id": i, "prompt": f"p {i}", "response": f"r {i}"} for i in ITEMS]))
    votes = [("i0", "ann", True, (), 0), ("i0", "ann2", False, ("S1",), 2),
             ("i1", "ann", False, ("S10",), 3), ("i1", "ann2", False, ("S10",), 3)]
    at = as_user(app_db, "lead").run()
    at.switch_page("app_pages/import_data.py").run()
    by_label(at.radio, "What to import").set_value("Votes made elsewhere (annotations)").run()
    bad = label_csv(tmp_path / "bad.csv", [("i9", "ann", True, (), 0)]).read_bytes()
    at.file_uploader[0].set_value(("bad.csv", bad, "text/csv"))
    before = table_counts(app_db)
    at = by_label(at.run().button, "Import votes").click().run()
    assert "no item with id 'i9'" in shown(at.error[0].value)
    assert table_counts(app_db) == before
    good = label_csv(tmp_path / "votes.csv", votes).read_bytes()
    at.file_uploader[0].set_value(("votes.csv", good, "text/csv"))
    at = by_label(at.run().button, "Import votes").click().run()
    assert not at.error, [e.value for e in at.error]
    assert shown(at.success[0].value).startswith("Read 4 votes: added 4")
    assert table_counts(app_db)["annotations"] == before["annotations"] + 4
    # The same votes through the save path, in a second project: the same agreement.
    entered = projects.create_project(app_db, team["lead"], "Entered", "label", "", None, 2,
                                      [team["ann"], team["ann2"]])
    import_file(app_db, team["lead"], entered, write_jsonl(tmp_path / "items2.jsonl", [
        {"id": i, "prompt": f"p {i}", "response": f"r {i}"} for i in ITEMS]))
    enter_label_votes(app_db, team, entered, votes)
    assert agreement_table(app_db, pid) == agreement_table(app_db, entered)


def test_the_command_line_imports_votes(tmp_path):
    from tests.test_cli import run_cli

    db_path = tmp_path / "cli.duckdb"
    assert run_cli(db_path, "init").returncode == 0
    run_cli(db_path, "create-project", "Pilot", "--kind", "label", "--overlap", "2")
    items = write_jsonl(tmp_path / "items.jsonl", [{"id": i, "prompt": "p", "response": "r"}
                                                   for i in ITEMS])
    assert run_cli(db_path, "import", str(items), "--project", "Pilot").returncode == 0
    votes = write_csv(tmp_path / "v.csv", ["task", "rater", "is_safe"],
                      [["i0", "Dana", "safe"], ["i1", "Dana", "unsafe"]])
    done = run_cli(db_path, "import-annotations", str(votes), "--project", "Pilot",
                   "--map", "task=item_id", "rater=annotator")
    assert done.returncode == 0, done.stderr
    assert "Read 2 votes: added 2" in done.stdout and "dana" in done.stdout
    refused = run_cli(db_path, "import-annotations", str(votes), "--project", "Pilot")
    assert refused.returncode == 1 and "needs a column for item_id" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_votes_entered_on_the_label_page_and_imported_give_the_same_agreement(
        app_db, team, tmp_path):
    """The issue's check end to end: three people label through the Label page (AppTest), the
    same votes come in as a CSV in another project, the agreement tables are equal."""
    from tests.conftest import PASSWORD
    from tests.helpers import as_user

    people = {"ann": team["ann"], "ann2": team["ann2"],
              "ann3": users.create_user(app_db, team["admin"], "ann3", "Ann 3", PASSWORD,
                                        "annotator")}
    votes = {  # external id -> person -> (is_safe, categories, severity)
        "i0": {"ann": (True, (), 0), "ann2": (True, (), 0), "ann3": (False, ("S1",), 2)},
        "i1": {"ann": (False, ("S1", "S10"), 3), "ann2": (False, ("S1",), 3),
               "ann3": (False, ("S10",), 2)},
        "i2": {"ann": (True, (), 0), "ann2": (False, ("X2",), 1), "ann3": (True, (), 0)},
    }
    ids = {}
    for name in ("Typed", "Imported"):
        pid = projects.create_project(app_db, team["lead"], name, "label", "", None, 3,
                                      list(people.values()))
        import_file(app_db, team["lead"], pid, write_jsonl(tmp_path / f"{name}.jsonl", [
            {"id": i, "prompt": f"prompt {i}", "response": f"r {i}"} for i in votes]))
        ids[name] = pid
    typed_items = {v: k for k, v in item_ids(app_db, ids["Typed"]).items()}
    for person in people:
        at = as_user(app_db, person).run()
        at.selectbox(key="label_project").set_value(ids["Typed"]).run()
        for _ in votes:
            (submit,) = [b for b in at.button if b.key and b.key.startswith("submit_")
                         and not b.key.startswith("submit_text_")]
            item_id = int(submit.key.removeprefix("submit_"))
            is_safe, categories, severity = votes[typed_items[item_id]][person]
            at = at.button(key=f"{'safe' if is_safe else 'unsafe'}_{item_id}").click().run()
            for code in categories:
                at = at.button(key=f"cat_{code}_{item_id}").click().run()
            if not is_safe:      # "Safe" sets severity 0 itself
                at = at.button(key=f"sev_{severity}_{item_id}").click().run()
            at = at.button(key=f"submit_{item_id}").click().run()
            assert not at.exception and not at.error, [e.value for e in at.error]
    rows = [(item, person, *answer) for item, by in votes.items() for person, answer in by.items()]
    import_annotations(app_db, team["lead"], ids["Imported"], label_csv(tmp_path / "v.csv", rows))
    typed = agreement_table(app_db, ids["Typed"])
    assert sum(len(row[3]) for row in typed) > 0 and typed[0][4] is not None  # real figures
    assert agreement_table(app_db, ids["Imported"]) == typed


def test_a_reimport_finds_the_imported_account_after_it_was_activated(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "V", overlap=2)
    votes = write_csv(tmp_path / "v.csv", ["item_id", "annotator", "is_safe"],
                      [["i0", "Jane Doe", "unsafe"], ["i1", "Jane Doe", "safe"]])
    first = import_annotations(db, accounts["lead"], pid, votes)
    assert first.votes_added == 2
    jane = users.get_user_by_username(db, first.accounts_created[0])
    # The real person joins: an admin gives the account a password and activates it.
    users.set_password(db, accounts["admin"], jane.id, "a-good-password-123")
    users.set_active(db, accounts["admin"], jane.id, True)
    again = import_annotations(db, accounts["lead"], pid, votes)
    assert (again.votes_added, again.votes_unchanged, again.accounts_created) == (0, 2, [])
    with db.read() as cur:
        assert cur.execute("SELECT count(DISTINCT user_id) FROM annotations WHERE project_id = ?",
                           [pid]).fetchone()[0] == 1


def test_label_studio_json_nested_too_deep_is_refused(db, accounts, tmp_path):
    pid = project_with_items(db, accounts, tmp_path, "V")
    path = tmp_path / "votes.json"
    path.write_text("[" + "[" * 5000 + "]" * 5000 + "]")
    before = table_counts(db)
    with pytest.raises(ImportProblem) as refused:
        import_annotations(db, accounts["lead"], pid, path, fmt="label_studio")
    assert "nested too deeply" in " ".join(str(p) for p in refused.value.problems)
    assert table_counts(db) == before
