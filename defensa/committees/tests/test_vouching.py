"""Vouching and probation: members vouch, probation sees no history (property 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from defensa.committees import access, actions
from defensa.committees.models import Announcement, Membership, MemberStatus, Vouch
from defensa.committees.tests.helpers import actions_named

pytestmark = pytest.mark.django_db


def _pat(net) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=net.pat, committee=net.boyle)


def test_two_full_members_vouch_and_probation_ends(net, client_as):
    pat = _pat(net)
    page = client_as(net.dani).get("/committees/boyle-heights/").content.decode()
    assert f"waiting-{pat.pk}" in page and "Pat" in page
    response = client_as(net.dani).post(f"/committees/boyle-heights/vouch/{pat.pk}/")
    assert response.status_code == 302
    pat.refresh_from_db()
    assert pat.status == MemberStatus.PROBATION
    client_as(net.mo).post(f"/committees/boyle-heights/vouch/{pat.pk}/")
    pat.refresh_from_db()
    assert pat.status == MemberStatus.FULL and pat.full_since is not None
    entries = actions_named("member.vouched")
    assert [e.data["promoted"] for e in entries] == [False, True]
    assert [e.actor_id for e in entries] == [net.dani.pk, net.mo.pk]


def test_vouching_twice_counts_once(net, client_as):
    pat = _pat(net)
    client = client_as(net.dani)
    client.post(f"/committees/boyle-heights/vouch/{pat.pk}/")
    response = client.post(f"/committees/boyle-heights/vouch/{pat.pk}/", follow=True)
    assert b"already vouched" in response.content
    assert Vouch.objects.filter(membership=pat).count() == 1
    pat.refresh_from_db()
    assert pat.status == MemberStatus.PROBATION


def test_cannot_vouch_for_yourself(net):
    pat = _pat(net)
    Membership.objects.filter(pk=pat.pk).update(status=MemberStatus.FULL)
    other = Membership.objects.create(user=net.pat, committee=net.east)
    # Pat is full in Boyle Heights but on probation in East LA: still not for themself.
    with pytest.raises(actions.ActionError):
        actions.vouch_for(other, actor=net.pat)
    assert not Vouch.objects.exists()


def test_probation_members_and_outsiders_cannot_vouch(net, client_as):
    pat = _pat(net)
    newcomer = Membership.objects.create(
        user=net.admin, committee=net.boyle, status=MemberStatus.PROBATION
    )
    assert (
        client_as(net.pat).post(f"/committees/boyle-heights/vouch/{newcomer.pk}/").status_code
        == 404
    )
    assert client_as(net.omar).post(f"/committees/boyle-heights/vouch/{pat.pk}/").status_code == 404
    assert client_as(net.omar).post(f"/committees/east-la/vouch/{pat.pk}/").status_code == 404
    assert not Vouch.objects.exists()


def test_full_members_cannot_be_vouched_for(net, client_as):
    mo = Membership.objects.get(user=net.mo)
    assert client_as(net.dani).post(f"/committees/boyle-heights/vouch/{mo.pk}/").status_code == 404


def test_vouch_needs_post(net, client_as):
    pat = _pat(net)
    assert client_as(net.dani).get(f"/committees/boyle-heights/vouch/{pat.pk}/").status_code == 405


def test_coordinator_sees_who_waits_and_their_count(net, client_as):
    pat = _pat(net)
    actions.vouch_for(pat, actor=net.dani)
    page = client_as(net.ana).get("/committees/boyle-heights/members/").content.decode()
    assert "Waiting for vouches" in page
    assert "Pat: 1 of 2 vouches" in " ".join(page.split())


def test_probation_sees_only_announcements_after_joining(net, client_as):
    old = Announcement.objects.create(
        committee=net.boyle,
        author=net.ana,
        body="Old plan: meet at the church",
        created_at=timezone.now() - dt.timedelta(days=3),
    )
    Membership.objects.filter(user=net.pat).update(joined_at=timezone.now() - dt.timedelta(days=1))
    client_as(net.ana).post("/committees/boyle-heights/announce/", {"body": "Training on Friday"})
    pat_page = client_as(net.pat).get("/committees/boyle-heights/").content.decode()
    assert "Training on Friday" in pat_page
    assert "Old plan" not in pat_page
    mo_page = client_as(net.mo).get("/committees/boyle-heights/").content.decode()
    assert "Old plan" in mo_page and "Training on Friday" in mo_page
    # Once full, the history opens.
    Membership.objects.filter(user=net.pat).update(status=MemberStatus.FULL)
    assert "Old plan" in client_as(net.pat).get("/committees/boyle-heights/").content.decode()
    assert old.pk


def test_visible_since_helper(net):
    Announcement.objects.create(
        committee=net.boyle, body="before", created_at=timezone.now() - dt.timedelta(days=2)
    )
    Announcement.objects.create(committee=net.boyle, body="after")
    qs = Announcement.objects.filter(committee=net.boyle)
    Membership.objects.filter(user=net.pat).update(joined_at=timezone.now() - dt.timedelta(days=1))
    pat = _pat(net)
    mo = Membership.objects.get(user=net.mo)
    assert [a.body for a in access.visible_since(qs, pat)] == ["after"]
    assert {a.body for a in access.visible_since(qs, mo)} == {"before", "after"}
    assert list(access.visible_since(qs, None)) == []


def test_only_coordinators_post_announcements(net, client_as):
    for who in (net.mo, net.pat, net.omar):
        response = client_as(who).post("/committees/boyle-heights/announce/", {"body": "hi"})
        assert response.status_code == 404
    assert not Announcement.objects.exists()


def test_empty_announcement_is_a_field_error(net, client_as):
    response = client_as(net.ana).post("/committees/boyle-heights/announce/", {"body": "   "})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert not Announcement.objects.exists()


def test_announcement_audit_has_no_content(net, client_as):
    client_as(net.ana).post("/committees/boyle-heights/announce/", {"body": "Secret plan"})
    entry = actions_named("announcement.posted")[0]
    assert "Secret" not in str(entry.data)
