"""Issue 9, point 9: need to know holds on the deliveries page.

A coordinator who is not on the legal team must not see, retry or cancel the legal team's
case alerts; every message kind declares its compartment where it is registered.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction

from defensa.committees.models import Membership
from defensa.notify import messages
from defensa.notify.actions import queue_message
from defensa.notify.models import Delivery, Status

pytestmark = pytest.mark.django_db

URL = "/notify/deliveries/"


def _queue(user, template: str, context: dict, key: str) -> Delivery:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        [delivery] = queue_message(user, template, context, idempotency_key=key, channels=["email"])
    return delivery


@pytest.fixture
def legal_alert(net):  # type: ignore[no-untyped-def]
    # Lucia is on Boyle Heights' legal team; Ana coordinates Boyle Heights but is not legal.
    return _queue(net.lucia, "case_opened", {"case": 41}, "case-opened:41")


def _shown(response, delivery: Delivery) -> bool:  # type: ignore[no-untyped-def]
    return f'id="delivery-{delivery.pk}"' in response.content.decode()


def test_a_coordinator_off_the_legal_team_cannot_see_or_cancel_a_case_alert(
    net, client_as, legal_alert
):
    general = _queue(net.lucia, "test_message", {}, "hello:lucia")
    client = client_as(net.ana)
    response = client.get(URL)
    assert _shown(response, general)  # Lucia's ordinary messages: the coordinator's business
    assert not _shown(response, legal_alert)
    assert "case_opened" not in response.content.decode()
    assert client.post(f"/notify/deliveries/{legal_alert.pk}/cancel/").status_code == 404
    Delivery.objects.filter(pk=legal_alert.pk).update(status=Status.FAILED)
    assert client.post(f"/notify/deliveries/{legal_alert.pk}/retry/").status_code == 404
    assert Delivery.objects.get(pk=legal_alert.pk).status == Status.FAILED


def test_a_coordinator_on_the_legal_team_sees_and_cancels_it(net, client_as, legal_alert):
    Membership.objects.filter(user=net.ana, committee=net.boyle).update(is_legal=True)
    client = client_as(net.ana)
    assert _shown(client.get(URL), legal_alert)
    assert client.post(f"/notify/deliveries/{legal_alert.pk}/cancel/").status_code == 302
    assert Delivery.objects.get(pk=legal_alert.pk).status == Status.CANCELLED


def test_legal_in_another_committee_does_not_open_this_one(net, client_as, legal_alert):
    # Ana on the East LA legal team, coordinator of Boyle Heights: still not Boyle's case alerts.
    Membership.objects.create(user=net.ana, committee=net.east, status="full", is_legal=True)
    assert not _shown(client_as(net.ana).get(URL), legal_alert)


def test_network_admins_see_every_compartment(net, client_as, legal_alert):
    assert _shown(client_as(net.admin).get(URL), legal_alert)


def test_a_kind_nobody_declared_is_for_admins_only(net, client_as):
    admin_only = _queue(net.mo, "purge_failed", {"problem": "X"}, "purge:x")
    assert messages.compartment_of("no_such_kind") == messages.ADMIN
    assert not _shown(client_as(net.ana).get(URL), admin_only)
    assert _shown(client_as(net.admin).get(URL), admin_only)


def test_who_pledged_is_shown_to_nobody_not_even_admins(net, client_as):
    """A pledge's messages name its pledgers: the deliveries page shows them to no one."""
    sealed = _queue(net.mo, "pledge_reached", {"campaign": 1}, "pledge:1:mo")
    assert messages.compartment_of("pledge_sms_reply") == messages.SEALED
    for person in (net.admin, net.ana):
        assert not _shown(client_as(person).get(URL), sealed)
    assert client_as(net.admin).post(f"{URL}{sealed.pk}/cancel/").status_code == 404
    assert Delivery.objects.get(pk=sealed.pk).status == Status.QUEUED


def test_the_legal_teams_alerts_are_declared_legal() -> None:
    for key in (
        "case_opened",
        "case_false_alarm",
        "case_task_overdue",
        "accompaniment_detained_legal",
        "accompaniment_missed",
    ):
        assert messages.compartment_of(key) == messages.LEGAL, key


def test_every_message_kind_declares_its_compartment() -> None:
    kinds = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "templates" / "notify" / "messages"
        if folder.is_dir():
            kinds |= {p.name.split(".")[0] for p in folder.glob("*.txt")}
    assert kinds, "no message templates found"
    undeclared = {k for k in kinds if k not in messages._COMPARTMENTS}
    assert undeclared == set()
    with pytest.raises(ValueError):
        messages.register_compartment("secret-club", "x")
