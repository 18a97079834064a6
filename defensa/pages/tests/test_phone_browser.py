"""On a phone (390 x 844, Chromium): the buttons that act are at least 44 x 44 CSS px, and
the wide pages (members, messages sent, broadcasts, the printable record, a 404) do not
overflow the screen sideways."""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.dispatch import actions
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.tests.helpers import report_incident, verifier

pytestmark = [pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


def _phone(browser, live_server, user=None):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, extra_http_headers={"Accept-Language": "es"}
    )
    if user is not None:
        client = sign_in(Client(), user)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
    return context, context.new_page()


def _assert_big_enough(page, selector: str, expected: int) -> None:  # type: ignore[no-untyped-def]
    buttons = page.locator(selector)
    assert buttons.count() == expected, selector
    for i in range(expected):
        box = buttons.nth(i).bounding_box()
        label = buttons.nth(i).inner_text()
        assert box is not None, f"{selector} #{i} is not shown"
        assert box["width"] >= 44 and box["height"] >= 44, f"{label!r}: {box}"


def _assert_no_sideways_scroll(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px phone"


def test_primary_buttons_are_44_px_on_the_console_and_the_one_tap_page(
    transactional_db, net, browser, live_server
):  # type: ignore[no-untyped-def]
    verifier("alma", net.boyle, language="es")
    waiting = report_incident(text="Soto y 1st")
    incident = report_incident(lat=34.0440, lon=-118.2000, text="Cesar Chavez y Lorena")
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    link = f"/r/{actions.offer_token(offer)}/"

    context, page = _phone(browser, live_server, net.dani)
    try:
        page.goto(f"/dispatch/boyle-heights/?incident={waiting.pk}")
        # Request verification (new) and Ask more verifiers (verifying), with what they do.
        _assert_big_enough(page, "#queue button[data-verb=verify]", 2)
        assert page.locator("#queue .consequence").first.is_visible()
        _assert_big_enough(page, "#decide button", 4)  # note, confirmed, false alarm, close
        assert page.locator("#confirm-says").inner_text().startswith("Al confirmar, se avisa a")
    finally:
        context.close()

    context, page = _phone(browser, live_server)
    try:
        page.goto(link)
        _assert_big_enough(page, "button[name=step]", 2)  # Accept / I can't go
        actions.accept_offer(offer)
        actions.mark_arrived(offer)
        page.goto(link)
        _assert_big_enough(page, "button[name=step]", 3)  # Confirmed / Not found / False alarm
        # The alarming and the stopping choices differ by their border's style, not colour only.
        styles = page.locator("button[name=step]").evaluate_all(
            "els => els.map(e => getComputedStyle(e).borderTopStyle)"
        )
        assert styles == ["solid", "dashed", "dashed"]
    finally:
        context.close()

    context, page = _phone(browser, live_server, net.vero)
    try:
        page.goto("/alerts/")
        _assert_big_enough(page, "main button[type=submit]", 1)  # Save
    finally:
        context.close()


def test_wide_pages_fit_a_phone(transactional_db, net, browser, live_server):  # type: ignore[no-untyped-def]
    verifier("alma", net.boyle, language="es")
    incident = report_incident(text="Soto y 1st, frente a la panadería de la esquina")
    offer_to_nearest(incident, 1, actor=net.dani)  # a delivery for the messages page

    context, page = _phone(browser, live_server, net.ana)
    try:
        for path in (
            "/committees/boyle-heights/members/",
            "/notify/deliveries/",
            "/broadcasts/boyle-heights/",
            "/accounts/",
            "/no-such-page/",
        ):
            _assert_no_sideways_scroll(page, path)
    finally:
        context.close()

    context, page = _phone(browser, live_server, net.dani)
    try:
        _assert_no_sideways_scroll(page, f"/incidents/{incident.reference}/record/")
        _assert_no_sideways_scroll(page, f"/dispatch/boyle-heights/?incident={incident.pk}")
    finally:
        context.close()
