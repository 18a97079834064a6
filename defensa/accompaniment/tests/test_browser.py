"""The accompaniment journey in a real browser, the volunteer on a phone: sign up for a
hearing, the legal team confirms, check in "arrived" then "detained"; a case opens, the
family's Spanish SMS reaches the local Twilio-speaking peer, the legal team sees it all.

People are signed in by handing the browser a testing.sign_in()'d session cookie (signing
in for real is the accounts app's journey)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from defensa.accompaniment.models import Appointment, Companion
from defensa.accompaniment.tests.helpers import FAMILY_PHONE, accompanier, schedule
from defensa.cases.models import Case
from defensa.core.testing import sign_in
from defensa.notify.tests.helpers import run_worker

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _as(browser, live_server, user, viewport):  # type: ignore[no-untyped-def]
    client = sign_in(Client(), user)
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_accompaniment_journey(transactional_db, net, browser, live_server, twilio_peer):  # type: ignore[no-untyped-def]
    appointment = schedule(net, starts_in=dt.timedelta(hours=1))
    accompanier(net.vero)

    # 1. Vero, on her phone, sees the hearing (no name) and signs up.
    vero_ctx = _as(browser, live_server, net.vero, PHONE)
    phone = vero_ctx.new_page()
    phone.goto("/accompaniment/")
    card = phone.locator(f"#open-{appointment.pk}")
    assert "Olive St" in card.inner_text()
    assert "Canary" not in phone.content()
    card.locator("button").click()
    phone.wait_for_url("**/accompaniment/")
    companion = Companion.objects.get()
    assert companion.status == "pending"

    # 2. Lucia, at her desk, confirms her.
    lucia_ctx = _as(browser, live_server, net.lucia, {"width": 1280, "height": 800})
    desk = lucia_ctx.new_page()
    desk.goto(f"/accompaniment/c/boyle-heights/{appointment.pk}/")
    desk.locator(f"#companion-{companion.pk} button.primary").click()
    desk.wait_for_load_state()
    companion.refresh_from_db()
    assert companion.status == "confirmed"

    # 3. At the court: "I'm here", then "Detained", then "Yes".
    phone.goto("/accompaniment/")
    phone.locator("a.btn.primary.big").click()
    phone.wait_for_url("**/a/**")
    phone.click("button[value=arrived]")
    phone.wait_for_selector("button[value=out_safe]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.click("button[value=detained]")
    phone.click("button.sure")
    phone.wait_for_selector(".notice strong")
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert Appointment.objects.get().case == case

    # 4. The family's text goes out through the worker, in Spanish.
    run_worker()
    [sms] = [m for m in twilio_peer.messages if m.to == FAMILY_PHONE]
    assert "fue detenida hoy" in sms.body

    # 5. The legal team sees the detention on the calendar and the case.
    desk.goto("/accompaniment/c/boyle-heights/")
    assert "status-detained" in desk.content()
    desk.goto(f"/accompaniment/c/boyle-heights/{appointment.pk}/")
    desk.click(f"a[href='/cases/{case.pk}/']")
    desk.wait_for_url(f"**/cases/{case.pk}/")
    assert case.reference in desk.content()
    vero_ctx.close()
    lucia_ctx.close()
