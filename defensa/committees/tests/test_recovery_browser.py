"""A member who lost their phone recovers their account in a real browser: asks on the public
form, two coordinators approve (each in their own browser), the second hands over the link,
the member sets a new password and authenticator app on a phone, writes down recovery codes
and signs in with them.

Coordinators are signed in by handing the browser a testing.sign_in()'d session cookie (their
own sign-in is the accounts app's journey); the member signs in for real.
"""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from defensa.accounts.models import TOTPDevice
from defensa.audit.models import AuditEntry
from defensa.committees.models import RecoveryRequest, RecoveryStatus
from defensa.core import testing
from defensa.notify.models import Delivery

pytestmark = [pytest.mark.browser]

NEW_PASSWORD = "harbor-violet-ladder-31"  # noqa: S105 (test value)


def _context_as(browser, live_server, user):  # type: ignore[no-untyped-def]
    client = testing.sign_in(Client(), user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_a_member_recovers_with_two_coordinators_approval(  # type: ignore[no-untyped-def]
    transactional_db, net, browser, live_server, page
):
    bea = testing.make_user("bea")
    testing.join(bea, net.boyle, is_coordinator=True)
    old_secret = net.mo.totp.secret

    # 1. Mo lost the phone: the sign-in page leads to the recovery form.
    page.goto("/accounts/login/")
    page.click("text=Lost your password or phone?")
    page.wait_for_url("**/recover/")
    page.fill("input[name=who]", "mo@example.org")
    page.click("main button.btn.primary")
    page.wait_for_load_state()
    assert "We passed it on" in page.inner_text("h1")
    request = RecoveryRequest.objects.get(user=net.mo)
    assert set(
        Delivery.objects.filter(template="recovery_requested").values_list("recipient", flat=True)
    ) == {net.ana.pk, bea.pk}

    # 2. The first coordinator approves; nothing changes for Mo yet.
    ana_ctx = _context_as(browser, live_server, net.ana)
    ana = ana_ctx.new_page()
    ana.goto("/committees/boyle-heights/")
    ana.click("text=Account recovery")
    ana.click(f"#recovery-{request.pk} button.btn.primary")
    ana.wait_for_load_state()
    assert "One more person must approve" in ana.inner_text(".messages")
    assert "another person must approve" in ana.inner_text(f"#recovery-{request.pk}")
    assert TOTPDevice.objects.filter(user=net.mo, secret=old_secret).exists()
    ana_ctx.close()

    # 3. The second coordinator approves and is shown the link once.
    bea_ctx = _context_as(browser, live_server, bea)
    bea_page = bea_ctx.new_page()
    bea_page.goto("/committees/boyle-heights/recovery/")
    bea_page.click(f"#recovery-{request.pk} button.btn.primary")
    bea_page.wait_for_load_state()
    link = bea_page.input_value("#new-link")
    assert "/recover/" in link
    bea_page.reload()
    assert bea_page.locator("#new-link").count() == 0
    bea_ctx.close()
    request.refresh_from_db()
    assert request.status == RecoveryStatus.APPROVED
    assert not TOTPDevice.objects.filter(user=net.mo).exists()

    # 4. On the phone, Mo opens the link, sets a new password and a new authenticator app.
    page.goto(link)
    assert "Recover your account" in page.inner_text("h1")
    assert page.locator(".qr svg").count() == 1
    secret = page.get_attribute("#totp-secret", "data-secret")
    assert secret and secret != old_secret
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main button.btn.primary")
    page.wait_for_load_state()
    assert "Your account is back" in page.inner_text("h1")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # 5. The link works once.
    page.goto(link)
    assert "This link does not work" in page.inner_text("h1")

    # 6. Mo signs in with the new password and a recovery code (the phone is new, no app yet).
    page.goto("/accounts/login/")
    page.fill("input[name=email]", "mo@example.org")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("main button.btn.primary")
    page.wait_for_url("**/second-step/")
    page.click("#recovery-code summary")
    page.fill("input[name=recovery_code]", codes[0])
    page.click("#recovery-code button")
    page.wait_for_url("**/accounts/security/")
    assert "recovery code" in page.inner_text(".messages")
    assert "9 unused codes" in page.inner_text("#recovery")

    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "recovery.requested",
        "recovery.first_approval",
        "account_recovery_approved",
        "account_recovered",
        "recovery_code_used",
    } <= actions
