"""A committee's public broadcast can also go to its alert subscribers, by text, sealed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from defensa.accounts.models import User
from defensa.broadcasts import actions, estimate, progress
from defensa.broadcasts.models import Broadcast
from defensa.broadcasts.tasks import enqueue_broadcast
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.subscribers.tests.helpers import text

pytestmark = pytest.mark.django_db

TEXTS = {"en": "Know-your-rights training Sunday 5pm.", "es": "Taller de derechos el domingo."}


def subscribe(client) -> None:  # type: ignore[no-untyped-def]
    text(client, "ALERTA 90033", number="+13235550142")
    text(client, "ALERT 90022", number="+13235550143")  # East LA: another committee
    text(client, "ALERT 90033", number="+13235550144")  # Vero's own number
    Delivery.objects.all().delete()  # the answers to the keyword


def test_a_public_broadcast_reaches_the_committees_subscribers_once(client, client_as, net):
    User.objects.filter(pk=net.vero.pk).update(phone="+13235550144", notify_sms=True)
    subscribe(client)
    page = client_as(net.ana).post(
        reverse("broadcasts:new", args=["boyle-heights"]),
        {"text_en": TEXTS["en"], "text_es": TEXTS["es"], "to_subscribers": "on"},
    )
    assert page.status_code == 302
    broadcast = Broadcast.objects.get()
    assert broadcast.to_subscribers
    plan = estimate.estimate(broadcast)
    members = plan.people - 2
    actions.send_broadcast(broadcast, actor=net.ana)
    enqueue_broadcast.call(broadcast.pk)
    rows = progress.deliveries_of(broadcast)
    strangers = rows.filter(recipient__isnull=True)
    # Boyle Heights' two subscribers; Vero's number gets it once, as a member.
    assert [d.resolve_address() for d in strangers] == ["+13235550142"]
    [sent] = strangers
    assert sent.address_hint == "•••" and sent.language == "es"
    body = messages.render(sent).body
    assert "Taller de derechos" in body and "ALTO" in body
    assert rows.filter(recipient__isnull=False).values("recipient").distinct().count() == members


def test_a_broadcast_is_for_members_only_unless_the_coordinator_says(client, net):
    subscribe(client)
    broadcast = actions.create_broadcast(net.boyle, actor=net.ana, texts=TEXTS)
    actions.send_broadcast(broadcast, actor=net.ana)
    enqueue_broadcast.call(broadcast.pk)
    assert not progress.deliveries_of(broadcast).filter(recipient__isnull=True).exists()
    skilled = actions.create_broadcast(
        net.boyle, actor=net.ana, texts=TEXTS, to_subscribers=True, skill="verifier"
    )
    actions.send_broadcast(skilled, actor=net.ana)
    enqueue_broadcast.call(skilled.pk)
    assert not progress.deliveries_of(skilled).filter(recipient__isnull=True).exists()
