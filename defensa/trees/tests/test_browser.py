"""The drill journey in a real browser: a coordinator builds a tree and starts a drill;
captains get their texts through the local Twilio-speaking peer and confirm from their
phones; one captain stays silent and their group is escalated to the other, who reaches it;
the coordinator watches the live page and ends the drill, whose figures join the chart.

People are signed in by handing the browser a testing.sign_in()'d session cookie."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from defensa.accounts.models import User
from defensa.core.testing import sign_in
from defensa.notify.tests.helpers import run_worker
from defensa.trees import actions
from defensa.trees.models import Cascade, Duty, Reach, Via
from defensa.trees.tests.helpers import BASE, text

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def _context(browser, live_server, user, **kw):  # type: ignore[no-untyped-def]
    session = sign_in(Client(), user)
    ctx = browser.new_context(base_url=live_server.url, **kw)
    ctx.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    return ctx


def _path(body: str, marker: str) -> str:
    return marker + body.split(marker, 1)[1].split()[0]


def test_drill_journey(transactional_db, net, browser, live_server, twilio_peer, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = BASE
    User.objects.filter(memberships__committee=net.boyle).update(notify_sms=True)

    # 1. The coordinator builds the tree: first without captains (refused), then with two.
    desk_ctx = _context(browser, live_server, net.ana, viewport={"width": 1280, "height": 800})
    desk = desk_ctx.new_page()
    desk.goto("/trees/new/boyle-heights/")
    desk.fill("#id_name", "Boyle Heights")
    desk.click("button.primary")
    assert "A tree needs at least one captain" in desk.content()
    desk.check(f"input[name=captains][value='{net.dani.pk}']")
    desk.check(f"input[name=captains][value='{net.vero.pk}']")
    desk.click("button.primary")
    desk.wait_for_url("**/trees/*/")
    assert "Dani (captain)" in desk.content() and "Vero (captain)" in desk.content()

    # 2. A drill starts (ticked by default); the live page says it is one.
    desk.fill("#id_message", "Practice: meet at the church at 6.")
    assert desk.is_checked("#id_is_drill")
    desk.click("form[action$='/start/'] button")
    desk.wait_for_url("**/trees/cascade/*/")
    assert "DRILL (practice)" in desk.content()
    cascade = Cascade.objects.get()
    run_worker()
    to_captains = {m.to: m.body for m in twilio_peer.messages}
    assert set(to_captains) == {net.dani.phone, net.vero.phone}
    assert "SIMULACRO" in to_captains[net.dani.phone]  # dani reads Spanish

    # 3. Dani, on her phone, opens her link, lets the engine text her group, logs a call.
    dani_ctx = _context(browser, live_server, net.dani, viewport=PHONE, locale="es-ES")
    phone = dani_ctx.new_page()
    phone.goto(_path(to_captains[net.dani.phone], "/trees/cascade/"))
    assert "Tu grupo" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.click("form[action$='/captain/text/'] button")
    phone.wait_for_selector(".msg")
    mine = list(Reach.objects.filter(duty__captain=net.dani, is_captain=False))
    assert mine
    run_worker()
    texted = {m.to: m.body for m in twilio_peer.messages if "/trees/c/" in m.body}
    assert {r.person.phone for r in mine} <= set(texted)
    # One of her people replies OK; she calls the others.
    text(Client(), "OK", number=mine[0].person.phone)
    for reach in mine[1:]:
        phone.click(f"form[action$='/call/{reach.pk}/']:has(input[name=reached]) button")
        phone.wait_for_selector(".msg, ul.people")
    phone.click("form[action$='/captain/done/'] button")
    phone.wait_for_selector(".msg")
    assert "Gracias" in phone.inner_text(".messages")
    assert Duty.objects.get(captain=net.dani).reported_at is not None
    assert Reach.objects.get(pk=mine[0].pk).via == Via.SMS

    # 4. Vero says nothing. Fifteen minutes on, her group is handed to Dani.
    later = cascade.started_at + dt.timedelta(minutes=cascade.escalate_minutes, seconds=5)
    assert actions.escalate_overdue(later) == 1
    run_worker()
    handover = [m.body for m in twilio_peer.messages if m.to == net.dani.phone][-1]
    assert "/captain/" in handover
    phone.goto(_path(handover, "/trees/cascade/"))
    theirs = list(Reach.objects.filter(duty__captain=net.dani, confirmed_at__isnull=True))
    assert theirs  # Vero's people, now Dani's
    for reach in theirs:
        assert reach.person.display_name in phone.content()
    # One of them taps the link in the text Dani's engine sends them.
    phone.click("form[action$='/captain/text/'] button")
    phone.wait_for_selector(".msg")
    run_worker()
    body = [m.body for m in twilio_peer.messages if m.to == theirs[0].person.phone][-1]
    person_ctx = browser.new_context(base_url=live_server.url, viewport=PHONE)
    tap = person_ctx.new_page()
    tap.goto(_path(body, "/trees/c/"))
    tap.click("button.primary")
    tap.wait_for_selector("text=you are confirmed")

    # 5. The coordinator's live page shows the escalation; ending keeps the figures.
    desk.goto(f"/trees/cascade/{cascade.pk}/")
    assert "escalated" in desk.content() and "group confirmed" in desk.content()
    desk.click("form[action$='/end/'] button")
    desk.wait_for_selector(".msg")
    cascade.refresh_from_db()
    assert cascade.figures["escalations"] == 1 and cascade.figures["t50_s"] is not None
    desk.goto(f"/trees/{cascade.tree_id}/")
    assert desk.locator("figure.drill-trend svg").count() == 1
    for ctx in (desk_ctx, dani_ctx, person_ctx):
        ctx.close()
