"""The pledge journey in a real browser: one worker pledges by SMS keyword, another on the
web page in Spanish on a phone; the coordinator sees only counts; the threshold is reached,
both get the news in Spanish through the local Twilio-speaking peer; then the coordinator
sees who pledged.

People are signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.notify.tests.helpers import run_worker
from defensa.pledges.models import Campaign, State
from defensa.pledges.tests.helpers import open_campaign, text

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
BY_TEXT = "+13235550142"
ON_THE_WEB = "+13235550143"


def test_pledge_journey(transactional_db, net, browser, live_server, twilio_peer, smtp_server):  # type: ignore[no-untyped-def]
    campaign = open_campaign(net.boyle, net.ana, threshold=2, require_confirmation=False)

    # 1. A worker texts the Spanish keyword.
    text(Client(), f"PROMESA {campaign.code}", number=BY_TEXT)

    # 2. The coordinator sees one pledge, and nobody's number.
    session = sign_in(Client(), net.ana)
    desk_ctx = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}
    )
    desk_ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    desk = desk_ctx.new_page()
    desk.goto(f"/pledges/{campaign.pk}/")
    assert "1 more pledge needed" in desk.content()
    assert "5550142" not in desk.content()
    assert desk.locator("svg polyline").count() == 1

    # 3. Another worker pledges on the public page, on a phone, in Spanish, no account.
    phone_ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="es-ES")
    phone = phone_ctx.new_page()
    phone.goto(f"/pledges/p/{campaign.code}/")
    assert "falta 1 promesa" in phone.content()
    phone.fill("#id_phone", "(323) 555-0143")
    phone.click("button.primary.big")
    phone.wait_for_selector(".msg")
    assert "Gracias" in phone.inner_text(".messages")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert Campaign.objects.get().state == State.REACHED

    # 4. Both are told at once, in Spanish.
    run_worker()
    told = {m.to: m.body for m in twilio_peer.messages if "¡VA!" in m.body}
    assert set(told) == {BY_TEXT, ON_THE_WEB}
    assert all("Paro el lunes" in body for body in told.values())

    # 5. Now the coordinator sees who pledged.
    desk.goto(f"/pledges/{campaign.pk}/")
    desk.click(f"a[href='/pledges/{campaign.pk}/pledgers/']")
    desk.wait_for_url(f"**/pledges/{campaign.pk}/pledgers/")
    assert BY_TEXT in desk.content() and ON_THE_WEB in desk.content()
    phone_ctx.close()
    desk_ctx.close()
