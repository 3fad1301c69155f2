"""Remembering, for a few minutes, that a signer just typed their password correctly.

Every signature asks the signer to type their password again, and checking it
against the stored scrypt hash costs 50-130 ms of CPU on purpose. A safety
officer on the morning round signs one patrol after another with the same
password, and at a city platform's rate of submissions those repeated checks
were most of the server's work (docs/performance.md, "Patrol submission").

After a successful check this process keeps, for ``SIGNING_RECHECK_SECONDS``
(default 600; 0 turns it off), a derived key of (user, session version,
stored hash, password): PBKDF2-HMAC-SHA256 of the password, salted with a
random secret made at start-up and never written anywhere. The next signature
of the same user with the same password within that time is checked against it
(about 1 ms) instead of scrypt. What this does not change:

* a wrong password never matches a remembered entry, so it always costs a full
  scrypt check and is refused as before;
* a password change, a deactivation (which bumps the session version) or a
  restart makes the remembered entries useless;
* logging in always checks scrypt (auth/services.py does not use this).

Someone able to read this process's memory could try passwords against the
remembered keys faster than against scrypt; such an attacker can read the
passwords themselves as users type them, so nothing is lost that was not lost
already. Each process keeps at most ``MAX_ENTRIES`` entries.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections import OrderedDict

from elevator_safety.auth.models import User

#: PBKDF2 rounds of a remembered key: about 1 ms, against scrypt's 50-130 ms.
ROUNDS = 1000
MAX_ENTRIES = 10_000

_salt = os.urandom(32)
_lock = threading.Lock()
#: (user id, session version, stored hash) -> (derived key, monotonic time remembered).
_entries: OrderedDict[tuple[int, int, str], tuple[bytes, float]] = OrderedDict()


def _key(user: User) -> tuple[int, int, str]:
    return (user.id, user.session_version or 0, user.password_hash or "")


def _derive(password: str) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), _salt, ROUNDS)


def check(user: User, password: str, ttl_seconds: float) -> bool:
    """Return whether the password is the user's: from a recent success, else with scrypt."""
    if ttl_seconds > 0:
        derived = _derive(password)
        with _lock:
            found = _entries.get(_key(user))
        if found is not None:
            remembered, at = found
            if time.monotonic() - at <= ttl_seconds and hmac.compare_digest(remembered, derived):
                return True
    if not user.check_password(password):
        return False
    if ttl_seconds > 0:
        with _lock:
            _entries[_key(user)] = (derived, time.monotonic())
            _entries.move_to_end(_key(user))
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return True


def forget_all() -> None:
    """Forget every remembered password (tests)."""
    with _lock:
        _entries.clear()
