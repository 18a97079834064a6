"""A new network, set up in Chromium from an empty database (docs/setup.md).

`bootstrap_network` makes the top committee and its administrator, as on a fresh install. The
administrator signs in with the printed password and authenticator code, adds the passkey
their role needs, creates a local committee below the network, gives it ZIP codes and a
dispatch policy, all on pages. A dispatcher joins it (invitations and role grants have their
own journeys), and a web report from one of its ZIP codes is on that committee's console.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pyotp
import pytest
from django.core.management import call_command
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.committees.models import Committee, Kind
from defensa.core import testing
from defensa.core.crypto.digests import digest_key
from defensa.dispatch.models import DispatchPolicy
from defensa.incidents.models import Incident
from defensa.reports.models import Report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_empty_database_to_a_routed_report(browser, live_server, settings):  # type: ignore[no-untyped-def]
    settings.WEBAUTHN_RP_ID = urlsplit(live_server.url).hostname
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    for name in ("notify.optout", "reports.sms_sender"):
        digest_key(name)  # made by migrations; a flushed test database lost them
    assert not Committee.objects.exists()
    out = io.StringIO()
    call_command(
        "bootstrap_network", network="Valle Network", email="admin@example.org", stdout=out
    )
    printed = out.getvalue()
    password = re.search(r"one-time password: (\S+)", printed).group(1)  # type: ignore[union-attr]
    secret = re.search(r"authenticator secret: (\S+)", printed).group(1)  # type: ignore[union-attr]

    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        extra_http_headers={"Accept-Language": "en"},
    )
    page = context.new_page()
    try:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send(
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
        )
        # 1. The first sign-in, with what the command printed; then the passkey.
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill("admin@example.org")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"/accounts/login/second-step/$"))
        page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(re.compile(r"/accounts/security/$"))
        page.get_by_label("Passkey name").fill("Admin laptop")
        page.get_by_role("button", name="Add a passkey").click()
        page.get_by_text("Passkey added.").wait_for()

        # 2. From My page to the network's committees; the network has no area yet.
        page.goto("/accounts/")
        page.get_by_role("link", name="Committees and areas").click()
        page.wait_for_url(re.compile(r"/network/$"))
        page.get_by_role("link", name="Valle Network").click()
        assert page.get_by_text("No area yet").is_visible()

        # 3. A local committee below it, with ZIP codes pasted as a list.
        page.locator("#id_new-name").fill("Boyle Heights")
        page.get_by_label("Kind").select_option(label="Local committee")
        page.get_by_role("button", name="Create the committee").click()
        page.wait_for_url(re.compile(r"/network/boyle-heights/area/$"))
        # A ZIP that does not exist is refused and nothing changes ...
        page.get_by_label("ZIP codes").first.fill("90033\n99999")
        page.get_by_label("Spanish").check()
        page.get_by_role("button", name="Save the area").click()
        page.get_by_text("These are not US ZIP codes: 99999").first.wait_for()
        assert Committee.objects.get(slug="boyle-heights").zip_codes == []
        # ... the corrected list is saved.
        page.get_by_label("ZIP codes").first.fill("90033, 90063")
        page.get_by_label("Spanish").check()
        page.get_by_role("button", name="Save the area").click()
        page.get_by_text("The committee's area is saved.").wait_for()
        boyle = Committee.objects.get(slug="boyle-heights")
        assert boyle.kind == Kind.LOCAL and boyle.parent.kind == Kind.NETWORK  # type: ignore[union-attr]
        assert boyle.zip_codes == ["90033", "90063"] and "es" in boyle.languages

        # 4. Its dispatch policy: zero verifiers is refused, then a real one is saved.
        page.get_by_role("link", name="Dispatch policy").click()
        page.get_by_label("Verifiers offered at first").fill("0")
        page.get_by_role("button", name="Save the policy").click()
        page.get_by_text("Offer it to at least one verifier.").first.wait_for()
        assert not DispatchPolicy.objects.exists()
        page.get_by_label("Verifiers offered at first").fill("2")
        page.get_by_label("Acceptances that are enough").fill("1")
        page.get_by_label("Minutes before widening").fill("3")
        page.get_by_label("Also the neighbouring committees' verifiers").check()
        page.get_by_role("button", name="Save the policy").click()
        page.get_by_text("The dispatch policy is saved.").wait_for()
        policy = DispatchPolicy.objects.get(committee=boyle)
        assert (policy.offer_size, policy.accept_target, policy.escalate_minutes) == (2, 1, 3)
        assert policy.reach == "neighbours"
        done = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"committee.created", "committee.area_set", "dispatch.policy_set"} <= done
    finally:
        context.close()

    # 5. A dispatcher of the new committee, and a web report from one of its ZIP codes.
    dani = testing.make_user("dani", language="en")
    testing.join(dani, boyle, is_dispatcher=True)
    phone = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        extra_http_headers={"Accept-Language": "en"},
    )
    page = phone.new_page()
    try:
        page.goto("/report/new/")
        page.get_by_label("Agents seen", exact=True).check()
        page.get_by_label("ZIP code").fill("90063")
        page.get_by_role("button", name="Send report").click()
        page.get_by_text("Thank you. We got your report.").wait_for()
    finally:
        phone.close()
    incident = Incident.objects.get()
    assert Report.objects.get().incident == incident and incident.committee == boyle

    client = testing.sign_in(Client(), dani)
    console = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    console.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = console.new_page()
    try:
        page.goto("/dispatch/boyle-heights/")
        page.get_by_role("link", name=re.compile(incident.reference)).first.wait_for()
    finally:
        console.close()
