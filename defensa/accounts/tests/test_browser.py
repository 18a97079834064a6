"""A coordinator adds a passkey and signs in with it, in Chromium (virtual authenticator)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from defensa.accounts.models import Passkey
from defensa.audit.models import AuditEntry
from defensa.core import testing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_adds_passkey_and_signs_in_with_it(page, live_server, settings):
    settings.WEBAUTHN_RP_ID = urlsplit(live_server.url).hostname
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    assert settings.WEBAUTHN_RP_ID == "localhost"
    net = testing.build_network()
    ana = net.ana

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    # First sign-in: password, then a code (ana has no passkey yet).
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(ana.email)
    page.get_by_label("Password").fill(testing.PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/accounts/login/second-step/$"))
    page.get_by_label("6-digit code").fill(testing.totp_now(ana))
    page.get_by_role("button", name="Sign in", exact=True).click()

    # Her role needs a passkey: she is sent to add one.
    page.wait_for_url(re.compile(r"/accounts/security/$"))
    assert page.get_by_text("Your role needs a passkey. Add one to continue.").is_visible()
    page.get_by_label("Passkey name").fill("Ana's phone")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_text("Passkey added.").wait_for()
    passkey = Passkey.objects.get(user=ana)
    assert passkey.name == "Ana's phone"
    creds = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(creds) == 1
    # Now released from the security page.
    page.goto("/accounts/")
    assert page.get_by_role("heading", name="My committees").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/$"))

    # Second sign-in: password, then the passkey; no code box is offered any more.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(ana.email)
    page.get_by_label("Password").fill(testing.PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/accounts/login/second-step/$"))
    assert page.locator("input[name=code]").count() == 0
    page.get_by_role("button", name="Sign in with passkey").click()
    page.wait_for_url(re.compile(r"/accounts/$"))
    # My page: her committee is there (in her committees, and in the places of her roles).
    assert page.get_by_role("link", name="Boyle Heights").first.is_visible()

    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    assert AuditEntry.objects.filter(
        action="sign_in", actor_id=ana.pk, data__factor="passkey"
    ).exists()
