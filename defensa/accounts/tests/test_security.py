"""The security page: credentials, and every credential change ending other sessions (11)."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from defensa.accounts.actions import deactivate_user
from defensa.accounts.models import Passkey, TOTPDevice
from defensa.accounts.tests.authenticator import SoftAuthenticator
from defensa.accounts.tests.conftest import passkey_for, register_passkey
from defensa.audit.models import AuditEntry
from defensa.core.testing import PASSWORD, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "cactus-lantern-marimba-7"


def two_sessions(user) -> tuple[Client, Client]:  # type: ignore[no-untyped-def]
    here, elsewhere = Client(), Client()
    sign_in(here, user)
    sign_in(elsewhere, user)
    assert elsewhere.get("/accounts/").status_code == 200
    return here, elsewhere


def assert_only_here(here: Client, elsewhere: Client) -> None:
    assert here.get("/accounts/").status_code == 200
    response = elsewhere.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_security_page_lists_what_is_set_up(client, net):
    passkey_for(net.ana, SoftAuthenticator(), name="Ana's phone")
    sign_in(client, net.ana)
    page = client.get("/accounts/security/")
    assert page.status_code == 200
    assert "Ana&#x27;s phone" in page.content.decode()
    assert b"Your role needs a passkey" in page.content
    assert b"Move to a new phone or app" in page.content
    assert b"accounts/passkey.js" in page.content
    assert b"<script>" not in page.content  # the CSP forbids inline script


def test_change_password_ends_other_sessions(net):
    here, elsewhere = two_sessions(net.mo)
    response = here.post(
        "/accounts/security/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert_only_here(here, elsewhere)
    net.mo.refresh_from_db()
    assert net.mo.check_password(NEW_PASSWORD)
    assert AuditEntry.objects.filter(action="password_changed").count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            "old_password",
        ),
        (
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": "other-thing-99",
            },
            "new_password2",
        ),
        (
            {
                "old_password": PASSWORD,
                "new_password1": "password123",
                "new_password2": "password123",
            },
            "new_password1",
        ),
        (
            {"old_password": PASSWORD, "new_password1": "x" * 300, "new_password2": "x" * 300},
            "new_password1",
        ),
        ({"old_password": PASSWORD, "new_password1": "", "new_password2": ""}, "new_password1"),
    ],
)
def test_bad_password_change_changes_nothing(client, net, data, field):
    sign_in(client, net.mo)
    epoch = net.mo.session_epoch
    response = client.post("/accounts/security/password/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert b"error-summary" in response.content
    net.mo.refresh_from_db()
    assert net.mo.check_password(PASSWORD)
    assert net.mo.session_epoch == epoch
    assert not AuditEntry.objects.exists()


def test_totp_setup_shows_qr_and_secret_and_needs_a_code(client, net):
    here, elsewhere = two_sessions(net.mo)
    old_secret = net.mo.totp.secret
    page = here.get("/accounts/security/authenticator/")
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret != old_secret
    assert b"<svg" in page.content
    shown = page.context["secret_blocks"]
    assert shown.replace(" ", "") == secret
    assert shown.encode() in page.content
    # Not in effect before a code confirms it.
    assert TOTPDevice.objects.get(user=net.mo).secret == old_secret

    wrong = here.post("/accounts/security/authenticator/", {"code": "000000"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["code"]
    assert wrong.context["secret"] == secret
    assert TOTPDevice.objects.get(user=net.mo).secret == old_secret
    elsewhere_still = elsewhere.get("/accounts/")
    assert elsewhere_still.status_code == 200

    response = here.post("/accounts/security/authenticator/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=net.mo).secret == secret
    assert_only_here(here, elsewhere)
    assert AuditEntry.objects.filter(action="totp_replaced").count() == 1


def test_first_totp_setup(client, net):
    net.mo.totp.delete()
    sign_in(client, net.mo)
    secret = client.get("/accounts/security/authenticator/").context["secret"]
    client.post("/accounts/security/authenticator/", {"code": pyotp.TOTP(secret).now()})
    assert TOTPDevice.objects.get(user=net.mo).confirmed_at is not None
    assert AuditEntry.objects.filter(action="totp_set").count() == 1


def test_adding_a_passkey_ends_other_sessions(net):
    here, elsewhere = two_sessions(net.mo)
    assert register_passkey(here, SoftAuthenticator()).status_code == 200
    assert_only_here(here, elsewhere)


def test_removing_a_passkey_ends_other_sessions(net):
    passkey = passkey_for(net.mo, SoftAuthenticator())
    here, elsewhere = two_sessions(net.mo)
    response = here.post(f"/accounts/security/passkeys/{passkey.pk}/remove/")
    assert response.status_code == 302
    assert not Passkey.objects.exists()
    assert_only_here(here, elsewhere)
    assert AuditEntry.objects.filter(action="passkey_removed").count() == 1


def test_coordinator_cannot_remove_the_last_passkey(client, net):
    first = passkey_for(net.ana, SoftAuthenticator())
    sign_in(client, net.ana)
    response = client.post(f"/accounts/security/passkeys/{first.pk}/remove/", follow=True)
    assert b"last passkey" in response.content
    assert Passkey.objects.filter(pk=first.pk).exists()
    second = passkey_for(net.ana, SoftAuthenticator())
    client.post(f"/accounts/security/passkeys/{first.pk}/remove/")
    assert list(Passkey.objects.all()) == [second]


def test_member_without_totp_cannot_remove_the_only_passkey(client, net):
    only = passkey_for(net.mo, SoftAuthenticator())
    net.mo.totp.delete()
    sign_in(client, net.mo)
    client.post(f"/accounts/security/passkeys/{only.pk}/remove/")
    assert Passkey.objects.filter(pk=only.pk).exists()


def test_rename_passkey(client, net):
    passkey = passkey_for(net.mo, SoftAuthenticator())
    sign_in(client, net.mo)
    client.post(f"/accounts/security/passkeys/{passkey.pk}/rename/", {"name": " Work  laptop "})
    passkey.refresh_from_db()
    assert passkey.name == "Work laptop"
    response = client.post(
        f"/accounts/security/passkeys/{passkey.pk}/rename/", {"name": "   "}, follow=True
    )
    assert (
        b"Give the passkey a name" in response.content
        or b"This field is required" in response.content
    )
    passkey.refresh_from_db()
    assert passkey.name == "Work laptop"


def test_someone_elses_passkey_is_not_found(client, net):
    theirs = passkey_for(net.ana, SoftAuthenticator())
    sign_in(client, net.mo)
    assert client.post(f"/accounts/security/passkeys/{theirs.pk}/remove/").status_code == 404
    assert (
        client.post(f"/accounts/security/passkeys/{theirs.pk}/rename/", {"name": "x"}).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.name == "Phone"


def test_deactivation_ends_every_session(net):
    here, elsewhere = two_sessions(net.mo)
    deactivate_user(net.mo, actor=net.ana)
    for client in (here, elsewhere):
        response = client.get("/accounts/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    net.mo.refresh_from_db()
    assert not net.mo.is_active
    entry = AuditEntry.objects.get(action="user_deactivated")
    assert (entry.actor_id, entry.object_id) == (net.ana.pk, str(net.mo.pk))


def test_the_confirming_code_cannot_also_sign_in(client, net):
    sign_in(client, net.mo)
    secret = client.get("/accounts/security/authenticator/").context["secret"]
    code = pyotp.TOTP(secret).now()
    client.post("/accounts/security/authenticator/", {"code": code})
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"email": net.mo.email, "password": PASSWORD})
    response = client.post("/accounts/login/second-step/", {"code": code})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
