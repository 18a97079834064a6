"""A verifier without mobile data accepts and confirms by text, in Chromium end to end.

Dani (dispatcher, Spanish) asks for verification on the console in the browser. The offer
goes to Vero's phone as a text through the delivery engine and the loopback Twilio peer; Vero
answers "SI", then "3" (confirmed) through the signed inbound webhook; each answer comes back
by text. Dani's console then shows the incident confirmed with Vero's finding, and a text
from Mo (a member with nothing open) as Mo's message, not as a report.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from defensa.core import testing
from defensa.dispatch.models import Offer, OfferStatus, Outcome
from defensa.dispatch.tests.helpers import report_incident
from defensa.incidents.models import State
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import text as signed_text

pytestmark = [pytest.mark.browser]

VERO = "+12135550103"
MO = "+12135550188"


def _console(browser, live_server, user):  # type: ignore[no-untyped-def]
    client = testing.sign_in(Client(), user)
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"Accept-Language": "es"},
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_a_verifier_accepts_and_confirms_by_text(  # type: ignore[no-untyped-def]
    transactional_db, browser, live_server, twilio_peer, settings
):
    settings.SITE_URL = live_server.url
    net = testing.build_network()
    net.vero.on_duty = True
    net.vero.notify_sms = True
    net.vero.notify_email = False
    net.vero.save(update_fields=["on_duty", "notify_sms", "notify_email"])
    net.mo.phone = MO
    net.mo.save(update_fields=["phone"])
    incident = report_incident()
    webhook = Client()

    dani = _console(browser, live_server, net.dani)
    page = dani.new_page()
    try:
        # 1. Dani asks for verification on the console.
        page.goto("/dispatch/boyle-heights/")
        row = page.locator(f'li.incident[data-incident="{incident.pk}"]')
        row.get_by_role("button", name="Pedir verificación").click()
        page.get_by_text(f"{incident.reference}: Se pidió a 1 verificador").wait_for()

        # 2. The offer reaches Vero's phone as a text that explains the reply words.
        run_worker()
        [offer_text] = [m for m in twilio_peer.messages if m.to == VERO]
        assert "Responde SI o 1 para ir" in offer_text.body
        assert "3 confirmado, 4 nada, 5 falsa alarma" in offer_text.body
        twilio_peer.messages.clear()

        # 3. Vero has no data: she answers by text. SI, then 3 once there.
        assert signed_text(webhook, "Sí", number=VERO).status_code == 200
        run_worker()
        [accepted] = twilio_peer.messages
        assert accepted.to == VERO and f"vas a {incident.reference}" in accepted.body
        twilio_peer.messages.clear()
        # Dani's console shows the acceptance before Vero is there.
        page.reload()
        with translation.override("es"):
            going = str(OfferStatus.ACCEPTED.label)
        offers = page.locator(f'li.incident[data-incident="{incident.pk}"] ul.offers')
        assert "Vero: " in offers.inner_text() and going in offers.inner_text()
        assert signed_text(webhook, "3", number=VERO).status_code == 200
        run_worker()
        [thanked] = twilio_peer.messages
        assert thanked.to == VERO and incident.reference in thanked.body

        offer = Offer.objects.get(incident=incident)
        assert (offer.status, offer.outcome) == (OfferStatus.ARRIVED, Outcome.CONFIRMED)
        incident.refresh_from_db()
        assert incident.state == State.CONFIRMED

        # 4. Mo, with nothing open, texts: Dani sees it as Mo's message, not as a report.
        assert (
            signed_text(webhook, "Veo dos camionetas en Cesar Chavez", number=MO).status_code == 200
        )
        assert not Report.objects.filter(channel="sms").exists()

        # 5. Dani's console shows the verdict, Vero's finding and Mo's message.
        page.reload()
        row = page.locator(f'li.incident[data-incident="{incident.pk}"]')
        with translation.override("es"):
            confirmed = str(State.CONFIRMED.label)
            finding = str(Outcome.CONFIRMED.label)
        assert confirmed in row.locator(".badge").first.inner_text()
        assert "Vero: " in row.locator("ul.offers").inner_text()
        assert finding in row.locator("ul.offers").inner_text()
        messages = page.locator("section.member-messages")
        assert "Textos de tus miembros" in messages.inner_text()
        assert "Mo" in messages.inner_text() and "Cesar Chavez" in messages.inner_text()
    finally:
        dani.close()
