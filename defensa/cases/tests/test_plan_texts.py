"""Texts about a triggered emergency plan go on its case for the legal team: from the
member's own phone or from a contact the plan told, never a new report."""

from __future__ import annotations

import pytest
from django.db import transaction

from defensa.audit.models import AuditEntry
from defensa.cases import plans
from defensa.cases.models import Entry, TriggerVia
from defensa.cases.timeline import verify_timeline
from defensa.core import crypto
from defensa.dispatch.models import MemberMessage
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.reports.models import Report
from defensa.reports.tests.test_sms import _webhook, new_sid
from defensa.reports.tests.test_sms import text as signed_text

pytestmark = pytest.mark.django_db
__all__ = ["_webhook"]  # the webhook's settings, autouse

SISTER = "+13235550121"
MO = "+12135550177"


def text(client, body: str, *, number: str, **kw):  # type: ignore[no-untyped-def]
    assert signed_text(client, body, number=number, **kw).status_code == 200


@pytest.fixture
def triggered(net):  # type: ignore[no-untyped-def]
    net.mo.phone = MO
    net.mo.save(update_fields=["phone"])
    plan = plans.save_plan(
        net.mo,
        committee=net.boyle,
        contacts=[
            {"name": "Rosa", "channel": "sms", "address": "(323) 555-0121", "language": "es"}
        ],
        instructions="Rosa picks up the kids.",
        identity={"person_name": "Mo"},
        actor=net.mo,
    )
    with transaction.atomic():
        return plans.trigger_plan(plan, via=TriggerVia.DISPATCHER, actor=net.dani)


def _notes(trigger) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (e.detail["from"], crypto.unseal(e, "note"))
        for e in Entry.objects.filter(case=trigger.case, detail__step="plan_text").order_by("id")
    ]


def test_a_contacts_reply_goes_on_the_case_and_the_legal_team_is_told(client, net, triggered):
    text(client, "Soy Rosa, ya tengo a los niños. ¿Dónde está?", number=SISTER)
    assert not Report.objects.exists()
    assert _notes(triggered) == [("contact", "Soy Rosa, ya tengo a los niños. ¿Dónde está?")]
    assert verify_timeline(triggered.case) == []
    assert AuditEntry.objects.filter(action="cases.plan_text").count() == 1
    [alert] = Delivery.objects.filter(template="case_text")
    assert alert.recipient == net.lucia  # the legal team
    assert triggered.case.reference in messages.render(alert).body
    assert "Rosa" not in messages.render(alert).body  # a lock screen names nobody
    [reply] = Delivery.objects.filter(template="plan_text_reply")
    assert "el equipo legal tiene tu mensaje" in messages.render(reply).body


def test_the_members_own_text_goes_on_the_case_without_an_answer(client, net, triggered):
    text(client, "me soltaron, estoy bien", number=MO)
    assert _notes(triggered) == [("member", "me soltaron, estoy bien")]
    assert not Delivery.objects.filter(template="plan_text_reply").exists()
    # Not a message to the dispatchers either: the case is the legal team's.
    assert not MemberMessage.objects.exists() and not Report.objects.exists()


def test_a_retried_text_is_kept_once(client, net, triggered):
    sid = new_sid()
    text(client, "hola", number=SISTER, sid=sid)
    text(client, "hola", number=SISTER, sid=sid)
    assert len(_notes(triggered)) == 1


def test_after_a_cancel_the_contact_is_a_stranger_again(client, net, triggered):
    with transaction.atomic():
        plans.cancel_trigger(triggered, actor=net.dani)
    text(client, "ICE at Soto and 1st", number=SISTER)
    assert _notes(triggered) == []
    assert Report.objects.count() == 1


def test_another_number_is_not_matched(client, net, triggered):
    text(client, "ICE at Soto and 1st", number="+13235550122")
    assert _notes(triggered) == [] and Report.objects.count() == 1
