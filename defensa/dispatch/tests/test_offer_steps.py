"""A responder's steps go through one guard: accept and decline from offered, "I'm there"
from accepted, the finding from on site; anything else is refused with a code."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from defensa.core.transitions import IllegalTransition
from defensa.dispatch import actions
from defensa.dispatch.models import Offer, OfferStatus
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.incidents.models import Incident, State

pytestmark = pytest.mark.django_db

ST = OfferStatus
# Written out by hand: (step, status the offer is in) -> the refusal, or None when allowed.
EXPECTED = {
    ("accept", ST.OFFERED): None,
    ("accept", ST.ACCEPTED): "answered",
    ("accept", ST.ARRIVED): "answered",
    ("decline", ST.OFFERED): None,
    ("decline", ST.ACCEPTED): "answered",
    ("decline", ST.ARRIVED): "answered",
    ("arrive", ST.OFFERED): "not accepted",
    ("arrive", ST.ACCEPTED): None,
    ("arrive", ST.ARRIVED): "not accepted",
    ("finish", ST.OFFERED): "not on site",
    ("finish", ST.ACCEPTED): "not on site",
    ("finish", ST.ARRIVED): None,
    # A declined or expired offer's link is dead: the link's problem is the refusal.
    ("accept", ST.DECLINED): "used",
    ("arrive", ST.DECLINED): "used",
    ("accept", ST.EXPIRED): "expired",
}


@pytest.fixture
def offer(net) -> Offer:  # type: ignore[no-untyped-def]
    verifier("near", net.boyle)
    (found,) = actions.offer_to_nearest(report_incident(), 1, actor=net.dani)
    return found


def test_each_step_starts_only_from_its_status(offer: Offer) -> None:
    for (step, status), refusal in EXPECTED.items():
        Offer.objects.filter(pk=offer.pk).update(status=status, outcome="")
        fields = {"outcome": "not_found"} if step == "finish" else {}
        with transaction.atomic():
            if refusal is None:
                moved = actions.step_offer(offer, step, timezone.now(), **fields)
                assert moved.status != status or step == "finish", (step, status)
                transaction.set_rollback(True)
            else:
                with pytest.raises(IllegalTransition) as refused:
                    actions.step_offer(offer, step, timezone.now(), **fields)
                assert refused.value.code == refusal, (step, status)


def test_a_settled_incident_takes_no_more_acceptances(offer: Offer) -> None:
    Incident.objects.filter(pk=offer.incident_id).update(state=State.CONFIRMED)
    with pytest.raises(IllegalTransition) as refused:
        actions.accept_offer(offer)
    assert refused.value.code == "settled"
    offer.refresh_from_db()
    assert offer.status == ST.OFFERED and offer.responded_at is None
    # Declining still works: the responder may say they cannot go.
    assert actions.decline_offer(offer).status == ST.DECLINED


def test_going_is_the_same_rule_in_queries_and_on_a_row(offer: Offer) -> None:
    for status in ST.values:
        Offer.objects.filter(pk=offer.pk).update(status=status)
        offer.refresh_from_db()
        assert Offer.objects.going().filter(pk=offer.pk).exists() == offer.is_going, status
    assert {s for s in ST.values if Offer(status=s).is_going} == {ST.ACCEPTED, ST.ARRIVED}
