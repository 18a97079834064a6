"""Emergency plans: written by the member, triggered by them, a dispatcher or the hotline;
contacts told in their languages; a case opens; a false alarm is cancelled in time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.cases import plans
from defensa.cases.models import Case, EmergencyPlan, PlanTrigger, Source, Status
from defensa.cases.tests.helpers import canary_plan
from defensa.core import crypto
from defensa.core.tests.canary import CANARY_A_NUMBER, CANARY_PHONE, dump_database
from defensa.notify import messages as notify_messages
from defensa.notify.models import Delivery
from defensa.notify.models import Status as DeliveryStatus


def test_member_writes_a_plan_that_is_only_ciphertext_at_rest(client_as, net):
    client = client_as(net.mo)
    response = client.post(
        reverse("plans:mine"),
        {
            "committee": net.boyle.pk,
            "name_1": "Rosa",
            "channel_1": "sms",
            "address_1": "323 555 0177",
            "language_1": "es",
            "channel_2": "sms",
            "language_2": "es",
            "channel_3": "sms",
            "language_3": "es",
            "instructions": "Kids at Sunrise school, 3pm",
            "a_number": CANARY_A_NUMBER,
        },
    )
    assert response.status_code == 302
    plan = EmergencyPlan.objects.get(owner=net.mo)
    assert plans.plan_contacts(plan)[0]["address"] == "+13235550177"
    assert plans.plan_identity(plan)["a_number"] == CANARY_A_NUMBER
    text = "\n".join(dump_database().values())
    assert "3235550177" not in text and CANARY_A_NUMBER not in text and "Sunrise" not in text
    page = client.get(reverse("plans:mine")).content.decode()
    assert "+13235550177" in page and "Sunrise" in page


def test_a_plan_needs_a_reachable_contact(client_as, net):
    client = client_as(net.mo)
    response = client.post(
        reverse("plans:mine"),
        {"committee": net.boyle.pk, "name_1": "Rosa", "channel_1": "sms", "address_1": "nope",
         "language_1": "es", "channel_2": "sms", "language_2": "es", "channel_3": "email",
         "language_3": "en"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "phone number" in response.content.decode()
    assert not EmergencyPlan.objects.exists()


def test_self_trigger_tells_contacts_in_their_languages_and_opens_a_case(client_as, net):
    canary_plan(net)
    client = client_as(net.mo)
    response = client.post(reverse("plans:trigger_mine"), {"confirm": "on"})
    assert response.status_code == 302
    trigger = PlanTrigger.objects.get()
    case = trigger.case
    assert case.source == Source.PLAN and case.committee == net.boyle
    assert crypto.unseal(case, "a_number") == CANARY_A_NUMBER
    assert case.contacts.count() == 2
    sms = Delivery.objects.get(template="plan_triggered", channel="sms")
    email = Delivery.objects.get(template="plan_triggered", channel="email")
    assert (sms.language, email.language) == ("es", "en")
    es_body = notify_messages.render(sms).body
    en_body = notify_messages.render(email).body
    assert "plan de emergencia" in es_body and "Rosa picks up the kids" in es_body
    assert "emergency plan" in en_body and "Mo" in en_body
    assert Delivery.objects.filter(template="case_opened", recipient=net.lucia).exists()
    assert AuditEntry.objects.filter(action="cases.plan_triggered").count() == 1
    # A second tap does not open a second case.
    client.post(reverse("plans:trigger_mine"), {"confirm": "on"})
    assert Case.objects.count() == 1


def test_trigger_needs_the_confirmation_box(client_as, net):
    canary_plan(net)
    client_as(net.mo).post(reverse("plans:trigger_mine"), {})
    assert not PlanTrigger.objects.exists()


def test_false_alarm_in_the_window_stops_and_tells(client_as, net):
    plan = canary_plan(net)
    trigger = plans.trigger_plan(plan, via="self", actor=net.mo)
    # The SMS went out already; the email is still queued.
    Delivery.objects.filter(template="plan_triggered", channel="sms").update(
        status=DeliveryStatus.SENT
    )
    response = client_as(net.mo).post(reverse("plans:cancel", args=[trigger.pk]))
    assert response.status_code == 302
    email = Delivery.objects.get(template="plan_triggered", channel="email")
    assert email.status == DeliveryStatus.CANCELLED
    told = Delivery.objects.get(template="plan_cancelled")
    assert told.channel == "sms" and told.language == "es"
    assert "FALSA ALARMA" in notify_messages.render(told).body.upper()
    trigger.refresh_from_db()
    assert trigger.cancelled_at is not None and trigger.case.status == Status.CLOSED
    assert Delivery.objects.filter(template="case_false_alarm", recipient=net.lucia).exists()


def test_after_the_window_only_the_legal_team_closes_it(client_as, net, settings):
    plan = canary_plan(net)
    trigger = plans.trigger_plan(plan, via="self", actor=net.mo)
    PlanTrigger.objects.filter(pk=trigger.pk).update(
        cancel_until=timezone.now() - dt.timedelta(seconds=1)
    )
    client_as(net.mo).post(reverse("plans:cancel", args=[trigger.pk]))
    trigger.refresh_from_db()
    assert trigger.cancelled_at is None and trigger.case.status == Status.REPORTED
    assert not Delivery.objects.filter(template="plan_cancelled").exists()


def test_dispatcher_finds_the_member_and_triggers_for_a_hotline_caller(client_as, net):
    plan = canary_plan(net)
    dani = client_as(net.dani)
    found = dani.get(reverse("plans:search", args=["boyle-heights"]), {"q": "mo"})
    text = found.content.decode()
    assert reverse("plans:trigger", args=["boyle-heights", plan.pk]) in text
    assert CANARY_PHONE not in text and CANARY_A_NUMBER not in text and "Rosa" not in text
    response = dani.post(
        reverse("plans:trigger", args=["boyle-heights", plan.pk]),
        {"via": "hotline", "confirm": "on"},
    )
    assert response.status_code == 302
    trigger = PlanTrigger.objects.get()
    assert trigger.via == "hotline" and trigger.triggered_by == net.dani


@pytest.mark.parametrize("who", ["ana", "vero", "lucia", "mo", "pat", "omar"])
def test_only_the_committees_dispatchers_trigger_for_others(client_as, net, who):
    plan = canary_plan(net)
    client = client_as(getattr(net, who))
    assert client.get(reverse("plans:search", args=["boyle-heights"])).status_code == 404
    url = reverse("plans:trigger", args=["boyle-heights", plan.pk])
    assert client.post(url, {"via": "hotline", "confirm": "on"}).status_code == 404
    assert not PlanTrigger.objects.exists()


def test_erasing_a_plan_shreds_its_key(client_as, net):
    plan = canary_plan(net)
    key = plan.data_key
    client_as(net.mo).post(reverse("plans:delete_mine"))
    assert not EmergencyPlan.objects.exists()
    key.refresh_from_db()
    assert key.shredded


def test_a_member_cannot_set_off_and_cancel_their_plan_over_and_over(client_as, net, settings):
    # Issue 9, point 13: each trigger alerts the contacts and the legal team and each cancel
    # tells them it was a false alarm; one account must not be a way to flood them.
    settings.PLAN_SELF_TRIGGERS_PER_HOUR = 3
    plan = canary_plan(net)
    client = client_as(net.mo)
    for _ in range(3):
        assert client.post(reverse("plans:trigger_mine"), {"confirm": "on"}).status_code == 302
        trigger = PlanTrigger.objects.filter(cancelled_at__isnull=True).get()
        client.post(reverse("plans:cancel", args=[trigger.pk]))
    before = (PlanTrigger.objects.count(), Delivery.objects.count(), Case.objects.count())
    refused = client.post(reverse("plans:trigger_mine"), {"confirm": "on"}, follow=True)
    assert "call the hotline" in refused.content.decode()
    assert (PlanTrigger.objects.count(), Delivery.objects.count(), Case.objects.count()) == before
    # A dispatcher (or the hotline) can still set it off: a real detention is never blocked.
    trigger = plans.trigger_plan(plan, via="dispatcher", actor=net.dani)
    assert trigger.cancelled_at is None and trigger.case is not None
    # An hour later the member can again.
    plans.cancel_trigger(trigger, actor=net.dani)
    PlanTrigger.objects.update(created_at=timezone.now() - dt.timedelta(minutes=61))
    assert client.post(reverse("plans:trigger_mine"), {"confirm": "on"}).status_code == 302
    assert PlanTrigger.objects.filter(cancelled_at__isnull=True, via="self").count() == 1
