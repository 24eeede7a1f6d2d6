"""Projects, their members and their progress."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from core.hint_trust import SETTING_RULES as HINT_SETTING_RULES, hint_setting_problems
from core.preference import RATIONALE_RULES
from core.queue import queue_setting_problems
from core.roles import has_role
from core.wellbeing import policy_problems
from core.word_lists import language_problems
from core.wellness import CONTENT_DESCRIPTION_SETTING, MAX_CONTENT_DESCRIPTION_CHARS
from core.taxonomy import DEFAULT_TAXONOMY, Taxonomy, TaxonomyError, parse_taxonomy, taxonomy_from_json
from store.db import Database, StoreError, utcnow
from store.events import log_event
from store.guidelines import change_guidelines, first_guidelines
from store.users import User, require_role

KINDS = ("label", "compare")


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    kind: str
    guidelines: str
    taxonomy: Taxonomy
    overlap: int
    open_to_all: bool
    settings: dict[str, Any] = field(default_factory=dict)
    archived: bool = False


_COLUMNS = ("id, name, kind, guidelines, taxonomy, overlap, open_to_all, settings, "
            "archived_at IS NOT NULL")


def _project(row: tuple) -> Project:
    pid, name, kind, guidelines, taxonomy, overlap, open_to_all, settings, archived = row
    return Project(pid, name, kind, guidelines, taxonomy_from_json(taxonomy), overlap,
                   open_to_all, json.loads(settings or "{}"), bool(archived))


def _check_fields(name: str, kind: str, overlap: int) -> None:
    if not name.strip():
        raise StoreError("a project needs a name")
    if len(name) > 120:
        raise StoreError("a project name may be at most 120 characters")
    if kind not in KINDS:
        raise StoreError(f"kind must be 'label' or 'compare', not {kind!r}")
    if not isinstance(overlap, int) or not 1 <= overlap <= 20:
        raise StoreError("overlap (annotators per item) must be a whole number from 1 to 20")


def _taxonomy(taxonomy: Taxonomy | str | None) -> Taxonomy:
    if taxonomy is None:
        return DEFAULT_TAXONOMY
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    try:
        return parse_taxonomy(taxonomy)
    except TaxonomyError as exc:
        raise StoreError(f"taxonomy: {exc}") from None


def insert_project(cur: duckdb.DuckDBPyConnection, name: str, kind: str, guidelines: str,
                   taxonomy: Taxonomy, overlap: int, open_to_all: bool, created_by: int | None,
                   settings: dict[str, Any] | None = None) -> int:
    """Insert inside the caller's transaction, after its own permission check."""
    name = name.strip()
    _check_fields(name, kind, overlap)
    if cur.execute("SELECT count(*) FROM projects WHERE name = ?", [name]).fetchone()[0]:
        raise StoreError(f"a project named {name!r} already exists")
    row = cur.execute(
        "INSERT INTO projects (name, kind, guidelines, taxonomy, overlap, open_to_all, settings,"
        " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [name, kind, guidelines or "", taxonomy.to_json(), overlap, open_to_all,
         json.dumps(settings or {}), created_by, utcnow()],
    ).fetchone()
    first_guidelines(cur, int(row[0]), guidelines or "", created_by)
    log_event(cur, "project_created", created_by, int(row[0]),
              details={"name": name, "kind": kind, "overlap": overlap})
    return int(row[0])


def create_project(db: Database, actor_id: int | None, name: str, kind: str,
                   guidelines: str = "", taxonomy: Taxonomy | str | None = None,
                   overlap: int = 1, member_ids: list[int] | None = None,
                   open_to_all: bool = False) -> int:
    """A lead creates a project. `actor_id=None` is the server's own CLI (trusted console)."""
    parsed = _taxonomy(taxonomy)

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        if actor_id is not None:
            require_role(cur, actor_id, "lead")
        project_id = insert_project(cur, name, kind, guidelines, parsed, overlap, open_to_all,
                                    actor_id)
        _replace_members(cur, project_id, member_ids or [])
        return project_id

    result = db.write(work)
    db.access_changed()
    return result


def update_project(db: Database, actor_id: int, project_id: int, guidelines: str,
                   taxonomy: Taxonomy | str, overlap: int, open_to_all: bool) -> None:
    parsed = _taxonomy(taxonomy)

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "lead")
        current = _get(cur, project_id)
        if current is None:
            raise StoreError("no such project")
        _check_fields(current.name, current.kind, overlap)
        # The guidelines change (a new version and its event) only when the text does.
        change_guidelines(cur, project_id, guidelines, actor_id)
        cur.execute("UPDATE projects SET taxonomy = ?, overlap = ?, open_to_all = ?"
                    " WHERE id = ?", [parsed.to_json(), overlap, open_to_all, project_id])
        if overlap != current.overlap:
            # Open slots follow the new overlap; active claims keep theirs.
            cur.execute(
                "UPDATE items SET open_slots = greatest(0, ? - done_count - "
                " (SELECT count(*) FROM claims c WHERE c.item_id = items.id)) "
                "WHERE project_id = ? AND NOT coalesce(gold, false)", [overlap, project_id])
        log_event(cur, "project_updated", actor_id, project_id, details={"overlap": overlap})

    db.write(work)
    db.access_changed()


SETTING_RULES = {
    "rationale": "always, never, strong, conflict or strong_or_conflict",
    "per_response_safety": "true or false",
    "mask_terms": "a list of extra terms to mask",
    "languages": "the languages of the items, whose word lists mask and hint (default en)",
    "hide_text_at_severity": "a whole number from 0 to 9",
    "wellbeing": "breaks, caps, dimming and check-in timing (core.wellbeing.POLICY_RANGES)",
    "serve_order": "depth_first (finish started items first) or breadth_first",
    "gold_rate": "share of a person's items that are gold items, 0 to 1 (default 0.05)",
    "qualification_required": "true or false",
    "qualification_threshold": "share of qualification items to get right, 0 to 1",
    CONTENT_DESCRIPTION_SETTING: "what the project holds, in the lead's words (the informed start)",
    **HINT_SETTING_RULES,
}


def _check_settings(settings: dict[str, Any]) -> None:
    unknown = set(settings) - set(SETTING_RULES) - {"demo"}
    if unknown:
        raise StoreError(f"unknown project setting(s): {', '.join(sorted(unknown))}")
    if "rationale" in settings and settings["rationale"] not in RATIONALE_RULES:
        raise StoreError(f"rationale must be one of {SETTING_RULES['rationale']}")
    if "per_response_safety" in settings and not isinstance(settings["per_response_safety"], bool):
        raise StoreError("per_response_safety must be true or false")
    terms = settings.get("mask_terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        raise StoreError("mask_terms must be a list of non-empty words")
    if "languages" in settings:
        problems = language_problems(settings["languages"])
        if problems:
            raise StoreError(problems[0])
    level = settings.get("hide_text_at_severity", 3)
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
        raise StoreError("hide_text_at_severity must be a whole number from 0 to 9")
    description = settings.get(CONTENT_DESCRIPTION_SETTING, "")
    if not isinstance(description, str) or len(description) > MAX_CONTENT_DESCRIPTION_CHARS:
        raise StoreError(f"the content description is text of at most "
                         f"{MAX_CONTENT_DESCRIPTION_CHARS:,} characters")
    policy = settings.get("wellbeing", {})
    if not isinstance(policy, dict):
        raise StoreError("wellbeing settings must be a mapping of names to numbers")
    problems = (policy_problems(policy) + queue_setting_problems(settings)
                + hint_setting_problems(settings))
    if problems:
        raise StoreError("; ".join(problems))


def update_project_settings(db: Database, actor_id: int, project_id: int,
                            changes: dict[str, Any]) -> None:
    """A lead changes work-page settings (rationale rule, masking, hint gate, ...)."""
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "lead")
        current = _get(cur, project_id)
        if current is None:
            raise StoreError("no such project")
        merged = {**current.settings, **changes}
        _check_settings(merged)
        cur.execute("UPDATE projects SET settings = ? WHERE id = ?", [json.dumps(merged), project_id])
        log_event(cur, "project_settings", actor_id, project_id, details=changes)

    db.write(work)
    db.access_changed()   # cached wellbeing policies (store/wellbeing.project_policy)


def _replace_members(cur: duckdb.DuckDBPyConnection, project_id: int, user_ids: list[int]) -> None:
    cur.execute("DELETE FROM project_members WHERE project_id = ?", [project_id])
    now = utcnow()
    for user_id in sorted(set(user_ids)):
        cur.execute("INSERT INTO project_members VALUES (?, ?, ?)", [project_id, user_id, now])


def set_members(db: Database, actor_id: int, project_id: int, user_ids: list[int]) -> None:
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "lead")
        if _get(cur, project_id) is None:
            raise StoreError("no such project")
        _replace_members(cur, project_id, user_ids)
        log_event(cur, "members_changed", actor_id, project_id,
                  details={"user_ids": sorted(set(user_ids))})

    db.write(work)
    db.access_changed()


def member_ids(db: Database, project_id: int) -> list[int]:
    with db.read() as cur:
        rows = cur.execute("SELECT user_id FROM project_members WHERE project_id = ? "
                           "ORDER BY user_id", [project_id]).fetchall()
    return [r[0] for r in rows]


def _get(cur: duckdb.DuckDBPyConnection, project_id: int) -> Project | None:
    row = cur.execute(f"SELECT {_COLUMNS} FROM projects WHERE id = ?", [project_id]).fetchone()
    return _project(row) if row else None


def get_project(db: Database, project_id: int) -> Project | None:
    with db.read() as cur:
        return _get(cur, project_id)


def get_project_by_name(db: Database, name: str) -> Project | None:
    with db.read() as cur:
        row = cur.execute(f"SELECT {_COLUMNS} FROM projects WHERE name = ?", [name]).fetchone()
    return _project(row) if row else None


def list_projects(db: Database, include_archived: bool = True) -> list[Project]:
    where = "" if include_archived else " WHERE archived_at IS NULL"
    with db.read() as cur:
        rows = cur.execute(f"SELECT {_COLUMNS} FROM projects{where} ORDER BY id").fetchall()
    return [_project(r) for r in rows]


def set_archived(db: Database, actor_id: int, project_id: int, archived: bool) -> None:
    """Archive a project (read-only: hidden from the work pages, nothing can be claimed,
    saved or imported; still exported and on the dashboard) or bring it back."""
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "lead")
        project = _get(cur, project_id)
        if project is None:
            raise StoreError("no such project")
        if project.archived == archived:
            return
        cur.execute("UPDATE projects SET archived_at = ? WHERE id = ?",
                    [utcnow() if archived else None, project_id])
        if archived:
            cur.execute("DELETE FROM claims WHERE project_id = ?", [project_id])
        log_event(cur, "project_archived" if archived else "project_unarchived", actor_id,
                  project_id)

    db.write(work)
    db.access_changed()


def require_open_project(cur: duckdb.DuckDBPyConnection, project_id: int) -> None:
    """Refuse changes to an archived project's items (imports, removals)."""
    row = cur.execute("SELECT archived_at IS NOT NULL FROM projects WHERE id = ?",
                      [project_id]).fetchone()
    if row is None:
        raise StoreError("no such project")
    if row[0]:
        raise StoreError("this project is archived (read-only): unarchive it first")


def projects_for_user(db: Database, user: User, kind: str | None = None) -> list[Project]:
    """The projects `user` may work on (never archived ones), optionally of one kind."""
    sql = f"SELECT {_COLUMNS} FROM projects p"
    params: list[Any] = []
    clauses = ["p.archived_at IS NULL"]
    if not has_role(user.role, "lead"):
        clauses.append("(p.open_to_all OR EXISTS (SELECT 1 FROM project_members m "
                       "WHERE m.project_id = p.id AND m.user_id = ?))")
        params.append(user.id)
    if kind:
        clauses.append("p.kind = ?")
        params.append(kind)
    sql += " WHERE " + " AND ".join(clauses)
    with db.read() as cur:
        rows = cur.execute(sql + " ORDER BY p.id", params).fetchall()
    return [_project(r) for r in rows]


@dataclass(frozen=True)
class Progress:
    """A project's items (gold items left out: they are checks, not work to finish), the
    items complete (as many first-version annotations as the overlap asks for) and the
    current first-version annotations of those items."""
    items: int
    items_done: int
    annotations: int

    @property
    def items_left(self) -> int:
        return self.items - self.items_done


def project_progress(db: Database, project_id: int) -> Progress:
    """Items, items with all their overlap done, and their first-version annotations.
    `done_count` is kept by the work queue (first versions; a person answers an item once)."""
    with db.read() as cur:
        items, done = cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE i.done_count >= p.overlap) "
            "FROM items i JOIN projects p ON p.id = i.project_id"
            " WHERE i.project_id = ? AND NOT coalesce(i.gold, false)",
            [project_id]).fetchone()
        annotations = cur.execute(
            "SELECT count(*) FROM annotations WHERE project_id = ? AND version = 1"
            " AND item_id NOT IN (SELECT id FROM items WHERE project_id = ? AND gold)",
            [project_id, project_id]).fetchone()[0]
    return Progress(int(items), int(done), int(annotations))


def items_left_for(db: Database, project_id: int, user_id: int) -> int:
    """Items this person may still be served in the project: open items they have not
    touched, plus the ones they hold a claim on (gold items left out), less those their
    opt-outs keep from them."""
    from store.wellness import hint_names_any_sql, queue_opt_outs
    with db.read() as cur:
        opted_out, opted_params = hint_names_any_sql(queue_opt_outs(db, cur, user_id, project_id))
        return int(cur.execute(
            "SELECT (SELECT count(*) FROM items WHERE project_id = ? AND open_slots > 0"
            f"        AND NOT contains(touched_by, ?) AND NOT coalesce({opted_out}, false))"
            " + (SELECT count(*) FROM claims c JOIN items i ON i.id = c.item_id"
            "    WHERE c.project_id = ? AND c.user_id = ? AND NOT coalesce(i.gold, false))",
            [project_id, f",{int(user_id)},", *opted_params, project_id, user_id]).fetchone()[0])
