"""Helpers for the accounts tests: the sign-in steps as a person would take them."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pyotp
import pytest
from django.test import Client

from defensa.accounts.models import Passkey, TOTPDevice, User
from defensa.accounts.tests.authenticator import SoftAuthenticator
from defensa.core.testing import PASSWORD, totp_now

ORIGIN = "http://localhost:8000"


@pytest.fixture(autouse=True)
def _webauthn_settings(settings):  # type: ignore[no-untyped-def]
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [ORIGIN]
    settings.DEMO = False


def wrong_code(user: User) -> str:
    """A 6-digit code that is valid for no time step near now."""
    totp = pyotp.TOTP(user.totp.secret)  # type: ignore[attr-defined]
    now = dt.datetime.fromtimestamp(time.time(), tz=dt.UTC)
    near = {totp.at(now + dt.timedelta(seconds=30 * k)) for k in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in near)


def fresh_code(user: User) -> str:
    """A current code, usable even if this test already spent one this time step."""
    TOTPDevice.objects.filter(user=user).update(last_counter=0)
    return totp_now(user)


def post_password(client: Client, user: User | str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    email = user if isinstance(user, str) else user.email
    return client.post("/accounts/login/", {"email": email, "password": password, **extra})


def sign_in_with_code(client: Client, user: User) -> Any:
    response = post_password(client, user)
    assert response.status_code == 302, response
    assert response["Location"] == "/accounts/login/second-step/"
    return client.post("/accounts/login/second-step/", {"code": fresh_code(user)})


def post_json(client: Client, url: str, data: Any = None) -> Any:
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def register_passkey(client: Client, auth: SoftAuthenticator, name: str = "Phone") -> Any:
    """Register `auth` for the signed-in person; returns the verify response."""
    options = post_json(client, "/accounts/passkeys/register/options/")
    assert options.status_code == 200, options.content
    credential = auth.create(options.json()["options"])
    return post_json(
        client, "/accounts/passkeys/register/verify/", {"credential": credential, "name": name}
    )


def passkey_for(user: User, auth: SoftAuthenticator, name: str = "Phone") -> Passkey:
    """Store `auth` as a passkey of `user` directly (for tests about signing in with it)."""
    return Passkey.objects.create(
        user=user,
        name=name,
        credential_id=auth.credential_id,
        public_key=auth._cose_public_key(),
    )


def sign_in_with_passkey(client: Client, auth: SoftAuthenticator, **get_kwargs: Any) -> Any:
    options = post_json(client, "/accounts/passkeys/login/options/")
    assert options.status_code == 200, options.content
    credential = auth.get(options.json()["options"], **get_kwargs)
    return post_json(client, "/accounts/passkeys/login/verify/", {"credential": credential})
