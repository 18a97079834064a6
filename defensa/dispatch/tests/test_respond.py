"""The responder's phone page: no sign-in, one button per step, a clear page when the link dies."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from defensa.dispatch import actions
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import Offer, OfferStatus
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import State
from defensa.notify.tests.helpers import run_worker

pytestmark = pytest.mark.django_db


def offered(net, *names: str, language: str = "en"):  # type: ignore[no-untyped-def]
    for name in names:
        verifier(name, net.boyle, language=language)
    incident = report_incident(text="Whittier and Soto, the bakery")
    offers = offer_to_nearest(incident, len(names), actor=net.dani)
    return incident, offers


def url(offer: Offer) -> str:
    return f"/r/{actions.offer_token(offer)}/"


def test_accept_arrive_confirm_from_a_phone_without_signing_in(net):
    incident, [alma, beto] = offered(net, "alma", "beto")
    client = Client()
    actions.accept_offer(beto)

    page = client.get(url(alma))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Workplace raid" in html
    assert "Whittier and Soto, the bakery" in html
    assert "90033" in html
    assert "Beto" in html  # who else is going
    assert "Dani" in html  # the dispatcher who asked
    assert html.count('name="step"') == 2  # accept, decline

    assert client.post(url(alma), {"step": "accept"}).status_code == 302
    alma.refresh_from_db()
    assert alma.status == OfferStatus.ACCEPTED
    assert 'value="arrived"' in client.get(url(alma)).content.decode()

    client.post(url(alma), {"step": "arrived"})
    alma.refresh_from_db()
    assert alma.status == OfferStatus.ARRIVED

    done = client.post(url(alma), {"step": "confirmed", "note": "Six agents, two vans"})
    assert done.status_code == 200
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED
    entry = incident.timeline.filter(action="state_changed").last()  # then "alerted"
    assert entry.detail["finding"] == "confirmed"
    assert entry.note == "Six agents, two vans"
    assert entry.actor.display_name == "Alma"

    # Used: a clear page, never a 500, and nothing changes on a replay.
    again = client.post(url(alma), {"step": "false_alarm"})
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED


def test_the_page_speaks_the_responders_language(net):
    _incident, [offer] = offered(net, "beto", language="es")
    html = Client().get(url(offer)).content.decode()
    assert "Aceptar" in html
    offer.status = OfferStatus.DECLINED
    offer.save()
    gone = Client().get(url(offer))
    assert gone.status_code == 410
    assert "Este enlace ya se usó" in gone.content.decode()


def test_expired_and_unknown_links_get_a_clear_page(net):
    _incident, [offer] = offered(net, "alma")
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = Client().post(url(offer), {"step": "accept"})
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED
    unknown = Client().get("/r/not-a-real-token-at-all-aaaaaaaaaaaaaaaaaaaaaaaa/")
    assert unknown.status_code == 404
    assert "can't find this link" in unknown.content.decode()
    assert Client().post(url(offer).replace("/r/", "/r/x"), {"step": "x"}).status_code == 404


def test_decline_kills_the_link_and_bad_steps_change_nothing(net):
    _incident, [offer] = offered(net, "alma")
    client = Client()
    assert client.post(url(offer), {"step": "dance"}).status_code == 400
    # Skipping ahead is refused quietly: the page shows where things stand.
    assert client.post(url(offer), {"step": "confirmed"}).status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.outcome) == (OfferStatus.OFFERED, "")
    assert client.post(url(offer), {"step": "decline"}).status_code == 200
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert client.get(url(offer)).status_code == 410


def test_not_found_sends_the_incident_back_unless_others_still_look(net):
    incident, [alma, beto] = offered(net, "alma", "beto")
    for offer in (alma, beto):
        actions.accept_offer(offer)
        actions.mark_arrived(offer)
    actions.report_finding(alma, "not_found")
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING  # beto is still there
    actions.report_finding(beto, "not_found", note="Nobody there")
    incident.refresh_from_db()
    assert incident.state == State.NEW


def test_false_alarm_settles_the_incident(net):
    incident, [offer] = offered(net, "alma")
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    actions.report_finding(offer, "false_alarm", note="A film crew")
    incident.refresh_from_db()
    assert incident.state == State.FALSE_ALARM
    assert incident.timeline.last().note == "A film crew"


def test_a_responder_sees_only_the_incident_offered_to_them(net):
    verifier("alma", net.boyle)
    mine = report_incident(text="Soto and 1st")
    [offer] = offer_to_nearest(mine, 1, actor=net.dani)
    report_incident(lat=34.03, lon=-118.17, category="checkpoint", text="Secret other place")
    html = Client().get(url(offer)).content.decode()
    assert "Soto and 1st" in html
    assert "Secret other place" not in html
    assert "Checkpoint" not in html


def test_the_offer_email_arrives_with_a_link_that_works(net, smtp_server, settings):
    settings.SITE_URL = "http://testserver"
    _incident, [offer] = offered(net, "alma")
    run_worker()
    [received] = smtp_server.messages
    assert received.rcpt == ["alma@example.org"]
    assert "Please verify: Workplace raid" in received["Subject"]
    [link] = [w for w in received.body.split() if w.startswith("http://testserver/r/")]
    client = Client()
    assert client.get(link).status_code == 200
    assert client.post(link, {"step": "accept"}).status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
