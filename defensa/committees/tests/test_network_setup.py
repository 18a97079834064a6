"""Setting up the network in the browser: committees, nesting, archiving, areas (docs/setup.md)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defensa.committees import actions
from defensa.committees.models import Committee, Kind
from defensa.core import geo
from defensa.incidents.models import Incident, State

from .helpers import actions_named

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple]:
    return list(
        Committee.objects.order_by("pk").values_list(
            "pk",
            "name",
            "parent_id",
            "zip_codes",
            "h3_cells",
            "time_zone",
            "languages",
            "archived_at",
        )
    )


def _incident(committee: Committee, state: str) -> Incident:
    now = timezone.now()
    return Incident.objects.create(
        reference=f"T{Incident.objects.count() + 1:05d}",
        committee=committee,
        state=state,
        first_observed_at=now,
        last_observed_at=now,
        report_count=1,
    )


def test_admin_creates_a_local_committee_and_gives_it_an_area(net, client_as):
    client = client_as(net.admin)
    page = client.get("/network/")
    assert page.status_code == 200
    assert "Boyle Heights" in page.content.decode() and "East LA" in page.content.decode()
    response = client.post(
        "/network/la-city/new/", {"new-name": "  Highland   Park ", "new-kind": "local"}
    )
    created = Committee.objects.get(name="Highland Park")
    assert response.status_code == 302 and response["Location"] == f"/network/{created.slug}/area/"
    assert created.parent == net.city and created.kind == Kind.LOCAL
    assert created.time_zone == net.city.time_zone
    cell = geo.cell_for(*geo.zip_centroid("90042"))
    response = client.post(
        f"/network/{created.slug}/area/",
        {
            "zip_codes": "90042, 90065\n90041",
            "nearby_cells": [cell],
            "h3_cells": "",
            "time_zone": "America/Los_Angeles",
            "languages": ["en", "es"],
        },
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.zip_codes == ["90042", "90065", "90041"]
    assert created.h3_cells == [cell]
    assert created.languages == ["en", "es"]
    (entry,) = actions_named("committee.area_set")
    assert entry.actor_id == net.admin.pk and entry.committee_id == created.pk
    assert entry.data["zips_added"] == ["90041", "90042", "90065"]
    assert [e.object_id for e in actions_named("committee.created")] == [str(created.pk)]


def test_reports_in_the_new_area_reach_the_new_committee(net):
    from defensa.incidents.areas import committee_for

    created = actions.create_committee(
        net.city, actor=net.admin, name="Highland Park", kind="local"
    )
    assert committee_for(None, None, "90042") is None  # no committee holds it yet
    actions.set_committee_area(
        created, actor=net.admin, zip_codes=["90042"], h3_cells=[], time_zone="UTC", languages=[]
    )
    assert committee_for(None, None, "90042") == created
    actions.archive_committee(created, actor=net.admin)
    assert committee_for(None, None, "90042") != created  # archived: no longer routed


def test_coordinators_set_up_their_own_subtree_only(net, client_as):
    ana = client_as(net.ana)  # coordinator of Boyle Heights
    assert ana.get("/network/boyle-heights/").status_code == 200
    assert ana.get("/network/east-la/").status_code == 404
    assert ana.get("/network/la-city/").status_code == 404
    before = _snapshot()
    assert ana.post("/network/east-la/rename/", {"name": "Mine now"}).status_code == 404
    assert ana.post("/network/east-la/archive/").status_code == 404
    assert ana.post("/network/east-la/area/", {"zip_codes": "90033"}).status_code == 404
    assert ana.get("/network/east-la/policy/").status_code == 404
    assert _snapshot() == before
    # A dispatcher is not a coordinator: no setup pages at all.
    assert client_as(net.dani).get("/network/").status_code == 404
    assert client_as(net.dani).get("/network/boyle-heights/").status_code == 404


def test_rename_is_audited_and_keeps_the_slug(net, client_as):
    response = client_as(net.ana).post("/network/boyle-heights/rename/", {"name": "Boyle Hts"})
    assert response.status_code == 302
    net.boyle.refresh_from_db()
    assert (net.boyle.name, net.boyle.slug) == ("Boyle Hts", "boyle-heights")
    assert len(actions_named("committee.renamed")) == 1


def test_nesting_moves_a_committee_and_refuses_cycles(net, client_as):
    client = client_as(net.admin)
    other_city = actions.create_committee(
        net.network, actor=net.admin, name="Pasadena", kind="city"
    )
    response = client.post("/network/east-la/move/", {"parent": str(other_city.pk)})
    assert response.status_code == 302
    net.east.refresh_from_db()
    assert net.east.parent == other_city
    (entry,) = actions_named("committee.moved")
    assert entry.data == {"before": net.city.pk, "after": other_city.pk}
    # A city cannot go below one of its own locals, nor below itself, nor below a local.
    before = _snapshot()
    for parent in (net.boyle, net.city):
        response = client.post("/network/la-city/move/", {"parent": str(parent.pk)})
        assert response.status_code == 400
    with pytest.raises(actions.SetupRefused):
        actions.move_committee(net.city, actor=net.admin, parent=net.boyle)
    with pytest.raises(actions.SetupRefused):
        actions.move_committee(net.city, actor=net.admin, parent=net.city)
    with pytest.raises(actions.SetupRefused):
        actions.move_committee(net.network, actor=net.admin, parent=net.city)
    assert _snapshot() == before


def test_archiving_refused_with_open_incidents_then_allowed(net, client_as):
    client = client_as(net.admin)
    incident = _incident(net.east, State.NEW)
    before = _snapshot()
    response = client.post("/network/east-la/archive/")
    assert response.status_code == 400
    assert "1 open incident" in response.content.decode()
    assert _snapshot() == before and actions_named("committee.archived") == []
    # A city with active committees below is refused too.
    assert client.post("/network/la-city/archive/").status_code == 400
    assert client.post("/network/la/archive/").status_code == 400  # the top committee
    incident.state = State.CLOSED
    incident.save()
    assert client.post("/network/east-la/archive/").status_code == 302
    net.east.refresh_from_db()
    assert net.east.is_archived
    assert len(actions_named("committee.archived")) == 1
    assert client.post("/network/east-la/archive/").status_code == 400  # already archived


def test_spanish_error_for_open_incidents(net, client_as):
    _incident(net.east, State.VERIFYING)
    net.admin.language = "es"
    net.admin.save()
    client = client_as(net.admin)
    response = client.post("/network/east-la/archive/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "incidente abierto" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"zip_codes": "90022"}, "East LA"),  # held by East LA, a local committee too
        ({"zip_codes": "00000"}, "not US ZIP codes"),
        ({"zip_codes": "9003"}, "not US ZIP codes"),
        ({"h3_cells": "8629a1d8fffffff"}, "resolution 6"),  # too coarse
        ({"h3_cells": "hello"}, "Not an h3 cell"),
        ({"time_zone": "Mars/Olympus"}, "time zone"),
        ({"languages": ["xx"]}, "valid choice"),
    ],
)
def test_bad_area_is_refused_and_changes_nothing(net, client_as, data, error):
    form = {"zip_codes": "90033", "h3_cells": "", "time_zone": "America/Los_Angeles"}
    form["languages"] = ["es"]
    form.update(data)
    before = _snapshot()
    response = client_as(net.ana).post("/network/boyle-heights/area/", form)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert _snapshot() == before
    assert actions_named("committee.area_set") == []


def test_any_known_time_zone_is_kept_and_audited(net, client_as):
    data = {"zip_codes": "90033", "time_zone": "Etc/GMT+5", "languages": ["en"]}
    assert client_as(net.ana).post("/network/boyle-heights/area/", data).status_code == 302
    net.boyle.refresh_from_db()
    assert net.boyle.time_zone == "Etc/GMT+5"
    (entry,) = actions_named("committee.area_set")
    assert entry.data["changed"] == ["languages", "time_zone"]


def test_overlapping_cells_are_refused(net):
    cell = geo.cell_for(*geo.zip_centroid("90022"))
    actions.set_committee_area(
        net.east,
        actor=net.admin,
        zip_codes=["90022"],
        h3_cells=[cell],
        time_zone="UTC",
        languages=[],
    )
    with pytest.raises(actions.SetupRefused, match="East LA"):
        actions.set_committee_area(
            net.boyle,
            actor=net.admin,
            zip_codes=[],
            h3_cells=[cell],
            time_zone="UTC",
            languages=[],
        )


def test_areas_overview_shows_overlaps_and_unclaimed_zips(net, client_as):
    # Made by a script: two locals share 90033; the city's region has a ZIP no local holds.
    Committee.objects.filter(pk=net.east.pk).update(zip_codes=["90022", "90033"])
    Committee.objects.filter(pk=net.city.pk).update(zip_codes=["90022", "90033", "90012"])
    page = client_as(net.admin).get("/network/").content.decode()
    overlaps = page.split('id="overlaps"')[1].split('id="unclaimed"')[0]
    assert "90033" in overlaps and "Boyle Heights" in overlaps and "East LA" in overlaps
    assert "90022" not in overlaps
    unclaimed = page.split('id="unclaimed"')[1]
    assert "90012" in unclaimed and "90022" not in unclaimed


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=200),
    zips=st.text(max_size=300),
    cells=st.text(max_size=100),
    tz=st.text(max_size=80),
    kind=st.text(max_size=20),
    parent=st.text(max_size=20),
)
def test_no_input_makes_a_500(net, client_as, name, zips, cells, tz, kind, parent):
    client = client_as(net.admin)
    for path, data in (
        ("/network/la-city/new/", {"new-name": name, "new-kind": kind}),
        ("/network/east-la/rename/", {"name": name}),
        ("/network/east-la/move/", {"parent": parent}),
        ("/network/east-la/area/", {"zip_codes": zips, "h3_cells": cells, "time_zone": tz}),
    ):
        response = client.post(path, {k: v.replace("\x00", "") for k, v in data.items()})
        assert response.status_code in (302, 400), (path, data)


def test_a_city_coordinator_sets_up_the_locals_below_it(net, client_as):
    from defensa.core.testing import join, make_user

    rosa = make_user("rosa")
    join(rosa, net.city, is_coordinator=True)
    client = client_as(rosa)
    page = client.get("/network/").content.decode()
    assert "Boyle Heights" in page and "East LA" in page
    assert "Los Angeles Network" not in page  # above her: not hers to set up
    assert client.get("/network/la/").status_code == 404
    response = client.post("/network/la-city/new/", {"new-name": "Pico Union", "new-kind": "local"})
    assert response.status_code == 302
    assert Committee.objects.get(name="Pico Union").parent == net.city
    assert client.post("/network/east-la/rename/", {"name": "East Los Angeles"}).status_code == 302
    # The network is not among the parents she may move a committee below.
    assert client.post("/network/east-la/move/", {"parent": str(net.network.pk)}).status_code == 400
    net.east.refresh_from_db()
    assert net.east.parent == net.city


def test_archived_committees_leave_the_overview(net, client_as):
    archived = actions.create_committee(net.city, actor=net.admin, name="Old one", kind="local")
    Committee.objects.filter(pk=archived.pk).update(zip_codes=["90033"], archived_at=timezone.now())
    page = client_as(net.admin).get("/network/").content.decode()
    assert 'id="no-overlaps"' in page
    assert "Old one" in page and "archived" in page
