"""Verification dispatch: who is asked, what is written, and the responder's one-tap link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import Skill, SkillKind
from defensa.audit.log import verify_chain
from defensa.audit.models import AuditEntry
from defensa.committees.models import Shift
from defensa.core.tokens import hash_token
from defensa.core.transitions import IllegalTransition
from defensa.dispatch import actions
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import Offer, OfferStatus, Round
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import State
from defensa.incidents.timeline import verify_timeline
from defensa.notify import messages
from defensa.notify.models import Delivery, Priority

pytestmark = pytest.mark.django_db


def test_nearest_on_duty_trained_active_members_are_asked(net):
    near = verifier("near", net.boyle, home_zip="90033")
    far = verifier("far", net.boyle, home_zip="90255")  # Huntington Park, several km south
    verifier("offduty", net.boyle, on_duty=False)
    lapsed = verifier("lapsed", net.boyle, expires_on=dt.date(2020, 1, 1))
    # A current skill of another kind does not make a lapsed verifier current.
    Skill.objects.create(user=lapsed, kind=SkillKind.DRIVER)
    verifier("gone", net.boyle, is_active=False)
    verifier("elsewhere", net.east, home_zip="90033")  # another committee
    net.vero.on_duty = False  # the persona verifier is off duty here
    net.vero.save()
    incident = report_incident()
    assert incident.committee == net.boyle

    offers = offer_to_nearest(incident, 2, actor=net.dani)

    assert [o.responder for o in offers] == [near, far]
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING
    assert {o.tier for o in offers} == {1}
    assert all(o.status == OfferStatus.OFFERED and o.offered_by == net.dani for o in offers)


def test_someone_on_shift_now_counts_as_on_duty(net):
    shifty = verifier("shifty", net.boyle, on_duty=False)
    membership = shifty.memberships.get()
    now = timezone.now().astimezone(net.boyle.tz)
    Shift.objects.create(
        membership=membership,
        weekday=now.weekday(),
        start=(now - dt.timedelta(minutes=30)).time() if now.hour else dt.time(0, 0),
        end=(now + dt.timedelta(minutes=30)).time() if now.hour < 23 else dt.time(23, 59),
    )
    offers = offer_to_nearest(report_incident(), 5, actor=net.dani, now=timezone.now())
    assert shifty in [o.responder for o in offers]
    assert net.vero not in [o.responder for o in offers]  # vero is not on duty


def test_a_shared_language_beats_a_little_distance(net):
    english = verifier("english", net.boyle, home_zip="90033", language="en")
    spanish = verifier("spanish", net.boyle, home_zip="90063", language="es")  # next door
    offers = offer_to_nearest(report_incident(language="es"), 1, actor=net.dani)
    assert [o.responder for o in offers] == [spanish]
    other = report_incident(lat=34.06, lon=-118.20, category="checkpoint", language="en")
    offers = offer_to_nearest(other, 1, actor=net.dani)
    assert [o.responder for o in offers] == [english]


def test_one_urgent_alert_each_one_audit_record_and_a_sealed_timeline(net):
    a = verifier("alma", net.boyle, notify_sms=True, phone="+12135550150")
    b = verifier("beto", net.boyle, language="es")
    incident = report_incident()
    before = AuditEntry.objects.count()

    offers = offer_to_nearest(incident, 2, actor=net.dani)

    assert AuditEntry.objects.count() == before + 1
    [audit] = AuditEntry.objects.filter(seq__gt=before)
    assert audit.action == "incidents.start_verification"
    deliveries = Delivery.objects.filter(template="dispatch_offer")
    assert {(d.recipient, d.channel) for d in deliveries} == {
        (a, "sms"),
        (a, "email"),
        (b, "email"),
    }
    assert {d.priority for d in deliveries} == {Priority.URGENT}
    assert {d.context["offer"] for d in deliveries} == {o.pk for o in offers}
    last = incident.timeline.last()
    assert last.detail == {
        "from": "new",
        "to": "verifying",
        "tier": 1,
        "offers": [o.pk for o in offers],
        "wanted": 2,
        "asked": 2,
        "speak": {"en": 1},  # the report is in English; beto speaks Spanish
    }
    assert verify_timeline(incident) == []
    assert verify_chain()[1] is None


def test_offering_takes_the_same_few_statements_for_3_or_30_responders(net):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(33):
        verifier(f"v{i}", net.boyle, notify_sms=True, phone=f"+1213555{i:04d}")

    def statements(n: int, lat: float) -> tuple[int, list[Offer]]:
        incident = report_incident(lat=lat)
        with CaptureQueriesContext(connection) as queries:
            offers = offer_to_nearest(incident, n, actor=net.dani)
        assert len(offers) == n
        return len(queries), offers

    few, _ = statements(3, 34.0505)
    many, offers = statements(30, 34.0705)  # another raid, 2 km north
    # Offers, link hashes and alerts are written in bulk: no statement per responder.
    assert many == few, (few, many)
    deliveries = Delivery.objects.filter(
        template="dispatch_offer", context__offer__in=[o.pk for o in offers]
    )
    assert {(d.recipient_id, d.context["offer"]) for d in deliveries if d.channel == "sms"} == {
        (o.responder_id, o.pk) for o in offers
    }
    assert all(actions.find_offer(actions.offer_token(o)) == o for o in offers)


def test_the_link_is_derived_and_only_its_hash_is_stored(net):
    alma = verifier("alma", net.boyle)
    [offer] = offer_to_nearest(report_incident(), 1, actor=net.dani)
    token = actions.offer_token(offer)
    assert len(token) >= 43  # 256 bits
    assert offer.token_hash == hash_token(token) != token
    assert actions.find_offer(token) == offer
    assert actions.find_offer(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    delivery = Delivery.objects.get(recipient=alma, template="dispatch_offer")
    assert token not in str(delivery.context)
    rendered = messages.render(delivery)
    assert f"/r/{token}/" in rendered.body
    assert "Workplace raid" in rendered.subject


def test_alerts_are_rendered_in_the_responders_language(net):
    verifier("beto", net.boyle, language="es")
    offer_to_nearest(report_incident(), 1, actor=net.dani)
    rendered = messages.render(Delivery.objects.get(template="dispatch_offer"))
    assert "Redada en un lugar de trabajo" in rendered.subject
    assert "Hola, Beto:" in rendered.body


def test_rollback_leaves_no_offer_and_no_alert(net):
    verifier("alma", net.boyle)
    incident = report_incident()
    with pytest.raises(RuntimeError), transaction.atomic():
        offer_to_nearest(incident, 1, actor=net.dani)
        raise RuntimeError("the caller failed after offering")
    assert not Offer.objects.exists()
    assert not Delivery.objects.filter(template="dispatch_offer").exists()
    incident.refresh_from_db()
    assert incident.state == State.NEW


@pytest.mark.parametrize("state", [State.CONFIRMED, State.FALSE_ALARM, State.CLOSED])
def test_settled_incidents_are_not_offered(net, state):
    verifier("alma", net.boyle)
    incident = report_incident()
    type(incident).objects.filter(pk=incident.pk).update(state=state)
    with pytest.raises(IllegalTransition):
        offer_to_nearest(incident, 1, actor=net.dani)
    assert not Offer.objects.exists()


def test_a_second_request_asks_the_next_nearest_in_the_next_round(net):
    first = verifier("first", net.boyle, home_zip="90033")
    second = verifier("second", net.boyle, home_zip="90255")
    incident = report_incident()
    assert [o.responder for o in offer_to_nearest(incident, 1, actor=net.dani)] == [first]
    again = offer_to_nearest(incident, 1, actor=net.dani)
    assert [(o.responder, o.tier) for o in again] == [(second, 2)]
    assert list(Round.objects.values_list("tier", flat=True)) == [1, 2]
    assert incident.timeline.last().detail["step"] == "offer_widened"
