"""Switching an account off (issue "Hardening", points 1 and 10).

1. A switched-off account loses every power at once: its verification offers (/r/) and
   check-in links (/a/) answer like expired links and change nothing, its calendar feed and
   device subscriptions die, its open invitation links are cancelled and its pending requests
   closed. Switching back on takes two coordinators, both steps audited.
10. No lone coordinator can remove people above or beside them: a coordinator, a network
   administrator or someone also in a committee outside the asker's reach is switched off only
   when a second coordinator approves; the last active network administrator never is.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from defensa.accompaniment import actions as accompaniment
from defensa.accompaniment.tests.helpers import accompanier, confirmed, schedule
from defensa.accounts.models import User
from defensa.audit.models import AuditEntry
from defensa.committees import actions
from defensa.committees.models import GrantKind, GrantStatus, Invitation, Membership, RoleGrant
from defensa.core.testing import join, make_user
from defensa.core.transitions import IllegalTransition
from defensa.dispatch import actions as dispatch
from defensa.dispatch.models import OfferStatus
from defensa.dispatch.tests.helpers import report_incident
from defensa.notify.transports.webpush.models import PushSubscription

pytestmark = pytest.mark.django_db

REQUESTS = "/committees/boyle-heights/role-requests/"


def _es(text: str) -> str:
    with translation.override("es"):
        return translation.gettext(text)


def _membership(user: User, committee) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=user, committee=committee)


def _switch_off(client, user: User, net):  # type: ignore[no-untyped-def]
    pk = _membership(user, net.boyle).pk
    return client.post(
        f"/committees/boyle-heights/members/{pk}/deactivate/", {"confirm": "yes"}, follow=True
    )


@pytest.fixture
def bea(net):  # type: ignore[no-untyped-def]
    """A second coordinator of Boyle Heights."""
    person = make_user("bea")
    join(person, net.boyle, is_coordinator=True)
    return person


@pytest.fixture
def cy(net):  # type: ignore[no-untyped-def]
    """A coordinator of the city, above Boyle Heights and East LA."""
    person = make_user("cy")
    join(person, net.city, is_coordinator=True)
    return person


def test_a_switched_off_account_loses_every_link_at_once(net, client_as):
    vero = net.vero
    vero.on_duty = True
    vero.save(update_fields=["on_duty"])
    [offer] = dispatch.offer_to_nearest(report_incident(), 1, actor=net.dani)
    assert offer.responder == vero
    offer_link = f"/r/{dispatch.offer_token(offer)}/"
    companion = confirmed(net, schedule(net, starts_in=dt.timedelta(minutes=30)), accompanier(vero))
    checkin_link = accompaniment.checkin_path(companion)
    feed_link = f"/accompaniment/cal/{accompaniment.new_feed_token(vero, actor=vero)}.ics"
    PushSubscription.objects.create(
        user=vero, endpoint="https://push.example/1", endpoint_digest="d" * 64, p256dh="k", auth="a"
    )
    phone = Client()
    # The legitimate path: every link works while the account is on.
    assert phone.get(offer_link).status_code == 200
    assert phone.get(checkin_link).status_code == 200
    assert phone.get(feed_link).status_code == 200

    done = _switch_off(client_as(net.ana), vero, net)
    assert "switched off and signed out everywhere" in done.content.decode()
    vero.refresh_from_db()
    assert not vero.is_active
    entries = AuditEntry.objects.count()

    # The attack: the switched-off person keeps tapping their links.
    # vero reads Spanish: each page is the one an expired link gets.
    for link, expired in (
        (offer_link, "Este enlace ya venció."),
        (checkin_link, _es("The appointment is over. Thank you.")),
    ):
        page = phone.get(link)
        assert page.status_code == 410
        assert expired in page.content.decode()
    assert phone.post(offer_link, {"step": "accept"}).status_code == 410
    assert phone.post(checkin_link, {"step": "arrived"}).status_code == 410
    assert phone.post(checkin_link, {"step": "detained", "sure": "yes"}).status_code == 410
    offer.refresh_from_db()
    companion.refresh_from_db()
    # The open offer is expired, so it no longer counts as someone who might go.
    assert offer.status == OfferStatus.EXPIRED and offer.responded_at is None
    assert companion.arrived_at is None and companion.outcome == ""
    with pytest.raises(IllegalTransition):
        dispatch.accept_offer(offer)
    with pytest.raises(IllegalTransition):
        accompaniment.check_in(companion, "arrived", actor=vero)
    assert AuditEntry.objects.count() == entries  # nothing changed, nothing recorded
    assert phone.get(feed_link).status_code == 404
    assert not PushSubscription.objects.filter(user=vero).exists()


def test_an_accepted_offer_stops_counting_and_stays_dead_after_switching_back_on(
    net, bea, client_as
):
    vero = net.vero
    vero.on_duty = True
    vero.save(update_fields=["on_duty"])
    [offer] = dispatch.offer_to_nearest(report_incident(), 1, actor=net.dani)
    dispatch.accept_offer(offer)
    _switch_off(client_as(net.ana), vero, net)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED and not offer.is_going
    grant = actions.request_reactivation(_membership(vero, net.boyle), actor=net.ana)
    actions.decide_role_grant(grant, actor=bea, approve=True)
    vero.refresh_from_db()
    assert vero.is_active
    assert Client().get(f"/r/{dispatch.offer_token(offer)}/").status_code == 410


def test_switching_off_cancels_the_persons_open_links_and_requests(net, bea, cy, client_as):
    _invitation, token = actions.create_invitation(net.boyle, actor=bea)
    mo = _membership(net.mo, net.boyle)
    asked = actions.change_roles(
        mo, actor=bea, is_dispatcher=False, is_legal=False, is_coordinator=True
    )
    assert asked
    grant = actions.deactivate_member(_membership(bea, net.boyle), actor=net.ana)
    assert grant is not None and grant.role == GrantKind.DEACTIVATE
    actions.decide_role_grant(grant, actor=cy, approve=True)
    bea.refresh_from_db()
    assert not bea.is_active
    # The invitation bea sent and the coordinator request she made die with her account.
    assert Client().get(f"/join/{token}/").status_code == 410
    assert Invitation.objects.get().revoked_at is not None
    request = RoleGrant.objects.get(role=GrantKind.COORDINATOR)
    assert request.status == GrantStatus.REFUSED
    entry = AuditEntry.objects.filter(action="user_deactivated").get()
    assert entry.actor_id == cy.pk and entry.data["requested_by"] == net.ana.pk
    assert entry.data["requests_closed"] == [request.pk]
    assert len(entry.data["invitations_revoked"]) == 1


def test_one_coordinator_alone_cannot_switch_off_another(net, bea, cy, client_as):
    page = _switch_off(client_as(net.ana), bea, net).content.decode()
    assert "another coordinator must approve" in page and "they are a coordinator" in page
    bea.refresh_from_db()
    assert bea.is_active
    grant = RoleGrant.objects.get(role=GrantKind.DEACTIVATE, status=GrantStatus.PENDING)
    assert AuditEntry.objects.filter(action="member.deactivation_requested").count() == 1
    # Asking twice adds nothing.
    _switch_off(client_as(net.ana), bea, net)
    assert RoleGrant.objects.filter(role=GrantKind.DEACTIVATE).count() == 1
    # The asker cannot approve (a forged post), nor can the person it is about.
    refused = client_as(net.ana).post(f"{REQUESTS}{grant.pk}/approve/", follow=True)
    assert "another coordinator must approve it" in refused.content.decode()
    client_as(bea).post(f"{REQUESTS}{grant.pk}/approve/")
    bea.refresh_from_db()
    assert bea.is_active
    # A coordinator of another committee does not even see it.
    assert client_as(net.omar).post(f"{REQUESTS}{grant.pk}/approve/").status_code == 404
    bea.refresh_from_db()
    assert bea.is_active

    page = client_as(cy).get("/committees/la-city/role-requests/").content.decode()
    assert "To switch this account off" in page
    done = client_as(cy).post(f"/committees/la-city/role-requests/{grant.pk}/approve/", follow=True)
    assert "switched off and signed out everywhere" in done.content.decode()
    bea.refresh_from_db()
    assert not bea.is_active


def test_a_member_of_another_committee_needs_a_second_coordinator(net, bea, cy, client_as):
    join(net.mo, net.east)  # mo is also in East LA, where ana is nobody
    page = _switch_off(client_as(net.ana), net.mo, net).content.decode()
    assert "also in a committee you don&#x27;t coordinate" in page
    net.mo.refresh_from_db()
    assert net.mo.is_active
    # The city coordinator reaches both committees: alone is enough for them.
    actions.deactivate_member(_membership(net.mo, net.boyle), actor=cy)
    net.mo.refresh_from_db()
    assert not net.mo.is_active


def test_a_plain_member_is_switched_off_by_one_coordinator(net, client_as):
    _switch_off(client_as(net.ana), net.mo, net)
    net.mo.refresh_from_db()
    assert not net.mo.is_active
    assert not RoleGrant.objects.exists()


def test_the_last_network_admin_can_never_be_switched_off(net, bea, client_as):
    join(net.admin, net.boyle)
    page = _switch_off(client_as(net.ana), net.admin, net).content.decode()
    assert "last active administrator" in page
    assert not RoleGrant.objects.exists()
    # With a second admin it can be asked, but the last one standing stays on.
    other = make_user("ada", is_network_admin=True)
    grant = actions.deactivate_member(_membership(net.admin, net.boyle), actor=net.ana)
    assert grant is not None
    other.is_active = False
    other.save(update_fields=["is_active"])
    refused = client_as(bea).post(f"{REQUESTS}{grant.pk}/approve/", follow=True)
    assert "last active administrator" in refused.content.decode()
    net.admin.refresh_from_db()
    assert net.admin.is_active
    grant.refresh_from_db()
    assert grant.status == GrantStatus.PENDING
    # Once there is another active admin, two coordinators can switch this one off.
    other.is_active = True
    other.save(update_fields=["is_active"])
    client_as(bea).post(f"{REQUESTS}{grant.pk}/approve/")
    net.admin.refresh_from_db()
    assert not net.admin.is_active


def test_switching_back_on_takes_two_coordinators(net, bea, client_as):
    _switch_off(client_as(net.ana), net.mo, net)
    mo = _membership(net.mo, net.boyle)
    ana = client_as(net.ana)
    page = ana.get("/committees/boyle-heights/switched-off/").content.decode()
    assert "Mo" in page and f"/switched-off/{mo.pk}/reactivate/" in page
    asked = ana.post(f"/committees/boyle-heights/switched-off/{mo.pk}/reactivate/", follow=True)
    assert "only when another coordinator approves" in asked.content.decode()
    grant = RoleGrant.objects.get(role=GrantKind.REACTIVATE, status=GrantStatus.PENDING)
    assert ana.post(f"{REQUESTS}{grant.pk}/approve/").status_code == 302
    net.mo.refresh_from_db()
    assert not net.mo.is_active  # the asker alone cannot
    done = client_as(bea).post(f"{REQUESTS}{grant.pk}/approve/", follow=True)
    assert "is switched on again" in done.content.decode()
    net.mo.refresh_from_db()
    assert net.mo.is_active
    requested = AuditEntry.objects.get(action="member.reactivation_requested")
    approved = AuditEntry.objects.get(action="user_reactivated")
    assert requested.actor_id == net.ana.pk
    assert approved.actor_id == bea.pk and approved.data["requested_by"] == net.ana.pk


def test_the_switched_off_page_is_for_the_committees_coordinators_only(net, client_as):
    actions.deactivate_member(_membership(net.mo, net.boyle), actor=net.ana)
    mo = _membership(net.mo, net.boyle)
    for person in (net.dani, net.omar):
        client = client_as(person)
        assert client.get("/committees/boyle-heights/switched-off/").status_code == 404
        path = f"/committees/boyle-heights/switched-off/{mo.pk}/reactivate/"
        assert client.post(path).status_code == 404
    # An active member cannot be "switched back on" by id.
    vero = _membership(net.vero, net.boyle)
    path = f"/committees/boyle-heights/switched-off/{vero.pk}/reactivate/"
    assert client_as(net.ana).post(path).status_code == 404
    assert not RoleGrant.objects.exists()  # the refusals above wrote nothing
