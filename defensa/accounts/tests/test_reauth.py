"""Adding a passkey or an authenticator app needs the password typed in the last five minutes
(signing in counts): a stolen session alone cannot plant a second factor of its own."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.accounts.middleware import SESSION_AUTH_AT
from defensa.accounts.models import Passkey, TOTPDevice
from defensa.accounts.signin import REAUTH_TTL_S
from defensa.accounts.tests.authenticator import SoftAuthenticator
from defensa.accounts.tests.conftest import post_json, register_passkey
from defensa.audit.models import AuditEntry
from defensa.core.testing import PASSWORD, sign_in

pytestmark = pytest.mark.django_db

CONFIRM = "/accounts/security/confirm/"
TOTP = "/accounts/security/authenticator/"


def signed_in_a_while_ago(user, client=None):  # type: ignore[no-untyped-def]
    """A session that signed in ten minutes ago and has been in use since (still valid)."""
    client = sign_in(client or Client(), user)
    session = client.session
    session[SESSION_AUTH_AT] = time.time() - 2 * REAUTH_TTL_S
    session.save()
    assert client.get("/accounts/").status_code == 200
    return client


def test_a_fresh_sign_in_counts_as_typing_the_password(net):
    client = sign_in(Client(), net.mo)
    assert client.get(TOTP).status_code == 200
    assert post_json(client, "/accounts/passkeys/register/options/").status_code == 200


def test_replacing_the_authenticator_asks_for_the_password_first(net):
    old_secret = TOTPDevice.objects.get(user=net.mo).secret
    client = signed_in_a_while_ago(net.mo)
    response = client.get(TOTP)
    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next=%2Faccounts%2Fsecurity%2Fauthenticator%2F"
    page = client.get(response["Location"]).content.decode()
    assert "needs your password again" in page and 'name="password"' in page

    # A wrong password: refused, counted like a failed sign-in, nothing opened.
    wrong = client.post(CONFIRM, {"password": "not-it", "next": TOTP})
    assert wrong.status_code == 400 and "That is not your password." in wrong.content.decode()
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 1
    assert client.get(TOTP).status_code == 302

    right = client.post(CONFIRM, {"password": PASSWORD, "next": TOTP})
    assert right.status_code == 302 and right["Location"] == TOTP
    net.mo.refresh_from_db()
    assert net.mo.failed_logins == 0
    assert AuditEntry.objects.filter(action="password_confirmed", actor_id=net.mo.pk).exists()
    secret = client.get(TOTP).context["secret"]
    client.post(TOTP, {"code": pyotp.TOTP(secret).now()})
    assert TOTPDevice.objects.get(user=net.mo).secret == secret != old_secret


def test_a_code_posted_without_a_secret_shown_after_the_password_changes_nothing(net):
    old_secret = TOTPDevice.objects.get(user=net.mo).secret
    client = signed_in_a_while_ago(net.mo)
    response = client.post(TOTP, {"code": "123456"})
    assert response.status_code == 302 and response["Location"].startswith(CONFIRM)
    assert TOTPDevice.objects.get(user=net.mo).secret == old_secret


def test_adding_a_passkey_asks_for_the_password_first(net):
    client = signed_in_a_while_ago(net.mo)
    page = client.get("/accounts/security/").content.decode()
    assert 'data-mode="register"' not in page
    assert f'href="{CONFIRM}?next=%2Faccounts%2Fsecurity%2F"' in page

    # The JSON endpoints refuse too, and tell the script where to go.
    for url in ("/accounts/passkeys/register/options/", "/accounts/passkeys/register/verify/"):
        refused = post_json(client, url, {"credential": {}, "name": "Mine"})
        assert refused.status_code == 403
        assert refused.json()["redirect"] == f"{CONFIRM}?next=%2Faccounts%2Fsecurity%2F"
    assert not Passkey.objects.filter(user=net.mo).exists()

    client.post(CONFIRM, {"password": PASSWORD})
    assert 'data-mode="register"' in client.get("/accounts/security/").content.decode()
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert Passkey.objects.filter(user=net.mo).count() == 1


def test_the_confirmation_lasts_five_minutes(net):
    client = signed_in_a_while_ago(net.mo)
    client.post(CONFIRM, {"password": PASSWORD})
    assert client.get(TOTP).status_code == 200
    session = client.session
    session["defensa_reauth_at"] = time.time() - REAUTH_TTL_S - 1
    session.save()
    assert client.get(TOTP).status_code == 302


def test_guessing_the_password_in_a_session_locks_the_account_and_ends_the_session(net, settings):
    client = signed_in_a_while_ago(net.mo)
    for _ in range(settings.LOCKOUT_THRESHOLD - 1):
        assert client.post(CONFIRM, {"password": "guess"}).status_code == 400
    last = client.post(CONFIRM, {"password": "guess"})
    assert last.status_code == 302 and last["Location"] == "/accounts/login/"
    net.mo.refresh_from_db()
    assert net.mo.is_locked
    assert client.get("/accounts/").status_code == 302  # signed out
    assert AuditEntry.objects.filter(action="account_locked").count() == 1


def test_confirming_only_ever_returns_to_this_site(net):
    client = signed_in_a_while_ago(net.mo)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.example/x"})
    assert response["Location"] == "/accounts/security/"


def test_the_confirmation_page_is_for_signed_in_people_only():
    response = Client().get(CONFIRM)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    password=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300),
    next_url=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=100),
)
def test_any_input_gets_an_answer_never_an_error(net, password, next_url):
    if password == PASSWORD:
        return
    client = signed_in_a_while_ago(net.mo)
    response = client.post(CONFIRM, {"password": password, "next": next_url})
    assert response.status_code in (302, 400)
    assert client.get(TOTP).status_code == 302
