"""Issue 16, point 8: in demo mode a persona reads what the console transport "sent", the
verifier's one-tap link included; without demo mode the page does not exist."""

from __future__ import annotations

import io

import pyotp
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from defensa.accounts.models import User
from defensa.core import testing
from defensa.demo.network import DEMO_PASSWORD, PERSONAS
from defensa.dispatch.actions import offer_link, offer_to_nearest
from defensa.incidents.models import Incident, State
from defensa.notify.models import Delivery, Status

URL = "/demo/messages/"


def _persona(key: str) -> User:
    return User.objects.get(email=next(p.email for p in PERSONAS if p.key == key))


def _signed_in(key: str) -> Client:
    persona = next(p for p in PERSONAS if p.key == key)
    client = Client()
    step1 = client.post("/accounts/login/", {"email": persona.email, "password": DEMO_PASSWORD})
    client.post(step1["Location"], {"code": pyotp.TOTP(persona.totp_secret).now()})
    return client


@pytest.fixture
def demo(db: None, settings: Settings) -> None:
    settings.DEMO = True
    call_command("seed_demo", stdout=io.StringIO())
    # Every member reachable by email, whoever is nearest to the incident.
    User.objects.update(notify_email=True)


def _console_sent(deliveries) -> None:  # type: ignore[no-untyped-def]
    # What the worker records after the console transport wrote a message to the log.
    for n, delivery in enumerate(deliveries):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.SENT,
            transport="console",
            sent_at=timezone.now() + timezone.timedelta(seconds=n),
        )


def test_a_persona_reads_the_verifiers_one_tap_link(demo: None) -> None:
    incident = Incident.objects.filter(state=State.NEW).first()
    assert incident is not None
    offers = offer_to_nearest(incident, actor=_persona("dispatcher"))
    assert offers
    _console_sent(Delivery.objects.filter(template="dispatch_offer").order_by("id"))
    response = _signed_in("dispatcher").get(URL, HTTP_ACCEPT_LANGUAGE="es")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Mensajes enviados</h1>" in html
    for offer in offers:
        assert offer_link(offer) in html


def test_newest_first_and_only_what_the_console_sent(demo: None) -> None:
    seeded = list(Delivery.objects.order_by("id")[:4])
    assert len(seeded) == 4
    older, newer, by_twilio, queued = seeded
    _console_sent([older, newer])  # `newer` is sent a second later
    Delivery.objects.filter(pk=by_twilio.pk).update(
        status=Status.SENT, transport="twilio", sent_at=timezone.now()
    )
    Delivery.objects.filter(pk=queued.pk).update(transport="console")
    html = _signed_in("verifier").get(URL).content.decode()
    assert html.count("<article ") == 2
    assert html.index(f'id="delivery-{newer.pk}"') < html.index(f'id="delivery-{older.pk}"')
    assert f'id="delivery-{by_twilio.pk}"' not in html
    assert f'id="delivery-{queued.pk}"' not in html


def test_the_page_is_404_without_demo_mode(demo: None, settings: Settings) -> None:
    client = _signed_in("dispatcher")
    assert client.get(URL).status_code == 200
    settings.DEMO = False
    assert client.get(URL).status_code == 404


def test_the_page_is_404_for_anyone_but_a_persona(demo: None) -> None:
    assert Client().get(URL).status_code == 404
    someone = User.objects.exclude(email__in=[p.email for p in PERSONAS]).first()
    assert someone is not None
    assert testing.sign_in(Client(), someone).get(URL).status_code == 404


def test_the_demo_banner_links_to_it_only_in_demo_mode(demo: None, settings: Settings) -> None:
    client = _signed_in("member")
    assert 'href="/demo/messages/"' in client.get("/accounts/").content.decode()
    settings.DEMO = False
    assert 'href="/demo/messages/"' not in client.get("/accounts/").content.decode()


def test_confirming_a_demo_raid_visibly_alerts_people(demo: None) -> None:
    from defensa.dispatch.response import audience
    from defensa.evidence.models import PublicPage

    waiting = Incident.objects.filter(state__in=[State.NEW, State.VERIFYING])
    assert waiting.count() == 2
    for incident in waiting:
        who = audience(incident, timezone.now())
        assert len(who.legal) >= 1, incident  # a legal observer on call
        assert len(who.community) >= 5, incident  # members who asked for area alerts
        assert PublicPage.objects.get(committee=incident.committee).show_verified
