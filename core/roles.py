"""The three roles and what each may do. Higher roles include the lower ones."""
from __future__ import annotations

ROLES: tuple[str, ...] = ("annotator", "lead", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def is_role(role: str) -> bool:
    return role in _RANK


def has_role(role: str | None, needed: str) -> bool:
    """True when `role` is `needed` or above it (admin > lead > annotator)."""
    if role not in _RANK:
        return False
    return _RANK[role] >= _RANK[needed]
