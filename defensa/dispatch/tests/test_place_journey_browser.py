"""An address-only Spanish text, placed by a dispatcher, joins the incident it belongs to: in
Chromium end to end (docs/rapid-response.md, "No report is ever orphaned").

Boyle Heights already has an open incident in 90033, from a web report. A stranger texts
"Hay ICE en Soto y 1st" to LA City's number: the signed Twilio webhook, posted over HTTP to the
running server as the provider would, makes a report with cross streets and no ZIP, so it
cannot be mapped.
It goes to the committee that owns the number. Carla, the city's dispatcher (Spanish), finds
it first on her console, flagged "needs a place"; she opens the place page, reads what the
text said, types 90033, and it joins Boyle Heights' incident: audited, on both timelines, and
the joined incident's timeline on her console says so.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.core import testing
from defensa.incidents.models import Incident, State, TimelineAction
from defensa.notify.transports.twilio import signature
from defensa.reports.actions import receive_report
from defensa.reports.models import Report
from defensa.testing.peers.twilio import AUTH_TOKEN
from defensa.voice.actions import set_hotline

pytestmark = [pytest.mark.browser]

CITY_NUMBER = "+12135550150"
STRANGER = "+13235550177"
BASE = "https://defensa.example.org"
PATH = "/notify/twilio/inbound/"


def _text_over_http(live_server, body: str, *, number: str, to: str, sid: str) -> int:  # type: ignore[no-untyped-def]
    """What Twilio does when a text arrives: a signed form POST to the public webhook URL."""
    params = {"From": number, "To": to, "Body": body, "MessageSid": sid}
    request = urllib.request.Request(  # noqa: S310 (the loopback live server)
        f"{live_server.url}{PATH}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature(AUTH_TOKEN, f"{BASE}{PATH}", params)},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status


def test_an_address_only_spanish_text_is_placed_and_joins_the_open_incident(  # type: ignore[no-untyped-def]
    transactional_db, browser, live_server, settings
):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = BASE
    net = testing.build_network()
    carla = testing.make_user("carla", language="es")
    testing.join(carla, net.city, is_dispatcher=True)
    set_hotline(net.city, CITY_NUMBER)
    # Boyle Heights' open incident: a web report with its ZIP, the same signals as the text
    # (one report, no photo, no precise place), so the one without a place comes first.
    there = receive_report(
        {"category": "sighting", "zip_code": "90033", "language": "es"},
        channel="web",
        idempotency_key="place-journey:web",
    ).report.incident
    assert there.committee == net.boyle

    # 1. The text comes in through the signed webhook: a report with no place we can map.
    sid = "SM" + "7" * 32
    assert _text_over_http(
        live_server, "Hay ICE en Soto y 1st", number=STRANGER, to=CITY_NUMBER, sid=sid
    ) in (200, 204)
    lost = Report.objects.get(channel="sms")
    assert lost.location_text == "Soto & 1st" and not lost.zip_code and lost.lat is None
    assert lost.incident.needs_place and lost.incident.committee == net.city
    ref = lost.incident.reference

    client = testing.sign_in(Client(), carla)
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"Accept-Language": "es"},
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    try:
        # 2. Carla's console lists it first, flagged, with the way to place it.
        page.goto("/dispatch/la-city/")
        rows = page.locator("li.incident")
        first = rows.first
        assert first.get_attribute("data-incident") == str(lost.incident_id)
        assert "Necesita un lugar" in first.inner_text()
        assert page.locator(f'li.incident[data-incident="{there.pk}"]').count() == 1

        # 3. She places it: the page shows what the text said; a ZIP we do not know is
        # refused and changes nothing; 90033 joins it to Boyle Heights' incident.
        first.locator(f'a[href="/incidents/{ref}/place/"]').click()
        page.wait_for_url(re.compile(rf"/incidents/{ref}/place/$"))
        assert "Soto & 1st" in page.locator("main").inner_text()
        page.get_by_label("Código postal").fill("00000")
        page.get_by_role("button", name="Ubícalo").click()
        page.locator(".field-error").first.wait_for()
        assert Incident.objects.get(pk=lost.incident_id).needs_place
        page.get_by_label("Código postal").fill("90033")
        page.get_by_label("Por qué (opcional)").fill("Soto y 1st está en Boyle Heights")
        page.get_by_role("button", name="Ubícalo").click()
        page.wait_for_url(re.compile(r"/dispatch/la-city/$"))
        page.get_by_text(f"Ubicado: era el mismo que {there.reference}").wait_for()
        assert page.locator(f'li.incident[data-incident="{lost.incident_id}"]').count() == 0

        # 4. It joined, audited and on the timelines; the console shows the joined one's.
        gone = Incident.objects.get(pk=lost.incident_id)
        kept = Incident.objects.get(pk=there.pk)
        assert gone.merged_into_id == kept.pk and gone.state == State.CLOSED
        assert kept.report_count == 2 and Report.objects.get(pk=lost.pk).incident_id == kept.pk
        assert gone.timeline.filter(action=TimelineAction.PLACED).exists()
        assert AuditEntry.objects.filter(action="incidents.placed").count() == 1
        page.goto(f"/dispatch/la-city/?incident={kept.pk}")
        timeline = page.locator("ol.timeline").inner_text()
        assert "Fusionado por un(a) despachador(a) · Carla" in timeline, timeline
        assert "Soto y 1st está en Boyle Heights" in timeline
    finally:
        context.close()
