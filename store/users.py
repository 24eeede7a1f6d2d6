"""User accounts, the first-admin setup token, and login bookkeeping."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import bcrypt
import duckdb

from core import accounts, config
from core.roles import has_role, is_role
from store.db import Database, PermissionDenied, StoreError, utcnow
from store.events import log_event
from store.login_throttle import clear_login_failures
from store.sessions import end_user_sessions
from store.settings import SETUP_TOKEN, get_setting, set_setting


@dataclass(frozen=True)
class User:
    id: int
    username: str
    name: str
    role: str
    active: bool


_USER_COLUMNS = "id, username, name, role, active"


def hash_password(password: str) -> str:
    return bcrypt.hashpw(accounts.normalise_password(password).encode("utf-8"),
                         bcrypt.gensalt(config.bcrypt_rounds())).decode("ascii")


_DUMMY_HASH: dict[int, str] = {}


def dummy_password_hash() -> str:
    """A hash of a random secret at the installation's work factor: checked against when a
    login names no account, so unknown names cost the same bcrypt work as real ones."""
    rounds = config.bcrypt_rounds()
    if rounds not in _DUMMY_HASH:
        _DUMMY_HASH[rounds] = hash_password(secrets.token_urlsafe(24))
    return _DUMMY_HASH[rounds]


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def require_role(cursor: duckdb.DuckDBPyConnection, user_id: int | None, needed: str) -> User:
    """The active user `user_id`, or PermissionDenied when their role is below `needed`."""
    user = _user_by_id(cursor, user_id) if user_id is not None else None
    if user is None or not user.active or not has_role(user.role, needed):
        raise PermissionDenied(f"this needs the {needed} role")
    return user


def _user_by_id(cursor: duckdb.DuckDBPyConnection, user_id: int) -> User | None:
    row = cursor.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", [user_id]).fetchone()
    return User(*row) if row else None


def get_user(db: Database, user_id: int) -> User | None:
    with db.read() as cur:
        return _user_by_id(cur, user_id)


def get_user_by_username(db: Database, username: str) -> User | None:
    with db.read() as cur:
        row = cur.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?",
                          [username]).fetchone()
    return User(*row) if row else None


def count_users(db: Database) -> int:
    with db.read() as cur:
        return int(cur.execute("SELECT count(*) FROM users").fetchone()[0])


_ADMIN_EXISTS = "SELECT count(*) FROM users WHERE role = 'admin'"


def needs_first_admin(db: Database) -> bool:
    """True until an admin account exists: the app then shows only the setup page."""
    with db.read() as cur:
        return not cur.execute(_ADMIN_EXISTS).fetchone()[0]


def list_users(db: Database) -> list[User]:
    with db.read() as cur:
        rows = cur.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username").fetchall()
    return [User(*row) for row in rows]


def _validate_new_user(cursor: duckdb.DuckDBPyConnection, username: str, name: str,
                       password: str, role: str) -> None:
    for problem in (accounts.username_problem(username),
                    accounts.password_problem(password, username, name)):
        if problem:
            raise StoreError(problem)
    if not name.strip():
        raise StoreError("a display name is required")
    if not is_role(role):
        raise StoreError(f"unknown role {role!r}: use annotator, lead or admin")
    taken = cursor.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()
    if taken[0]:
        raise StoreError(f"the username {username!r} is already taken")


def _insert_user(cursor: duckdb.DuckDBPyConnection, username: str, name: str, password_hash: str,
                 role: str) -> int:
    row = cursor.execute(
        "INSERT INTO users (username, name, password_hash, role, created_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        [username, name.strip(), password_hash, role, utcnow()],
    ).fetchone()
    return int(row[0])


def create_user(db: Database, actor_id: int | None, username: str, name: str, password: str,
                role: str) -> int:
    """An admin creates an account. `actor_id=None` is the server's own CLI (trusted console)."""
    username = (username or "").strip().lower()
    password = accounts.normalise_password(password)
    problem = accounts.password_problem(password, username, name)
    password_hash = hash_password(password) if not problem else ""

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        if actor_id is not None:
            require_role(cur, actor_id, "admin")
        _validate_new_user(cur, username, name, password, role)
        user_id = _insert_user(cur, username, name, password_hash, role)
        log_event(cur, "user_created", actor_id, details={"username": username, "role": role})
        return user_id

    result = db.write(work)
    db.access_changed()
    return result


def setup_token(db: Database) -> str | None:
    """The one-time token that lets someone create the first admin, made when needed.

    None once an admin exists. The token stays valid until it is used, so the console line
    printed at start-up (or by `cli.py init`) keeps working across restarts.
    """
    if not needs_first_admin(db):
        return None
    wanted = config.fixed_setup_token()

    def work(cur: duckdb.DuckDBPyConnection) -> str | None:
        if cur.execute(_ADMIN_EXISTS).fetchone()[0]:
            return None
        current = get_setting(cur, SETUP_TOKEN)
        if wanted and current != wanted:
            set_setting(cur, SETUP_TOKEN, wanted)
            return wanted
        if current:
            return current
        token = secrets.token_urlsafe(24)
        set_setting(cur, SETUP_TOKEN, token)
        return token

    return db.write(work)


def create_first_admin(db: Database, token: str, username: str, name: str,
                       password: str) -> int:
    """Create the first admin account; needs the console's setup token. Consumes the token."""
    username = (username or "").strip().lower()
    password = accounts.normalise_password(password)
    problem = accounts.password_problem(password, username, name)
    password_hash = hash_password(password) if not problem else ""

    def work(cur: duckdb.DuckDBPyConnection) -> int:
        if cur.execute(_ADMIN_EXISTS).fetchone()[0]:
            raise PermissionDenied("an admin already exists: log in instead")
        expected = get_setting(cur, SETUP_TOKEN)
        if not expected or not hmac.compare_digest(expected.encode(), (token or "").strip().encode()):
            raise PermissionDenied("the setup token is not right: copy it from the server console")
        _validate_new_user(cur, username, name, password, "admin")
        user_id = _insert_user(cur, username, name, password_hash, "admin")
        cur.execute("DELETE FROM settings WHERE key = ?", [SETUP_TOKEN])
        log_event(cur, "first_admin_created", user_id, details={"username": username})
        return user_id

    result = db.write(work)
    db.access_changed()
    return result


def set_role(db: Database, actor_id: int, user_id: int, role: str) -> None:
    if not is_role(role):
        raise StoreError(f"unknown role {role!r}")

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "admin")
        target = _user_by_id(cur, user_id)
        if target is None:
            raise StoreError("no such user")
        if target.role == "admin" and role != "admin":
            _refuse_removing_last_admin(cur, user_id)
        cur.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])
        if role != target.role:
            end_user_sessions(cur, user_id, "role_changed")
        log_event(cur, "role_changed", actor_id,
                  details={"username": target.username, "from": target.role, "to": role})

    db.write(work)
    db.access_changed()


def _refuse_removing_last_admin(cur: duckdb.DuckDBPyConnection, user_id: int) -> None:
    others = cur.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND active AND id <> ?", [user_id]
    ).fetchone()[0]
    if not others:
        raise StoreError("this is the last active admin: make someone else admin first")


def set_password(db: Database, actor_id: int | None, user_id: int, password: str) -> None:
    """A person changes their own password, or an admin resets it (`actor_id=None` is the
    operator's CLI). Every session of the person ends: a copied cookie stops working."""
    password = accounts.normalise_password(password)
    target = get_user(db, user_id)
    if target is None:
        raise StoreError("no such user")
    problem = accounts.password_problem(password, target.username, target.name)
    if problem:
        raise StoreError(problem)
    password_hash = hash_password(password)

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        if actor_id is not None and actor_id != user_id:
            require_role(cur, actor_id, "admin")
        cur.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])
        end_user_sessions(cur, user_id, "password_reset")
        clear_login_failures(cur, target.username)
        log_event(cur, "password_reset", actor_id, details={"username": target.username})

    db.write(work)


def set_active(db: Database, actor_id: int, user_id: int, active: bool) -> None:
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        require_role(cur, actor_id, "admin")
        target = _user_by_id(cur, user_id)
        if target is None:
            raise StoreError("no such user")
        if not active and target.role == "admin":
            _refuse_removing_last_admin(cur, user_id)
        cur.execute("UPDATE users SET active = ? WHERE id = ?", [active, user_id])
        if not active:
            end_user_sessions(cur, user_id, "deactivated")
        log_event(cur, "user_activated" if active else "user_deactivated", actor_id,
                  details={"username": target.username})

    db.write(work)
    db.access_changed()


@dataclass(frozen=True)
class LoginRecord:
    username: str
    name: str
    password_hash: str
    role: str


def login_record(db: Database, username: str) -> LoginRecord | None:
    """The active account a login form names, as the password check needs it."""
    with db.read() as cur:
        row = cur.execute("SELECT username, name, password_hash, role FROM users "
                          "WHERE username = ? AND active", [username]).fetchone()
    return LoginRecord(*row) if row else None


def record_login_result(db: Database, username: str, address: str | None, ok: bool,
                        method: str = "password") -> None:
    """After the password check: clear the name's failures from this address after a good
    one (the attempt was counted as a failure beforehand, see `claim_login_attempt`); both
    outcomes are events. An unknown name is not written down (people type passwords there)."""
    def work(cur: duckdb.DuckDBPyConnection) -> None:
        row = cur.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
        user_id = row[0] if row else None
        if ok:
            clear_login_failures(cur, username, address)
            log_event(cur, "login", user_id, details={"method": method})
        else:
            log_event(cur, "login_failed", user_id,
                      details=None if user_id else {"unknown_name": True})

    db.write(work)


def unlock_logins(db: Database, username: str) -> None:
    """The operator clears a name's failed-login delays (`cli.py unlock`)."""
    username = (username or "").strip().lower()

    def work(cur: duckdb.DuckDBPyConnection) -> None:
        row = cur.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise StoreError(f"no user {username!r}")
        clear_login_failures(cur, username)
        log_event(cur, "logins_unlocked", None, details={"username": username})

    db.write(work)
