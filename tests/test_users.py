from datetime import timedelta

import pytest

from core.accounts import MAX_FAILED_LOGINS, is_locked_out
from store import users
from store.db import PermissionDenied, StoreError, utcnow
from store.settings import cookie_key
from tests.conftest import PASSWORD, table_counts


def test_first_admin_needs_the_setup_token(db):
    token = users.setup_token(db)
    assert token and len(token) >= 24
    assert users.setup_token(db) == token  # stable until used
    before = table_counts(db)
    with pytest.raises(PermissionDenied):
        users.create_first_admin(db, "wrong-token", "root", "Root", PASSWORD)
    assert table_counts(db) == before
    admin_id = users.create_first_admin(db, token, "Root", "Root", PASSWORD)
    assert users.get_user(db, admin_id).role == "admin"
    assert users.get_user(db, admin_id).username == "root"
    assert users.setup_token(db) is None
    with pytest.raises(PermissionDenied):
        users.create_first_admin(db, token, "second", "Second", PASSWORD)


def test_fixed_setup_token_from_environment(db, monkeypatch):
    monkeypatch.setenv("SAFELABEL_SETUP_TOKEN", "from-the-operator-123")
    assert users.setup_token(db) == "from-the-operator-123"


def test_cookie_key_is_random_per_installation_and_long(db, tmp_path):
    from store.db import open_database
    key = cookie_key(db)
    assert len(bytes.fromhex(key)) >= 32
    assert cookie_key(db) == key
    other = open_database(tmp_path / "other.duckdb")
    assert cookie_key(other) != key
    other.close()


def test_passwords_are_bcrypt_hashed(db, accounts):
    with db.read() as cur:
        stored = cur.execute("SELECT password_hash FROM users WHERE username = 'ann1'").fetchone()[0]
    assert stored.startswith("$2") and PASSWORD not in stored
    assert users.check_password(PASSWORD, stored)
    assert not users.check_password("nope-nope-nope", stored)


def test_only_admins_manage_accounts(db, accounts):
    with pytest.raises(PermissionDenied):
        users.create_user(db, accounts["lead"], "sneaky", "S", PASSWORD, "admin")
    with pytest.raises(PermissionDenied):
        users.set_role(db, accounts["ann1"], accounts["ann1"], "admin")
    users.set_role(db, accounts["admin"], accounts["ann1"], "lead")
    assert users.get_user(db, accounts["ann1"]).role == "lead"


def test_bad_account_fields_are_refused_with_a_reason(db, accounts):
    with pytest.raises(StoreError, match="8 characters"):
        users.create_user(db, accounts["admin"], "shorty", "S", "short", "annotator")
    with pytest.raises(StoreError, match="already taken"):
        users.create_user(db, accounts["admin"], "ANN1", "Dup", PASSWORD, "annotator")
    with pytest.raises(StoreError, match="unknown role"):
        users.create_user(db, accounts["admin"], "newbie", "N", PASSWORD, "boss")
    with pytest.raises(StoreError, match="username"):
        users.create_user(db, accounts["admin"], "<script>", "N", PASSWORD, "annotator")


def test_last_admin_cannot_be_demoted_or_deactivated(db, accounts):
    with pytest.raises(StoreError, match="last active admin"):
        users.set_role(db, accounts["admin"], accounts["admin"], "lead")
    with pytest.raises(StoreError, match="last active admin"):
        users.set_active(db, accounts["admin"], accounts["admin"], False)


def test_failed_logins_lock_the_account_for_a_while(db, accounts):
    for _ in range(MAX_FAILED_LOGINS):
        users.record_failed_login(db, "ann2")
    locked = {r.username: r.locked for r in users.login_records(db)}
    assert locked["ann2"] and not locked["ann1"]
    later = utcnow() + timedelta(minutes=16)
    assert not {r.username: r.locked for r in users.login_records(db, now=later)}["ann2"]
    users.record_login(db, "ann2", "login")
    assert not {r.username: r.locked for r in users.login_records(db)}["ann2"]


def test_lockout_rule():
    now = utcnow()
    assert is_locked_out(5, now - timedelta(minutes=1), now)
    assert not is_locked_out(4, now, now)
    assert not is_locked_out(5, now - timedelta(minutes=20), now)


def test_deactivated_accounts_cannot_log_in_or_work(db, accounts):
    users.set_active(db, accounts["admin"], accounts["ann3"], False)
    assert "ann3" not in {r.username for r in users.login_records(db)}


def test_preferences_can_be_changed_again_and_again(db, accounts):
    from store.preferences import get_preference, set_preference
    assert get_preference(db, accounts["ann1"], "show_masked_terms", False) is False
    set_preference(db, accounts["ann1"], "show_masked_terms", True)
    set_preference(db, accounts["ann1"], "show_masked_terms", False)
    set_preference(db, accounts["ann1"], "show_masked_terms", True)
    assert get_preference(db, accounts["ann1"], "show_masked_terms") is True
    assert get_preference(db, accounts["ann2"], "show_masked_terms") is None
