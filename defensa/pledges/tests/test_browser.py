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


def test_a_campaign_in_vietnamese_and_arabic_on_phones(transactional_db, net, browser, live_server):  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    # 1. The coordinator, on a phone, unfolds the other languages and types Vietnamese and
    # Arabic; the Arabic box runs right to left.
    session = sign_in(Client(), net.ana)
    desk_ctx = browser.new_context(base_url=live_server.url, viewport=PHONE)
    desk_ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    desk = desk_ctx.new_page()
    desk.goto(f"/pledges/new/{net.boyle.slug}/")
    desk.fill("#id_title_en", "Walk out Monday")
    desk.fill("#id_title_es", "Paro el lunes")
    desk.fill("#id_text_en", "I will walk out on Monday if 2 of us pledge.")
    desk.fill("#id_text_es", "Paro el lunes si 2 lo prometemos.")
    assert not desk.is_visible("#id_title_vi")  # folded: the form stays short
    desk.click("details.other-languages summary")
    desk.fill("#id_title_vi", "Đình công thứ Hai")
    desk.fill("#id_text_vi", "Tôi sẽ nghỉ việc vào thứ Hai nếu 2 người cam kết.")
    desk.fill("#id_title_ar", "إضراب يوم الاثنين")
    assert desk.eval_on_selector("#id_title_ar", "e => getComputedStyle(e).direction") == "rtl"
    assert desk.eval_on_selector("#id_title_vi", "e => getComputedStyle(e).direction") == "ltr"
    assert desk.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    desk.fill("#id_threshold", "2")
    deadline = timezone.localtime(timezone.now() + dt.timedelta(days=2), net.boyle.tz)
    desk.fill("#id_deadline_date", deadline.date().isoformat())
    desk.fill("#id_deadline_time", "17:00")
    desk.click("button.primary.big")
    campaign = Campaign.objects.get()
    desk.wait_for_url(f"**/pledges/{campaign.pk}/")
    assert "Đình công thứ Hai" in desk.content()

    # 2. A Vietnamese-reading worker's phone shows the Vietnamese words; an Arabic reader's the
    # Arabic title, right to left, and the English pledge, left to right.
    for locale, title, direction, text_lang in (
        ("vi-VN", "Đình công thứ Hai", "ltr", "vi"),
        ("ar", "إضراب يوم الاثنين", "rtl", "en"),
    ):
        ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale=locale)
        page = ctx.new_page()
        page.goto(f"/pledges/p/{campaign.code}/")
        assert title in page.inner_text("h1")
        assert page.eval_on_selector("h1", "e => getComputedStyle(e).direction") == direction
        assert page.get_attribute("blockquote", "lang") == text_lang
        assert page.eval_on_selector("blockquote", "e => getComputedStyle(e).direction") == "ltr"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ctx.close()
    desk_ctx.close()
