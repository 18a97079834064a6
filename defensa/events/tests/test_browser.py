"""The events journey in a real browser, on phones: a member RSVPs to a picket shift and
checks in with the code; a legal observer reports an arrest; the legal team finds the case
in its list, and was alerted by text through the local Twilio-speaking peer.

People are signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from defensa.accounts.models import Skill, SkillKind
from defensa.cases.models import Case, Facility, Source
from defensa.core.testing import sign_in
from defensa.events.models import Rsvp
from defensa.events.tests.helpers import add_shift, make_event, move
from defensa.notify.tests.helpers import run_worker

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _phone(browser, live_server, user, locale="en-US"):  # type: ignore[no-untyped-def]
    session = sign_in(Client(), user, factor="totp")
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale=locale)
    ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    return ctx, ctx.new_page()


def test_events_journey(transactional_db, net, browser, live_server, twilio_peer):  # type: ignore[no-untyped-def]
    event = make_event(net.boyle, net.ana, kind="protest", title="Picket at the warehouse")
    picket = add_shift(event, net.ana, role="picket", capacity=3)
    observers = add_shift(event, net.ana, role="legal_observer", capacity=2)
    Skill.objects.create(user=net.mo, kind=SkillKind.LEGAL_OBSERVER)
    mdc = Facility.objects.create(name="Metropolitan Detention Center", city="Los Angeles")
    net.lucia.notify_sms = True
    net.lucia.save(update_fields=["notify_sms"])

    # 1. A member takes a picket shift on her phone.
    vero_ctx, vero = _phone(browser, live_server, net.vero)
    vero.goto(f"/events/{event.pk}/")
    assert event.place not in vero.content()
    vero.click(f"form:has(input[value='{picket.pk}']) button")
    vero.wait_for_selector(".msg")
    assert "confirmed" in vero.inner_text(".messages")
    assert event.place in vero.content()  # her place is confirmed: now she sees where
    assert vero.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 2. At the event she checks in with the code the marshals show.
    move(event, starts_in=dt.timedelta(minutes=-15))
    vero.goto(f"/events/{event.pk}/")
    vero.fill("#id_code", "WRONG1")
    vero.click("text=Check me in")
    assert "not the code" in vero.content()
    vero.fill("#id_code", event.checkin_code.lower())
    vero.click("text=Check me in")
    vero.wait_for_selector(".msg")
    assert "checked in" in vero.inner_text(".messages")
    assert Rsvp.objects.get(user=net.vero, shift=picket).checked_in_at is not None

    # 3. A legal observer on shift reports an arrest from his phone.
    Rsvp.objects.create(
        event=event, shift=observers, user=net.mo, digest="mo", channel="member", status="going"
    )
    mo_ctx, mo = _phone(browser, live_server, net.mo)
    mo.goto(f"/events/{event.pk}/")
    mo.click("text=Report an arrest")
    mo.fill("#id_person_name", "Rosa M.")
    mo.select_option("#id_facility", value=str(mdc.pk))
    mo.fill("#id_note", "11:05, LAPD, three officers, white van 7ABC123")
    mo.click("text=Alert the legal team")
    mo.wait_for_selector(".msg")
    case = Case.objects.get()
    assert case.source == Source.EVENT
    assert case.reference in mo.inner_text(".messages")
    assert mo.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 4. The legal team was alerted, and finds the case in its list.
    run_worker()
    assert any(m.to == net.lucia.phone for m in twilio_peer.messages)
    lucia_ctx, lucia = _phone(browser, live_server, net.lucia)
    lucia.goto("/cases/")
    assert case.reference in lucia.content()
    for ctx in (vero_ctx, mo_ctx, lucia_ctx):
        ctx.close()
