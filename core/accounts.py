"""Rules for account fields and login throttling, independent of storage."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

MIN_PASSWORD_LENGTH = 8
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")


def username_problem(username: str) -> str | None:
    """Why `username` is not acceptable, or None."""
    if not _USERNAME.match(username or ""):
        return ("a username is 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit")
    return None


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password.encode("utf-8")) > 72:
        return "a password may be at most 72 bytes (bcrypt's limit)"
    return None


def is_locked_out(failed_logins: int, last_failed: datetime | None, now: datetime) -> bool:
    """Too many recent failures: refuse logins until LOCKOUT has passed since the last one."""
    return (failed_logins >= MAX_FAILED_LOGINS and last_failed is not None
            and now - last_failed < LOCKOUT)
