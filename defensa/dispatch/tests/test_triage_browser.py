"""In flood mode, the console shows the real raid first with its reasons (Chromium)."""

from __future__ import annotations

import io
import itertools

import pytest
from django.test import Client
from PIL import Image

from defensa.core.testing import join, make_user, sign_in
from defensa.evidence.photos import clean_photo
from defensa.incidents.models import FloodMode, Incident
from defensa.reports.actions import receive_report

pytestmark = [pytest.mark.browser]
_keys = itertools.count(1)
CONSOLE = "/dispatch/boyle-heights/"
CAMPAIGN = "ICE is raiding the school right now, keep your children home"


def _send(lat: float, lon: float, words: str, *, photo: bool = False):  # type: ignore[no-untyped-def]
    photos = []
    if photo:
        out = io.BytesIO()
        Image.new("RGB", (40, 30), (60, 60, 60)).save(out, format="JPEG")
        out.seek(0)
        photos = [clean_photo(out, too_big="big", not_image="no")]
    return receive_report(
        {
            "category": "workplace_raid",
            "lat": lat,
            "lon": lon,
            "precision_m": 30,
            "zip_code": "90033",
            "description": words,
        },
        channel="web",
        idempotency_key=f"triage-browser-{next(_keys)}",
        photos=photos,
    ).report


def test_in_flood_mode_the_real_raid_comes_first_with_its_reasons(  # type: ignore[no-untyped-def]
    transactional_db, net, browser, live_server
):
    desk = make_user("desk")
    join(desk, net.boyle, is_dispatcher=True)
    client = sign_in(Client(), desk)
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"Accept-Language": "en"},
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    try:
        page.goto(CONSOLE)
        page.get_by_role("button", name="Switch flood mode on").click()
        page.wait_for_url(f"**{CONSOLE}")
        assert page.get_by_text("Flood mode is on").first.is_visible()
        assert FloodMode.objects.filter(committee=net.boyle).exists()

        # The flood: single tips scattered over the area, most with the campaign's words;
        # two of its copies even land together.
        for i in range(12):
            _send(34.03 + 0.004 * i, -118.23 + 0.002 * i, CAMPAIGN if i % 3 else f"tip {i} here")
        _send(34.0705, -118.1905, CAMPAIGN.upper())
        _send(34.0706, -118.1906, CAMPAIGN + "!!!")
        # The real raid: three people in their own words, one with a photo.
        raid = _send(34.0505, -118.2095, "agents blocking the loading dock at the factory")
        _send(34.0506, -118.2096, "two unmarked vans and men in vests at the back gate")
        _send(34.0504, -118.2094, "they are taking workers out in handcuffs", photo=True)
        page.goto(CONSOLE)

        first = page.locator("ol.queue:not(.held-queue) > li.incident").first
        assert first.get_attribute("data-incident") == str(raid.incident_id)
        reasons = first.locator("p.signals").inner_text()
        assert "3 independent reports" in reasons and "1 photo or video" in reasons
        assert page.locator("ol.queue:not(.held-queue) > li.incident").count() == 1
        # The single tips wait in the held queue, still there to read and release; so do the
        # copies that landed together (copied words are not independent reports).
        held = page.locator("section.held")
        assert "Held in flood mode: 13 incidents" in held.inner_text()
        assert "words sent in other reports too" in held.inner_text()
        assert Incident.objects.filter(held=True).count() == 13
        held.get_by_role("button", name="Release into the queue").first.click()
        page.wait_for_url(f"**{CONSOLE}")
        assert Incident.objects.filter(held=True).count() == 12
        assert page.get_by_text("is in the queue now").is_visible()
    finally:
        context.close()
