"""A membership carries a copy of its person's home area cell (dispatch asks a committee's
people in a cell by it): filled when the membership is made, kept in step when the person
moves, and filled for memberships that existed before the column by its migration."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from defensa.accounts.models import User
from defensa.committees.models import Membership
from defensa.core import geo
from defensa.core.testing import join, make_user

pytestmark = pytest.mark.django_db

BOYLE_CELL = geo.cell_for(*geo.zip_centroid("90033"))  # type: ignore[misc]
EAST_CELL = geo.cell_for(*geo.zip_centroid("90022"))  # type: ignore[misc]


def _cells(user: User) -> set[str]:
    return set(Membership.objects.filter(user=user).values_list("area_cell", flat=True))


def test_a_new_membership_takes_the_persons_cell(net) -> None:
    assert BOYLE_CELL != EAST_CELL
    ana = make_user("cellana", home_zip="90033")
    assert join(ana, net.boyle).area_cell == BOYLE_CELL
    # By id alone (the person not at hand) the cell is read from the person.
    Membership.objects.create(user_id=ana.pk, committee=net.east)
    assert _cells(ana) == {BOYLE_CELL}


def test_bulk_created_memberships_take_their_peoples_cells(net) -> None:
    ana = make_user("cellana", home_zip="90033")
    ben = make_user("cellben", home_zip="90022")
    nobody = make_user("cellcleo")
    Membership.objects.bulk_create(
        [
            Membership(user=ana, committee=net.boyle),
            Membership(user_id=ben.pk, committee=net.boyle),
            Membership(user_id=nobody.pk, committee=net.boyle),
        ]
    )
    assert _cells(ana) == {BOYLE_CELL}
    assert _cells(ben) == {EAST_CELL}
    assert _cells(nobody) == {""}


def test_the_memberships_follow_the_person_home(net) -> None:
    ana = make_user("cellana", home_zip="90033")
    join(ana, net.boyle)
    join(ana, net.east)
    ana.home_zip = "90022"
    ana.save(update_fields=["home_zip"])
    assert _cells(ana) == {EAST_CELL}
    ana.home_zip, ana.home_cell = "", BOYLE_CELL
    ana.save()
    assert _cells(ana) == {BOYLE_CELL}
    # A copy of the person read without its cell (deferred) still moves them.
    partial = User.objects.only("pk", "home_zip", "home_cell").get(pk=ana.pk)
    partial.home_cell = ""
    partial.home_zip = "90022"
    partial.save()
    assert _cells(ana) == {EAST_CELL}
    ana.refresh_from_db()
    assert ana.area_cell == EAST_CELL
    # Saving other fields leaves the memberships alone.
    ana.display_name = "Ana M."
    ana.save(update_fields=["display_name"])
    assert _cells(ana) == {EAST_CELL}
    ana.home_zip = ""
    ana.save()
    assert _cells(ana) == {""}


def test_the_migration_fills_the_memberships_that_were_there(net) -> None:
    ana = make_user("cellana", home_zip="90033")
    ben = make_user("cellben", home_zip="90022")
    join(ana, net.boyle)
    join(ben, net.boyle)
    join(ben, net.east)
    Membership.objects.update(area_cell="")
    migration = importlib.import_module("defensa.committees.migrations.0012_membership_area_cell")
    migration.copy_cells(apps, None)
    assert _cells(ana) == {BOYLE_CELL}
    assert _cells(ben) == {EAST_CELL}
    for membership in Membership.objects.select_related("user"):
        assert membership.area_cell == membership.user.area_cell
