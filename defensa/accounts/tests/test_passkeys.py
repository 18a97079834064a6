"""Passkey ceremonies on the server, driven by a software authenticator (property 8, 19)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import SESSION_KEY
from webauthn import base64url_to_bytes

from defensa.accounts.middleware import SESSION_FACTOR
from defensa.accounts.models import Passkey
from defensa.accounts.tests.authenticator import SoftAuthenticator, b64
from defensa.accounts.tests.conftest import (
    passkey_for,
    post_json,
    post_password,
    register_passkey,
    sign_in_with_passkey,
)
from defensa.audit.models import AuditEntry
from defensa.core.testing import sign_in

pytestmark = pytest.mark.django_db


def test_register_passkey_then_sign_in_with_it(client, net):
    auth = SoftAuthenticator()
    sign_in(client, net.mo, factor="totp")
    response = register_passkey(client, auth, name="  My   phone ")
    assert response.status_code == 200, response.content
    assert response.json() == {"redirect": "/accounts/security/"}
    passkey = Passkey.objects.get(user=net.mo)
    assert passkey.name == "My phone"
    assert bytes(passkey.credential_id) == auth.credential_id
    assert AuditEntry.objects.filter(action="passkey_added").count() == 1
    # The current session survives the credential change and now counts as a passkey one.
    assert client.session[SESSION_FACTOR] == "passkey"
    assert client.get("/accounts/security/").status_code == 200

    client.post("/accounts/logout/")
    post_password(client, net.mo)
    response = sign_in_with_passkey(client, auth)
    assert response.status_code == 200, response.content
    assert client.session[SESSION_KEY] == str(net.mo.pk)


def test_admin_who_signed_in_with_code_is_released_after_adding_a_passkey(client, net):
    sign_in(client, net.admin, factor="totp")
    assert client.get("/accounts/")["Location"] == "/accounts/security/"
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert client.get("/accounts/").status_code == 200


def test_registration_options_exclude_existing_passkeys(client, net):
    existing = SoftAuthenticator()
    passkey_for(net.mo, existing)
    sign_in(client, net.mo)
    options = json.loads(
        post_json(client, "/accounts/passkeys/register/options/").json()["options"]
    )
    assert [c["id"] for c in options["excludeCredentials"]] == [b64(existing.credential_id)]
    assert options["rp"]["id"] == "localhost"
    # The user handle is neither the id nor the email.
    assert options["user"]["id"] not in (str(net.mo.pk), b64(net.mo.email.encode()))


def test_registration_challenge_is_single_use(client, net):
    auth = SoftAuthenticator()
    sign_in(client, net.mo)
    options = post_json(client, "/accounts/passkeys/register/options/").json()["options"]
    credential = auth.create(options)
    url = "/accounts/passkeys/register/verify/"
    assert post_json(client, url, {"credential": credential}).status_code == 200
    Passkey.objects.all().delete()
    replay = post_json(client, url, {"credential": credential})
    assert replay.status_code == 400
    assert "expired" in replay.json()["error"]
    assert not Passkey.objects.exists()


def test_registration_from_another_origin_is_refused(client, net):
    auth = SoftAuthenticator()
    sign_in(client, net.mo)
    options = post_json(client, "/accounts/passkeys/register/options/").json()["options"]
    credential = auth.create(options, origin="https://evil.example")
    response = post_json(client, "/accounts/passkeys/register/verify/", {"credential": credential})
    assert response.status_code == 400
    assert response.json()["error"] == "That passkey could not be checked. Try again."
    assert not Passkey.objects.exists()
    assert not AuditEntry.objects.filter(action="passkey_added").exists()


def test_same_passkey_cannot_be_registered_twice(client, net):
    auth = SoftAuthenticator()
    passkey_for(net.dani, auth)
    sign_in(client, net.mo)
    response = register_passkey(client, auth)
    assert response.status_code == 400
    assert Passkey.objects.count() == 1


def test_too_long_passkey_name_is_refused(client, net):
    sign_in(client, net.mo)
    response = register_passkey(client, SoftAuthenticator(), name="x" * 61)
    assert response.status_code == 400
    assert "60" in response.json()["error"]
    assert not Passkey.objects.exists()


def test_passkey_limit(client, net, settings):
    sign_in(client, net.mo)
    for _ in range(10):
        passkey_for(net.mo, SoftAuthenticator())
    response = post_json(client, "/accounts/passkeys/register/options/")
    assert response.status_code == 400
    assert Passkey.objects.count() == 10


def _tamper_signature(credential: dict) -> dict:
    signature = bytearray(base64url_to_bytes(credential["response"]["signature"]))
    signature[-1] ^= 0x01
    credential["response"]["signature"] = b64(bytes(signature))
    return credential


def _tamper_client_data(credential: dict) -> dict:
    data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
    data["challenge"] = b64(b"not the challenge")
    credential["response"]["clientDataJSON"] = b64(json.dumps(data).encode())
    return credential


@pytest.mark.parametrize("tamper", [_tamper_signature, _tamper_client_data])
def test_tampered_assertion_is_refused_and_counted(client, net, tamper):
    auth = SoftAuthenticator()
    passkey_for(net.ana, auth)
    post_password(client, net.ana)
    options = post_json(client, "/accounts/passkeys/login/options/").json()["options"]
    credential = tamper(auth.get(options))
    response = post_json(client, "/accounts/passkeys/login/verify/", {"credential": credential})
    assert response.status_code == 400
    assert response.json()["error"] == "That passkey was not accepted."
    assert SESSION_KEY not in client.session
    net.ana.refresh_from_db()
    assert net.ana.failed_logins == 1
    assert Passkey.objects.get().sign_count == 0


def test_someone_elses_passkey_cannot_finish_my_sign_in(client, net):
    mine, theirs = SoftAuthenticator(), SoftAuthenticator()
    passkey_for(net.ana, mine)
    passkey_for(net.omar, theirs)
    post_password(client, net.ana)
    response = sign_in_with_passkey(client, theirs)
    assert response.status_code == 400
    assert SESSION_KEY not in client.session


def test_replayed_assertion_is_refused(client, net):
    auth = SoftAuthenticator()
    passkey_for(net.ana, auth)
    post_password(client, net.ana)
    options = post_json(client, "/accounts/passkeys/login/options/").json()["options"]
    credential = auth.get(options)
    url = "/accounts/passkeys/login/verify/"
    assert post_json(client, url, {"credential": credential}).status_code == 200
    client.post("/accounts/logout/")
    post_password(client, net.ana)
    post_json(client, "/accounts/passkeys/login/options/")
    assert post_json(client, url, {"credential": credential}).status_code == 400
    assert SESSION_KEY not in client.session


def test_passkey_sign_in_needs_the_password_step_first(client, net):
    auth = SoftAuthenticator()
    passkey_for(net.ana, auth)
    response = post_json(client, "/accounts/passkeys/login/options/")
    assert response.status_code == 400
    assert response.json()["redirect"] == "/accounts/login/"


def test_failed_passkeys_lock_the_account(client, net, settings):
    settings.LOCKOUT_THRESHOLD = 2
    auth = SoftAuthenticator()
    passkey_for(net.ana, auth)
    post_password(client, net.ana)
    for _ in range(2):
        options = post_json(client, "/accounts/passkeys/login/options/").json()["options"]
        response = post_json(
            client,
            "/accounts/passkeys/login/verify/",
            {"credential": _tamper_signature(auth.get(options))},
        )
    assert response.status_code == 400
    assert "locked" in response.json()["error"]
    assert response.json()["redirect"] == "/accounts/login/"
    assert b"Your account is locked" in client.get("/accounts/login/").content
    net.ana.refresh_from_db()
    assert net.ana.is_locked
    assert AuditEntry.objects.filter(action="account_locked").count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"credential"',
        b'{"credential": null}',
        b'{"credential": {"rawId": 5}}',
        b'{"credential": {"rawId": "!!!"}}',
        b'{"credential": {"rawId": "AAAA", "response": {}}}',
        b"\xff\xfe",
    ],
)
def test_malformed_passkey_payloads_get_a_clear_error(client, net, body):
    passkey_for(net.ana, SoftAuthenticator())
    post_password(client, net.ana)
    post_json(client, "/accounts/passkeys/login/options/")
    response = client.post(
        "/accounts/passkeys/login/verify/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert SESSION_KEY not in client.session

    sign_in(client, net.mo)
    post_json(client, "/accounts/passkeys/register/options/")
    response = client.post(
        "/accounts/passkeys/register/verify/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Passkey.objects.filter(user=net.mo).exists()


def test_oversized_passkey_payload_is_refused(client, net):
    sign_in(client, net.mo)
    post_json(client, "/accounts/passkeys/register/options/")
    big = json.dumps({"credential": {"id": "A" * 40000}})
    response = client.post(
        "/accounts/passkeys/register/verify/", big, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "That request was too large."
    assert not Passkey.objects.exists()


def test_passkey_endpoints_refuse_get(client, net):
    sign_in(client, net.mo)
    assert client.get("/accounts/passkeys/register/options/").status_code == 405
    assert client.get("/accounts/passkeys/login/verify/").status_code == 405
