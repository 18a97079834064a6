"""Secret until it counts; the flip tells everyone once; failure and cancellation shred."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from defensa.audit.models import AuditEntry
from defensa.core import crypto
from defensa.core.crypto.models import DataKey
from defensa.core.testing import make_user
from defensa.core.tests.canary import CANARY_NEEDLES, CANARY_PHONE, dump_database
from defensa.notify import messages
from defensa.notify.models import Delivery, Priority
from defensa.pledges import actions
from defensa.pledges.models import IDENTITY_RETENTION, Campaign, Pledge, State
from defensa.pledges.tests.helpers import open_campaign, text

pytestmark = pytest.mark.django_db

SPANISH_STRANGER = "+13235550142"
CANARY_E164 = "+13235550177"  # CANARY_PHONE as a provider writes it


def _pledge_three(net, campaign):  # type: ignore[no-untyped-def]
    """The canary phone on the web (then confirmed by text), a Spanish text, a member."""
    client = Client()
    client.post(f"/pledges/p/{campaign.code}/", {"phone": CANARY_PHONE})
    text(client, f"PLEDGE {campaign.code}", number=CANARY_E164)
    text(client, f"PROMESA {campaign.code}", number=SPANISH_STRANGER)


def test_before_the_threshold_nobody_sees_who_pledged(client_as, net):
    # mo's phone is not the canary: the canary is a stranger's number.
    campaign = open_campaign(net.boyle, net.ana, threshold=5)
    _pledge_three(net, campaign)
    member = client_as(net.vero)
    member.post(f"/pledges/p/{campaign.code}/pledge/")
    assert actions.counts(campaign)["counted"] == 3

    # The coordinator's pages: counts, no phone, no name.
    coordinator = client_as(net.ana)
    pages = [
        coordinator.get("/pledges/").content.decode(),
        coordinator.get(f"/pledges/{campaign.pk}/").content.decode(),
        Client().get(f"/pledges/p/{campaign.code}/").content.decode(),
    ]
    assert coordinator.get(f"/pledges/{campaign.pk}/pledgers/").status_code == 404
    for page in pages:
        assert not [n for n in CANARY_NEEDLES if n in page]
        assert "5550142" not in page
        assert "Vero" not in page
    assert "<svg" in pages[1] and "<polyline" in pages[1]

    # The database rows: no phone in any spelling, no member id next to the campaign.
    dump = dump_database()
    leaks = {
        t: n for t, text_ in dump.items() for n in (*CANARY_NEEDLES, "3235550142") if n in text_
    }
    assert leaks == {}
    pledge_rows = dump["pledges_pledge"]
    assert "Vero" not in pledge_rows
    # The audit log: the campaign and the way, never who.
    for entry in AuditEntry.objects.filter(action__startswith="pledges."):
        assert entry.actor_id in (None, net.ana.pk)
        assert str(net.vero.pk) not in str(entry.data.get("pledge", ""))
    assert not AuditEntry.objects.filter(action="pledges.pledge", actor_id=net.vero.pk).exists()


def test_the_flip_tells_every_pledger_once_in_their_language(client_as, net):
    net.vero.notify_sms = True
    net.vero.save()
    campaign = open_campaign(net.boyle, net.ana, threshold=3)
    _pledge_three(net, campaign)
    campaign.refresh_from_db()
    assert campaign.state == State.OPEN
    before = Delivery.objects.count()
    client_as(net.vero).post(f"/pledges/p/{campaign.code}/pledge/")
    campaign.refresh_from_db()
    assert campaign.state == State.REACHED
    assert AuditEntry.objects.filter(action="pledges.threshold_reached").count() == 1

    told = Delivery.objects.filter(template="pledge_reached")
    # Each pledger once: the two numbers once each, vero once on each channel she chose.
    strangers = {d.resolve_address(): d for d in told.filter(recipient__isnull=True)}
    assert told.filter(recipient__isnull=True).count() == 2
    assert set(strangers) == {CANARY_E164, SPANISH_STRANGER}
    vero_told = told.filter(recipient=net.vero)
    assert sorted(vero_told.values_list("channel", flat=True)) == ["email", "sms"]
    assert {d.language for d in vero_told} == {"es"}
    assert {d.priority for d in told} == {Priority.URGENT}
    spanish = messages.render(strangers[SPANISH_STRANGER]).body
    assert "Paro el lunes" in spanish and "¡VA!" in spanish
    english = messages.render(strangers[CANARY_E164]).body
    assert "Walk out Monday" in english and "IT'S ON" in english
    assert "Paro el lunes" in messages.render(vero_told.get(channel="sms")).body
    coordinators = Delivery.objects.filter(template="pledge_reached_coordinator")
    assert {d.recipient_id for d in coordinators} == {net.ana.pk}
    assert f"/pledges/{campaign.pk}/" in messages.render(coordinators.first()).body

    # A second pass (the periodic one, or another flip attempt) queues nothing.
    after = Delivery.objects.count()
    assert after > before
    assert actions.close_expired()["reached"] == 0
    assert actions.reach_threshold(campaign) is False
    assert Delivery.objects.count() == after

    # Now, and only now, the coordinators see who pledged; each view is an audited reveal.
    coordinator = client_as(net.ana)
    page = coordinator.get(f"/pledges/{campaign.pk}/pledgers/").content.decode()
    assert CANARY_E164 in page and SPANISH_STRANGER in page and "Vero" in page
    coordinator.get(f"/pledges/{campaign.pk}/pledgers/")
    assert AuditEntry.objects.filter(action="pledges.pledgers_revealed").count() == 2
    assert client_as(net.omar).get(f"/pledges/{campaign.pk}/pledgers/").status_code == 404
    assert client_as(net.mo).get(f"/pledges/{campaign.pk}/pledgers/").status_code == 404


def test_a_pledge_after_the_threshold_binds_and_is_told_at_once(client, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=1, require_confirmation=False)
    text(client, f"PLEDGE {campaign.code}", number=SPANISH_STRANGER)
    campaign.refresh_from_db()
    assert campaign.state == State.REACHED
    text(client, f"PLEDGE {campaign.code}", number="+13235550143")
    assert Delivery.objects.filter(template="pledge_reached").count() == 2


def test_unconfirmed_pledges_do_not_flip_a_campaign_that_needs_confirmation(client, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=2, require_confirmation=True)
    for number in ("+13235550142", "+13235550143", "+13235550144"):
        client.post(f"/pledges/p/{campaign.code}/", {"phone": number})
    campaign.refresh_from_db()
    assert campaign.state == State.OPEN
    assert Delivery.objects.filter(template="pledge_reached").count() == 0


def _shredded(campaign: Campaign) -> None:
    campaign.refresh_from_db()
    assert campaign.shredded_at is not None
    assert Pledge.objects.filter(campaign=campaign).count() == 0
    key = DataKey.objects.get(pk=campaign.data_key_id)
    with pytest.raises(crypto.KeyShredded):
        crypto.decrypt(key, b"\x01" + b"0" * 40, aad="x")
    # The pledge replies' numbers were sealed under that key: gone with it.
    for reply in Delivery.objects.filter(template="pledge_sms_reply"):
        assert reply.resolve_address() == ""


def test_a_campaign_past_its_deadline_fails_and_its_identities_are_shredded(client, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=10)
    _pledge_three(net, campaign)
    assert actions.close_expired()["failed"] == 0
    later = timezone.now() + dt.timedelta(days=4)
    assert actions.close_expired(now=later) == {"reached": 0, "failed": 1, "shredded": 0}
    campaign.refresh_from_db()
    assert campaign.state == State.FAILED
    _shredded(campaign)
    # Only the counts remain, on the campaign and its public page.
    assert campaign.final_counts["counted"] == 2
    assert actions.counts(campaign)["counted"] == 2
    assert actions.trend(campaign)[-1][1] == 2
    page = client.get(f"/pledges/p/{campaign.code}/").content.decode()
    assert "The deadline passed" in page
    text(client, f"PLEDGE {campaign.code}", number="+13235550199")
    assert Pledge.objects.count() == 0
    assert AuditEntry.objects.filter(action="pledges.campaign_failed").count() == 1


def test_cancelling_shreds_at_once(client_as, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=10)
    _pledge_three(net, campaign)
    client_as(net.omar).post(f"/pledges/{campaign.pk}/cancel/")
    assert Campaign.objects.get().state == State.OPEN
    client_as(net.ana).post(f"/pledges/{campaign.pk}/cancel/")
    campaign.refresh_from_db()
    assert campaign.state == State.CANCELLED
    _shredded(campaign)
    entry = AuditEntry.objects.get(action="pledges.cancel_campaign")
    assert entry.actor_id == net.ana.pk


def test_after_success_identities_are_shredded_after_the_retention_period(client, net):
    campaign = open_campaign(net.boyle, net.ana, threshold=1)
    text(client, f"PLEDGE {campaign.code}", number=SPANISH_STRANGER)
    campaign.refresh_from_db()
    assert campaign.state == State.REACHED
    assert actions.close_expired()["shredded"] == 0
    later = campaign.reached_at + IDENTITY_RETENTION + dt.timedelta(minutes=1)
    assert actions.close_expired(now=later)["shredded"] == 1
    _shredded(campaign)
    assert Campaign.objects.get().state == State.REACHED
    assert actions.pledgers(Campaign.objects.get()) == []


def test_the_periodic_command_runs_one_pass(net):
    from django.core.management import call_command

    campaign = open_campaign(net.boyle, net.ana)
    Campaign.objects.filter(pk=campaign.pk).update(
        deadline=timezone.now() - dt.timedelta(seconds=1)
    )
    call_command("pledges_tick")
    assert Campaign.objects.get().state == State.FAILED


def test_a_new_person_with_the_canary_phone_is_a_known_member(net):
    person = make_user("rosa", phone=CANARY_E164)  # accounts store E.164 (profile form)
    from defensa.core.testing import join

    join(person, net.boyle)
    campaign = open_campaign(net.boyle, net.ana)
    assert actions.member_with_phone(campaign, "(323) 555-0177") == person
    other = open_campaign(net.east, net.omar)
    assert actions.member_with_phone(other, CANARY_PHONE) is None
