"""The incident archive: who may read it, its filters, pages, and the audited CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from defensa.audit.models import AuditEntry
from defensa.core.testing import join, make_user
from defensa.dispatch.tests.helpers import report_incident
from defensa.incidents import actions as incident_actions
from defensa.incidents.models import Incident
from defensa.record import archive

pytestmark = pytest.mark.django_db

EAST = (34.0239, -118.1720)  # East LA, near the 90022 ZIP centre


def url(net, suffix: str = "archive/") -> str:  # type: ignore[no-untyped-def]
    return f"/committees/{net.boyle.slug}/{suffix}"


def csv_of(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def incidents(net):  # type: ignore[no-untyped-def]
    """Three Boyle Heights incidents (open, false alarm, merged) and one in East LA."""
    open_one = report_incident(category="workplace_raid")
    alarm = report_incident(category="checkpoint", lat=34.0600, lon=-118.2000, text="Cesar Chavez")
    incident_actions.mark_false_alarm(alarm, actor=net.dani, note="a film crew")
    merged = report_incident(category="workplace_raid", lat=34.0400, lon=-118.2150)
    keep = Incident.objects.get(pk=open_one.pk)
    incident_actions.merge_incidents(keep, merged, actor=net.dani, note="same raid")
    east = report_incident(category="vehicle_stop", lat=EAST[0], lon=EAST[1], zip_code="90022")
    for found in (open_one, alarm, merged, east):
        found.refresh_from_db()
    assert {open_one.committee, alarm.committee, merged.committee} == {net.boyle}
    assert east.committee == net.east
    return {"open": open_one, "alarm": alarm, "merged": merged, "east": east}


def test_who_may_read_the_archive(client_as, net, incidents):
    for person in (net.dani, net.ana, net.lucia):
        assert client_as(person).get(url(net)).status_code == 200, person.display_name
        assert client_as(person).get(url(net, "archive.csv")).status_code == 200
    for person in (net.vero, net.mo, net.pat, net.omar, net.admin):
        assert client_as(person).get(url(net)).status_code == 404, person.display_name
        assert client_as(person).get(url(net, "archive.csv")).status_code == 404
    # A Boyle Heights dispatcher cannot read East LA's archive, nor the city's above it.
    assert client_as(net.dani).get(f"/committees/{net.east.slug}/archive/").status_code == 404
    assert client_as(net.dani).get(f"/committees/{net.city.slug}/archive/").status_code == 404


def test_the_archive_lists_every_state_and_hides_reporters(client_as, net, incidents):
    html = client_as(net.dani).get(url(net)).content.decode()
    for key in ("open", "alarm", "merged"):
        assert incidents[key].reference in html
    assert incidents["east"].reference not in html
    assert "False alarm" in html and "Merged" in html
    assert "agents at the door" not in html and "Soto and 1st" not in html


def test_a_city_dispatcher_sees_the_committees_below_and_can_narrow(client_as, net, incidents):
    carla = make_user("carla")
    join(carla, net.city, is_dispatcher=True)
    client = client_as(carla)
    base = f"/committees/{net.city.slug}/archive/"
    html = client.get(base).content.decode()
    assert all(i.reference in html for i in incidents.values())
    html = client.get(base, {"committee": net.east.pk}).content.decode()
    assert incidents["east"].reference in html and incidents["open"].reference not in html
    # A committee outside the subtree is not a choice: a clear error, not a leak.
    response = client.get(base, {"committee": net.network.pk})
    assert response.status_code == 400
    assert incidents["east"].reference not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "false_alarm"}, {"alarm"}),
        ({"state": "merged"}, {"merged"}),
        ({"state": "new"}, {"open"}),
        ({"category": "checkpoint"}, {"alarm"}),
        # The merged incident's reports moved into the one it was merged into.
        ({"zip_code": "90033"}, {"open", "alarm"}),
        ({"zip_code": "90022"}, set()),
        ({"q": "REF"}, set()),
    ],
)
def test_filters(client_as, net, incidents, params, expected):
    html = client_as(net.dani).get(url(net), params).content.decode()
    shown = {k for k, i in incidents.items() if i.reference in html}
    assert shown == expected


def test_search_by_incident_or_report_reference(client_as, net, incidents):
    client = client_as(net.dani)
    alarm = incidents["alarm"]
    html = client.get(url(net), {"q": alarm.reference.lower()}).content.decode()
    assert {k for k, i in incidents.items() if i.reference in html} == {"alarm"}
    report = incidents["open"].reports.first()
    html = client.get(url(net), {"q": report.reference}).content.decode()
    assert incidents["open"].reference in html and alarm.reference not in html


def test_date_filters_use_the_committees_days(client_as, net, incidents):
    client = client_as(net.dani)
    today = dt.datetime.now(net.boyle.tz).date()
    html = client.get(url(net), {"since": today.isoformat()}).content.decode()
    assert incidents["open"].reference in html
    tomorrow = today + dt.timedelta(days=1)
    html = client.get(url(net), {"since": tomorrow.isoformat()}).content.decode()
    assert incidents["open"].reference not in html
    yesterday = today - dt.timedelta(days=1)
    html = client.get(url(net), {"until": yesterday.isoformat()}).content.decode()
    assert incidents["open"].reference not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"zip_code": "9003"}, "A ZIP code is five digits."),
        ({"since": "2026-12-05", "until": "2026-12-01"}, "The start date is after the end date."),
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"q": "<script>alert"}, "Ensure this value has at most 8 characters"),
        ({"q": "AB-12"}, "A reference has letters and digits only."),
        ({"state": "deleted"}, "Select a valid choice."),
        ({"committee": "abc"}, "Select a valid choice."),
    ],
)
def test_bad_filters_get_a_clear_error(client_as, net, incidents, params, message):
    for suffix in ("archive/", "archive.csv"):
        response = client_as(net.dani).get(url(net, suffix), params)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not AuditEntry.objects.filter(action="record.archive_exported").exists()


def test_bad_filters_are_translated(client_as, net, incidents):
    client = client_as(net.dani)
    client.cookies["django_language"] = "es"
    response = client.get(url(net), {"zip_code": "1"})
    assert "Un código postal tiene cinco dígitos." in response.content.decode()


def test_pages_of_fifty(client_as, net, incidents, monkeypatch):
    base = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    Incident.objects.bulk_create(
        Incident(
            reference=f"P{n:05d}",
            category="sighting",
            first_observed_at=base + dt.timedelta(minutes=n),
            last_observed_at=base + dt.timedelta(minutes=n),
            report_count=1,
            committee=net.boyle,
        )
        for n in range(60)
    )
    client = client_as(net.dani)
    first = client.get(url(net)).content.decode()
    assert first.count('href="/incidents/') == archive.PAGE_SIZE
    assert "63 incidents found." in first
    assert "page=2" in first
    second = client.get(url(net), {"page": "2"}).content.decode()
    assert second.count('href="/incidents/') == 13
    assert "P00000" in second and "P00000" not in first
    # A page past the end, or not a number, is the last or the first page, never an error.
    assert client.get(url(net), {"page": "99"}).status_code == 200
    assert client.get(url(net), {"page": "x"}).status_code == 200


def test_csv_holds_the_filtered_rows_and_no_reporter_text(client_as, net, incidents):
    client = client_as(net.dani)
    response = client.get(url(net, "archive.csv"), {"state": "false_alarm", "zip_code": "90033"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_of(response)
    alarm = incidents["alarm"]
    assert rows == [
        {
            "reference": alarm.reference,
            "category": "checkpoint",
            "state": "false_alarm",
            "first_observed": alarm.first_observed_at.astimezone(dt.UTC).isoformat(),
            "last_observed": alarm.last_observed_at.astimezone(dt.UTC).isoformat(),
            "reports": "1",
            "committee": net.boyle.slug,
            "zip_area": "90033",
        }
    ]
    everything = b"".join(client.get(url(net, "archive.csv")).streaming_content).decode()
    assert "agents at the door" not in everything and "Cesar Chavez" not in everything
    assert "merged" in everything


def test_each_export_is_audited_with_its_filter(client_as, net, incidents):
    client = client_as(net.lucia)
    b"".join(
        client.get(
            url(net, "archive.csv"), {"category": "checkpoint", "since": "2026-11-01"}
        ).streaming_content
    )
    entry = AuditEntry.objects.get(action="record.archive_exported")
    assert entry.actor_id == net.lucia.pk
    assert entry.committee_id == net.boyle.pk
    assert entry.object_type == "committees.committee" and entry.object_id == str(net.boyle.pk)
    assert entry.data == {
        "q": None,
        "since": "2026-11-01",
        "until": None,
        "filter_committee": None,
        "category": "checkpoint",
        "state": None,
        "zip_code": None,
    }
    # Looking at the archive page is not an export.
    client.get(url(net))
    assert AuditEntry.objects.filter(action="record.archive_exported").count() == 1


def test_the_console_and_my_page_link_the_archive(client_as, net):
    target = f'href="/committees/{net.boyle.slug}/archive/"'
    assert target in client_as(net.dani).get(f"/dispatch/{net.boyle.slug}/").content.decode()
    for person in (net.dani, net.ana, net.lucia):
        assert target in client_as(person).get("/accounts/").content.decode()
    assert target not in client_as(net.vero).get("/accounts/").content.decode()


def test_queries_do_not_grow_with_the_rows(client_as, net, incidents):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as(net.dani)
    with CaptureQueriesContext(connection) as few:
        client.get(url(net))
    base = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    Incident.objects.bulk_create(
        Incident(
            reference=f"Q{n:05d}",
            category="sighting",
            first_observed_at=base,
            last_observed_at=base,
            report_count=0,
            committee=net.east if n % 2 else net.boyle,
        )
        for n in range(40)
    )
    with CaptureQueriesContext(connection) as many:
        html = client.get(url(net)).content.decode()
    assert "Q00000" in html
    assert len(many.captured_queries) == len(few.captured_queries)


def test_times_are_shown_in_the_committees_zone(client_as, net, incidents):
    # Not the server's zone (America/Los_Angeles by default), so the test tells them apart.
    net.boyle.time_zone = "America/New_York"
    net.boyle.save(update_fields=["time_zone"])
    alarm = incidents["alarm"]
    Incident.objects.filter(pk=alarm.pk).update(
        first_observed_at=dt.datetime(2026, 7, 4, 3, 0, tzinfo=dt.UTC),
        last_observed_at=dt.datetime(2026, 7, 4, 3, 0, tzinfo=dt.UTC),
    )
    html = client_as(net.dani).get(url(net), {"q": alarm.reference}).content.decode()
    assert "Times in America/New_York." in html
    assert "07/03/2026 11 p.m." in html  # 03:00 UTC is 11 p.m. the day before in New York
