"""The neighbour's journey in Chromium, through the Twilio-speaking peer on loopback.

A neighbour texts ALERTA 90033 and is told, in Spanish, that alerts will come. Another
neighbour, in East LA (90022, two neighbourhoods away), subscribes on the public form on a
phone and confirms with the code texted to them. A raid in Boyle Heights is reported; Dani
confirms it in the console, which says how many subscribers were alerted. The first
neighbour's phone gets the verified alert in Spanish; the East LA neighbour's does not.

Deliveries are sent by the real worker loop (`Worker(once=True)`) in this process, through
the Twilio transport, to the peer.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from defensa.core import testing
from defensa.dispatch.tests.helpers import report_incident
from defensa.incidents.models import State
from defensa.notify.tests.helpers import run_worker
from defensa.subscribers.models import Subscription
from defensa.subscribers.tests.helpers import text

pytestmark = [pytest.mark.browser]

PHONE = {"width": 360, "height": 740}
BOYLE_NEIGHBOUR = "+13235550142"
EAST_LA_NEIGHBOUR = "+13235550188"


def test_a_neighbour_subscribes_by_text_and_gets_the_verified_alert(  # type: ignore[no-untyped-def]
    transactional_db, browser, live_server, twilio_peer, settings
):
    settings.SITE_URL = live_server.url
    net = testing.build_network()

    # 1. A neighbour texts the Spanish keyword; the answer comes back in Spanish.
    text(Client(), "ALERTA 90033", number=BOYLE_NEIGHBOUR)
    run_worker()
    [answer] = [m for m in twilio_peer.messages if m.to == BOYLE_NEIGHBOUR]
    assert "recibirás alertas verificadas cerca de 90033" in answer.body

    # 2. Another neighbour subscribes on the public form, on a phone, and confirms the code.
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto("/alerts/subscribe/")
        page.get_by_label("Mobile number").fill("(323) 555-0188")
        page.get_by_label("ZIP code").fill("90022")
        page.get_by_label("Language of the alerts").select_option("en")
        page.get_by_role("button", name="Text me a code").click()
        page.get_by_text("a 6-digit code is on its way").wait_for()
        run_worker()
        [sent] = [m for m in twilio_peer.messages if m.to == EAST_LA_NEIGHBOUR]
        code = re.search(r"\b(\d{6})\b", sent.body).group(1)  # type: ignore[union-attr]
        page.get_by_label("The code we texted you").fill(code)
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text("We will text you verified alerts near 90022").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
    assert Subscription.objects.filter(confirmed_at__isnull=False).count() == 2

    # 3. A raid in Boyle Heights; Dani confirms it in the console.
    incident = report_incident()
    session = testing.sign_in(Client(), net.dani)
    desk = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    desk.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = desk.new_page()
    try:
        page.goto(f"/dispatch/boyle-heights/?incident={incident.pk}")
        # Before confirming, the console says whom it will alert, subscribers included.
        assert "It also texts 1 alert subscriber near the place." in page.inner_text(
            "#confirm-says"
        )
        page.locator("#note").fill("Two reports and a photo; Vero saw the vans")
        page.get_by_role("button", name="Mark confirmed").click()
        page.get_by_text("1 alert subscriber near the place was alerted by text.").first.wait_for()
    finally:
        desk.close()
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED

    # 4. The Boyle Heights neighbour's phone gets the alert in Spanish; East LA's does not.
    before = len(twilio_peer.messages)
    run_worker()
    alerts = twilio_peer.messages[before:]
    to_boyle = [m.body for m in alerts if m.to == BOYLE_NEIGHBOUR]
    assert len(to_boyle) == 1
    assert "verificado Redada en un lugar de trabajo" in to_boyle[0]
    assert "Responde ALTO" in to_boyle[0]
    assert not [m for m in alerts if m.to == EAST_LA_NEIGHBOUR]
