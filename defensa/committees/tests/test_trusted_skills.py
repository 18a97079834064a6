"""Trust comes from people, not from checkboxes (issue "Hardening", point 4).

Skills that grant work with consequences (accounts.models.TRUSTED_SKILLS) are given by a
coordinator: a member who ticks one on /me/ only asks, and the request waits on the
coordinators' Requests page to be granted or declined, both audited. Skills already held stay.
"""

from __future__ import annotations

import pytest

from defensa.accounts.models import TRUSTED_SKILLS, Skill, SkillKind
from defensa.audit.models import AuditEntry
from defensa.committees.models import GrantKind, GrantStatus, Membership, RoleGrant
from defensa.core.testing import join, make_user
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.tests.helpers import report_incident

pytestmark = pytest.mark.django_db

REQUESTS = "/committees/boyle-heights/role-requests/"


@pytest.fixture
def mo_nearby(net):  # type: ignore[no-untyped-def]
    """mo, on duty at home in Boyle Heights: exactly who an offer would reach if a verifier."""
    for person in (net.mo, net.vero):  # vero: the verifier who was trusted before
        person.home_zip, person.on_duty = "90033", True
        person.save()
    return net.mo


def _offered_to(net) -> set[int]:  # type: ignore[no-untyped-def]
    offers = offer_to_nearest(report_incident(), 10, actor=net.dani)
    return {offer.responder_id for offer in offers}


def test_the_trusted_skills_are_the_ones_with_consequences():
    assert {
        SkillKind.VERIFIER,
        SkillKind.HOTLINE,
        SkillKind.ACCOMPANIER,
        SkillKind.ATTORNEY,
        SkillKind.LEGAL_OBSERVER,
        SkillKind.ORGANISER,  # sees and assesses the workers of organised workplaces
    } == TRUSTED_SKILLS
    assert SkillKind.DRIVER not in TRUSTED_SKILLS and SkillKind.INTERPRETER not in TRUSTED_SKILLS


def test_ticking_verifier_only_asks_and_is_offered_no_raid(net, mo_nearby, client_as):
    client = client_as(net.mo)
    page = client.get("/me/skills/").content.decode()
    assert "A coordinator gives this skill" in page
    done = client.post("/me/skills/", {"verifier_has": "on", "driver_has": "on"}, follow=True)
    assert "gives the skills you asked for" in done.content.decode()
    assert set(Skill.objects.filter(user=net.mo).values_list("kind", flat=True)) == {"driver"}
    grant = RoleGrant.objects.get(role=GrantKind.SKILL, status=GrantStatus.PENDING)
    assert grant.skill == "verifier" and grant.requested_by == net.mo
    assert "waiting for a coordinator" in client.get("/me/skills/").content.decode()
    # Asking again adds nothing.
    client.post("/me/skills/", {"verifier_has": "on", "driver_has": "on"})
    assert RoleGrant.objects.filter(role=GrantKind.SKILL).count() == 1
    entry = AuditEntry.objects.filter(action="profile.skills_changed").first()
    assert entry.data["skill_requests"] == [grant.pk]
    # The attack that worked before: a raid nearby is offered to the real verifier only.
    assert _offered_to(net) == {net.vero.pk}
    # The member cannot decide their own request.
    assert client.post(f"{REQUESTS}{grant.pk}/approve/").status_code == 404
    assert not Skill.objects.filter(user=net.mo, kind="verifier").exists()


def test_a_coordinator_grants_the_request_and_then_raids_are_offered(net, mo_nearby, client_as):
    client_as(net.mo).post("/me/skills/", {"verifier_has": "on"})
    grant = RoleGrant.objects.get(role=GrantKind.SKILL)
    ana = client_as(net.ana)
    # The committee page tells the coordinator something waits.
    assert "Role requests (1)" in ana.get("/committees/boyle-heights/").content.decode()
    page = ana.get(REQUESTS).content.decode()
    assert "Asks for the skill: Verifier" in page and ">Grant<" in page and ">Decline<" in page
    done = ana.post(f"{REQUESTS}{grant.pk}/approve/", follow=True)
    assert "Mo now has the skill: Verifier." in done.content.decode()
    assert Skill.objects.filter(user=net.mo, kind="verifier").exists()
    entry = AuditEntry.objects.get(action="member.role_grant_approved")
    assert entry.actor_id == net.ana.pk and entry.data["skill"] == "verifier"
    assert net.mo.pk in _offered_to(net)


def test_a_declined_request_gives_nothing(net, client_as):
    client_as(net.mo).post("/me/skills/", {"hotline_has": "on"})
    grant = RoleGrant.objects.get(role=GrantKind.SKILL)
    client_as(net.ana).post(f"{REQUESTS}{grant.pk}/refuse/")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.REFUSED and grant.decided_by == net.ana
    assert not Skill.objects.filter(user=net.mo, kind="hotline").exists()
    entry = AuditEntry.objects.get(action="member.role_grant_refused")
    assert entry.data["skill"] == "hotline"


def test_a_coordinator_ticks_a_skill_for_a_member_but_not_for_themselves(net, client_as):
    client_as(net.mo).post("/me/skills/", {"accompanier_has": "on"})
    ana = client_as(net.ana)
    mo = Membership.objects.get(user=net.mo)
    ana.post(f"/committees/boyle-heights/members/{mo.pk}/skills/", {"skills": ["accompanier"]})
    assert Skill.objects.filter(user=net.mo, kind="accompanier").exists()
    # The waiting request is answered by that.
    assert RoleGrant.objects.get(role=GrantKind.SKILL).status == GrantStatus.APPROVED
    # Ana cannot give herself a trusted skill from her own member page...
    own = Membership.objects.get(user=net.ana)
    page = ana.post(
        f"/committees/boyle-heights/members/{own.pk}/skills/", {"skills": ["verifier"]}, follow=True
    ).content.decode()
    assert "give yourself a skill like this" in page
    assert not Skill.objects.filter(user=net.ana).exists()
    # ...but an ordinary one, yes; and she asks for the trusted one like anyone else.
    ana.post(f"/committees/boyle-heights/members/{own.pk}/skills/", {"skills": ["driver"]})
    assert set(Skill.objects.filter(user=net.ana).values_list("kind", flat=True)) == {"driver"}
    ana.post("/me/skills/", {"verifier_has": "on", "driver_has": "on"})
    grant = RoleGrant.objects.get(role=GrantKind.SKILL, skill="verifier")
    assert ana.post(f"{REQUESTS}{grant.pk}/approve/").status_code == 302
    assert not Skill.objects.filter(user=net.ana, kind="verifier").exists()
    bea = make_user("bea")
    join(bea, net.boyle, is_coordinator=True)
    client_as(bea).post(f"{REQUESTS}{grant.pk}/approve/")
    assert Skill.objects.filter(user=net.ana, kind="verifier").exists()


def test_skills_already_held_stay(net, client_as):
    # vero was a verifier before the rule: saving her page keeps it.
    client_as(net.vero).post("/me/skills/", {"verifier_has": "on", "driver_has": "on"})
    kinds = set(Skill.objects.filter(user=net.vero).values_list("kind", flat=True))
    assert kinds == {"verifier", "driver"}
    assert not RoleGrant.objects.exists()
