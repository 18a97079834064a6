"""The deliveries page: who may see which deliveries, and retrying or cancelling one."""

from __future__ import annotations

import pytest
from django.db import transaction

from defensa.audit.models import AuditEntry
from defensa.notify.actions import Address
from defensa.notify.models import Delivery, Status
from defensa.notify.tests.helpers import queue

pytestmark = pytest.mark.django_db

URL = "/notify/deliveries/"


@pytest.fixture
def outbox(net, settings):  # type: ignore[no-untyped-def]
    settings.NOTIFY_CONSOLE = True
    [to_mo] = queue(net.mo, "page:mo")  # Boyle Heights member
    [to_omar] = queue(net.omar, "page:omar")  # East LA coordinator
    [to_address] = queue(Address("sms", "+13235550142"), "page:addr")
    Delivery.objects.filter(pk=to_mo.pk).update(status=Status.FAILED, last_error="SMTP 550: no")
    return {"mo": to_mo, "omar": to_omar, "address": to_address}


def shown(response) -> set[int]:  # type: ignore[no-untyped-def]
    html = response.content.decode()
    return {
        pk for pk in Delivery.objects.values_list("pk", flat=True) if f'id="delivery-{pk}"' in html
    }


def test_anonymous_visitors_are_sent_away(client, outbox):
    response = client.get(URL)
    assert response.status_code in (302, 404)
    assert shown(response) == set()


@pytest.mark.parametrize("persona", ["mo", "pat", "dani", "vero"])
def test_members_without_a_coordinator_role_get_404(net, client_as, outbox, persona):
    assert client_as(getattr(net, persona)).get(URL).status_code == 404


def test_a_coordinator_sees_deliveries_to_their_committees_members_only(net, client_as, outbox):
    response = client_as(net.ana).get(URL)
    assert response.status_code == 200
    # Ana coordinates Boyle Heights: she sees Mo's, not Omar's (East LA) nor a bare number.
    assert shown(response) == {outbox["mo"].pk}
    assert "+13235550142" not in response.content.decode()


def test_a_coordinator_of_another_compartment_sees_only_theirs(net, client_as, outbox):
    assert shown(client_as(net.omar).get(URL)) == {outbox["omar"].pk}


def test_a_network_admin_sees_all_with_bare_numbers_masked(net, client_as, outbox):
    response = client_as(net.admin).get(URL)
    assert shown(response) == {d.pk for d in outbox.values()}
    html = response.content.decode()
    assert "+13235550142" not in html
    assert "•••-•••-••42" in html


def test_the_page_filters_by_status(net, client_as, outbox):
    response = client_as(net.admin).get(URL, {"status": "failed"})
    assert shown(response) == {outbox["mo"].pk}


def test_a_failed_delivery_can_be_sent_again(net, client_as, outbox):
    client = client_as(net.ana)
    response = client.post(f"/notify/deliveries/{outbox['mo'].pk}/retry/")
    assert response.status_code == 302
    delivery = Delivery.objects.get(pk=outbox["mo"].pk)
    assert (delivery.status, delivery.attempts) == (Status.QUEUED, 0)
    entry = AuditEntry.objects.get(action="notify.retry_delivery")
    assert entry.actor_id == net.ana.pk


def test_a_queued_delivery_can_be_cancelled(net, client_as, outbox):
    client = client_as(net.omar)
    response = client.post(f"/notify/deliveries/{outbox['omar'].pk}/cancel/")
    assert response.status_code == 302
    assert Delivery.objects.get(pk=outbox["omar"].pk).status == Status.CANCELLED
    assert AuditEntry.objects.filter(action="notify.cancel_delivery").count() == 1


def test_another_compartments_delivery_is_404_and_unchanged(net, client_as, outbox):
    client = client_as(net.ana)
    assert client.post(f"/notify/deliveries/{outbox['omar'].pk}/cancel/").status_code == 404
    assert client.post(f"/notify/deliveries/{outbox['address'].pk}/cancel/").status_code == 404
    assert Delivery.objects.get(pk=outbox["omar"].pk).status == Status.QUEUED


def test_retry_and_cancel_need_post(net, client_as, outbox):
    client = client_as(net.ana)
    assert client.get(f"/notify/deliveries/{outbox['mo'].pk}/retry/").status_code == 405


def test_the_page_is_in_spanish_with_reasons_translated(net, client_as, outbox):
    Delivery.objects.filter(pk=outbox["mo"].pk).update(
        last_error="the person turned this channel off"
    )
    client = client_as(net.ana)
    client.cookies["django_language"] = "es"
    html = client.get(URL).content.decode()
    assert "Mensajes enviados" in html
    assert "1 mensaje no se pudo entregar" in html
    assert "la persona desactivó este canal" in html


def test_a_reason_with_a_percent_sign_renders(net, client_as, outbox):
    with transaction.atomic():
        Delivery.objects.filter(pk=outbox["mo"].pk).update(last_error="SMTP 552: 100% full")
    assert "SMTP 552: 100% full" in client_as(net.ana).get(URL).content.decode()
