"""Issue 9, point 6: every password check is throttled like sign-in.

A stolen session must not be able to guess the current password on the change-password form
without limit (then replace the password and the second factor); and a flood of sign-in
attempts must not turn Argon2 into a way to load the server.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.test import Client
from pytest_django.fixtures import Settings

from defensa.accounts import hashers
from defensa.accounts.hashers import PasswordBusy, ThrottledArgon2PasswordHasher
from defensa.audit.models import AuditEntry
from defensa.core.slots import Slots
from defensa.core.testing import PASSWORD, sign_in

NEW_PASSWORD = "cactus-lantern-marimba-7"
URL = "/accounts/security/password/"


def _change(client: Client, old: str):  # type: ignore[no-untyped-def]
    return client.post(
        URL, {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )


@pytest.mark.django_db
def test_guessing_the_current_password_locks_the_account_and_ends_the_session(net) -> None:  # type: ignore[no-untyped-def]
    stolen = sign_in(Client(), net.mo)
    threshold = django_settings.LOCKOUT_THRESHOLD
    for i in range(threshold - 1):
        response = _change(stolen, f"guess-{i}")
        assert response.status_code == 200
        assert "Your current password is not right." in response.content.decode()
    locking = _change(stolen, "guess-last")
    assert locking.status_code == 302 and locking["Location"].startswith("/accounts/login/")
    net.mo.refresh_from_db()
    assert net.mo.is_locked
    assert AuditEntry.objects.filter(action="account_locked").count() == 1
    # The session that guessed is gone; the right password in it does nothing now.
    after = _change(stolen, PASSWORD)
    assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")
    # Another open session of the account cannot change it while locked, even rightly.
    other = sign_in(Client(), net.mo)
    refused = _change(other, PASSWORD)
    assert refused.status_code == 200
    assert "Your account is locked for" in refused.content.decode()
    net.mo.refresh_from_db()
    assert net.mo.check_password(PASSWORD) and not net.mo.check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_a_slip_then_the_right_password_changes_it_and_clears_the_count(net) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(Client(), net.mo)
    assert _change(client, "typo").status_code == 200
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 1
    assert _change(client, PASSWORD).status_code == 302
    net.mo.refresh_from_db()
    assert net.mo.check_password(NEW_PASSWORD) and net.mo.failed_logins == 0


def test_production_hasher_is_argon2id_with_the_same_hashes() -> None:
    hasher = ThrottledArgon2PasswordHasher()
    assert isinstance(hasher, Argon2PasswordHasher) and hasher.algorithm == "argon2"
    encoded = hasher.encode("correct horse battery", "c2FsdHNhbHQxMjM0")
    assert encoded.startswith("argon2$argon2id$")
    assert Argon2PasswordHasher().verify("correct horse battery", encoded)  # old hashes too
    assert hasher.verify("correct horse battery", encoded)


def test_setting_passwords_is_never_refused_so_commands_can_make_accounts() -> None:
    """bootstrap_network, seed_demo and tests' personas set several passwords in a row."""
    hasher = ThrottledArgon2PasswordHasher()
    for n in range(6):  # three times what the cap lets through in a second
        assert hasher.encode(f"password number {n}", f"c2FsdHNhbHQxMjM{n}").startswith("argon2$")


def test_the_cap_refuses_a_flood_and_lets_a_later_check_through() -> None:
    cap = Slots(1, wait_s=5, per_second=2, busy=PasswordBusy)
    # Attack: a burst of checks. Two (one at work, one waiting) start; the rest are refused.
    started = 0
    for _ in range(6):
        try:
            with cap.slot():
                started += 1
        except PasswordBusy:
            pass
    assert started == 2
    # The rate refills: half a second later one more check gets through.
    time.sleep(0.6)
    with cap.slot():
        pass


@pytest.mark.django_db
def test_a_flood_of_sign_ins_gets_503_and_sign_in_works_after(net, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["defensa.accounts.hashers.ThrottledArgon2PasswordHasher"]
    net.mo.password = make_password(PASSWORD)
    net.mo.save(update_fields=["password"])
    hashers.slots.reset()
    holding, release = threading.Event(), threading.Event()

    def occupy() -> None:
        # Real Argon2 checks in flight (as many as the cap admits, one at work, one waiting).
        with hashers.slots.slot():
            holding.set()
            release.wait(10)

    threads = [threading.Thread(target=occupy) for _ in range(hashers.slots.slots + 1)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    deadline = time.monotonic() + 5
    while hashers.slots._waiting < hashers.slots.max_waiting and time.monotonic() < deadline:
        time.sleep(0.01)
    client = Client()
    try:
        for email in (net.mo.email, "nobody@example.org"):  # known and unknown alike
            busy = client.post("/accounts/login/", {"email": email, "password": "guess-1"})
            assert busy.status_code == 503 and busy["Retry-After"] == "60"
            assert "Please try again in a minute" in busy.content.decode()
    finally:
        release.set()
        for thread in threads:
            thread.join()
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 0  # a refused check is not a failed one
    hashers.slots.reset()  # as a minute later
    ok = client.post("/accounts/login/", {"email": net.mo.email, "password": PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == "/accounts/login/second-step/"
    assert check_password(PASSWORD, net.mo.password)
