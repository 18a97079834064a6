"""A companion without mobile data checks in by a one-word text: the same step as the check-in
page, through the real signed webhook, never a new report."""

from __future__ import annotations

import datetime as dt

import pytest

from defensa.accompaniment.models import Appointment, Status
from defensa.accompaniment.sms import step_of
from defensa.accompaniment.tests.helpers import confirmed, schedule
from defensa.audit.models import AuditEntry
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import MemberMessage, Offer
from defensa.dispatch.tests.helpers import report_incident
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import _webhook, new_sid
from defensa.reports.tests.test_sms import text as signed_text

pytestmark = pytest.mark.django_db
__all__ = ["_webhook"]  # the webhook's settings, autouse

VERO = "+12135550103"  # the persona's phone


def text(client, body: str, *, number: str = VERO, **kw):  # type: ignore[no-untyped-def]
    assert signed_text(client, body, number=number, **kw).status_code == 200


def replies() -> list[str]:
    return [
        messages.render(d).body.strip()
        for d in Delivery.objects.filter(template="accompaniment_sms_reply").order_by("id")
    ]


@pytest.fixture
def companion(net):  # type: ignore[no-untyped-def]
    return confirmed(net, schedule(net, starts_in=dt.timedelta(minutes=30)))


def test_the_words():
    assert step_of("Llegué") == step_of("llegamos.") == step_of("ARRIVED") == "arrived"
    assert step_of("salimos!") == step_of("Salió") == step_of("safe") == "out_safe"
    assert step_of("detenido") == step_of("Detenida") == "detained"
    assert step_of("reprogramado") == "rescheduled"
    assert step_of("ya salimos todos") == step_of("si") == step_of("3") == ""


def test_arrived_then_out_safe_by_text(client, net, companion):
    text(client, "Llegué")
    companion.refresh_from_db()
    assert companion.arrived_at is not None
    text(client, "salimos")
    companion.refresh_from_db()
    appointment = Appointment.objects.get(pk=companion.appointment_id)
    assert (companion.outcome, appointment.status) == ("out_safe", Status.OUT_SAFE)
    assert AuditEntry.objects.filter(action="accompaniment.checked_in").count() == 2
    assert not Report.objects.exists() and not MemberMessage.objects.exists()
    first, second = replies()
    assert "tienes registrada la llegada" in first and "SALIMOS" in first
    assert "Salida a salvo" in second


def test_detained_by_text_opens_the_case_and_tells_the_family(client, net, companion):
    text(client, "DETENIDO")
    appointment = Appointment.objects.get(pk=companion.appointment_id)
    assert appointment.status == Status.DETAINED and appointment.case is not None
    assert Delivery.objects.filter(template="accompaniment_detained_family").count() == 2
    assert "al equipo legal y a la familia" in replies()[0]


def test_too_early_changes_nothing_and_says_so(client, net):
    early = confirmed(net, schedule(net, starts_in=dt.timedelta(hours=5)))
    text(client, "llegue")
    early.refresh_from_db()
    assert early.arrived_at is None
    # Not open for a check-in yet: the word is no check-in, it is Vero's message.
    assert not replies() and MemberMessage.objects.count() == 1


def test_a_detention_after_the_window_is_refused_and_recorded(client, net, settings):
    settings.ACCOMPANIMENT_GRACE_MINUTES = 1
    late = confirmed(net, schedule(net, starts_in=dt.timedelta(minutes=30)))
    Appointment.objects.filter(pk=late.appointment_id).update(
        starts_at=late.appointment.starts_at - dt.timedelta(hours=6),
        ends_at=late.appointment.ends_at - dt.timedelta(hours=6),
    )
    text(client, "detenido")
    assert Appointment.objects.get(pk=late.appointment_id).status == Status.SCHEDULED
    assert AuditEntry.objects.filter(action="accompaniment.sms_checkin_refused").count() == 1
    assert "se cerró" in replies()[0]


def test_a_retried_text_is_answered_once(client, net, companion):
    sid = new_sid()
    text(client, "llegue", sid=sid)
    text(client, "llegue", sid=sid)
    assert len(replies()) == 1


def test_other_words_from_the_companion_are_a_message_to_dispatchers(client, net, companion):
    text(client, "hay mucha gente afuera")
    assert MemberMessage.objects.get().member == net.vero
    assert not replies() and not Report.objects.exists()


def test_someone_elses_phone_is_no_check_in(client, net, companion):
    text(client, "llegue", number="+13235550999")
    companion.refresh_from_db()
    assert companion.arrived_at is None and Report.objects.count() == 1


def test_a_check_in_word_wins_over_a_verification_offer_waiting(client, net, companion):
    net.vero.on_duty = True
    net.vero.save(update_fields=["on_duty"])
    [offer] = offer_to_nearest(report_incident(), 1, actor=net.dani)
    assert offer.responder == net.vero
    text(client, "llegue")
    companion.refresh_from_db()
    assert companion.arrived_at is not None
    assert (
        not Offer.objects.get(pk=offer.pk)
        .incident.timeline.filter(detail__step="member_message")
        .exists()
    )
