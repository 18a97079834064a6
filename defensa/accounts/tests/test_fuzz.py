"""Property 19: no input to the sign-in forms or passkey endpoints gives a 500 or a stray row."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.accounts.models import Passkey, TOTPDevice, User
from defensa.accounts.tests.authenticator import SoftAuthenticator
from defensa.accounts.tests.conftest import passkey_for, post_password
from defensa.audit.models import AuditEntry
from defensa.core.testing import sign_in

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(max_size=400)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)
# Credential-shaped objects whose parts are arbitrary: the parser's corners, not just junk.
credentials = st.fixed_dictionaries(
    {
        "id": st.text(max_size=40),
        "rawId": st.one_of(st.text(max_size=40), st.integers(), st.none()),
        "type": st.sampled_from(["public-key", "other", ""]),
        "response": st.dictionaries(
            st.sampled_from(
                [
                    "clientDataJSON",
                    "attestationObject",
                    "authenticatorData",
                    "signature",
                    "userHandle",
                ]
            ),
            st.one_of(st.text(max_size=80), st.binary(max_size=40).map(lambda b: b.hex())),
            max_size=5,
        ),
    }
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"credential": st.one_of(credentials, json_values), "name": st.one_of(text, json_values)}
    ).map(lambda v: json.dumps(v).encode()),
)


def _reset(user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


def _no_500(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, response.content[:300]


@FUZZ
@given(email=text, password=text, next_url=text)
def test_password_step_never_fails_or_signs_in(net, email, password, next_url):
    client = Client()
    _reset(net.mo)
    response = client.post(
        "/accounts/login/", {"email": email, "password": password, "next": next_url}
    )
    _no_500(response)
    assert SESSION_KEY not in client.session
    assert not AuditEntry.objects.filter(action="sign_in").exists()


@FUZZ
@given(code=text)
def test_code_step_never_fails_or_writes_rows(net, code):
    client = Client()
    _reset(net.mo)
    post_password(client, net.mo)
    before = TOTPDevice.objects.get(user=net.mo).last_counter
    response = client.post("/accounts/login/second-step/", {"code": code})
    _no_500(response)
    if SESSION_KEY not in client.session:
        # A refused code spends nothing: the real next code still works.
        assert TOTPDevice.objects.get(user=net.mo).last_counter == before
        assert not AuditEntry.objects.filter(action="sign_in").exists()


@FUZZ
@given(body=bodies)
def test_passkey_sign_in_endpoint_never_fails(net, body):
    client = Client()
    _reset(net.ana)
    if not Passkey.objects.filter(user=net.ana).exists():
        passkey_for(net.ana, SoftAuthenticator())
    post_password(client, net.ana)
    client.post("/accounts/passkeys/login/options/", "{}", content_type="application/json")
    response = client.post(
        "/accounts/passkeys/login/verify/", body, content_type="application/json"
    )
    _no_500(response)
    assert response.status_code == 400
    assert response.json()["error"]
    assert SESSION_KEY not in client.session


@FUZZ
@given(body=bodies)
def test_passkey_registration_endpoint_never_fails_or_stores(net, body):
    client = Client()
    sign_in(client, net.mo)
    audit = AuditEntry.objects.count()
    client.post("/accounts/passkeys/register/options/", "{}", content_type="application/json")
    response = client.post(
        "/accounts/passkeys/register/verify/", body, content_type="application/json"
    )
    _no_500(response)
    assert response.status_code == 400
    assert not Passkey.objects.filter(user=net.mo).exists()
    assert AuditEntry.objects.count() == audit
    net.mo.refresh_from_db()
    assert net.mo.session_epoch == 0


@FUZZ
@given(old=text, new1=text, new2=text, name=text)
def test_security_forms_never_fail(net, old, new1, new2, name):
    client = Client()
    sign_in(client, net.mo)
    passkey = Passkey.objects.filter(user=net.mo).first() or passkey_for(
        net.mo, SoftAuthenticator()
    )
    _no_500(
        client.post(
            "/accounts/security/password/",
            {"old_password": old, "new_password1": new1, "new_password2": new2},
        )
    )
    _no_500(client.post(f"/accounts/security/passkeys/{passkey.pk}/rename/", {"name": name}))
    _no_500(client.post("/accounts/security/authenticator/", {"code": name}))
    net.mo.refresh_from_db()
    # Random text is never the current password, so nothing changed.
    assert net.mo.session_epoch == 0
    assert not AuditEntry.objects.filter(action="password_changed").exists()
