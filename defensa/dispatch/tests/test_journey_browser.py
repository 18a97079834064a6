"""The rapid-response journey of issue 3 in Chromium, end to end, emails over real SMTP.

Two phones report the same raid in Spanish and English; they become one incident. Dani (a
dispatcher, Spanish) signs in with password and TOTP code and requests verification from
the console. Vero (verifier, Spanish) gets the offer by email from the aiosmtpd server on
loopback, opens the one-tap link on a phone, accepts, arrives and confirms. Mo, who asked
for alerts about that neighbourhood on his alerts page, gets the alert; Lupe, who asked only
about a neighbourhood farther away, does not.

Deliveries are sent by the real worker loop (`Worker(once=True)`) in this process, through the
email transport, to the SMTP server.
"""

from __future__ import annotations

import re

import h3
import pytest
from django.test import Client

from defensa.committees.areas import area_choices
from defensa.core import testing
from defensa.dispatch.models import Offer
from defensa.dispatch.response import set_area_alerts
from defensa.incidents.areas import incident_cell
from defensa.incidents.models import Incident, State
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report

pytestmark = [pytest.mark.browser]

PHONE = {"width": 360, "height": 740}
RAID = (34.0505, -118.2095)  # Soto and 1st, Boyle Heights
LINK = re.compile(r"(https?://\S+/r/[A-Za-z0-9_-]+/)")


def _phone(browser, live_server, language: str, **extra):  # type: ignore[no-untyped-def]
    return browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale=f"{language}-US",
        extra_http_headers={"Accept-Language": language},
        **extra,
    )


def _report_from_a_phone(browser, live_server, *, language, at, accuracy, labels):  # type: ignore[no-untyped-def]
    context = _phone(
        browser,
        live_server,
        language,
        geolocation={"latitude": at[0], "longitude": at[1], "accuracy": accuracy},
        permissions=["geolocation"],
    )
    page = context.new_page()
    try:
        page.goto("/report/new/")
        page.get_by_role("button", name=labels["locate"]).click()
        page.get_by_text(labels["located"]).wait_for()
        page.get_by_label(labels["category"]).check()
        page.get_by_label(labels["what"]).fill(labels["text"])
        page.get_by_role("button", name=labels["send"]).click()
        page.get_by_text(labels["thanks"]).wait_for()
        fits = page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert fits, "the receipt is wider than the phone"
        return page.locator("main").inner_text()
    finally:
        context.close()


def _signed_in_member(browser, live_server, user):  # type: ignore[no-untyped-def]
    client = testing.sign_in(Client(), user)
    context = _phone(browser, live_server, user.language)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_report_group_verify_confirm_alert(  # type: ignore[no-untyped-def]
    transactional_db, browser, live_server, smtp_server, settings
):
    settings.SITE_URL = live_server.url
    net = testing.build_network()
    net.vero.on_duty = True
    net.vero.save(update_fields=["on_duty"])
    lupe = testing.make_user("lupe", language="es")
    testing.join(lupe, net.boyle)

    # 1. A phone reports the raid in Spanish, with its location.
    receipt = _report_from_a_phone(
        browser,
        live_server,
        language="es",
        at=RAID,
        accuracy=25,
        labels={
            "locate": "Usar mi ubicación",
            "located": "Ubicación agregada",
            "category": "Redada en un lugar de trabajo",
            "what": "¿Qué viste?",
            "text": "La migra en la fábrica, unos diez agentes",
            "send": "Mandar reporte",
            "thanks": "Gracias. Recibimos tu reporte.",
        },
    )
    first = Report.objects.get()
    assert first.reference in receipt
    assert (first.language, first.location_kind, first.precision_m) == ("es", "gps", 25)

    # 2. A second phone, a minute later and a few metres away: the same raid, one incident.
    _report_from_a_phone(
        browser,
        live_server,
        language="en",
        at=(RAID[0] + 0.0002, RAID[1] + 0.0002),
        accuracy=30,
        labels={
            "locate": "Use my location",
            "located": "Location added",
            "category": "Workplace raid",
            "what": "What did you see?",
            "text": "Agents at the factory gate, three vans",
            "send": "Send report",
            "thanks": "Thank you. We got your report.",
        },
    )
    second = Report.objects.exclude(pk=first.pk).get()
    assert second.incident_id == first.incident_id
    incident = Incident.objects.get()
    assert (incident.report_count, incident.committee_id) == (2, net.boyle.pk)

    # 3. Mo asks for alerts about that neighbourhood on his own alerts page.
    cell = incident_cell(incident)
    mo_context = _signed_in_member(browser, live_server, net.mo)
    mo_page = mo_context.new_page()
    mo_page.goto("/alerts/")
    mo_page.locator(f'input[name="cell"][value="{cell}"]').check()
    mo_page.get_by_role("button", name="Save").click()
    mo_page.get_by_text("Saved.").wait_for()
    mo_context.close()
    # Lupe only about a neighbourhood two or more cells away.
    far = [c for c, _label in area_choices(lupe) if h3.grid_distance(c, cell) >= 2]
    assert far, "the committee's area has no neighbourhood far from the raid"
    set_area_alerts(lupe, [far[0]], allowed=[far[0]])

    # 4. Dani signs in (password, then the code from the app) and asks for verification.
    dani = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"Accept-Language": "es"},
    )
    page = dani.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Correo electrónico").fill(net.dani.email)
        page.get_by_label("Contraseña").fill(testing.PASSWORD)
        page.get_by_role("button", name="Continuar").click()
        page.wait_for_url(re.compile(r"/accounts/login/second-step/$"))
        page.get_by_label("Código de 6 dígitos").fill(testing.totp_now(net.dani))
        page.get_by_role("button", name="Iniciar sesión", exact=True).click()
        page.wait_for_url(re.compile(r"/accounts/$"))
        page.goto("/dispatch/boyle-heights/")
        row = page.locator(f'li.incident[data-incident="{incident.pk}"]')
        assert "2 reportes" in row.inner_text()
        row.get_by_role("button", name="Pedir verificación").click()
        page.get_by_text(f"{incident.reference}: Se pidió a 1 verificador").wait_for()
    finally:
        dani.close()
    offer = Offer.objects.get(incident=incident)
    assert offer.responder == net.vero
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING

    # 5. The offer goes out by email; Vero opens its link on her phone.
    run_worker()
    [offer_mail] = [m for m in smtp_server.messages if net.vero.email in m.rcpt]
    link = LINK.search(offer_mail.body)
    assert link, offer_mail.body
    assert not [m for m in smtp_server.messages if net.mo.email in m.rcpt]  # nothing unverified
    vero = _phone(browser, live_server, "en")  # her phone is in English; the page follows her
    page = vero.new_page()
    try:
        page.goto(link.group(1))
        assert page.locator("h1").inner_text() == "Redada en un lugar de trabajo"
        page.get_by_role("button", name="Aceptar: voy").click()
        page.get_by_role("button", name="Ya llegué").click()
        page.get_by_label("Qué viste (opcional)").fill("Confirmado: agentes en la puerta")
        page.get_by_role("button", name="Confirmado", exact=True).click()
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # The link was for one use: opening it again shows that, not the buttons.
        page.goto(link.group(1))
        assert page.get_by_role("button", name="Confirmado", exact=True).count() == 0
    finally:
        vero.close()
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED

    # 6. The alert: Mo (subscribed to that area) gets it, Lupe (elsewhere) does not.
    run_worker()
    alerted = {rcpt for m in smtp_server.messages for rcpt in m.rcpt}
    assert net.mo.email in alerted
    assert lupe.email not in alerted
    [alert] = [m for m in smtp_server.messages if net.mo.email in m.rcpt]
    assert "/rights/" in alert.body  # a know-your-rights link
