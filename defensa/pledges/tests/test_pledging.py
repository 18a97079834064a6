"""Pledging on the web and by text, one pledge per phone, withdrawal, confirmation."""

from __future__ import annotations

import pytest
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.notify import messages
from defensa.notify.models import Delivery
from defensa.pledges import actions
from defensa.pledges.models import Campaign, Pledge, Standing, State
from defensa.pledges.tests.helpers import open_campaign, text
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db

STRANGER = "+13235550142"


def test_a_web_pledge_with_a_phone_is_counted_once_per_phone(client, net):
    campaign = open_campaign(net.boyle, net.ana, require_confirmation=False)
    url = f"/pledges/p/{campaign.code}/"
    assert client.get(url).status_code == 200
    first = client.post(url, {"phone": STRANGER}, follow=True)
    assert "This number&#x27;s pledge is recorded, once" in first.content.decode()
    # The same number written differently, and in lower-case code: still one pledge.
    again = client.post(f"/pledges/p/{campaign.code.lower()}/", {"phone": "(323) 555-0142"})
    assert again.status_code == 302
    client.post(url, {"phone": "+1 323 555 0142"})
    [pledge] = Pledge.objects.all()
    assert pledge.standing == Standing.UNCONFIRMED
    assert actions.counts(campaign)["counted"] == 1
    # Hour-coarse times: a pledge's time cannot be lined up with a provider's log.
    assert pledge.pledged_at.minute == pledge.pledged_at.second == 0


def test_a_bad_phone_gets_a_clear_error_and_stores_nothing(client, net):
    campaign = open_campaign(net.boyle, net.ana)
    for bad in ["", "12", "call me", "+1" + "9" * 30, "<script>"]:
        response = client.post(f"/pledges/p/{campaign.code}/", {"phone": bad})
        assert response.status_code == 200
        assert Pledge.objects.count() == 0


def test_unknown_codes_are_404(client, net):
    open_campaign(net.boyle, net.ana)
    for code in ["x", "AAAAAAA", "IIIIII", "../../"]:
        assert client.get(f"/pledges/p/{code}/").status_code == 404


def test_unconfirmed_web_pledges_count_only_once_a_text_confirms_them(client, net):
    campaign = open_campaign(net.boyle, net.ana, require_confirmation=True)
    client.post(f"/pledges/p/{campaign.code}/", {"phone": STRANGER})
    assert actions.counts(campaign) == {
        "counted": 0,
        "member": 0,
        "confirmed": 0,
        "unconfirmed": 1,
        "withdrawn": 0,
    }
    text(client, f"PLEDGE {campaign.code}", number=STRANGER)
    assert actions.counts(campaign)["counted"] == 1
    assert actions.counts(campaign)["confirmed"] == 1
    assert Pledge.objects.count() == 1


def test_a_members_number_is_known_without_a_text(client, net):
    campaign = open_campaign(net.boyle, net.ana, require_confirmation=True)
    client.post(f"/pledges/p/{campaign.code}/", {"phone": net.vero.phone})
    assert actions.counts(campaign)["member"] == 1
    assert actions.counts(campaign)["counted"] == 1


def test_the_sms_keyword_pledges_through_the_real_inbound_handler(client, net):
    campaign = open_campaign(net.boyle, net.ana)
    response = text(client, f"promesa {campaign.code}", number=STRANGER)
    assert response.status_code == 200
    [pledge] = Pledge.objects.all()
    assert (pledge.origin, pledge.standing, pledge.language) == ("sms", "confirmed", "es")
    assert Report.objects.count() == 0  # a claimed keyword never becomes a report
    [reply] = Delivery.objects.all()
    assert reply.resolve_address() == STRANGER
    assert reply.data_key_id == campaign.data_key_id  # dies with the campaign's key
    assert reply.address_hint == "•••"
    body = messages.render(reply).body
    assert "Paro el lunes" in body and "RETIRO" in body
    # Twice from the same phone: still one pledge, and a clear answer.
    text(client, f"PLEDGE {campaign.code}", number=STRANGER)
    assert Pledge.objects.count() == 1
    second = Delivery.objects.order_by("-pk").first()
    assert "counts" in messages.render(second).body


def test_an_unknown_code_by_text_gets_an_answer_and_stores_nothing(client, net):
    text(client, "PLEDGE ZZZZZZ", number=STRANGER)
    text(client, "PLEDGE", number=STRANGER)
    assert Pledge.objects.count() == 0
    assert Report.objects.count() == 0
    replies = list(Delivery.objects.all())
    assert len(replies) == 2
    assert "no pledge campaign with that code" in messages.render(replies[0]).body


def test_a_signed_in_member_pledges_and_withdraws(client_as, net):
    campaign = open_campaign(net.boyle, net.ana)
    client = client_as(net.mo)
    client.post(f"/pledges/p/{campaign.code}/pledge/")
    [pledge] = Pledge.objects.all()
    assert (pledge.origin, pledge.standing) == ("member", "member")
    page = client.get(f"/pledges/p/{campaign.code}/").content.decode()
    assert "You have pledged." in page
    again = client.post(f"/pledges/p/{campaign.code}/pledge/", follow=True)
    assert "You have already pledged." in again.content.decode()
    assert Pledge.objects.count() == 1
    # The member's phone is theirs: a text from it is the same pledge.
    text(Client(), f"PLEDGE {campaign.code}", number=net.mo.phone)
    assert Pledge.objects.count() == 1
    client.post(f"/pledges/p/{campaign.code}/withdraw/")
    assert actions.counts(campaign)["counted"] == 0
    assert actions.counts(campaign)["withdrawn"] == 1
    # The audit log names the campaign, never the pledger.
    entries = AuditEntry.objects.filter(action__in=["pledges.pledge", "pledges.withdraw"])
    assert entries.count() == 3
    assert all(e.actor_id is None for e in entries)


def test_a_member_of_another_committee_cannot_pledge(client_as, net):
    campaign = open_campaign(net.boyle, net.ana)
    response = client_as(net.omar).post(f"/pledges/p/{campaign.code}/pledge/", follow=True)
    assert "for members of another committee" in response.content.decode()
    assert Pledge.objects.count() == 0


def test_withdrawal_by_text_and_not_after_the_threshold(client, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=2)
    text(client, f"PLEDGE {campaign.code}", number=STRANGER)
    text(client, f"WITHDRAW {campaign.code}", number=STRANGER)
    assert actions.counts(campaign)["counted"] == 0
    assert "is withdrawn" in messages.render(Delivery.objects.order_by("-pk").first()).body
    text(client, f"RETIRO {campaign.code}", number=STRANGER)
    assert (
        "no tiene ninguna promesa" in messages.render(Delivery.objects.order_by("-pk").first()).body
    )
    # Pledging again renews it; then the threshold is reached and it binds.
    text(client, f"PLEDGE {campaign.code}", number=STRANGER)
    text(client, f"PLEDGE {campaign.code}", number="+13235550143")
    campaign.refresh_from_db()
    assert campaign.state == State.REACHED
    text(client, f"WITHDRAW {campaign.code}", number=STRANGER)
    assert actions.counts(campaign)["counted"] == 2
    assert (
        "can no longer be withdrawn"
        in messages.render(
            Delivery.objects.filter(template="pledge_sms_reply").order_by("-pk").first()
        ).body
    )
    with pytest.raises(actions.PledgeError):
        actions.withdraw_by_phone(campaign, STRANGER)


def test_the_digest_is_keyed_and_per_campaign(net, settings):
    one = open_campaign(net.boyle, net.ana)
    two = open_campaign(net.boyle, net.ana)
    digest = actions.phone_digest(one, STRANGER)
    assert digest == actions.phone_digest(one, "+1 (323) 555-0142")
    assert digest != actions.phone_digest(two, STRANGER)
    assert "3235550142" not in digest
    # Keyed by a digest key under the master key, not by SECRET_KEY: without the master key
    # it cannot be computed, so a copy of the database cannot be searched by number.
    settings.SECRET_KEY = "another-key-for-this-test-only-0123456789abcdef"
    assert actions.phone_digest(one, STRANGER) == digest
    from defensa.core import crypto
    from defensa.core.crypto.keys import generate_entry, master_keys

    settings.MASTER_KEYS = f"{master_keys().current_id}:" + generate_entry("x").split(":")[1]
    with pytest.raises(crypto.WrongKey):
        actions.phone_digest(one, STRANGER)


def test_the_chart_is_drawn_the_same_in_spanish(client, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=2)
    text(client, f"PLEDGE {campaign.code}", number=STRANGER)
    page = client.get(f"/pledges/p/{campaign.code}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "falta 1 promesa" in page
    assert 'y1="4.0"' in page and 'points="4.0,96.0 296.0,50.0"' in page


def test_a_flood_of_web_pledges_from_one_source_is_slowed(client, net):
    campaign = open_campaign(net.boyle, net.ana)
    for i in range(5):
        assert (
            client.post(f"/pledges/p/{campaign.code}/", {"phone": f"+1323555020{i}"}).status_code
            == 302
        )
    response = client.post(f"/pledges/p/{campaign.code}/", {"phone": "+13235550299"})
    assert response.status_code == 429
    assert "Too many pledges from here" in response.content.decode()
    assert Pledge.objects.count() == 5


def test_a_member_confirming_a_pledge_typed_from_their_number_makes_it_theirs(client_as, net):
    from defensa.core import crypto

    campaign = open_campaign(net.boyle, net.ana)
    # Someone typed mo's number on the web while mo was signed out, then mo withdrew by text.
    Client().post(f"/pledges/p/{campaign.code}/", {"phone": net.mo.phone})
    text(Client(), f"WITHDRAW {campaign.code}", number=net.mo.phone)
    client_as(net.mo).post(f"/pledges/p/{campaign.code}/pledge/")
    [pledge] = Pledge.objects.all()
    assert pledge.withdrawn_at is None
    assert crypto.unseal(pledge, "member") == str(net.mo.pk)


def test_the_trend_counts_pledges_until_they_are_withdrawn(net):
    import datetime as dt

    from django.utils import timezone

    campaign = open_campaign(net.boyle, net.ana, threshold=10, require_confirmation=False)
    opened = timezone.now() - dt.timedelta(hours=10)
    Campaign.objects.filter(pk=campaign.pk).update(opened_at=opened)
    campaign.refresh_from_db()
    for number in ("+13235550142", "+13235550143", "+13235550144"):
        actions.pledge_by_phone(campaign, number, origin="web", language="en")
    actions.withdraw_by_phone(campaign, "+13235550144")
    # Pledged 8, 6 and 4 hours after the opening; the third withdrawn 2 hours later.
    hours = [8, 6, 4]
    for pledge, h in zip(Pledge.objects.order_by("pk"), hours, strict=True):
        pledge.pledged_at = opened + dt.timedelta(hours=h)
        pledge.save(update_fields=["pledged_at"])
    Pledge.objects.filter(withdrawn_at__isnull=False).update(
        withdrawn_at=opened + dt.timedelta(hours=6)
    )
    points = actions.trend(campaign, points=11)  # one an hour
    assert [n for _t, n in points] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
