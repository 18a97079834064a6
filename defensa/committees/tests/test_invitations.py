"""Invitations: single-use, expiring, hashed links made by coordinators (property 6)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.utils import timezone

from defensa.committees.models import Invitation
from defensa.committees.tests.helpers import actions_named, invite

pytestmark = pytest.mark.django_db


def test_coordinator_creates_a_link_shown_once_and_only_its_hash_is_stored(net, client_as):
    client = client_as(net.ana)
    response = client.post("/committees/boyle-heights/invitations/", {"note": "Rosa from work"})
    assert response.status_code == 302
    page = client.get("/committees/boyle-heights/invitations/").content.decode()
    match = re.search(r"/join/([A-Za-z0-9_-]+)/", page)
    assert match, "the new link is on the page after creating it"
    token = match.group(1)
    assert len(token) >= 43  # 32 random bytes: 256 bits
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values_list().get())
    assert invitation.committee == net.boyle and invitation.created_by == net.ana
    expected = timezone.now() + dt.timedelta(days=7)
    assert abs((invitation.expires_at - expected).total_seconds()) < 60
    # Shown once: the next visit lists the open link by its note, without the token.
    again = client.get("/committees/boyle-heights/invitations/").content.decode()
    assert token not in again and "Rosa from work" in again
    assert [e.object_id for e in actions_named("invitation.created")] == [str(invitation.pk)]


def test_invitation_days_setting_sets_the_expiry(net, settings):
    settings.INVITATION_DAYS = 2
    invitation, _ = invite(net.boyle, net.ana)
    assert invitation.expires_at - invitation.created_at == dt.timedelta(days=2)


@pytest.mark.parametrize("who", ["dani", "mo", "pat", "omar", "admin"])
def test_only_the_committees_coordinators_can_invite(net, client_as, who):
    client = client_as(getattr(net, who))
    assert client.get("/committees/boyle-heights/invitations/").status_code == 404
    assert client.post("/committees/boyle-heights/invitations/", {"note": "x"}).status_code == 404
    assert not Invitation.objects.exists()


def test_anonymous_cannot_reach_invitations(net, client):
    response = client.get("/committees/boyle-heights/invitations/")
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert "/accounts/login" in response["Location"]


def test_revoke_makes_the_link_410_and_the_list_forgets_it(net, client_as, client):
    invitation, token = invite(net.boyle, net.ana, note="for Beto")
    ana = client_as(net.ana)
    page = ana.get("/committees/boyle-heights/invitations/").content.decode()
    assert "for Beto" in page
    response = ana.post(f"/committees/boyle-heights/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "for Beto" not in ana.get("/committees/boyle-heights/invitations/").content.decode()
    ana.post("/accounts/logout/")
    assert client.get(f"/join/{token}/").status_code == 410
    # A second revoke writes nothing more.
    client_as(net.ana).post(f"/committees/boyle-heights/invitations/{invitation.pk}/revoke/")
    assert len(actions_named("invitation.revoked")) == 1


def test_another_compartments_coordinator_cannot_revoke(net, client_as):
    invitation, _ = invite(net.boyle, net.ana)
    omar = client_as(net.omar)
    assert omar.post(f"/committees/east-la/invitations/{invitation.pk}/revoke/").status_code == 404
    assert (
        omar.post(f"/committees/boyle-heights/invitations/{invitation.pk}/revoke/").status_code
        == 404
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_revoke_needs_post(net, client_as):
    invitation, _ = invite(net.boyle, net.ana)
    response = client_as(net.ana).get(
        f"/committees/boyle-heights/invitations/{invitation.pk}/revoke/"
    )
    assert response.status_code == 405


def test_note_too_long_is_an_error_next_to_the_field(net, client_as):
    response = client_as(net.ana).post("/committees/boyle-heights/invitations/", {"note": "x" * 81})
    assert response.status_code == 400
    assert b"errorlist" in response.content and b"error-summary" in response.content
    assert not Invitation.objects.exists()
