from datetime import timedelta

import pytest

from core import accounts
from store import login_throttle, sessions, users
from store.db import PermissionDenied, StoreError, utcnow
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


def test_the_data_file_holds_no_key_that_opens_a_login(tmp_path):
    """Before: a cookie-signing key sat in `settings`, so reading the file let anyone forge
    an admin cookie. Now sessions are random tokens and only their hashes are stored."""
    from store.bootstrap import open_app_database
    db = open_app_database(tmp_path / "d" / "safelabel.duckdb", demo=False)
    admin = users.create_user(db, None, "admin", "Admin", PASSWORD, "admin")
    token = sessions.start_session(db, admin)
    with db.read() as cur:
        keys = [r[0] for r in cur.execute("SELECT key FROM settings").fetchall()]
        stored = cur.execute("SELECT token_sha256 FROM sessions").fetchall()
    assert "cookie_key" not in keys
    assert stored == [(sessions.token_sha256(token),)] and token != stored[0][0]
    assert sessions.session_user_id(db, token) == admin       # the hash is what is checked
    assert sessions.session_user_id(db, stored[0][0]) is None  # the stored value opens nothing
    db.close()


def test_database_file_and_folder_are_owner_only(tmp_path):
    from store.bootstrap import open_app_database
    path = tmp_path / "fresh" / "safelabel.duckdb"
    db = open_app_database(path, demo=False)
    db.close()
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


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


def test_throttle_delays_grow_and_an_outsider_cannot_lock_the_owner_out():
    now = utcnow()
    assert accounts.ACCOUNT_AT_ADDRESS.delay(3) == timedelta(0)
    delays = [accounts.ACCOUNT_AT_ADDRESS.delay(n).total_seconds() for n in range(4, 9)]
    assert delays == [1, 2, 4, 8, 16]
    assert accounts.ACCOUNT_AT_ADDRESS.delay(40) == timedelta(minutes=15)
    # An attacker at 10.0.0.9 failing 40 times on "admin"...
    attacker = accounts.throttle_keys("admin", "10.0.0.9")
    counts = {key: (40, now) for key in attacker}
    assert accounts.wait_before_next_attempt(counts, attacker, now) == timedelta(minutes=15)
    # ...costs the admin at her own address at most the anywhere-cap, never a lock.
    owner = accounts.throttle_keys("admin", "10.0.0.2")
    assert accounts.wait_before_next_attempt(counts, owner, now) == timedelta(seconds=30)
    # Old failures are forgotten.
    assert accounts.wait_before_next_attempt(counts, attacker, now + timedelta(days=2)) == timedelta(0)


def test_unknown_names_are_throttled_exactly_like_real_ones(db, accounts):
    for name in ("ann2", "nobody-here"):
        passed = [login_throttle.claim_login_attempt(db, name, "10.1.1.1") for _ in range(5)]
        # Three failures are free, the fourth attempt is still checked, the fifth must wait
        # (and, refused unchecked, is not counted).
        assert [w == timedelta(0) for w in passed] == [True, True, True, True, False], name
    real = login_throttle.wait_before_login(db, "ann2", "10.1.1.1")
    unknown = login_throttle.wait_before_login(db, "nobody-here", "10.1.1.1")
    assert timedelta(0) < real <= timedelta(seconds=1)
    assert timedelta(0) < unknown <= timedelta(seconds=1)
    assert login_throttle.wait_before_login(db, "ann2", "10.1.1.2") == timedelta(0)
    assert login_throttle.wait_before_login(db, "ann1", "10.1.1.1") == timedelta(0)  # control
    users.unlock_logins(db, "ann2")
    assert login_throttle.wait_before_login(db, "ann2", "10.1.1.1") == timedelta(0)
    users.record_login_result(db, "nobody-here", "10.1.1.1", True)   # a good login clears
    assert login_throttle.wait_before_login(db, "nobody-here", "10.1.1.1") == timedelta(0)


def test_attempts_sent_at_once_cannot_all_pass_one_check(db, accounts):
    """30 sessions submitting a guess at the same moment: each attempt is counted before its
    password is checked, in one transaction, so only the free ones get through."""
    import threading
    waits, lock = [], threading.Lock()

    def attempt() -> None:
        wait = login_throttle.claim_login_attempt(db, "admin", "10.9.9.9")
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(waits) == 30
    assert sum(w == timedelta(0) for w in waits) == 4


def test_bcrypt_runs_for_unknown_names_too():
    """The dummy hash has the installation's work factor, so checking a password against
    it costs what checking a real one does."""
    dummy = users.dummy_password_hash()
    real = users.hash_password(PASSWORD)
    assert dummy.split("$")[2] == real.split("$")[2]
    assert not users.check_password(PASSWORD, dummy)


@pytest.mark.parametrize("password", ["password", "12345678", "ann-weak", "qwertyuiop",
                                      "ann-weakann-weak"])
def test_common_and_personal_passwords_are_refused(db, accounts, password):
    before = table_counts(db)
    with pytest.raises(StoreError, match="too easy|username|at least"):
        users.create_user(db, accounts["admin"], "ann-weak", "Ann Weak", password, "annotator")
    assert table_counts(db) == before
    with pytest.raises(StoreError):
        users.set_password(db, accounts["admin"], accounts["ann1"], password if password != "ann-weak" else "ann1")


def test_a_good_password_is_accepted(db, accounts):
    users.create_user(db, accounts["admin"], "ann-strong", "Ann Strong", "lantern-orbit-27", "annotator")
    users.set_password(db, accounts["admin"], accounts["ann1"], "copper-meadow-trail")


def test_spaces_around_a_password_are_treated_alike_at_creation_and_login(db, accounts):
    users.create_user(db, accounts["admin"], "spacey", "Spacey", "  lantern-orbit-27 ", "annotator")
    record = users.login_record(db, "spacey")
    # The login form strips what is typed, so the stored hash must be of the stripped form.
    assert users.check_password("lantern-orbit-27", record.password_hash)


def test_password_reset_role_change_and_deactivation_end_every_session(db, accounts):
    admin = accounts["admin"]
    tokens = {name: sessions.start_session(db, accounts[name]) for name in ("ann1", "ann2", "ann3")}
    control = sessions.start_session(db, accounts["lead"])
    users.set_password(db, admin, accounts["ann1"], "copper-meadow-trail")
    users.set_role(db, admin, accounts["ann2"], "lead")
    users.set_active(db, admin, accounts["ann3"], False)
    for name, token in tokens.items():
        assert sessions.session_user_id(db, token) is None, name
    assert sessions.session_user_id(db, control) == accounts["lead"]
    with db.read() as cur:
        why = dict(cur.execute("SELECT user_id, ended_why FROM sessions WHERE ended_at IS NOT NULL").fetchall())
    assert why == {accounts["ann1"]: "password_reset", accounts["ann2"]: "role_changed",
                   accounts["ann3"]: "deactivated"}


def test_logout_ends_the_session_and_activation_is_one_time(db, accounts):
    activation = sessions.begin_login(db, accounts["ann1"])
    token, left = sessions.activate_session(db, activation)
    assert timedelta(days=6) < left <= sessions.SESSION_LIFETIME
    assert sessions.activate_session(db, activation) is None          # used
    assert sessions.session_user_id(db, token) == accounts["ann1"]
    assert sessions.end_session(db, token)
    assert sessions.session_user_id(db, token) is None
    stale = sessions.begin_login(db, accounts["ann1"])
    db.write(lambda cur: cur.execute("UPDATE sessions SET created_at = created_at - INTERVAL 3 MINUTE "
                                     "WHERE activated_at IS NULL"))
    assert sessions.activate_session(db, stale) is None               # too old


def test_deactivated_accounts_cannot_log_in_or_work(db, accounts):
    from store.imports import import_file
    from store.work import claim_next_item
    from tests.conftest import make_project
    from tests.helpers import label_rows, write_jsonl
    import tempfile
    from pathlib import Path
    project = make_project(db, accounts)
    with tempfile.TemporaryDirectory() as folder:
        import_file(db, accounts["lead"], project, write_jsonl(Path(folder) / "i.jsonl", label_rows(3)))
    assert claim_next_item(db, accounts["ann3"], project) is not None   # works while active
    users.set_active(db, accounts["admin"], accounts["ann3"], False)
    assert users.login_record(db, "ann3") is None
    assert users.login_record(db, "ann2") is not None
    with pytest.raises(PermissionDenied):
        claim_next_item(db, accounts["ann3"], project)
    assert claim_next_item(db, accounts["ann2"], project) is not None


def test_preferences_can_be_changed_again_and_again(db, accounts):
    from store.preferences import get_preference, set_preference
    assert get_preference(db, accounts["ann1"], "show_masked_terms", False) is False
    set_preference(db, accounts["ann1"], "show_masked_terms", True)
    set_preference(db, accounts["ann1"], "show_masked_terms", False)
    set_preference(db, accounts["ann1"], "show_masked_terms", True)
    assert get_preference(db, accounts["ann1"], "show_masked_terms") is True
    assert get_preference(db, accounts["ann2"], "show_masked_terms") is None
