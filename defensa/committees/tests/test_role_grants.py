"""Making someone a coordinator needs a second coordinator's approval (security property 7):
the request is pending until another coordinator of the committee, or of one above it,
approves; the one who asked cannot, nor can the person it is about; both steps are audited."""

from __future__ import annotations

import pytest

from defensa.audit.models import AuditEntry
from defensa.committees import actions
from defensa.committees.models import GrantStatus, Membership, RoleGrant
from defensa.core.testing import join, make_user

pytestmark = pytest.mark.django_db

REQUESTS = "/committees/boyle-heights/role-requests/"


def _mo(net) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=net.mo, committee=net.boyle)


@pytest.fixture
def bea(net):  # type: ignore[no-untyped-def]
    """A second coordinator of Boyle Heights."""
    person = make_user("bea")
    join(person, net.boyle, is_coordinator=True)
    return person


def _ask(net, client_as):  # type: ignore[no-untyped-def]
    mo = _mo(net)
    page = client_as(net.ana).post(
        f"/committees/boyle-heights/members/{mo.pk}/roles/", {"is_coordinator": "on"}, follow=True
    )
    assert "becomes a coordinator only when another coordinator approves" in page.content.decode()
    return RoleGrant.objects.get(status=GrantStatus.PENDING)


def test_a_second_coordinator_approves_and_only_then_the_role_takes_effect(
    net, bea, client, client_as
):  # type: ignore[no-untyped-def]
    grant = _ask(net, client_as)
    mo = _mo(net)
    assert not mo.is_coordinator and grant.status == GrantStatus.PENDING
    assert grant.requested_by == net.ana
    member_page = client_as(net.ana).get(f"/committees/boyle-heights/members/{mo.pk}/")
    assert "waiting for a second coordinator" in member_page.content.decode()

    # The one who asked sees it, but cannot approve it, by the page or by a forged post.
    ana = client_as(net.ana)
    page = ana.get(REQUESTS).content.decode()
    assert "You asked for this" in page and f"{grant.pk}/approve/" not in page
    refused = ana.post(f"{REQUESTS}{grant.pk}/approve/", follow=True)
    assert "another coordinator must approve it" in refused.content.decode()
    assert not _mo(net).is_coordinator
    client.logout()

    epoch = net.mo.session_epoch
    bea_client = client_as(bea)
    page = bea_client.get(REQUESTS).content.decode()
    assert net.mo.display_name in page
    assert f'action="{REQUESTS}{grant.pk}/approve/"' in page
    done = bea_client.post(f"{REQUESTS}{grant.pk}/approve/", follow=True)
    assert "is now a coordinator" in done.content.decode()
    net.mo.refresh_from_db()
    assert _mo(net).is_coordinator and net.mo.session_epoch == epoch + 1
    grant.refresh_from_db()
    assert grant.status == GrantStatus.APPROVED and grant.decided_by == bea

    asked = AuditEntry.objects.get(action="member.roles_changed")
    approved = AuditEntry.objects.get(action="member.role_grant_approved")
    assert asked.actor_id == net.ana.pk and asked.data["coordinator_requested"] == grant.pk
    assert approved.actor_id == bea.pk and approved.data["requested_by"] == net.ana.pk
    # Decided once: a second decision changes nothing.
    again = bea_client.post(f"{REQUESTS}{grant.pk}/refuse/", follow=True)
    assert "already decided" in again.content.decode()
    assert AuditEntry.objects.filter(action="member.role_grant_refused").count() == 0


def test_a_refusal_leaves_the_roles_as_they_were(net, bea, client_as):  # type: ignore[no-untyped-def]
    grant = _ask(net, client_as)
    client_as(bea).post(f"{REQUESTS}{grant.pk}/refuse/")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REFUSED and not _mo(net).is_coordinator
    assert AuditEntry.objects.get(action="member.role_grant_refused").actor_id == bea.pk
    # Asking again opens a new request.
    _ask(net, client_as)
    assert RoleGrant.objects.filter(status=GrantStatus.PENDING).count() == 1


def test_asking_twice_is_one_request(net, client_as):  # type: ignore[no-untyped-def]
    _ask(net, client_as)
    _ask(net, client_as)
    assert RoleGrant.objects.count() == 1


def test_a_coordinator_of_the_city_above_may_approve(net, client_as):  # type: ignore[no-untyped-def]
    grant = _ask(net, client_as)
    cityco = make_user("cityco")
    join(cityco, net.city, is_coordinator=True)
    page = client_as(cityco).get(f"/committees/{net.city.slug}/role-requests/").content.decode()
    assert f"{grant.pk}/approve/" in page
    client_as(cityco).post(f"/committees/{net.city.slug}/role-requests/{grant.pk}/approve/")
    assert _mo(net).is_coordinator


def test_nobody_else_can_see_or_decide(net, client, client_as):  # type: ignore[no-untyped-def]
    grant = _ask(net, client_as)
    # The person it is about, other roles, and another committee's coordinator: 404.
    join(net.omar, net.boyle)  # a plain member here, coordinator in East LA
    for person in (net.mo, net.dani, net.lucia, net.vero, net.pat):
        assert client_as(person).get(REQUESTS).status_code == 404, person
        assert client_as(person).post(f"{REQUESTS}{grant.pk}/approve/").status_code == 404
        client.logout()
    east = client_as(net.omar)
    assert east.post(f"/committees/east-la/role-requests/{grant.pk}/approve/").status_code == 404
    assert not _mo(net).is_coordinator
    with pytest.raises(actions.ActionError):
        actions.decide_role_grant(grant, actor=net.omar, approve=True)
    assert client.post(f"{REQUESTS}{grant.pk}/approve/").status_code in (302, 404)
    assert client_as(net.ana).post(f"{REQUESTS}{grant.pk}/promote/").status_code == 404


def test_the_person_asked_about_cannot_approve_themselves(net, bea, client_as):  # type: ignore[no-untyped-def]
    # Bea asks for Dani; Dani, even as a coordinator of the city above, cannot decide it.
    dani = Membership.objects.get(user=net.dani, committee=net.boyle)
    actions.change_roles(dani, actor=bea, is_dispatcher=True, is_legal=False, is_coordinator=True)
    grant = RoleGrant.objects.get()
    join(net.dani, net.city, is_coordinator=True)
    assert not actions.can_decide_grant(grant, net.dani)
    with pytest.raises(actions.ActionError):
        actions.decide_role_grant(grant, actor=net.dani, approve=True)
    assert actions.can_decide_grant(grant, net.ana)


def test_someone_put_on_probation_or_switched_off_meanwhile_is_not_made_coordinator(
    net, bea, client_as
):  # type: ignore[no-untyped-def]
    grant = _ask(net, client_as)
    net.mo.is_active = False
    net.mo.save()
    with pytest.raises(actions.ActionError):
        actions.decide_role_grant(grant, actor=bea, approve=True)
    assert not _mo(net).is_coordinator
