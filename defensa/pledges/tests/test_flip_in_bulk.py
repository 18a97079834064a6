"""The flip queues every pledger's message in one batch: its queries do not grow with the
number of pledgers, and the messages are the ones a pledger-by-pledger pass would queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from defensa.core.testing import join, make_user
from defensa.notify.models import Delivery
from defensa.pledges import actions
from defensa.pledges.models import Campaign, Origin, State
from defensa.pledges.tests.helpers import open_campaign

pytestmark = pytest.mark.django_db


def _flip_queries(net, size: int, tag: int) -> tuple[int, Campaign]:  # type: ignore[no-untyped-def]
    campaign = open_campaign(net.boyle, net.ana, threshold=size, require_confirmation=False)
    for n in range(size - 2):
        actions.pledge_by_phone(
            campaign, f"+1323555{tag}{n:03d}", origin=Origin.SMS, language="es" if n % 2 else "en"
        )
    member = make_user(f"member{tag}", language="es")
    join(member, net.boyle)
    actions.pledge_as_member(campaign, member)
    Campaign.objects.filter(pk=campaign.pk).update(needed=size - 1)
    with CaptureQueriesContext(connection) as queries:
        assert actions.reach_threshold(campaign)
    return len(queries), Campaign.objects.get(pk=campaign.pk)


def test_the_flip_is_one_batch_whatever_the_number_of_pledgers(net):
    few, small = _flip_queries(net, 12, 1)
    many, large = _flip_queries(net, 60, 2)
    assert small.state == large.state == State.REACHED
    assert many == few
    told = Delivery.objects.filter(template="pledge_reached", context__campaign=large.pk)
    assert told.filter(recipient__isnull=True, channel="sms").count() == 58
    assert told.filter(recipient__isnull=False).exists()  # the member, on their own channel
    # Every number is sealed under the campaign's key, shown as dots.
    sealed = told.filter(recipient__isnull=True)
    assert set(sealed.values_list("data_key_id", flat=True)) == {large.data_key_id}
    assert set(sealed.values_list("address_hint", flat=True)) == {"•••"}
    assert {d.resolve_address() for d in sealed} == {f"+13235552{n:03d}" for n in range(58)}
    # Flipping again queues nothing more.
    before = told.count()
    actions._tell_pledgers(large, list(large.counted()))  # noqa: SLF001 (the idempotency)
    assert told.count() == before
