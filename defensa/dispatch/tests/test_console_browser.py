"""The console from the keyboard (and its map), in Chromium, signed in as dani (Spanish)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from defensa.core.testing import sign_in
from defensa.core.tests.tiles import tile_server
from defensa.dispatch.models import Offer
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import State

pytestmark = [pytest.mark.browser]
__all__ = ["tile_server"]

LAPTOP = {"width": 1280, "height": 900}
CONSOLE = "/dispatch/boyle-heights/"


def _console(browser, live_server, user):  # type: ignore[no-untyped-def]
    client = sign_in(Client(), user)
    context = browser.new_context(
        base_url=live_server.url,
        viewport=LAPTOP,
        extra_http_headers={"Accept-Language": user.language},
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(CONSOLE)
    page.wait_for_function("window.htmx !== undefined")
    return context, page


def _selected(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("li.incident.kb-selected").get_attribute("data-incident") or ""


def _queue_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("li.incident").evaluate_all("els => els.map(e => e.dataset.incident)")


def _select(page, pk: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(len(_queue_ids(page)) + 1):
        if _selected(page) == str(pk):
            return
        page.keyboard.press("j")
    page.keyboard.press("k")
    assert _selected(page) == str(pk)


def _refresh_queue(page) -> None:  # type: ignore[no-untyped-def]
    """What `every 10s` does, now: fetch the fragment and swap it in."""
    page.evaluate(
        "() => htmx.ajax('GET', document.getElementById('queue').getAttribute('hx-get'),"
        " {target: '#queue', swap: 'innerHTML'})"
    )
    page.wait_for_function("!document.querySelector('#queue.htmx-request')")
    page.wait_for_timeout(100)


def test_a_shift_from_the_keyboard(transactional_db, net, browser, live_server):  # type: ignore[no-untyped-def]
    verifier("alma", net.boyle, language="es")
    older = report_incident(text="Soto y 1st")
    newer = report_incident(lat=34.0440, lon=-118.2000, text="Cesar Chavez y Lorena")
    context, page = _console(browser, live_server, net.dani)
    try:
        # The help: "?" shows it, Escape hides it; the button does the same for the mouse.
        assert not page.locator("#shortcuts").is_visible()
        page.keyboard.press("?")
        assert page.get_by_role("heading", name="Atajos de teclado").is_visible()
        page.keyboard.press("Escape")
        assert not page.locator("#shortcuts").is_visible()

        # j / k move through the queue in its order, and stop at its ends.
        ids = _queue_ids(page)
        assert set(ids) == {str(newer.pk), str(older.pk)}
        page.keyboard.press("j")
        assert _selected(page) == ids[0]
        page.keyboard.press("j")
        page.keyboard.press("j")
        assert _selected(page) == ids[1]
        page.keyboard.press("k")
        assert _selected(page) == ids[0]
        _select(page, older.pk)
        assert page.locator("li.incident.kb-selected").get_attribute("aria-current") == "true"

        # A refresh replaces the queue: the selection and the focus survive it.
        report_incident(text="Soto y 1st, otra vez")  # joins `older`: the queue changes
        _refresh_queue(page)
        assert "2 reportes" in page.locator(f'li[data-incident="{older.pk}"]').inner_text()
        assert _selected(page) == str(older.pk)
        assert page.evaluate(
            "document.activeElement.closest('li.incident')?.dataset.incident"
        ) == str(older.pk)

        # v: the same step as the mouse, only focused; nothing is sent until Enter.
        page.keyboard.press("v")
        page.get_by_text("Presiona Enter para pedir a verificadores").wait_for()
        assert not Offer.objects.exists()
        _refresh_queue(page)  # a refresh in between keeps the button focused
        assert page.evaluate("document.activeElement.dataset.verb") == "verify"
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        page.get_by_text("verificadores").first.wait_for()
        assert Offer.objects.filter(incident=older).count() == 1

        # c on an incident not open yet: it opens it, with the reason box ready.
        page.wait_for_function("window.htmx !== undefined")
        assert _selected(page) == str(older.pk)  # kept across the page load
        page.keyboard.press("c")
        page.wait_for_url(re.compile(rf"\?incident={older.pk}$"))
        page.wait_for_function("document.activeElement && document.activeElement.id === 'note'")
        assert page.locator("#pending").inner_text().startswith("Marcar confirmado")
        # Letters typed in the box are words, not shortcuts; an empty reason is not sent.
        page.keyboard.press("Control+Enter")
        page.get_by_text("Di por qué").first.wait_for()
        older.refresh_from_db()
        assert older.state == State.VERIFYING
        page.keyboard.type("vero y alma los vieron: confirmado")
        assert page.url.endswith(f"?incident={older.pk}")
        page.keyboard.press("Control+Enter")
        page.wait_for_load_state()
        page.get_by_text("Guardado en el registro del incidente.").wait_for()
        older.refresh_from_db()
        assert older.state == State.CONFIRMED
        assert older.timeline.filter(note="vero y alma los vieron: confirmado").exists()  # type: ignore[attr-defined]

        # n on the open incident: a note; Escape cancels without sending anything.
        page.keyboard.press("n")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'note'")
        page.keyboard.type("borrador")
        page.keyboard.press("Escape")
        assert page.locator("#pending").is_hidden()
        assert not older.timeline.filter(note="borrador").exists()  # type: ignore[attr-defined]
    finally:
        context.close()


def test_the_console_map_shows_incidents_and_who_is_on_duty(  # type: ignore[no-untyped-def]
    transactional_db, net, browser, live_server, tile_server
):
    verifier("alma", net.boyle)
    report_incident()
    report_incident(lat=34.0440, lon=-118.2000, text="Cesar Chavez y Lorena")
    context, page = _console(browser, live_server, net.dani)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        page.wait_for_function("document.querySelectorAll('path.incident-dot').length === 2")
        page.wait_for_function("document.querySelectorAll('.leaflet-tile-loaded').length > 0")
        assert tile_server.requested
        assert page.locator("path.duty-area").count() >= 1
        # Redrawn after a refresh, still two.
        _refresh_queue(page)
        assert page.locator("path.incident-dot").count() == 2
        page.keyboard.press("j")
        assert page.locator("path.incident-dot.kb-selected").count() == 1
        assert not refused, refused
    finally:
        context.close()
