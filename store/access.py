"""Who may work on which project, checked on every write and cached exactly.

The answer is cached per (user, project) against `Database.access_generation`, which every
account, role and membership change bumps, so the check costs a dictionary lookup on the
hot path (claim, save) and is never stale.
"""
from __future__ import annotations

import duckdb

from core.roles import ROLES, has_role
from store.db import Database, PermissionDenied


def _lookup(cur: duckdb.DuckDBPyConnection, user_id: int, project_id: int) -> str | None:
    """None when allowed, else the reason."""
    row = cur.execute(
        "SELECT u.role, u.active, p.open_to_all, m.user_id IS NOT NULL, "
        "p.archived_at IS NOT NULL FROM users u "
        "JOIN projects p ON p.id = ? "
        "LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = u.id "
        "WHERE u.id = ?", [project_id, user_id]).fetchone()
    if row is None:
        return "unknown user or project"
    role, active, open_to_all, member, archived = row
    if not active:
        return "this account is deactivated"
    if archived:
        return "this project is archived (read-only)"
    if not (open_to_all or member or has_role(role, "lead")):
        return "you are not assigned to this project"
    return None


def require_worker(db: Database, cur: duckdb.DuckDBPyConnection, user_id: int,
                   project_id: int) -> None:
    """Raise PermissionDenied unless the user is active and may work on the project."""
    key = (user_id, project_id)
    generation = db.access_generation
    cached = db.access_cache.get(key)
    if cached is None or cached[0] != generation:
        cached = (generation, _lookup(cur, user_id, project_id))
        db.access_cache[key] = cached
    if cached[1] is not None:
        raise PermissionDenied(cached[1])


def workable_project_sql(project: str = "p", user: str = "u") -> str:
    """The rule `_lookup` applies, as a SQL condition over a `projects` row (alias `project`)
    and the acting `users` row (alias `user`), for queries that list someone's work: active
    account, project not archived, and open to all, a member, or a lead."""
    leads = ", ".join(f"'{role}'" for role in ROLES if has_role(role, "lead"))
    return (f"{user}.active AND {project}.archived_at IS NULL AND ({project}.open_to_all"
            f" OR {user}.role IN ({leads}) OR EXISTS (SELECT 1 FROM project_members m"
            f" WHERE m.project_id = {project}.id AND m.user_id = {user}.id))")
