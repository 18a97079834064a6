"""Argon2id, at most so many at once and so many a second in each web process.

Every password check costs ~100 MB of memory and tens of milliseconds of every core (that is
what makes guessing slow). Sign-in is public: without a cap, a flood of sign-in attempts with
any email is a cheap way to load the server. The cap is per process and counts nothing about
who asks (no address is kept): during such a flood some real sign-ins are refused too, with
"try again in a minute" (docs/security.md, property 10). Lockout per account is unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

from defensa.core.slots import Busy, Slots


class PasswordBusy(Busy):
    """Too many password checks in this process right now (a 503 page: accounts/middleware)."""


slots = Slots(
    settings.PASSWORD_CHECKS_AT_ONCE,
    wait_s=settings.PASSWORD_CHECK_WAIT_SECONDS,
    per_second=settings.PASSWORD_CHECKS_PER_SECOND,
    busy=PasswordBusy,
)


class ThrottledArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher (same algorithm name and hashes), its checks behind the
    process's cap.

    Only checking a password is capped: that is what anyone can ask for (sign-in, the
    change-password form). Setting one follows an invitation token or a signed-in person's
    own form, and the commands that create accounts (bootstrap_network, seed_demo, tests'
    personas) must never be refused for making several at once.
    """

    def verify(self, password: str, encoded: str) -> bool:
        with slots.slot():
            return super().verify(password, encoded)
