"""Asking for "any of these roles" is written one way: committees_for(user, (role, ...))."""

from __future__ import annotations

import itertools

import pytest

from defensa.committees import access
from defensa.committees.models import Committee
from defensa.core.testing import join, make_user

pytestmark = pytest.mark.django_db

ROLES = ("member", "full", "coordinator", "dispatcher", "legal")


def _slugs(qs) -> set[str]:  # type: ignore[no-untyped-def]
    return set(qs.values_list("slug", flat=True))


def test_any_of_several_roles_is_the_union_of_each() -> None:
    person = make_user("rita")
    shapes = {
        "co": {"is_coordinator": True},
        "di": {"is_dispatcher": True},
        "le": {"is_legal": True},
        "co-di": {"is_coordinator": True, "is_dispatcher": True},
        "plain": {},
    }
    for slug, roles in shapes.items():
        join(person, Committee.objects.create(name=slug, slug=slug), **roles)
    # On probation a role does not count yet, whatever the flag says.
    join(person, Committee.objects.create(name="new", slug="new"), full=False, is_dispatcher=True)
    Committee.objects.create(name="elsewhere", slug="elsewhere")

    for size in (1, 2, 3):
        for combo in itertools.combinations(ROLES, size):
            expected = set().union(*(_slugs(access.committees_for(person, r)) for r in combo))
            assert _slugs(access.committees_for(person, combo)) == expected, combo
            memberships = access.memberships_for(person, combo)
            assert memberships.count() == len(expected), combo

    assert _slugs(access.committees_for(person, ("dispatcher", "coordinator"))) == {
        "co",
        "di",
        "co-di",
    }
    assert "new" in _slugs(access.committees_for(person, ("member", "dispatcher")))
    assert "new" not in _slugs(access.committees_for(person, ("full", "dispatcher")))
    assert _slugs(access.committees_for(None, ("dispatcher", "coordinator"))) == set()
