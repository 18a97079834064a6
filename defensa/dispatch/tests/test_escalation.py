"""Escalation with a frozen clock: `now=` is passed in, nothing of ours is patched."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from defensa.dispatch import actions
from defensa.dispatch.actions import escalate_offers, offer_to_nearest
from defensa.dispatch.models import DispatchPolicy, Offer, OfferStatus, Round
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.notify import messages
from defensa.notify.models import Delivery

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def setup(net, settings):  # type: ignore[no-untyped-def]
    settings.DISPATCH_OFFER_SIZE = 1
    settings.DISPATCH_ACCEPT_TARGET = 1
    settings.DISPATCH_ESCALATE_MINUTES = 5
    near = verifier("near", net.boyle, home_zip="90033")
    mid = verifier("mid", net.boyle, home_zip="90063")
    far = verifier("far", net.boyle, home_zip="90255")
    net.vero.on_duty = False
    net.vero.save()
    incident = report_incident()
    t0 = timezone.now()
    offer_to_nearest(incident, actor=net.dani, now=t0)
    return incident, t0, (near, mid, far)


def test_nobody_accepts_in_time_so_the_offer_widens_and_the_dispatcher_is_told(net, setup):
    incident, t0, (near, mid, _far) = setup
    assert escalate_offers(now=t0 + 4 * MIN) == 0
    assert escalate_offers(now=t0 + 5 * MIN) == 1
    assert [(o.responder, o.tier) for o in Offer.objects.order_by("tier")] == [
        (near, 1),
        (mid, 2),
    ]
    [told] = Delivery.objects.filter(template="dispatch_widened")
    assert told.recipient == net.dani
    rendered = messages.render(told)
    assert incident.reference in rendered.body
    assert "/dispatch/boyle-heights/" in rendered.body
    # Idempotent: the same minute again does nothing more.
    assert escalate_offers(now=t0 + 5 * MIN) == 0
    assert Offer.objects.count() == 2
    # Round 2 waits its own five minutes, then round 3 asks the farthest.
    assert escalate_offers(now=t0 + 9 * MIN) == 0
    assert escalate_offers(now=t0 + 10 * MIN) == 1
    assert Offer.objects.filter(tier=3).get().responder.display_name == "Far"


def test_enough_acceptances_stop_the_widening(net, setup):
    _incident, t0, _people = setup
    actions.accept_offer(Offer.objects.get(), now=t0 + MIN)
    assert escalate_offers(now=t0 + 30 * MIN) == 0
    assert Offer.objects.count() == 1
    assert not Delivery.objects.filter(template="dispatch_widened").exists()


def test_the_committees_own_policy_wins_over_the_defaults(net, setup):
    _incident, t0, _people = setup
    DispatchPolicy.objects.create(
        committee=net.boyle, offer_size=2, accept_target=2, escalate_minutes=2
    )
    actions.accept_offer(Offer.objects.get(), now=t0 + MIN)
    # One accepted but two wanted, after two minutes: two more are asked.
    assert escalate_offers(now=t0 + 2 * MIN) == 1
    assert Offer.objects.filter(tier=2).count() == 2


def test_unanswered_offers_expire_and_their_links_die(net, setup, settings):
    _incident, t0, _people = setup
    offer = Offer.objects.get()
    escalate_offers(now=t0 + dt.timedelta(hours=settings.DISPATCH_LINK_HOURS))
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert offer.link_problem() == "expired"


def test_no_widening_once_the_incident_is_settled(net, setup):
    incident, t0, _people = setup
    from defensa.incidents.actions import confirm_incident

    confirm_incident(incident, actor=net.dani, note="seen on the news feed")
    assert escalate_offers(now=t0 + 60 * MIN) == 0
    assert Round.objects.count() == 1


def test_the_command_runs_one_pass(net, setup):
    _incident, t0, _people = setup
    Round.objects.update(started_at=t0 - 10 * MIN)
    call_command("escalate_offers")
    assert Offer.objects.filter(tier=2).exists()
