"""A new committee's first people: founding links from those who set it up (docs/setup.md).

A new committee has no full member to vouch for anyone and no coordinator to give roles, so
the people who set it up (network admins, coordinators above it) make founding links: the
person who uses one is a full member at once, starting as the role the link names. Once the
committee has full members enough to vouch, no more founding links are made.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from django.test import Client

from defensa.accounts.models import Skill, SkillKind
from defensa.audit.models import AuditEntry
from defensa.committees import actions
from defensa.committees.models import Committee, Invitation, Kind, Membership, MemberStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def highland(net):  # type: ignore[no-untyped-def]
    return actions.create_committee(
        net.city, name="Highland Park", kind=Kind.LOCAL, actor=net.admin
    )


def _link(client, slug: str, founding: str, note: str = "") -> str:  # type: ignore[no-untyped-def]
    response = client.post(f"/network/{slug}/founders/", {"founding": founding, "note": note})
    assert response.status_code == 302
    page = client.get(f"/network/{slug}/founders/").content.decode()
    found = re.search(r'id="new-link"[^>]*>([^<]+)<', page)
    assert found, page
    return found.group(1).strip()


def _sign_up(link: str, email: str) -> Client:
    person = Client()
    path = link.split("testserver", 1)[1]
    page = person.get(path)
    assert page.status_code == 200
    response = person.post(
        path,
        {
            "display_name": email.split("@")[0].title(),
            "email": email,
            "password": "marigold-bus-stop-1947",
            "language": "es",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    code_page = person.get(response["Location"]).content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', code_page).group(1)  # type: ignore[union-attr]
    response = person.post(response["Location"], {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return person


def test_an_admin_makes_founding_links_and_each_person_starts_full_with_the_role(
    net, client_as, highland
):
    admin = client_as(net.admin)
    page = admin.get("/network/highland-park/")
    assert 'href="/network/highland-park/founders/"' in page.content.decode()
    links = {
        role: _link(admin, "highland-park", role, note=role)
        for role in ("dispatcher", "verifier", "coordinator")
    }
    assert Invitation.objects.filter(committee=highland).exclude(founding="").count() == 3
    _sign_up(links["dispatcher"], "dora@example.org")
    _sign_up(links["verifier"], "vera@example.org")
    _sign_up(links["coordinator"], "coco@example.org")
    people = {
        m.user.email: m
        for m in Membership.objects.filter(committee=highland).select_related("user")
    }
    assert {m.status for m in people.values()} == {MemberStatus.FULL}
    assert people["dora@example.org"].is_dispatcher
    assert not people["dora@example.org"].is_coordinator
    assert people["coco@example.org"].is_coordinator
    assert Skill.objects.filter(
        user=people["vera@example.org"].user, kind=SkillKind.VERIFIER
    ).exists()
    assert not people["vera@example.org"].is_dispatcher
    created = AuditEntry.objects.filter(action="invitation.created")
    assert sorted(e.data["founding"] for e in created) == ["coordinator", "dispatcher", "verifier"]
    accepted = AuditEntry.objects.filter(action="invitation.accepted")
    assert sorted(e.data["founding"] for e in accepted) == ["coordinator", "dispatcher", "verifier"]
    # Now it has full members enough to vouch: no more founding links, and nothing changes.
    before = Invitation.objects.count()
    response = admin.post("/network/highland-park/founders/", {"founding": "member"})
    assert response.status_code == 302
    assert Invitation.objects.count() == before
    closed = admin.get("/network/highland-park/founders/").content.decode()
    assert "members enough to vouch" in closed


def test_an_ordinary_invitation_still_starts_on_probation(net, client_as, highland):
    _, token = actions.create_invitation(net.boyle, actor=net.ana)
    _sign_up(f"http://testserver/join/{token}/", "rosa@example.org")
    rosa = Membership.objects.get(user__email="rosa@example.org")
    assert rosa.status == MemberStatus.PROBATION and not rosa.is_dispatcher


def test_only_those_who_set_the_committee_up_make_founding_links(net, client_as, highland):
    # A coordinator of a sibling local, a dispatcher, a member: 404, nothing made.
    for person in (net.omar, net.dani, net.mo, net.ana):
        client = client_as(person)
        assert client.get("/network/highland-park/founders/").status_code == 404
        response = client.post("/network/highland-park/founders/", {"founding": "coordinator"})
        assert response.status_code == 404
    assert not Invitation.objects.filter(committee=highland).exists()


@pytest.mark.parametrize("founding", ["", "admin", "x" * 40])
def test_a_bad_choice_is_refused_and_makes_nothing(net, client_as, highland, founding):
    client = client_as(net.admin)
    client.cookies.load({"django_language": "en"})
    response = client.post("/network/highland-park/founders/", {"founding": founding})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode() or "required" in (
        response.content.decode()
    )
    assert not Invitation.objects.filter(committee=highland).exists()


def test_an_archived_committee_takes_no_founding_links(net, client_as, highland):
    actions.archive_committee(highland, actor=net.admin)
    highland = Committee.objects.get(pk=highland.pk)
    with pytest.raises(actions.FoundingClosed):
        actions.create_founding_invitation(highland, actor=net.admin, founding="member")
    client = client_as(net.admin)
    client.cookies.load({"django_language": "en"})
    response = client.post("/network/highland-park/founders/", {"founding": "member"}, follow=True)
    assert "This committee is archived already." in response.content.decode()
    assert not Invitation.objects.filter(committee=highland).exists()


def test_a_founding_link_is_cancelled_from_its_page_and_no_longer_works(net, client_as, highland):
    client = client_as(net.admin)
    client.cookies.load({"django_language": "en"})
    link = _link(client, "highland-park", "coordinator", note="For Rosa")
    invitation = Invitation.objects.get(committee=highland)
    page = client.get("/network/highland-park/founders/").content.decode()
    cancel = f"/network/highland-park/founders/{invitation.pk}/cancel/"
    assert f'action="{cancel}"' in page
    # Others who may not set the committee up cannot cancel it.
    for person in (net.ana, net.mo):
        assert client_as(person).post(cancel).status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    client = client_as(net.admin)  # the same test client, signed in as the admin again
    assert client.get(cancel).status_code == 405
    response = client.post(cancel, follow=True)
    assert "The link was cancelled. It no longer works." in response.content.decode()
    assert "For Rosa" not in response.content.decode()  # no longer among the open links
    assert AuditEntry.objects.filter(action="invitation.revoked", actor_id=net.admin.pk).exists()
    again = client.post(cancel, follow=True).content.decode()
    assert "That link was already used or cancelled." in again
    # The person who was sent it finds a dead link.
    page = Client().get(link.split("testserver", 1)[1])
    assert page.status_code in (404, 410)
    assert not Membership.objects.filter(committee=highland).exists()
