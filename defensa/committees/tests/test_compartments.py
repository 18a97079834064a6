"""Compartments (property 5): random people in random committees never reach another's rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.http import Http404
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.accounts.models import User
from defensa.committees import access
from defensa.committees.models import Committee, Invitation, Membership, MemberStatus, Shift
from defensa.core.testing import sign_in

pytestmark = pytest.mark.django_db

NONE, PROBATION, FULL, COORDINATOR = range(4)

worlds = st.integers(2, 4).flatmap(
    lambda n_committees: st.integers(2, 5).flatmap(
        lambda n_users: st.tuples(
            st.just(n_committees),
            st.just(n_users),
            # For every (user, committee): not a member, on probation, full, or coordinator.
            st.lists(
                st.integers(NONE, COORDINATOR),
                min_size=n_committees * n_users,
                max_size=n_committees * n_users,
            ),
            # Probes: (user index, committee index, membership id guess)
            st.lists(
                st.tuples(
                    st.integers(0, n_users - 1),
                    st.integers(0, n_committees - 1),
                    st.integers(-2, 60),
                ),
                min_size=1,
                max_size=8,
            ),
        )
    )
)


def _build(n_committees: int, n_users: int, grid: list[int]):  # type: ignore[no-untyped-def]
    committees = [
        Committee.objects.create(name=f"C{i}", slug=f"hyp-c{i}") for i in range(n_committees)
    ]
    users = [
        User.objects.create(email=f"hyp{i}@example.org", display_name=f"H{i}")
        for i in range(n_users)
    ]
    kinds: dict[tuple[int, int], int] = {}
    for u in range(n_users):
        for c in range(n_committees):
            kind = grid[u * n_committees + c]
            kinds[(u, c)] = kind
            if kind == NONE:
                continue
            m = Membership.objects.create(
                user=users[u],
                committee=committees[c],
                status=MemberStatus.PROBATION if kind == PROBATION else MemberStatus.FULL,
                is_coordinator=kind == COORDINATOR,
            )
            Shift.objects.create(membership=m, weekday=u % 7, start=dt.time(8), end=dt.time(9))
        Invitation.objects.create(
            committee=committees[u % n_committees],
            token_hash=f"{u:064d}",
            expires_at=timezone.now() + dt.timedelta(days=1),
        )
    return committees, users, kinds


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
def test_no_cross_compartment_access(db, world):  # type: ignore[no-untyped-def]
    n_committees, n_users, grid, probes = world
    with transaction.atomic():
        committees, users, kinds = _build(n_committees, n_users, grid)
        memberships = list(Membership.objects.filter(committee__in=committees))
        ids = [m.pk for m in memberships]
        for u, c, guess in probes:
            user, committee = users[u], committees[c]
            kind = kinds[(u, c)]
            # Guesses land on real ids of any committee, and sometimes on nothing at all.
            pk = ids[guess % len(ids)] if ids and guess >= 0 else guess
            target = next((m for m in memberships if m.pk == pk), None)
            allowed = (
                kind == COORDINATOR and target is not None and target.committee_id == committee.pk
            )
            try:
                found = access.get_membership_for(user, committee, pk)
            except Http404:
                assert not allowed
            else:
                assert allowed and found.pk == pk
            # Whole querysets stay inside the compartment.
            rows = list(access.members_for(user, committee))
            assert all(r.committee_id == committee.pk for r in rows)
            assert bool(rows) == (kind == COORDINATOR)
            assert {i.committee_id for i in access.invitations_for(user, committee)} <= (
                {committee.pk} if kind == COORDINATOR else set()
            )
            assert all(s.membership.user_id == user.pk for s in access.shifts_for(user))
            assert set(access.committees_for(user).values_list("pk", flat=True)) == {
                committees[k].pk for k in range(n_committees) if kinds[(u, k)] != NONE
            }
            try:
                access.get_committee_for(user, committee.slug)
            except Http404:
                assert kind == NONE
            else:
                assert kind != NONE
            waiting = list(access.probationers_for(user, committee))
            assert all(w.committee_id == committee.pk and not w.is_full for w in waiting)
            if kind in (NONE, PROBATION):
                assert waiting == []
            # And through the web, the same answer.
            client = sign_in(Client(), user)
            status = client.get(f"/committees/{committee.slug}/members/{pk}/").status_code
            assert status == (200 if allowed else 404)
        transaction.set_rollback(True)
