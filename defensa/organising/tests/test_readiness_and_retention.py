"""Readiness at a glance (counts only) and the end of a campaign's contacts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from defensa.core import crypto
from defensa.core.crypto.models import DataKey
from defensa.organising import actions, figures
from defensa.organising.models import Assessment, Participation, Worker, Workplace
from defensa.organising.tests.helpers import contact, make_organiser, structure_test, workplace

pytestmark = pytest.mark.django_db


def test_readiness_of_a_committee(net, client_as):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    a = workplace(net.boyle, olga, headcount=20)
    workplace(net.boyle, olga, employer="Other Co", headcount=20)
    people = [contact(a, olga, f"Person {i} Zq") for i in range(4)]
    actions.assess_worker(people[0], 1, reason="leads", actor=olga)
    actions.assess_worker(people[1], 2, reason="yes", actor=olga)
    actions.set_leader(people[0], leader=True, actor=olga)
    test = structure_test(net.boyle, olga, [a], title="Button day")
    actions.record_participation(test, people[0], actor=olga)
    r = figures.readiness(net.boyle)
    assert (r.workplaces, r.covered, r.headcount, r.assessed) == (2, 1, 40, 2)
    assert r.assessed_percent == 5 and r.leaders_per_ten == "2.5"
    assert r.last_test == test and r.last_turnout.actual == 1
    # The coordinator (no organiser skill) sees the counts, never a name.
    page = client_as(net.ana).get(f"/organising/c/{net.boyle.slug}/readiness/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 of 2 workplaces have assessed workers" in text
    assert "Button day: 1 of 4 took part (25%; goal 65%, predicted 50%)" in text
    assert "Person 0 Zq" not in text
    # The city's coordinators and organisers see it; East LA's and plain members do not.
    assert client_as(olga).get(f"/organising/c/{net.boyle.slug}/readiness/").status_code == 200
    for outsider in (net.omar, net.mo, net.pat, net.dani):
        got = client_as(outsider).get(f"/organising/c/{net.boyle.slug}/readiness/")
        assert got.status_code == 404
    # The city committee's figures include its locals'.
    assert figures.readiness(net.city).workplaces == 2


def test_contacts_of_an_ended_campaign_go_after_the_networks_period(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    actions.set_policy(
        net.network, labels_en={}, labels_es={}, contact_retention_days=30, actor=net.ana
    )
    place = workplace(net.boyle, olga)
    kept = workplace(net.boyle, olga, employer="Still organising")
    rosa = contact(place, olga, "Rosa", phone="+13235550142")
    contact(kept, olga, "Luis")
    actions.assess_worker(rosa, 2, reason="yes", actor=olga)
    test = structure_test(net.boyle, olga, [place])
    actions.record_participation(test, rosa, actor=olga)
    key_id = place.data_key_id
    actions.end_campaign(place, actor=olga)
    with pytest.raises(actions.OrganisingError):
        contact(place, olga, "Too late")
    assert actions.purge_ended_workplaces(now=timezone.now() + dt.timedelta(days=29)) == 0
    assert Worker.objects.filter(workplace=place).exists()
    assert actions.purge_ended_workplaces(now=timezone.now() + dt.timedelta(days=31)) == 1
    assert not Worker.objects.filter(workplace=place).exists()
    assert not Assessment.objects.exists() and not Participation.objects.exists()
    assert DataKey.objects.get(pk=key_id).wrapped is None  # shredded
    assert Workplace.objects.get(pk=place.pk).data_key is None
    assert Worker.objects.filter(workplace=kept).count() == 1


def test_purge_expired_keeps_an_active_campaigns_contacts(net):  # type: ignore[no-untyped-def]
    from defensa.core.retention import purge

    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa")
    actions.assess_worker(rosa, 2, reason="yes", actor=olga)
    purge(now=timezone.now() + dt.timedelta(days=365 * 6))
    assert Worker.objects.filter(pk=rosa.pk).exists()
    assert crypto.unseal(Worker.objects.get(pk=rosa.pk), "name") == "Rosa"


def test_the_tick_command_runs(net, capsys):  # type: ignore[no-untyped-def]
    call_command("organising_tick")


def test_my_page_offers_each_role_its_organising_places(net, client_as):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    actions.add_member(place, net.mo.memberships.get(), department="", shift="", actor=olga)
    assert 'href="/organising/"' in client_as(olga).get("/accounts/").content.decode()
    ana = client_as(net.ana).get("/accounts/").content.decode()
    assert f'href="/organising/c/{net.boyle.slug}/readiness/"' in ana
    assert 'href="/organising/"' not in ana
    assert 'href="/organising/me/"' in client_as(net.mo).get("/accounts/").content.decode()
    assert 'href="/organising/me/"' not in client_as(net.dani).get("/accounts/").content.decode()
    # The network committee's coordinators find the scale there.
    from defensa.core import testing

    testing.join(net.ana, net.network, is_coordinator=True)
    ana = client_as(net.ana).get("/accounts/").content.decode()
    assert f'href="/organising/c/{net.network.slug}/scale/"' in ana
    assert f'href="/organising/c/{net.boyle.slug}/scale/"' not in ana


def test_an_ended_campaign_takes_no_more_changes(net, client_as):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    rosa = contact(place, olga, "Rosa")
    actions.end_campaign(place, actor=olga)
    client = client_as(olga)
    page = client.post(
        f"/organising/workplaces/{place.pk}/workers/{rosa.pk}/leader/", {"leader": "1"}, follow=True
    ).content.decode()
    assert "The campaign at this workplace has ended." in page
    rosa.refresh_from_db()
    assert not rosa.is_leader
    with pytest.raises(actions.OrganisingError):
        actions.assess_worker(rosa, 1, reason="x", actor=olga)
    with pytest.raises(actions.OrganisingError):
        actions.end_campaign(place, actor=olga)
