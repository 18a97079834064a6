"""Response rules: a confirmed incident alerts legal on call and opted-in neighbours; nothing
unverified is ever broadcast."""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.accounts.models import Skill, SkillKind
from defensa.core import geo
from defensa.core.testing import join, make_user
from defensa.dispatch import actions
from defensa.dispatch.actions import escalate_offers, offer_to_nearest
from defensa.dispatch.models import AreaAlert
from defensa.dispatch.response import NotVerified, respond_to_confirmed
from defensa.dispatch.tests.helpers import BOYLE, report_incident, verifier
from defensa.incidents.models import Incident, State
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.notify.tests.helpers import run_worker

pytestmark = pytest.mark.django_db
COMMUNITY = ("incident_alert", "incident_confirmed_legal")
HERE = geo.cell_for(*BOYLE)
FAR = geo.cell_for(33.98, -118.22)  # Huntington Park, several cells away


@pytest.fixture
def people(net):  # type: ignore[no-untyped-def]
    observer = make_user("olga", on_duty=True)
    join(observer, net.boyle)
    Skill.objects.create(user=observer, kind=SkillKind.LEGAL_OBSERVER)
    resting = make_user("rita", on_duty=False)  # an attorney, off duty
    join(resting, net.boyle)
    Skill.objects.create(user=resting, kind=SkillKind.ATTORNEY)
    nearby = make_user("nico", language="es")
    join(nearby, net.boyle)
    AreaAlert.objects.create(user=nearby, cell=HERE)
    elsewhere = make_user("eva")
    join(elsewhere, net.boyle)
    AreaAlert.objects.create(user=elsewhere, cell=FAR)
    outsider = make_user("otto")  # same area, another committee: another compartment
    join(outsider, net.east)
    AreaAlert.objects.create(user=outsider, cell=HERE)
    verifier("alma", net.boyle)
    return observer, nearby


def test_a_verifiers_confirmation_alerts_legal_on_call_and_opted_in_neighbours(
    net, people, smtp_server, settings
):
    settings.SITE_URL = "http://testserver"
    observer, nearby = people
    incident = report_incident()
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    actions.report_finding(offer, "confirmed")
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED
    sent = Delivery.objects.filter(template__in=COMMUNITY)
    assert {(d.recipient, d.template) for d in sent} == {
        (observer, "incident_confirmed_legal"),
        (nearby, "incident_alert"),
    }
    run_worker()
    by_rcpt = {m.rcpt[0]: m for m in smtp_server.messages}
    alert = by_rcpt["nico@example.org"]
    assert "90033" in alert["Subject"]
    assert "http://testserver/rights/" in alert.body
    assert "http://testserver/alerts/" in alert.body  # "your page": where to change alerts
    assert "Soto" not in alert.body  # the reporter's words and the street stay inside
    assert "eva@example.org" not in by_rcpt and "otto@example.org" not in by_rcpt
    # Spanish for Nico.
    assert "Confirmado" in alert["Subject"] or "confirmad" in alert.body.lower()


@pytest.mark.parametrize("state", [s for s in State.values if s != State.CONFIRMED])
def test_nothing_unverified_is_ever_broadcast(net, people, state):
    incident = report_incident()
    Incident.objects.filter(pk=incident.pk).update(state=state)
    with pytest.raises(NotVerified):
        respond_to_confirmed(incident)
    assert not Delivery.objects.filter(template__in=COMMUNITY).exists()


def test_every_unverified_path_sends_no_community_alert(net, people, client_as):
    # Reported, offered, widened, not found, false alarm, closed: no community alert at all.
    incident = report_incident()
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    escalate_offers()
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    actions.report_finding(offer, "not_found")
    other = report_incident(lat=34.06, lon=-118.20, category="checkpoint")
    [offer2] = offer_to_nearest(other, 1, actor=net.dani)
    actions.accept_offer(offer2)
    actions.mark_arrived(offer2)
    actions.report_finding(offer2, "false_alarm")
    client_as(net.dani).post(f"/dispatch/boyle-heights/{incident.pk}/close/", {"note": "x"})
    assert not Delivery.objects.filter(template__in=COMMUNITY).exists()
    # The dispatcher's own confirmation (with a reason) does alert.
    third = report_incident(lat=34.045, lon=-118.215, category="home_arrest")
    client_as(net.dani).post(
        f"/dispatch/boyle-heights/{third.pk}/confirm/", {"note": "Seen by our steward"}
    )
    assert Delivery.objects.filter(template="incident_alert").exists()


def test_members_choose_their_alert_areas(net, client_as):
    client = client_as(net.mo)
    page = client.get("/alerts/")
    assert page.status_code == 200
    cells = [c for c in geo.area_cells_near(["90033"])]
    client.post("/alerts/", {"cell": [cells[0], "8a29a1d6b2fffff", "nonsense"]})
    assert list(AreaAlert.objects.filter(user=net.mo).values_list("cell", flat=True)) == [cells[0]]
    client.post("/alerts/", {})
    assert not AreaAlert.objects.filter(user=net.mo).exists()
    assert Client().get("/alerts/").status_code == 302


def test_rendered_alert_gives_only_a_coarse_place_and_approximate_time(net, people):
    incident = report_incident()
    Incident.objects.filter(pk=incident.pk).update(state=State.CONFIRMED)
    respond_to_confirmed(incident)
    body = messages.render(Delivery.objects.get(template="incident_alert")).body
    assert "90033" in body
    assert ":00" in body or ":15" in body or ":30" in body or ":45" in body


def test_an_alert_costs_the_same_queries_for_one_person_of_each_kind_as_for_four(net):
    """A raid in a city's densest area alerted 41,392 people on PostgreSQL at 4.6 ms each:
    the legal team on call was queued person by person (four queries each) and the rows
    went in one round trip per 500. Now each group is one batch: the count of queries does
    not depend on how many people there are."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from defensa.subscribers.actions import subscribe_by_text

    lat, lon = BOYLE
    now = timezone.now()
    counts, made = [], 0
    for n in (1, 3):
        for _ in range(n):
            made += 1
            observer = make_user(f"obs{made}", on_duty=True, phone=f"+1323555{made:04d}")
            observer.notify_sms = True
            observer.save(update_fields=["notify_sms"])
            join(observer, net.boyle)
            Skill.objects.create(user=observer, kind=SkillKind.LEGAL_OBSERVER)
            neighbour = make_user(f"nb{made}", language="es")
            join(neighbour, net.boyle)
            AreaAlert.objects.create(user=neighbour, cell=HERE)
            subscribe_by_text(f"+1213555{made:04d}", "90033", language="es")
        incident = Incident.objects.create(
            reference=f"Q{n}", category="workplace_raid", lat=lat, lon=lon, radius_m=50,
            weight=1 / 2500, cell=HERE, first_observed_at=now, last_observed_at=now,
            report_count=1, committee=net.boyle, state=State.CONFIRMED,
        )  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            alerted = respond_to_confirmed(incident)
        counts.append(len(queries))
        assert alerted == 3 * made
        detail = incident.timeline.get(detail__step="alerted").detail
        assert (detail["legal"], detail["members"], detail["subscribers"]) == (made,) * 3
        legal = Delivery.objects.filter(
            template="incident_confirmed_legal", idempotency_key__contains=f":{incident.pk}:"
        )
        # Email and text for each of the legal team, named by id in the timeline's entry.
        assert sorted(detail["deliveries"]) == sorted(legal.values_list("pk", flat=True))
        assert legal.count() == 2 * made
        sealed = Delivery.objects.filter(
            template="subscriber_alert", idempotency_key__contains=f":{incident.pk}:"
        )
        assert sorted(d.resolve_address() for d in sealed) == [
            f"+1213555{k:04d}" for k in range(1, made + 1)
        ]
    assert counts[0] == counts[1]


def test_legal_on_call_is_who_the_python_reading_found(net):
    """`legal_on_call` asks who is on call in SQL: the same people as reading every
    legal-skilled full membership with its shifts and checking each in Python, for people on
    and off duty, on a shift now or later, lapsed, on probation, switched off or other kinds."""
    import datetime as dt
    import random

    from django.db.models import Q
    from django.utils import timezone

    from defensa.committees.models import Membership, MemberStatus, Shift
    from defensa.dispatch.response import ON_CALL_SKILLS, legal_on_call

    rng = random.Random(15)
    now = timezone.now()
    local = now.astimezone(net.boyle.tz)
    for i in range(40):
        person = make_user(f"legal{i}", on_duty=rng.random() < 0.4, is_active=rng.random() < 0.9)
        membership = join(person, net.boyle, full=rng.random() < 0.85)
        kind = rng.choice([*ON_CALL_SKILLS, SkillKind.VERIFIER])
        lapsed = rng.random() < 0.2
        Skill.objects.create(
            user=person,
            kind=kind,
            expires_on=local.date() - dt.timedelta(days=1) if lapsed else None,
        )
        when = rng.choice([None, "now", "later"])
        if when:
            start = (local - dt.timedelta(hours=1 if when == "now" else -2)).time()
            end = (local + dt.timedelta(hours=2 if when == "now" else 4)).time()
            Shift.objects.create(
                membership=membership, weekday=local.weekday(), start=start, end=end
            )
    incident = report_incident()
    today = local.date()
    slow = [
        m.user.pk
        for m in Membership.objects.filter(
            committee_id=incident.committee_id, status=MemberStatus.FULL, user__is_active=True
        )
        .filter(
            Q(user__skills__kind__in=ON_CALL_SKILLS),
            Q(user__skills__expires_on__isnull=True) | Q(user__skills__expires_on__gte=today),
        )
        .select_related("user", "committee")
        .prefetch_related("shifts")
        .distinct()
        if m.user.on_duty or m.is_on_shift(now)
    ]
    assert len(slow) >= 5
    assert sorted(u.pk for u in legal_on_call(incident, now)) == sorted(slow)
