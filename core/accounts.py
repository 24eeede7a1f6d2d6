"""Rules for account fields, passwords and login throttling, independent of storage."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

MIN_PASSWORD_LENGTH = 8
# zxcvbn's score 3 is "safely unguessable: moderate protection from an offline slow-hash
# attack"; below it sit the common passwords, keyboard walks and repeats.
MIN_PASSWORD_SCORE = 3

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")


def username_problem(username: str) -> str | None:
    """Why `username` is not acceptable, or None."""
    if not _USERNAME.match(username or ""):
        return ("a username is 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit")
    return None


def normalise_password(password: str | None) -> str:
    """The password as it is stored and checked. The login form strips surrounding spaces
    (streamlit-authenticator does), so creation strips them too: otherwise a password with a
    trailing space could be set but never used."""
    return (password or "").strip()


def password_problem(password: str, username: str = "", name: str = "") -> str | None:
    """Why `password` (already normalised) is not acceptable, or None."""
    from zxcvbn import zxcvbn

    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password.encode("utf-8")) > 72:
        return "a password may be at most 72 bytes (bcrypt's limit)"
    lowered = password.lower()
    for personal in (username, name):
        personal = (personal or "").strip().lower()
        if len(personal) >= 3 and personal in lowered and len(lowered) < 2 * len(personal) + 8:
            return "the password may not be (mostly) the username or display name"
    verdict = zxcvbn(password, user_inputs=[u for u in (username, name) if u])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        return (f"this password is too easy to guess ({hint.rstrip('.')}): use a longer one, "
                "for example three or four unrelated words")
    return None


# Login throttling. Failures are counted per key, and each key has its own ladder of delays
# (a wait before the next attempt is even checked) instead of a hard lock that an outsider
# could hold shut: from the person's own address, an attacker elsewhere can only slow an
# account down to one try per ACCOUNT_CAP.
class ThrottleRule:
    def __init__(self, free: int, cap: timedelta) -> None:
        self.free = free   # failures allowed before any delay
        self.cap = cap     # the longest delay

    def delay(self, failures: int) -> timedelta:
        """The wait after `failures` failures in a row: 1 s, 2 s, 4 s, ... up to the cap."""
        over = failures - self.free
        if over <= 0:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(over - 1, 20)), self.cap)


# A name at one address: the guessing that matters; grows to 15 minutes.
ACCOUNT_AT_ADDRESS = ThrottleRule(free=3, cap=timedelta(minutes=15))
# One address, any names: spraying many accounts.
ADDRESS = ThrottleRule(free=10, cap=timedelta(minutes=5))
# A name from anywhere: slows guessing spread over many addresses, never a lock.
ACCOUNT_ANYWHERE = ThrottleRule(free=10, cap=timedelta(seconds=30))
# Counts reset after this long without a failure.
FAILURE_MEMORY = timedelta(hours=24)


def throttle_keys(username: str, address: str | None) -> dict[str, ThrottleRule]:
    """The counters one login attempt touches. Unknown names get the same keys as real ones,
    so the answer and its timing never tell whether an account exists."""
    name = (username or "").strip().lower()[:64]
    where = address or "local"
    return {f"user:{name}@{where}": ACCOUNT_AT_ADDRESS, f"addr:{where}": ADDRESS,
            f"user:{name}": ACCOUNT_ANYWHERE}


def wait_before_next_attempt(counts: dict[str, tuple[int, datetime]],
                             rules: dict[str, ThrottleRule], now: datetime) -> timedelta:
    """How long the person must still wait, given {key: (failures, last failure)}."""
    wait = timedelta(0)
    for key, rule in rules.items():
        failures, last = counts.get(key, (0, None))
        if not failures or last is None or now - last > FAILURE_MEMORY:
            continue
        remaining = last + rule.delay(failures) - now
        wait = max(wait, remaining)
    return wait
