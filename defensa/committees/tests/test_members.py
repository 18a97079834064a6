"""Coordinators manage their committee's members; phones masked, reveals audited (property 4)."""

from __future__ import annotations

import re

import pytest

from defensa.accounts.models import Skill, SkillKind, User
from defensa.committees import actions
from defensa.committees.models import Membership, MemberStatus, Shift
from defensa.core.testing import CANARY_PHONE, join, make_user

from .helpers import actions_named

pytestmark = pytest.mark.django_db


def _m(net, who: str) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(user=getattr(net, who), committee=net.boyle)


def test_member_list_shows_everything_but_masks_phones(net, client_as):
    net.vero.on_duty = True
    net.vero.save()
    page = client_as(net.ana).get("/committees/boyle-heights/members/").content.decode()
    for name in ("Ana", "Dani", "Vero", "Lucia", "Mo", "Pat"):
        assert name in page
    assert "Omar" not in page  # another compartment
    assert CANARY_PHONE not in page and "2135550199" not in page
    assert "•••-•••-••99" in page
    assert "Verifier" in page and "On duty" in page and "90033" in page
    assert "On probation" in page and "dispatcher" in page


def test_member_list_query_count_does_not_grow_with_members(
    net, client_as, django_assert_max_num_queries
):
    client = client_as(net.ana)
    client.get("/committees/boyle-heights/members/")  # warm the session
    # A page of members, their skills and shifts, those waiting for vouches, the count (all
    # memberships less the switched-off ones) and which SMS-only members texted STOP: the
    # same number for 6 members or 31.
    with django_assert_max_num_queries(12):
        small = client.get("/committees/boyle-heights/members/")
    for n in range(25):
        user = make_user(f"extra{n}", phone=f"+1213555{n:04d}")
        membership = join(user, net.boyle)
        Skill.objects.create(user=user, kind=SkillKind.DRIVER)
        Shift.objects.create(membership=membership, weekday=n % 7, start="08:00", end="12:00")
    with django_assert_max_num_queries(12):
        big = client.get("/committees/boyle-heights/members/")
    assert small.status_code == big.status_code == 200
    assert big.content.count(b"Driver") == 25


@pytest.mark.parametrize("who", ["dani", "vero", "lucia", "mo", "pat", "omar", "admin"])
def test_only_coordinators_see_members(net, client_as, who):
    client = client_as(getattr(net, who))
    mo = _m(net, "mo")
    assert client.get("/committees/boyle-heights/members/").status_code == 404
    assert client.get(f"/committees/boyle-heights/members/{mo.pk}/").status_code == 404
    assert client.post(f"/committees/boyle-heights/members/{mo.pk}/reveal/").status_code == 404
    assert not actions_named("member.phone_revealed")


def test_reveal_shows_the_number_on_that_response_only_and_audits(net, client_as):
    client = client_as(net.ana)
    mo = _m(net, "mo")
    detail = client.get(f"/committees/boyle-heights/members/{mo.pk}/").content.decode()
    assert CANARY_PHONE not in detail
    response = client.post(f"/committees/boyle-heights/members/{mo.pk}/reveal/")
    assert response.status_code == 200
    assert CANARY_PHONE in response.content.decode()
    again = client.get(f"/committees/boyle-heights/members/{mo.pk}/").content.decode()
    assert CANARY_PHONE not in again
    entries = actions_named("member.phone_revealed")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == net.ana.pk and entry.object_id == str(mo.pk)
    assert entry.committee_id == net.boyle.pk and entry.data == {"user": net.mo.pk}
    assert "555" not in str(entry.data)


def test_reveal_needs_post(net, client_as):
    mo = _m(net, "mo")
    response = client_as(net.ana).get(f"/committees/boyle-heights/members/{mo.pk}/reveal/")
    assert response.status_code == 405
    assert not actions_named("member.phone_revealed")


def test_cross_compartment_ids_are_404(net, client_as):
    omar_membership = Membership.objects.get(user=net.omar)
    ana = client_as(net.ana)
    for suffix in ("", "reveal/", "roles/", "skills/", "deactivate/"):
        url = f"/committees/boyle-heights/members/{omar_membership.pk}/{suffix}"
        response = ana.post(url) if suffix else ana.get(url)
        assert response.status_code == 404, url
    east = client_as(net.omar)
    mo = _m(net, "mo")
    assert east.get(f"/committees/east-la/members/{mo.pk}/").status_code == 404
    assert east.post(f"/committees/east-la/members/{mo.pk}/reveal/").status_code == 404


def test_change_roles_is_audited_and_coordinator_grant_ends_sessions(net, client_as):
    mo = _m(net, "mo")
    epoch = net.mo.session_epoch
    ana = client_as(net.ana)
    ana.post(f"/committees/boyle-heights/members/{mo.pk}/roles/", {"is_dispatcher": "on"})
    mo.refresh_from_db()
    net.mo.refresh_from_db()
    assert mo.is_dispatcher and not mo.is_coordinator
    assert net.mo.session_epoch == epoch  # a dispatcher role needs no new sign-in
    ana.post(
        f"/committees/boyle-heights/members/{mo.pk}/roles/",
        {"is_dispatcher": "on", "is_coordinator": "on"},
    )
    # Coordinator needs a second coordinator's approval: asked, not granted.
    mo.refresh_from_db()
    net.mo.refresh_from_db()
    assert not mo.is_coordinator and net.mo.session_epoch == epoch
    entries = actions_named("member.roles_changed")
    assert entries[1].data["coordinator"] is False and entries[1].data["coordinator_requested"]
    from defensa.committees.models import RoleGrant
    from defensa.core.testing import join, make_user

    bea = make_user("bea")
    join(bea, net.boyle, is_coordinator=True)
    actions.decide_role_grant(RoleGrant.objects.get(), actor=bea, approve=True)
    mo.refresh_from_db()
    net.mo.refresh_from_db()
    assert mo.is_coordinator and net.mo.session_epoch == epoch + 1
    assert actions_named("member.role_grant_approved")[0].data["sessions_ended"] is True


def test_granting_coordinator_signs_the_person_out(net, client_as, client):
    from django.test import Client

    mo_client = Client()
    from defensa.core.testing import sign_in

    sign_in(mo_client, net.mo, factor="totp")
    assert mo_client.get("/committees/boyle-heights/").status_code == 200
    actions.change_roles(
        _m(net, "mo"), actor=net.ana, is_dispatcher=False, is_legal=False, is_coordinator=True
    )
    assert mo_client.get("/committees/boyle-heights/").status_code == 200  # only asked
    from defensa.committees.models import RoleGrant
    from defensa.core.testing import join, make_user

    bea = make_user("bea")
    join(bea, net.boyle, is_coordinator=True)
    actions.decide_role_grant(RoleGrant.objects.get(), actor=bea, approve=True)
    response = mo_client.get("/committees/boyle-heights/")
    assert response.status_code in (302, 404)


def test_probation_members_get_no_roles(net, client_as):
    pat = _m(net, "pat")
    response = client_as(net.ana).post(
        f"/committees/boyle-heights/members/{pat.pk}/roles/", {"is_coordinator": "on"}, follow=True
    )
    assert b"probation" in response.content
    pat.refresh_from_db()
    assert not pat.is_coordinator
    assert not actions_named("member.roles_changed")


def test_last_coordinator_cannot_be_removed(net, client_as):
    ana = _m(net, "ana")
    client_as(net.ana).post(f"/committees/boyle-heights/members/{ana.pk}/roles/", {})
    ana.refresh_from_db()
    assert ana.is_coordinator


def test_coordinator_sets_skills(net, client_as):
    mo = _m(net, "mo")
    client_as(net.ana).post(
        f"/committees/boyle-heights/members/{mo.pk}/skills/", {"skills": ["driver", "interpreter"]}
    )
    assert set(Skill.objects.filter(user=net.mo).values_list("kind", flat=True)) == {
        "driver",
        "interpreter",
    }
    response = client_as(net.ana).post(
        f"/committees/boyle-heights/members/{mo.pk}/skills/", {"skills": ["astronaut"]}
    )
    assert response.status_code == 400 and b"errorlist" in response.content
    assert Skill.objects.filter(user=net.mo).count() == 2


def test_deactivate_member(net, client_as):
    mo = _m(net, "mo")
    epoch = net.mo.session_epoch
    ana = client_as(net.ana)
    ana.post(f"/committees/boyle-heights/members/{mo.pk}/deactivate/", {})
    net.mo.refresh_from_db()
    assert net.mo.is_active  # not confirmed
    ana.post(f"/committees/boyle-heights/members/{mo.pk}/deactivate/", {"confirm": "yes"})
    net.mo.refresh_from_db()
    assert not net.mo.is_active and net.mo.session_epoch > epoch
    entries = actions_named("user_deactivated")
    assert len(entries) == 1 and entries[0].actor_id == net.ana.pk
    assert entries[0].object_id == str(net.mo.pk)
    page = ana.get("/committees/boyle-heights/members/").content.decode()
    assert "Mo<" not in page


def test_cannot_deactivate_yourself(net, client_as):
    ana = _m(net, "ana")
    client_as(net.ana).post(
        f"/committees/boyle-heights/members/{ana.pk}/deactivate/", {"confirm": "yes"}
    )
    assert User.objects.get(pk=net.ana.pk).is_active


def test_huge_and_odd_ids_are_404(net, client_as):
    ana = client_as(net.ana)
    for pk in ("99999999999999999999999", "0", "9223372036854775807"):
        assert ana.get(f"/committees/boyle-heights/members/{pk}/").status_code == 404


def test_probation_member_sees_committee_but_not_members(net, client_as):
    pat = client_as(net.pat)
    assert pat.get("/committees/boyle-heights/").status_code == 200
    assert pat.get("/committees/east-la/").status_code == 404
    assert Membership.objects.get(user=net.pat).status == MemberStatus.PROBATION


def test_too_many_reveals_in_an_hour_are_refused_and_recorded(net, client_as, settings):
    settings.PHONE_REVEALS_PER_HOUR = 2
    client = client_as(net.ana)
    ids = [_m(net, who).pk for who in ("mo", "dani", "lucia")]
    for pk in ids[:2]:
        assert client.post(f"/committees/boyle-heights/members/{pk}/reveal/").status_code == 200
    response = client.post(f"/committees/boyle-heights/members/{ids[2]}/reveal/")
    assert response.status_code == 429
    assert b"+12135550104" not in response.content and b"last hour" in response.content
    assert len(actions_named("member.phone_revealed")) == 2
    refused = actions_named("member.phone_reveal_refused")
    assert len(refused) == 1 and refused[0].data == {"user": net.lucia.pk}
    # Another coordinator's quota is their own.
    lucia = _m(net, "lucia")
    lucia.is_coordinator = True
    lucia.save()
    other = client_as(net.lucia)
    assert other.post(f"/committees/boyle-heights/members/{ids[0]}/reveal/").status_code == 200


def test_member_list_names_a_neighbourhood_area(net, client_as):
    from defensa.core import geo

    cell = geo.cell_for(*geo.zip_centroid("90033"))  # type: ignore[misc]
    User.objects.filter(pk=net.mo.pk).update(home_cell=cell)
    page = client_as(net.ana).get("/committees/boyle-heights/members/").content.decode()
    row = page.split(f'id="member-{_m(net, "mo").pk}"')[1].split("</tr>")[0]
    assert "Around ZIP 90033, 90063" in row and cell not in row


def test_trusted_roles_need_a_web_sign_in_with_a_second_factor(net, client_as):
    """Dispatcher, legal and coordinator: only for someone with a password and a confirmed
    authenticator app or passkey; a person reached by text message only keeps their role."""
    from defensa.accounts.models import TOTPDevice
    from defensa.committees.models import RoleGrant

    mo = _m(net, "mo")
    TOTPDevice.objects.filter(user=net.mo).delete()
    for roles in ({"is_dispatcher": "on"}, {"is_legal": "on"}, {"is_coordinator": "on"}):
        page = client_as(net.ana).post(
            f"/committees/boyle-heights/members/{mo.pk}/roles/", roles, follow=True
        )
        assert b"no web sign-in with a second factor" in page.content
    mo.refresh_from_db()
    assert not (mo.is_dispatcher or mo.is_legal or mo.is_coordinator)
    assert not RoleGrant.objects.exists() and not actions_named("member.roles_changed")
    # No usable password: the same, even with an authenticator app.
    TOTPDevice.objects.create(
        user=net.mo, secret="JBSWY3DPEHPK3PXP", confirmed_at=net.mo.created_at
    )
    net.mo.set_unusable_password()
    net.mo.save(update_fields=["password"])
    with pytest.raises(actions.ActionError):
        actions.change_roles(
            mo, actor=net.ana, is_dispatcher=True, is_legal=False, is_coordinator=False
        )
    # A coordinator request made while the person could sign in is refused if they no longer can.
    net.mo.set_password("a long enough passphrase")
    net.mo.save(update_fields=["password"])
    actions.change_roles(
        mo, actor=net.ana, is_dispatcher=False, is_legal=False, is_coordinator=True
    )
    TOTPDevice.objects.filter(user=net.mo).delete()
    bea = make_user("bea")
    join(bea, net.boyle, is_coordinator=True)
    with pytest.raises(actions.ActionError):
        actions.decide_role_grant(RoleGrant.objects.get(), actor=bea, approve=True)


def test_member_list_is_read_a_page_at_a_time_in_name_order(net, client_as, monkeypatch):
    from defensa.committees import views

    monkeypatch.setattr(views, "MEMBERS_PAGE", 4)
    for n in range(5):  # two people share a name: the account id breaks the tie
        user = make_user(f"zed{n}")
        User.objects.filter(pk=user.pk).update(display_name="Zed" if n < 2 else f"Zed {n}")
        join(user, net.boyle)
    inactive = make_user("aaron")
    join(inactive, net.boyle)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    client = client_as(net.ana)
    seen, url, pages = [], "/committees/boyle-heights/members/", 0
    while url:
        page = client.get(url).content.decode()
        assert "11 members, by name." in page  # 6 of the test network, 5 new; not Aaron
        rows = [int(pk) for pk in re.findall(r'<tr id="member-(\d+)"', page)]
        assert 0 < len(rows) <= 4
        seen += rows
        pages += 1
        found = re.search(r'href="(\?after=\d+)"', page)
        url = f"/committees/boyle-heights/members/{found.group(1)}" if found else ""
    assert pages == 3
    members = Membership.objects.filter(committee=net.boyle, user__is_active=True)
    expected = list(members.order_by("user__display_name", "user_id").values_list("pk", flat=True))
    assert seen == expected  # every member once, in name order, across the pages
    # A stale or made-up cursor starts the list again; never a 500.
    for bad in ("999999", "abc", "99999999999999999999999", str(_m(net, "mo").pk + 10**6)):
        response = client.get(f"/committees/boyle-heights/members/?after={bad}")
        assert response.status_code == 302 and response["Location"].endswith("/members/")
    # Another committee's member is not a cursor here either.
    omar = Membership.objects.get(user=net.omar)
    assert client.get(f"/committees/boyle-heights/members/?after={omar.pk}").status_code == 302
