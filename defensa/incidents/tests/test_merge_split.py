"""Merging and splitting incidents by hand: actions, timelines, audit, pages."""

from __future__ import annotations

import itertools

import pytest

from defensa.audit.models import AuditEntry
from defensa.incidents import actions
from defensa.incidents.models import Incident, State, TimelineAction
from defensa.incidents.timeline import verify_timeline
from defensa.reports.actions import receive_report

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


def report(lat: float, lon: float, zip_code: str = "90033", category: str = "sighting"):  # type: ignore[no-untyped-def]
    return receive_report(
        {
            "category": category,
            "lat": lat,
            "lon": lon,
            "precision_m": 20,
            "zip_code": zip_code,
            "description": "seen",
        },
        channel="web",
        idempotency_key=f"merge-split-test-{next(_keys)}",
    ).report


@pytest.fixture
def two(net):  # type: ignore[no-untyped-def]
    """Two incidents in Boyle Heights, 1.4 km apart: grouping keeps them apart."""
    a1 = report(34.0400, -118.2100, category="workplace_raid")
    a2 = report(34.0401, -118.2101)
    b1 = report(34.0500, -118.2000)
    a, b = a1.incident, b1.incident
    assert a.pk == a2.incident_id != b.pk
    assert a.committee == b.committee == net.boyle
    return a, b, [a1, a2, b1]


def test_merge_moves_reports_closes_the_other_and_records_it_on_both(two, net):
    a, b, (a1, a2, b1) = two
    entry = actions.merge_incidents(a, b, actor=net.dani, note="same raid, other door")

    a.refresh_from_db()
    b.refresh_from_db()
    assert set(a.reports.values_list("pk", flat=True)) == {a1.pk, a2.pk, b1.pk}
    assert a.report_count == 3
    assert a.category == "workplace_raid"
    assert a.first_observed_at <= b1.observed_at <= a.last_observed_at
    assert (b.state, b.merged_into, b.report_count) == (State.CLOSED, a, 0)
    assert entry.action == TimelineAction.MERGED and entry.actor == net.dani
    assert entry.detail == {"merged": b.pk, "reports": [b1.pk]}
    assert b.timeline.last().detail["into"] == a.pk
    assert AuditEntry.objects.filter(action="incidents.merged", actor_id=net.dani.pk).count() == 1
    assert AuditEntry.objects.filter(action="incidents.merged_away").count() == 1
    assert verify_timeline(a) == [] and verify_timeline(b) == []


def test_merge_is_refused_for_itself_other_committees_and_closed_incidents(two, net):
    a, b, _ = two
    with pytest.raises(actions.CannotMerge):
        actions.merge_incidents(a, a, actor=net.dani)
    east = report(34.0200, -118.1600, zip_code="90022").incident
    assert east.committee == net.east
    with pytest.raises(actions.CannotMerge):
        actions.merge_incidents(a, east, actor=net.dani)
    actions.merge_incidents(a, b, actor=net.dani)
    with pytest.raises(actions.CannotMerge):
        actions.merge_incidents(a, b, actor=net.dani)  # b is merged already
    with pytest.raises(actions.CannotMerge):
        actions.merge_incidents(b, a, actor=net.dani)  # b is closed
    assert a.reports.count() == 3


def test_split_moves_the_chosen_reports_into_a_new_incident(two, net):
    a, _b, (a1, a2, _b1) = two
    new = actions.split_incident(a, [a2.pk], actor=net.dani, note="second report is another stop")

    a.refresh_from_db()
    assert list(new.reports.all()) == [a2]
    assert list(a.reports.all()) == [a1]
    assert (a.report_count, new.report_count) == (1, 1)
    assert new.committee == net.boyle and new.state == State.NEW
    assert new.reference != a.reference
    assert (new.lat, new.lon) == (a2.lat, a2.lon)
    assert a.timeline.last().detail == {"to": new.pk, "reports": [a2.pk]}
    assert new.timeline.get().detail == {"from": a.pk, "reports": [a2.pk]}
    assert AuditEntry.objects.filter(action="incidents.split").count() == 1
    assert verify_timeline(a) == [] and verify_timeline(new) == []


def test_split_needs_some_but_not_all_reports(two, net):
    a, b, (a1, a2, b1) = two
    for ids in ([], [a1.pk, a2.pk], [b1.pk]):
        with pytest.raises(actions.CannotSplit):
            actions.split_incident(a, ids, actor=net.dani)
    assert Incident.objects.count() == 2


def test_the_merge_page_merges_for_the_committees_dispatcher(client_as, two, net):
    a, b, _ = two
    client = client_as(net.dani)
    page = client.get(f"/incidents/{a.reference}/merge/").content.decode()
    assert f'value="{b.reference}"' in page
    response = client.post(f"/incidents/{a.reference}/merge/", {"other": b.reference})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into == a
    page = client.get(response["Location"]).content.decode()
    assert f"{b.reference} was merged into {a.reference}" in page


def test_the_split_page_splits_for_the_committees_dispatcher(client_as, two, net):
    a, _b, (_a1, a2, _b1) = two
    client = client_as(net.dani)
    page = client.get(f"/incidents/{a.reference}/split/").content.decode()
    assert a2.reference in page
    response = client.post(f"/incidents/{a.reference}/split/", {"reports": [str(a2.pk)]})
    assert response.status_code == 302
    a2.refresh_from_db()
    assert a2.incident_id != a.pk
    assert (
        f"now incident {a2.incident.reference}" in client.get(response["Location"]).content.decode()
    )


def test_an_empty_choice_is_a_form_error_not_a_change(client_as, two, net):
    a, _b, _ = two
    response = client_as(net.dani).post(f"/incidents/{a.reference}/split/", {"reports": []})
    assert response.status_code == 400
    assert a.reports.count() == 2


@pytest.mark.parametrize("who", ["ana", "vero", "pat", "omar"])
def test_only_the_committees_dispatchers_reach_the_pages(client_as, two, net, who):
    a, b, _ = two
    client = client_as(getattr(net, who))
    for path in (f"/incidents/{a.reference}/merge/", f"/incidents/{a.reference}/split/"):
        assert client.get(path).status_code == 404
    assert (
        client.post(f"/incidents/{a.reference}/merge/", {"other": b.reference}).status_code == 404
    )
    b.refresh_from_db()
    assert b.merged_into is None


def test_an_incident_of_another_committee_cannot_be_merged_in_through_the_page(client_as, two, net):
    a, _b, _ = two
    east = report(34.0200, -118.1600, zip_code="90022").incident
    response = client_as(net.dani).post(
        f"/incidents/{a.reference}/merge/", {"other": east.reference}
    )
    assert response.status_code == 400
    east.refresh_from_db()
    assert east.merged_into is None
