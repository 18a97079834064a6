"""A member without a smartphone joins by text, in Chromium and through the loopback Twilio
peer: Ana invites a number as SMS-only on the members page, the peer receives the text with
the code, the reply "UNIRME <code>" arrives through the signed inbound webhook, the welcome
goes back in Spanish, and the members page shows the new member marked "SMS only".

Ana is signed in by handing the browser a testing.sign_in()'d session cookie; deliveries are
sent by the real worker loop in this process, through the Twilio transport, to the peer."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from defensa.core import testing
from defensa.notify.tests.helpers import run_worker
from defensa.subscribers.tests.helpers import text

pytestmark = [pytest.mark.browser]

NUMBER = "+13235550161"


def test_a_coordinator_invites_by_text_and_the_person_joins_by_replying(  # type: ignore[no-untyped-def]
    transactional_db, browser, live_server, twilio_peer
):
    net = testing.build_network()
    session = testing.sign_in(Client(), net.ana)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    try:
        page.goto("/committees/boyle-heights/members/")
        page.get_by_text("Invite someone without a smartphone (SMS only)").click()
        page.get_by_label("Their name").fill("Doña Carmen")
        page.get_by_label("Their mobile number").fill("(323) 555-0161")
        page.get_by_label("Language of their texts").select_option("es")
        page.get_by_role("button", name="Text the invitation").click()
        page.get_by_text("The invitation is on its way to Doña Carmen by text").wait_for()

        # The person's phone gets the invitation, in Spanish, with the code.
        run_worker()
        [invitation] = [m for m in twilio_peer.messages if m.to == NUMBER]
        assert "Para unirte, responde UNIRME" in invitation.body
        code = re.search(r"UNIRME ([A-Z2-9]{8})", invitation.body).group(1)  # type: ignore[union-attr]

        # They reply from the same number, through the signed webhook.
        assert text(Client(), f"UNIRME {code}", number=NUMBER).status_code == 200
        run_worker()
        [welcome] = [m for m in twilio_peer.messages if m.to == NUMBER][1:]
        assert "bienvenido(a)! Te uniste a Boyle Heights" in welcome.body

        page.reload()
        row = page.locator("tr", has_text="Doña Carmen")
        assert "SMS only" in row.inner_text()
        assert "•••-•••-••61" in row.inner_text()
    finally:
        context.close()
