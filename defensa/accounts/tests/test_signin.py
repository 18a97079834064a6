"""Sign-in in two steps, passkey rules and lockout (security properties 8, 10)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from defensa.accounts.middleware import SESSION_FACTOR
from defensa.accounts.models import User
from defensa.accounts.tests.authenticator import SoftAuthenticator
from defensa.accounts.tests.conftest import (
    fresh_code,
    passkey_for,
    post_password,
    sign_in_with_code,
    sign_in_with_passkey,
    wrong_code,
)
from defensa.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_password_alone_does_not_sign_in(client, net):
    response = post_password(client, net.mo)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/second-step/"
    assert SESSION_KEY not in client.session
    # The pending person still cannot reach signed-in pages.
    assert client.get("/accounts/").status_code == 302


def test_code_finishes_sign_in_and_is_audited(client, net):
    response = sign_in_with_code(client, net.mo)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/"
    assert client.session[SESSION_KEY] == str(net.mo.pk)
    assert client.session[SESSION_FACTOR] == "totp"
    assert client.get("/accounts/").status_code == 200
    entry = AuditEntry.objects.get(action="sign_in")
    assert (entry.actor_id, entry.object_id, entry.data) == (
        net.mo.pk,
        str(net.mo.pk),
        {"factor": "totp"},
    )


def test_email_is_case_insensitive_and_next_is_kept(client, net):
    response = post_password(client, "  MO@Example.org ", next="/accounts/security/")
    assert response.status_code == 302
    response = client.post("/accounts/login/second-step/", {"code": fresh_code(net.mo)})
    assert response["Location"] == "/accounts/security/"


def test_next_to_another_site_is_ignored(client, net):
    post_password(client, net.mo, next="https://evil.example/")
    response = client.post("/accounts/login/second-step/", {"code": fresh_code(net.mo)})
    assert response["Location"] == "/accounts/"


def test_unknown_email_and_wrong_password_look_the_same(client, net):
    unknown = post_password(client, "nobody@example.org")
    wrong = post_password(client, net.mo, "not-the-password")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].non_field_errors() == wrong.context["form"].non_field_errors()
    assert b"did not work" in unknown.content
    assert SESSION_KEY not in client.session


def test_a_used_code_cannot_be_replayed(client, net):
    code = fresh_code(net.mo)
    post_password(client, net.mo)
    assert client.post("/accounts/login/second-step/", {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    post_password(client, net.mo)
    response = client.post("/accounts/login/second-step/", {"code": code})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert b"That code did not work" in response.content


def test_wrong_code_is_refused_next_to_the_field(client, net):
    post_password(client, net.mo)
    response = client.post("/accounts/login/second-step/", {"code": wrong_code(net.mo)})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "x" * 500])
def test_malformed_code_gets_a_clear_error(client, net, code):
    post_password(client, net.mo)
    response = client.post("/accounts/login/second-step/", {"code": code})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert SESSION_KEY not in client.session


def test_pending_sign_in_expires_after_five_minutes(client, net):
    post_password(client, net.mo)
    session = client.session
    session["defensa_pending_at"] = time.time() - 301
    session.save()
    response = client.post("/accounts/login/second-step/", {"code": fresh_code(net.mo)})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in client.session
    assert "defensa_pending_uid" not in client.session
    follow = client.get("/accounts/login/")
    assert b"took too long" in follow.content


def test_second_step_without_password_step_goes_back(client, net):
    response = client.get("/accounts/login/second-step/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_signed_in_person_skips_the_sign_in_page(client_as, net):
    client = client_as(net.mo)
    assert client.get("/accounts/login/")["Location"] == "/accounts/"


# Passkeys for coordinators and admins (property 8).


def test_coordinator_with_passkey_cannot_use_a_code(client, net):
    passkey_for(net.ana, SoftAuthenticator())
    post_password(client, net.ana)
    page = client.get("/accounts/login/second-step/")
    assert page.context["totp_allowed"] is False
    assert b'name="code"' not in page.content
    response = client.post("/accounts/login/second-step/", {"code": fresh_code(net.ana)})
    assert response.status_code == 200
    assert b"Your role needs your passkey" in response.content
    assert SESSION_KEY not in client.session
    # Refusing the factor is not a failed try: the code may well have been right.
    net.ana.refresh_from_db()
    assert net.ana.failed_logins == 0


def test_coordinator_signs_in_with_passkey(client, net):
    auth = SoftAuthenticator()
    passkey_for(net.ana, auth)
    post_password(client, net.ana)
    response = sign_in_with_passkey(client, auth)
    assert response.status_code == 200, response.content
    assert response.json() == {"redirect": "/accounts/"}
    assert client.session[SESSION_FACTOR] == "passkey"
    # Not sent to the security page: a passkey was used.
    assert client.get("/accounts/").status_code == 200
    assert AuditEntry.objects.filter(action="sign_in", data__factor="passkey").count() == 1
    passkey = net.ana.passkeys.get()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_admin_without_passkey_signs_in_with_code_then_must_add_one(client, net):
    response = sign_in_with_code(client, net.admin)
    assert response.status_code == 302
    assert SESSION_KEY in client.session
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/"
    assert client.get("/accounts/security/").status_code == 200


def test_demo_mode_accepts_codes_from_coordinators(client, net, settings):
    settings.DEMO = True
    passkey_for(net.ana, SoftAuthenticator())
    post_password(client, net.ana)
    page = client.get("/accounts/login/second-step/")
    assert b"Demo:" in page.content
    assert client.get("/accounts/login/").content.count(b"Demo:") == 1
    response = client.post("/accounts/login/second-step/", {"code": fresh_code(net.ana)})
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_member_without_any_factor_is_told_to_ask_for_help(client, net):
    net.mo.totp.delete()
    post_password(client, net.mo)
    page = client.get("/accounts/login/second-step/")
    assert b"cannot sign in" in page.content
    response = client.post("/accounts/login/second-step/", {"code": "123456"})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


# Lockout per account, storing no IP (property 10).


def _lock_with_passwords(client, user: User, settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(settings.LOCKOUT_THRESHOLD):
        post_password(client, user, "not-the-password")


def test_lockout_after_threshold_refuses_even_the_right_password(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 3
    _lock_with_passwords(client, net.mo, settings)
    net.mo.refresh_from_db()
    assert net.mo.is_locked
    locked = post_password(client, net.mo)
    unknown = post_password(client, "nobody@example.org")
    assert locked.status_code == unknown.status_code == 200
    # Same words for a locked account and for an email nobody has: no enumeration.
    assert locked.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert b"locked for 15 minutes" in locked.content
    assert "defensa_pending_uid" not in client.session
    entry = AuditEntry.objects.get(action="account_locked")
    assert entry.object_id == str(net.mo.pk)
    assert entry.actor_id is None


def test_lockout_ends_after_its_minutes(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 2
    _lock_with_passwords(client, net.mo, settings)
    net.mo.refresh_from_db()
    assert net.mo.is_locked
    # The lock's minutes have passed.
    User.objects.filter(pk=net.mo.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    response = sign_in_with_code(client, net.mo)
    assert response.status_code == 302
    net.mo.refresh_from_db()
    assert (net.mo.failed_logins, net.mo.locked_until) == (0, None)


def test_wrong_codes_count_towards_lockout(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 3
    post_password(client, net.mo)
    bad = wrong_code(net.mo)
    client.post("/accounts/login/second-step/", {"code": bad})
    client.post("/accounts/login/second-step/", {"code": bad})
    response = client.post("/accounts/login/second-step/", {"code": bad})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "defensa_pending_uid" not in client.session
    assert b"locked for 15 minutes" in client.get("/accounts/login/").content
    net.mo.refresh_from_db()
    assert net.mo.is_locked
    assert AuditEntry.objects.filter(action="account_locked").count() == 1


def test_lock_during_second_step_stops_it(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 2
    post_password(client, net.mo)
    other = client.__class__()
    _lock_with_passwords(other, net.mo, settings)
    response = client.post("/accounts/login/second-step/", {"code": fresh_code(net.mo)})
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_success_resets_the_failure_count(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 3
    post_password(client, net.mo, "nope-nope-nope")
    post_password(client, net.mo, "nope-nope-nope")
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 2
    sign_in_with_code(client, net.mo)
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 0


def test_right_password_alone_does_not_reset_the_count(client, net, settings):
    # Otherwise someone with the password could guess codes for ever.
    post_password(client, net.mo, "nope-nope-nope")
    post_password(client, net.mo)
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 1


def test_inactive_account_cannot_sign_in(client, net):
    User.objects.filter(pk=net.mo.pk).update(is_active=False)
    response = post_password(client, net.mo)
    assert response.status_code == 200
    assert b"did not work" in response.content


def test_lockout_columns_hold_no_request_metadata(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 1
    client.post(
        "/accounts/login/",
        {"email": net.mo.email, "password": "x"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Agent/7.7",
    )
    net.mo.refresh_from_db()
    assert net.mo.is_locked
    for entry in AuditEntry.objects.all():
        assert "203.0.113.9" not in str(entry.data) and "Agent" not in str(entry.data)


def test_sign_in_switches_to_the_persons_own_language(client, net):
    # Dani prefers Spanish; this browser asked for English.
    post_password(client, net.dani)
    response = client.post(
        "/accounts/login/second-step/",
        {"code": fresh_code(net.dani)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.cookies["django_language"].value == "es"
    page = client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="es" dir="ltr">' in page.content.decode()
    # A failed attempt does not touch the language.
    client.post("/accounts/logout/")
    post_password(client, net.mo)
    response = client.post("/accounts/login/second-step/", {"code": wrong_code(net.mo)})
    assert "django_language" not in response.cookies
