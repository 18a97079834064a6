"""Texts from our own verifiers answer their offer; they do not become anonymous reports.

Every text goes through the real signed Twilio webhook; replies leave through the delivery
engine to the loopback Twilio peer where a test reads them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import Offer, OfferStatus, Outcome
from defensa.dispatch.sms import command
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import State, TimelineAction
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.notify.tests.helpers import run_worker
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import _webhook, new_sid
from defensa.reports.tests.test_sms import text as signed_text

pytestmark = pytest.mark.django_db
__all__ = ["_webhook"]  # the webhook's settings, autouse

PHONE = "+13235550177"


def text(client, body: str, *, number: str = PHONE, sid: str | None = None):  # type: ignore[no-untyped-def]
    """A text through the real signed Twilio webhook (reports' test helper), answered 200."""
    response = signed_text(client, body, number=number, sid=sid)
    assert response.status_code == 200
    return response


def offered(net, *, language: str = "es", phone: str = "(323) 555-0177", **fields):  # type: ignore[no-untyped-def]
    """One verifier (phone written as people type it), offered one incident."""
    net.vero.on_duty = False
    net.vero.save()
    fields.setdefault("notify_sms", True)
    member = verifier("rosa", net.boyle, language=language, phone=phone, **fields)
    incident = report_incident()
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    assert offer.responder == member
    return offer


def replies() -> list[str]:
    """The bodies of the answers queued to the member's number, oldest first."""
    return [
        messages.render(d).body.strip()
        for d in Delivery.objects.filter(template="dispatch_sms_reply").order_by("id")
    ]


def test_the_offer_text_explains_the_reply_words_in_both_languages(net):
    offer = offered(net)
    [sms] = Delivery.objects.filter(template="dispatch_offer", channel="sms")
    body = messages.render(sms).body
    assert "Responde SI o 1 para ir, NO o 2 si no puedes" in body
    assert "3 confirmado, 4 nada, 5 falsa alarma" in body
    offer.responder.language = "en"
    offer.responder.save()
    sms.language = "en"
    assert "Reply SI or 1 to go, NO or 2 if you can't" in messages.render(sms).body


def test_reply_words_are_a_small_exact_set():
    assert command("Sí.") == command("si") == command(" 1 ") == "accept"
    assert command("no") == command("2") == "decline"
    assert command("3") == command("Confirmado!") == command("CONFIRMED") == Outcome.CONFIRMED
    assert command("4") == command("nada") == command("Nothing") == Outcome.NOT_FOUND
    assert command("5") == command("falsa") == command("FALSE") == Outcome.FALSE_ALARM
    # A sentence is a message to the dispatcher, never a guess at a step.
    assert command("no one is there") == command("si voy") == command("ok voy") == ""


def test_si_accepts_through_the_webhook_and_the_reply_reaches_the_peer(client, net, twilio_peer):
    offer = offered(net)
    run_worker()  # the offer itself goes out first
    twilio_peer.messages.clear()

    text(client, "SÍ")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.incident.timeline.filter(detail__step="offer_accepted").count() == 1
    assert not Report.objects.filter(channel="sms").exists()
    assert AuditEntry.objects.filter(action="dispatch.accept_offer").count() == 1
    run_worker()
    [reply] = twilio_peer.messages
    assert reply.to == PHONE
    assert f"gracias, vas a {offer.incident.reference}" in reply.body
    assert "3 confirmado" in reply.body


def test_2_declines(client, net):
    offer = offered(net, language="en")
    text(client, "2")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert AuditEntry.objects.filter(action="dispatch.decline_offer").count() == 1
    assert replies() == [
        f"Defensa: thank you, we will ask someone else for {offer.incident.reference}."
    ]
    assert not Report.objects.filter(channel="sms").exists()


def test_a_finding_by_reply_confirms_through_the_same_action(client, net):
    offer = offered(net, language="en")
    text(client, "1")
    text(client, "3")

    offer.refresh_from_db()
    assert (offer.status, offer.outcome) == (OfferStatus.ARRIVED, Outcome.CONFIRMED)
    assert offer.arrived_at is not None and offer.finished_at is not None
    incident = offer.incident
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED
    assert f"your finding is on the record of {incident.reference}" in replies()[-1]


def test_a_lone_false_alarm_by_reply_follows_the_lone_finding_rule(client, net):
    offer = offered(net)
    text(client, "si")
    text(client, "falsa")
    incident = offer.incident
    incident.refresh_from_db()
    # One report, one verifier: the finding alone settles it, as on the page.
    assert incident.state == State.FALSE_ALARM


def test_a_finding_before_accepting_is_refused_and_said(client, net):
    offer = offered(net, language="en")
    text(client, "4")
    offer.refresh_from_db()
    assert (offer.status, offer.outcome) == (OfferStatus.OFFERED, "")
    assert "you have not accepted" in replies()[0]


def test_an_expired_offer_says_so_and_changes_nothing(client, net):
    offer = offered(net, language="en")
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    text(client, "SI")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED
    assert replies() == [
        f"Defensa: the offer for {offer.incident.reference} has expired; nothing changed. "
        "If you are on site, call the dispatcher."
    ]
    refused = AuditEntry.objects.get(action="dispatch.sms_answer_refused")
    assert refused.data["reason"] == "expired"
    assert not Report.objects.filter(channel="sms").exists()


def test_a_switched_off_members_texts_are_dead(client, net):
    offer = offered(net)
    offer.responder.is_active = False
    offer.responder.save()

    text(client, "1")
    text(client, "ya llegué, hay dos camionetas")

    offer.refresh_from_db()
    # Switching the account off expired the offer; the texts do not bring it back.
    assert (offer.status, offer.responded_at) == (OfferStatus.EXPIRED, None)
    assert not offer.incident.timeline.filter(detail__step="member_message").exists()
    assert all("ya venció" in body for body in replies()) and len(replies()) == 2
    assert not Report.objects.filter(channel="sms").exists()


def test_free_text_lands_on_the_incident_timeline_as_the_members_message(client, net):
    offer = offered(net)
    text(client, "ok voy, llego en 10 min")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.OFFERED  # a sentence is not a step
    [entry] = offer.incident.timeline.filter(detail__step="member_message")
    assert entry.action == TimelineAction.NOTE
    assert entry.actor == offer.responder
    assert entry.note == "ok voy, llego en 10 min"
    assert AuditEntry.objects.filter(action="dispatch.member_message").count() == 1
    assert not Report.objects.filter(channel="sms").exists()
    assert f"tu mensaje está en {offer.incident.reference}" in replies()[0]


def test_the_newest_offer_wins_and_the_reply_names_it(client, net):
    first = offered(net, language="en")
    second_incident = report_incident(lat=34.0600, lon=-118.2000, text="Cesar Chavez")
    assert second_incident != first.incident
    [second] = offer_to_nearest(second_incident, 1, actor=net.dani)
    assert second.responder == first.responder

    text(client, "SI")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (OfferStatus.OFFERED, OfferStatus.ACCEPTED)
    assert second_incident.reference in replies()[0]


def test_a_retried_text_is_answered_once(client, net):
    offered(net)
    sid = new_sid()
    text(client, "hay dos", sid=sid)
    text(client, "hay dos", sid=sid)  # the provider retries the same text
    assert len(replies()) == 1
    assert AuditEntry.objects.filter(action="dispatch.member_message").count() == 1


def test_a_strangers_identical_text_still_becomes_a_report(client, net):
    offered(net)
    text(client, "ok voy, llego en 10 min", number="+13235550999")
    text(client, "SI", number="+13235550998")
    assert Report.objects.filter(channel="sms").count() == 2
    assert not replies()


def test_a_member_who_texted_stop_gets_no_answer_and_a_retry_is_kept_once(client, net):
    offer = offered(net)
    text(client, "STOP")
    sid = new_sid()
    text(client, "son tres", sid=sid)
    text(client, "son tres", sid=sid)  # the provider retries the same text
    assert not replies()
    assert offer.incident.timeline.filter(detail__step="member_message").count() == 1
    assert not Report.objects.filter(channel="sms").exists()


def test_a_finding_goes_to_the_offer_accepted_not_a_newer_one_waiting(client, net):
    first = offered(net, language="en")
    text(client, "SI")  # going to the first incident
    second_incident = report_incident(lat=34.0600, lon=-118.2000, text="Cesar Chavez")
    [second] = offer_to_nearest(second_incident, 1, actor=net.dani)
    assert second.responder == first.responder

    text(client, "3")  # on site at the first: the newer offer is still waiting

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.outcome) == (OfferStatus.ARRIVED, Outcome.CONFIRMED)
    assert (second.status, second.outcome) == (OfferStatus.OFFERED, "")
    assert first.incident.reference in replies()[-1]
    # Accepting still answers the newest offer waiting.
    text(client, "1")
    second.refresh_from_db()
    assert second.status == OfferStatus.ACCEPTED
