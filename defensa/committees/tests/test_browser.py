"""The member journey in a real browser: invitation -> sign-up with TOTP -> two vouches ->
language, area and shifts on a phone -> the coordinator sees them, phone masked.

Coordinator and vouchers are signed in by handing the browser the session cookie of a
testing.sign_in()'d session (their own sign-in is the accounts app's journey); the new
member signs up and signs in for real, with a TOTP code computed from the key on the page.
"""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from defensa.committees.models import Membership, MemberStatus, Shift
from defensa.core.testing import sign_in

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _context_as(browser, live_server, user, viewport=None):  # type: ignore[no-untyped-def]
    client = sign_in(Client(), user)
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport or {"width": 1280, "height": 800}
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def _fits_the_phone(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_member_journey(transactional_db, net, browser, live_server, page):  # type: ignore[no-untyped-def]
    # 1. The coordinator makes an invitation link.
    ana_ctx = _context_as(browser, live_server, net.ana)
    ana = ana_ctx.new_page()
    ana.goto("/committees/boyle-heights/invitations/")
    ana.fill("input[name=note]", "Rosa from the laundry")
    ana.click("main button.btn.primary")
    link = ana.input_value("#new-link")
    assert "/join/" in link
    # The copy button appears only when our script ran (no inline script: CSP allows it).
    # Wait for it: on a busy machine the script may run a moment after the page is usable.
    ana.wait_for_selector("button[data-copy]", state="visible", timeout=10_000)

    # 2. The new member opens it on a phone and signs up with a code app.
    assert page.viewport_size == PHONE
    page.goto(link)
    assert "Boyle Heights" in page.inner_text("h1")
    page.fill("input[name=display_name]", "Rosa")
    page.fill("input[name=email]", "rosa@example.org")
    page.fill("input[name=password]", "marigold-bus-stop-1947")
    page.select_option("select[name=language]", "en")
    page.click("main button.btn.primary")
    page.wait_for_url("**/code/")
    assert page.locator(".qr svg").count() == 1
    secret = page.get_attribute("#totp-secret", "data-secret")
    assert secret
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("main button.btn.primary")
    page.wait_for_url("**/committees/boyle-heights/")
    assert "probation" in page.inner_text("main")
    assert _fits_the_phone(page)
    rosa = Membership.objects.select_related("user").get(user__email="rosa@example.org")
    assert rosa.status == MemberStatus.PROBATION

    # 3. Two full members vouch.
    for voucher in (net.dani, net.mo):
        ctx = _context_as(browser, live_server, voucher)
        p = ctx.new_page()
        p.goto("/committees/boyle-heights/")
        p.click(f"#waiting-{rosa.pk} button")
        assert "Rosa" in p.inner_text(".messages")
        ctx.close()
    rosa.refresh_from_db()
    assert rosa.status == MemberStatus.FULL

    # 4. On the phone: Spanish, text messages, an area, a shift, on duty.
    page.goto("/me/profile/")
    page.select_option("select[name=language]", "es")
    page.check("input[name=notify_sms]")
    page.fill("input[name=phone]", "(213) 555-0142")
    page.click("main button.btn.primary")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "es"
    assert "Idioma y mensajes" in page.inner_text("h1")
    assert _fits_the_phone(page)

    page.goto("/me/area/")
    page.check("input[name=mode][value=zip]")
    page.fill("input[name=zip_code]", "90033")
    page.click("main button.btn.primary")
    page.wait_for_load_state()
    assert "Guardado" in page.inner_text(".messages")

    page.goto("/me/availability/")
    page.select_option("select[name=weekday]", "5")
    page.fill("input[name=start]", "22:00")
    page.fill("input[name=end]", "06:00")
    page.click("main form[action$='/shifts/'] button")
    page.wait_for_load_state()
    assert "22:00" in page.inner_text("main")
    page.click("main form[action$='/duty/'] button")
    page.wait_for_load_state()
    assert _fits_the_phone(page)
    shift = Shift.objects.get(membership=rosa)
    assert (shift.weekday, shift.start.hour, shift.end.hour) == (5, 22, 6)
    rosa.user.refresh_from_db()
    assert rosa.user.language == "es" and rosa.user.home_zip == "90033" and rosa.user.on_duty

    # 5. The coordinator sees Rosa, with her phone masked.
    ana.goto("/committees/boyle-heights/members/")
    row = ana.inner_text(f"#member-{rosa.pk}")
    assert "Rosa" in row and "90033" in row and "Spanish" in row and "On duty" in row
    assert "•••-•••-••42" in row
    assert "555" not in ana.content().split(f'id="member-{rosa.pk}"')[1].split("</tr>")[0]
    ana_ctx.close()
