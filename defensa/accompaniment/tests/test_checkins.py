"""Reminders, check-ins from the phone page, detained -> case, missed check-out escalation."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.accompaniment import actions
from defensa.accompaniment.models import Appointment, Companion, Status
from defensa.accompaniment.tests.helpers import (
    CANARY_NAME,
    FAMILY_PHONE,
    accompanier,
    confirmed,
    schedule,
)
from defensa.audit.models import AuditEntry
from defensa.cases.models import Case, Source
from defensa.cases.timeline import verify_timeline
from defensa.core import crypto
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_PHONE
from defensa.core.transitions import IllegalTransition
from defensa.notify import messages
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db


def _link(companion: Companion) -> str:
    return actions.checkin_path(companion)


# Reminders ----------------------------------------------------------------------------


def test_reminders_go_the_day_before_and_two_hours_before_each_once(net):
    appointment = schedule(net, starts_in=dt.timedelta(days=3))
    companion = confirmed(net, appointment)
    start = appointment.starts_at
    assert actions.send_reminders(now=start - dt.timedelta(hours=30)) == 0
    day = start - dt.timedelta(hours=23)
    assert actions.send_reminders(now=day) == 1
    assert actions.send_reminders(now=day) == 0  # twice run -> once sent
    assert actions.send_reminders(now=day + dt.timedelta(hours=5)) == 0
    soon = start - dt.timedelta(minutes=100)
    assert actions.send_reminders(now=soon) == 1
    assert actions.send_reminders(now=soon) == 0
    assert actions.send_reminders(now=start + dt.timedelta(minutes=5)) == 0
    reminders = Delivery.objects.filter(template=actions.REMINDER_MESSAGE).order_by("id")
    assert [d.context["which"] for d in reminders] == ["day", "soon"]
    assert {d.recipient for d in reminders} == {net.vero}
    day_body, soon_body = (messages.render(d).body for d in reminders)
    assert "Mañana" in day_body and "En dos horas" in soon_body  # vero reads Spanish
    assert actions.checkin_link(companion) in soon_body
    assert "Olive St" in soon_body
    assert CANARY_NAME not in day_body + soon_body
    assert AuditEntry.objects.filter(action="accompaniment.reminded").count() == 2


def test_a_late_confirmation_gets_only_the_two_hour_reminder(net):
    appointment = schedule(net, starts_in=dt.timedelta(minutes=90))
    confirmed(net, appointment)
    assert actions.send_reminders() == 1
    [reminder] = Delivery.objects.filter(template=actions.REMINDER_MESSAGE)
    assert reminder.context["which"] == "soon"


def test_pending_withdrawn_or_cancelled_get_no_reminder(net):
    appointment = schedule(net, starts_in=dt.timedelta(hours=20))
    from django.db import transaction

    with transaction.atomic():
        actions.sign_up(appointment, accompanier(net.mo), actor=net.mo)  # pending only
    other = schedule(net, starts_in=dt.timedelta(hours=20))
    confirmed(net, other)
    actions.cancel_appointment(other, actor=net.lucia)
    assert actions.send_reminders() == 0


def test_the_command_runs_one_pass(net):
    appointment = schedule(net, starts_in=dt.timedelta(hours=20))
    confirmed(net, appointment)
    call_command("accompaniment_tick")
    call_command("accompaniment_tick")
    assert Delivery.objects.filter(template=actions.REMINDER_MESSAGE).count() == 1


# Check-ins ----------------------------------------------------------------------------


def test_arrived_then_out_safe(client, net):
    appointment = schedule(net, starts_in=dt.timedelta(minutes=30))
    companion = confirmed(net, appointment)
    link = _link(companion)
    page = client.get(link)
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    body = page.content.decode()
    assert "Ya llegué" in body  # the page speaks the volunteer's language
    assert CANARY_NAME not in body and CANARY_A_NUMBER not in body
    assert client.post(link, {"step": "arrived"}).status_code == 302
    client.post(link, {"step": "arrived"})  # a double tap
    companion.refresh_from_db()
    assert companion.arrived_at is not None
    assert AuditEntry.objects.filter(action="accompaniment.checked_in").count() == 1
    assert "¿Cómo terminó?" in client.get(link).content.decode()
    client.post(link, {"step": "out_safe"})
    companion.refresh_from_db()
    appointment.refresh_from_db()
    assert companion.outcome == "out_safe"
    assert appointment.status == Status.OUT_SAFE
    assert Case.objects.count() == 0
    assert AuditEntry.objects.filter(action="accompaniment.checked_in").count() == 2
    # Nothing to escalate later.
    assert actions.escalate_missed(now=appointment.ends_at + dt.timedelta(days=1)) == 0


def test_detained_asks_once_more_then_opens_a_case_and_tells_family_and_legal(client, net):
    appointment = schedule(net, starts_in=dt.timedelta(minutes=30))
    companion = confirmed(net, appointment)
    second = confirmed(net, appointment, accompanier(net.mo))
    link = _link(companion)
    client.post(link, {"step": "arrived"})
    ask = client.post(link, {"step": "detained"})
    assert ask.status_code == 200
    assert "¿Detuvieron a la persona?" in ask.content.decode()
    assert Case.objects.count() == 0  # not yet: one more tap

    assert client.post(link, {"step": "detained", "sure": "yes"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.DETAINED
    case = Case.objects.get()
    assert appointment.case == case
    assert case.source == Source.CHECKIN
    assert case.committee == net.boyle
    assert crypto.unseal(case, "person_name") == CANARY_NAME
    assert crypto.unseal(case, "a_number") == CANARY_A_NUMBER
    assert case.contacts.count() == 2
    # The family, in their own languages, by SMS.
    family = Delivery.objects.filter(template=actions.DETAINED_FAMILY_MESSAGE).order_by("id")
    assert [(d.channel, d.resolve_address(), d.language) for d in family] == [
        ("sms", FAMILY_PHONE, "es"),
        ("sms", CANARY_PHONE, "en"),
    ]
    spanish = messages.render(family[0]).body
    assert "fue detenida hoy" in spanish and "Olive St" in spanish
    assert CANARY_NAME not in spanish
    assert "detained today" in messages.render(family[1]).body
    # The legal team: the case's own alert and ours.
    legal = Delivery.objects.filter(recipient=net.lucia).values_list("template", flat=True)
    assert set(legal) >= {"case_opened", actions.DETAINED_LEGAL_MESSAGE}
    alert = Delivery.objects.get(template=actions.DETAINED_LEGAL_MESSAGE, recipient=net.lucia)
    assert f"/cases/{case.pk}/" in messages.render(alert).body
    # The check-in is on the case's timeline, sealed by its one audit record.
    assert case.timeline.filter(detail__what="detained").count() == 1
    assert verify_timeline(case) == []
    assert AuditEntry.objects.filter(action="accompaniment.checked_in").count() == 2
    assert AuditEntry.objects.filter(action="cases.opened").count() == 1

    # A second companion reporting "detained" opens no second case and tells nobody again.
    before = Delivery.objects.count()
    client.post(_link(second), {"step": "detained", "sure": "yes"})
    assert Case.objects.count() == 1
    assert Delivery.objects.count() == before
    # The legal team sees it on the calendar and the case page.
    legal_client = client
    from defensa.core.testing import sign_in

    sign_in(legal_client, net.lucia)
    calendar = legal_client.get("/accompaniment/c/boyle-heights/").content.decode()
    assert "Detained" in calendar
    assert (
        case.reference
        in legal_client.get(f"/accompaniment/c/boyle-heights/{appointment.pk}/").content.decode()
    )


def test_detained_on_a_linked_case_uses_its_family_contacts(net):
    from defensa.cases.tests.helpers import canary_case

    case = canary_case(net)
    appointment = schedule(net, starts_in=dt.timedelta(minutes=10), case=case, contacts=[])
    companion = confirmed(net, appointment)
    actions.check_in(companion, "detained", actor=net.vero)
    assert Case.objects.count() == 1
    [family] = Delivery.objects.filter(template=actions.DETAINED_FAMILY_MESSAGE)
    assert (family.resolve_address(), family.language) == (CANARY_PHONE, "es")
    assert Delivery.objects.filter(
        template=actions.DETAINED_LEGAL_MESSAGE, recipient=net.lucia
    ).exists()
    whats = list(case.timeline.exclude(detail__what=None).values_list("detail__what", flat=True))
    assert whats[-4:] == ["scheduled", "signed_up", "confirmed", "detained"]
    assert verify_timeline(case) == []


def test_rescheduled_tells_the_legal_team(client, net):
    appointment = schedule(net, starts_in=dt.timedelta(minutes=10))
    companion = confirmed(net, appointment)
    client.post(_link(companion), {"step": "rescheduled"})
    appointment.refresh_from_db()
    assert appointment.status == Status.RESCHEDULED
    assert (
        Delivery.objects.filter(template=actions.RESCHEDULED_MESSAGE, recipient=net.lucia).count()
        == 1
    )


def test_links_that_do_not_work(client, net):
    appointment = schedule(net)
    assert client.get("/a/not-a-token/").status_code == 404
    from django.db import transaction

    with transaction.atomic():
        pending = actions.sign_up(appointment, accompanier(net.mo), actor=net.mo)
    page = client.get(_link(pending))
    assert page.status_code == 200
    assert "not confirmed you yet" in page.content.decode()
    client.post(_link(pending), {"step": "detained", "sure": "yes"})
    assert Case.objects.count() == 0  # a pending sign-up cannot report
    companion = confirmed(net, appointment)
    actions.cancel_appointment(appointment, actor=net.lucia)
    assert client.get(_link(companion)).status_code == 410
    later = schedule(net)
    old = confirmed(net, later)
    past = timezone.now() - dt.timedelta(hours=13)
    Appointment.objects.filter(pk=later.pk).update(
        starts_at=past - dt.timedelta(hours=3), ends_at=past
    )
    assert client.get(_link(old)).status_code == 410


def _move(appointment: Appointment, starts_in: dt.timedelta) -> None:
    starts = timezone.now() + starts_in
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=starts, ends_at=starts + dt.timedelta(hours=3)
    )


def test_detained_days_ahead_changes_nothing_and_says_when_check_in_opens(client, net, settings):
    # An infiltrator confirmed for next week's hearing taps "detained" today: no case, no
    # alarm to the family, nothing on the record.
    settings.ACCOMPANIMENT_CHECKIN_OPENS_MINUTES = 120
    appointment = schedule(net, starts_in=dt.timedelta(days=3))
    companion = confirmed(net, appointment)
    link = _link(companion)
    before = (Delivery.objects.count(), AuditEntry.objects.count())
    for step in ("arrived", "detained", "out_safe", "rescheduled"):
        page = client.post(link, {"step": step, "sure": "yes"})
        assert page.status_code == 200
        body = page.content.decode()
        assert "El registro se abre el" in body  # vero reads Spanish
        assert 'name="step"' not in body
    with pytest.raises(IllegalTransition):
        actions.check_in(companion, "detained", actor=net.vero)
    companion.refresh_from_db()
    appointment.refresh_from_db()
    assert companion.arrived_at is None and companion.outcome == ""
    assert appointment.status == Status.SCHEDULED
    assert Case.objects.count() == 0
    assert (Delivery.objects.count(), AuditEntry.objects.count()) == before
    # Just inside the window (two hours before the start) the same taps work.
    _move(appointment, dt.timedelta(minutes=119))
    assert 'value="arrived"' in client.get(link).content.decode()
    client.post(link, {"step": "detained", "sure": "yes"})
    appointment.refresh_from_db()
    assert appointment.status == Status.DETAINED and Case.objects.count() == 1


def test_after_the_window_only_a_companion_who_checked_in_can_report_detained(
    client, net, settings
):
    settings.ACCOMPANIMENT_GRACE_MINUTES = 60
    appointment = schedule(net, starts_in=dt.timedelta(minutes=30))
    there = confirmed(net, appointment)
    absent = confirmed(net, appointment, accompanier(net.mo))
    actions.check_in(there, "arrived", actor=net.vero)
    # The hearing was expected to end 61 minutes ago: the window has closed.
    starts = timezone.now() - dt.timedelta(hours=3, minutes=61)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=starts, ends_at=starts + dt.timedelta(hours=3)
    )
    Companion.objects.filter(pk=there.pk).update(arrived_at=starts - dt.timedelta(minutes=10))
    page = client.get(_link(absent)).content.decode()
    assert 'value="detained"' not in page and 'value="arrived"' not in page
    client.post(_link(absent), {"step": "arrived"})
    client.post(_link(absent), {"step": "detained", "sure": "yes"})
    absent.refresh_from_db()
    assert absent.arrived_at is None and absent.outcome == ""
    assert Case.objects.count() == 0
    # A late "out safe" from the absent one is still taken (it alarms nobody)...
    client.post(_link(absent), {"step": "out_safe"})
    absent.refresh_from_db()
    assert absent.outcome == "out_safe"
    # ...and the one who was there can still report what happened after a long hearing.
    assert 'value="detained"' in client.get(_link(there)).content.decode()
    client.post(_link(there), {"step": "detained", "sure": "yes"})
    appointment.refresh_from_db()
    assert appointment.status == Status.DETAINED and Case.objects.count() == 1


@hsettings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    step=st.one_of(st.sampled_from([*actions.CHECKIN_STEPS, ""]), st.text(max_size=30)),
    sure=st.one_of(st.just("yes"), st.text(max_size=5)),
    token=st.one_of(st.just(""), st.text(max_size=60)),
)
def test_any_check_in_post_gets_an_answer_never_a_500(client, net, step, sure, token):
    if not Appointment.objects.exists():
        confirmed(net, schedule(net, starts_in=dt.timedelta(minutes=30)))
    companion = Companion.objects.get()
    path = _link(companion) if not token else f"/a/{quote(token, safe='')}/"
    response = client.post(
        path, {"step": step.replace("\x00", ""), "sure": sure.replace("\x00", "")}
    )
    assert response.status_code in (200, 302, 400, 404, 410)
    # Whole or nothing: a detention is always a case with its family alerts.
    appointment = Appointment.objects.get()
    if appointment.status == Status.DETAINED:
        assert appointment.case_id is not None
        assert Delivery.objects.filter(template=actions.DETAINED_FAMILY_MESSAGE).count() == 2
    else:
        assert Case.objects.count() == 0


# Escalation ---------------------------------------------------------------------------


def test_no_check_out_by_the_end_plus_grace_escalates_once(net, settings):
    settings.ACCOMPANIMENT_GRACE_MINUTES = 45
    appointment = schedule(net, starts_in=dt.timedelta(minutes=30))
    companion = confirmed(net, appointment)
    actions.check_in(companion, "arrived", actor=net.vero)
    end = appointment.ends_at
    assert actions.escalate_missed(now=end + dt.timedelta(minutes=44)) == 0
    assert actions.escalate_missed(now=end + dt.timedelta(minutes=46)) == 1
    assert actions.escalate_missed(now=end + dt.timedelta(hours=5)) == 0
    [alert] = Delivery.objects.filter(template=actions.MISSED_MESSAGE)
    assert alert.recipient == net.lucia
    body = messages.render(alert).body
    assert f"/accompaniment/c/boyle-heights/{appointment.pk}/" in body
    assert "Nobody reported" in body
    record = AuditEntry.objects.get(action="accompaniment.escalated")
    assert record.data["arrived"] == 1
    appointment.refresh_from_db()
    assert appointment.escalated_at == end + dt.timedelta(minutes=46)


def test_an_appointment_nobody_signed_up_for_escalates_too(net):
    appointment = schedule(net, starts_in=dt.timedelta(days=1))
    assert actions.escalate_missed(now=appointment.ends_at + dt.timedelta(hours=2)) == 1
    assert AuditEntry.objects.get(action="accompaniment.escalated").data["arrived"] == 0
