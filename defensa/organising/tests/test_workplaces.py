"""Workplaces and their workers: who may see them, sealed contacts, dedupe by phone."""

from __future__ import annotations

import pytest
from django.db import connection

from defensa.audit.models import AuditEntry
from defensa.organising import actions
from defensa.organising.models import Worker, Workplace
from defensa.organising.tests.helpers import contact, make_organiser, workplace

pytestmark = pytest.mark.django_db


def test_an_organiser_records_a_workplace_and_its_workers(net, client_as):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    client = client_as(olga)
    response = client.post(
        f"/organising/c/{net.boyle.slug}/workplaces/new/",
        {
            "employer": "Sunrise Foods",
            "site": "Vernon plant",
            "headcount": "120",
            "departments": "Kitchen\nPacking\nKitchen",
            "shifts": "Day\nNight",
        },
    )
    place = Workplace.objects.get()
    assert response.status_code == 302
    assert place.departments == ["Kitchen", "Packing"] and place.committee == net.boyle
    response = client.post(
        f"/organising/workplaces/{place.pk}/workers/add/",
        {
            "name": "Rosa M.",
            "phone": "(323) 555-0142",
            "language": "es",
            "department": "Kitchen",
            "shift": "Night",
        },
    )
    assert response.status_code == 302
    worker = Worker.objects.get()
    assert actions.display_name(worker) == "Rosa M."
    page = client.get(f"/organising/workplaces/{place.pk}/workers/").content.decode()
    assert "Rosa M." in page
    # Each view of the names is an audited reveal.
    assert AuditEntry.objects.filter(action="organising.workers_revealed").count() == 1


def test_a_contact_is_sealed_in_the_database(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    worker = contact(place, olga, "Rosa Martinez", phone="+13235550142")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, phone_digest FROM organising_worker WHERE id = %s", [worker.pk]
        )
        name, phone, digest = cursor.fetchone()
    assert b"Rosa" not in bytes(name) and b"5550142" not in bytes(phone)
    assert "5550142" not in digest and len(digest) == 64
    entry = AuditEntry.objects.filter(action="organising.add_contact").get()
    assert "Rosa" not in str(entry.data) and "5550142" not in str(entry.data)


def test_the_same_phone_is_refused_at_the_same_workplace(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    contact(place, olga, "Rosa", phone="+13235550142")
    with pytest.raises(actions.OrganisingError) as error:
        contact(place, olga, "Rosa again", phone="(323) 555-0142")
    assert error.value.code == "duplicate"
    assert Worker.objects.count() == 1
    # Another workplace may know the same person.
    other = workplace(net.boyle, olga, employer="Other Co")
    contact(other, olga, "Rosa", phone="+13235550142")


def test_need_to_know(net, client_as):  # type: ignore[no-untyped-def]
    """Organisers of the committee and those above see it; coordinators without the skill,
    members on probation and another committee's organisers do not."""
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    contact(place, olga, "Rosa")
    city_organiser = make_organiser("cora", net.city)
    east_organiser = make_organiser("eddie", net.east)
    probation = make_organiser("pablo", net.boyle, full=False)
    paths = [
        f"/organising/workplaces/{place.pk}/",
        f"/organising/workplaces/{place.pk}/workers/",
    ]
    for path in paths:
        assert client_as(olga).get(path).status_code == 200
        assert client_as(city_organiser).get(path).status_code == 200
        for outsider in (net.ana, net.mo, east_organiser, probation, net.omar):
            assert client_as(outsider).get(path).status_code == 404, (outsider, path)


def test_a_member_worker_dies_with_the_account(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    membership = net.mo.memberships.get()
    worker = actions.add_member(place, membership, department="Kitchen", shift="Day", actor=olga)
    actions.assess_worker(worker, 2, reason="Came to the meeting", actor=olga)
    with pytest.raises(actions.OrganisingError):
        actions.add_member(place, membership, department="", shift="", actor=olga)
    net.mo.delete()
    assert not Worker.objects.exists()


def test_a_member_of_another_committee_cannot_be_added(net):  # type: ignore[no-untyped-def]
    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    with pytest.raises(actions.OrganisingError):
        actions.add_member(place, net.omar.memberships.get(), department="", shift="", actor=olga)


def test_organiser_is_a_trusted_skill_a_member_cannot_tick():  # type: ignore[no-untyped-def]
    from defensa.accounts.models import TRUSTED_SKILLS, SkillKind

    assert SkillKind.ORGANISER in TRUSTED_SKILLS


def test_workplace_and_union_local_committee_kinds(net):  # type: ignore[no-untyped-def]
    from defensa.committees import actions as committee_actions
    from defensa.committees.models import Kind

    assert committee_actions.kinds_below(net.boyle) == [Kind.WORKPLACE]
    assert Kind.UNION_LOCAL in committee_actions.kinds_below(net.city)
    shop = committee_actions.create_committee(
        net.boyle, actor=net.ana, name="Sunrise workers", kind=Kind.WORKPLACE
    )
    local = committee_actions.create_committee(
        net.city, actor=net.ana, name="UFCW 770", kind=Kind.UNION_LOCAL
    )
    with pytest.raises(committee_actions.SetupRefused):
        committee_actions.create_committee(
            shop, actor=net.ana, name="Below a workplace", kind=Kind.WORKPLACE
        )
    olga = make_organiser("olga", net.boyle)
    place = workplace(shop, olga)  # organised from the workplace committee under Boyle Heights
    assert place in actions_workplaces(olga)
    assert local.get_kind_display() == "Union local"
    # An organiser of the union local sees its workplaces, not Boyle Heights'.
    uma = make_organiser("uma", local)
    assert actions_workplaces(uma) == []
    workplace(local, uma, employer="Union shop")
    assert [w.employer for w in actions_workplaces(uma)] == ["Union shop"]


def actions_workplaces(user):  # type: ignore[no-untyped-def]
    from defensa.organising.access import workplaces_for

    return list(workplaces_for(user))


def test_ticking_organiser_only_asks_a_coordinator(net, client_as):  # type: ignore[no-untyped-def]
    from defensa.accounts.models import Skill
    from defensa.committees.models import GrantKind, GrantStatus, RoleGrant

    client = client_as(net.mo)
    client.post("/me/skills/", {"organiser_has": "on"})
    assert not Skill.objects.filter(user=net.mo, kind="organiser").exists()
    grant = RoleGrant.objects.get(role=GrantKind.SKILL, status=GrantStatus.PENDING)
    assert grant.skill == "organiser"
    assert client.get("/organising/").status_code == 404


def test_an_expired_organiser_training_ends_access(net, client_as):  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from defensa.accounts.models import Skill

    olga = make_organiser("olga", net.boyle)
    place = workplace(net.boyle, olga)
    path = f"/organising/workplaces/{place.pk}/"
    Skill.objects.filter(user=olga).update(expires_on=timezone.localdate())
    assert client_as(olga).get(path).status_code == 200
    Skill.objects.filter(user=olga).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert client_as(olga).get(path).status_code == 404
