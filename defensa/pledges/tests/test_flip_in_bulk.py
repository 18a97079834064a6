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


def test_a_spread_batch_is_paced_by_each_channels_rate(net, settings):
    import datetime as dt

    from django.db import transaction

    from defensa.core import crypto
    from defensa.notify.actions import Address, queue_sealed_messages
    from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_RATE = FROM_NUMBER, "2/s"
    key = crypto.new_key("test")
    campaign = open_campaign(net.boyle, net.ana)
    with transaction.atomic():
        written = queue_sealed_messages(
            [(f"p{n}", Address("sms", f"+1323555{n:04d}", "en"), key) for n in range(4)],
            "pledge_reached",
            {"campaign": campaign.pk},
            idempotency_prefix="paced",
            spread=True,
        )
    assert written == 4
    due = list(
        Delivery.objects.filter(idempotency_key__startswith="paced:")
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
    )
    gaps = [b - a for a, b in zip(due, due[1:], strict=False)]
    assert gaps == [dt.timedelta(seconds=0.5)] * 3


def test_a_batch_queued_in_parts_is_paced_as_one(net, settings):
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from defensa.core import crypto
    from defensa.notify.actions import Address, queue_sealed_messages
    from defensa.testing.peers.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_RATE = FROM_NUMBER, "2/s"
    key = crypto.new_key("test")
    campaign = open_campaign(net.boyle, net.ana)
    start, paced = timezone.now(), {}
    with transaction.atomic():
        for part in range(3):
            queue_sealed_messages(
                [
                    (f"p{part}-{n}", Address("sms", f"+1323555{part}{n:03d}", "en"), key)
                    for n in range(2)
                ],
                "pledge_reached",
                {"campaign": campaign.pk},
                idempotency_prefix="parts",
                    spread=paced,
                not_before=start,
            )
    due = sorted(
        Delivery.objects.filter(idempotency_key__startswith="parts:").values_list(
            "next_attempt_at", flat=True
        )
    )
    assert due == [start + dt.timedelta(seconds=0.5 * n) for n in range(6)]
    assert paced == {"sms": 6}
