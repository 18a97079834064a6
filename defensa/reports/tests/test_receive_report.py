"""receive_report(): one atomic write, idempotent, grouped at once, sealed in the audit chain."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from defensa.audit.log import verify_chain
from defensa.audit.models import AuditEntry
from defensa.core.tokens import SHORT_CODE_ALPHABET as ALPHABET
from defensa.incidents.models import Incident, State, TimelineEntry
from defensa.incidents.timeline import verify_timeline
from defensa.reports.actions import InvalidReport, receive_report
from defensa.reports.models import Report

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)


def data(**over):  # type: ignore[no-untyped-def]
    base = {
        "category": "workplace_raid",
        "lat": 34.0430,
        "lon": -118.2100,
        "precision_m": 20,
        "location_kind": "gps",
        "observed_at": T0,
        "agents": 6,
        "vehicles": 2,
        "agency": "ICE",
        "description": "Agents at the loading dock",
        "language": "es",
    }
    base.update(over)
    return base


def send(channel: str = "web", key: str | None = None, **over) -> Report:  # type: ignore[no-untyped-def]
    return receive_report(
        data(**over), channel=channel, idempotency_key=key or uuid.uuid4().hex
    ).report


def counts() -> tuple[int, int, int, int]:
    return (
        Report.objects.count(),
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        AuditEntry.objects.count(),
    )


def test_first_report_opens_an_incident_with_timeline_and_audit() -> None:
    report = send()
    assert counts() == (1, 1, 1, 1)
    assert len(report.reference) == 6 and set(report.reference) <= set(ALPHABET)
    incident = report.incident
    assert incident.state == State.NEW and incident.report_count == 1
    assert incident.category == "workplace_raid"
    assert incident.cell and incident.lat == pytest.approx(34.0430)
    entry = incident.timeline.get()
    assert entry.action == "opened" and entry.detail == {"report": report.pk}
    audit = AuditEntry.objects.get()
    assert audit.action == "reports.received"
    assert audit.object_type == "reports.report" and audit.object_id == str(report.pk)
    # Ids and words only: nothing the reporter wrote reaches the audit chain.
    assert "loading dock" not in str(audit.data) and "ICE" not in str(audit.data)
    assert verify_chain()[1] is None
    assert verify_timeline(incident) == []


def test_a_retry_with_the_same_key_returns_the_same_report_and_writes_nothing() -> None:
    first = send(key="retry-key-123")
    before = counts()
    again = send(key="retry-key-123", description="changed on retry")
    assert again.pk == first.pk
    assert counts() == before
    # The raw key is not stored, only its digest.
    assert not Report.objects.filter(idempotency_key="retry-key-123").exists()


def test_the_result_says_whether_this_call_stored_the_report() -> None:
    first = receive_report(data(), channel="web", idempotency_key="created-key-1")
    assert (first.created, first.photos, first.videos) == (True, 0, 0)
    again = receive_report(data(), channel="web", idempotency_key="created-key-1")
    assert again.report.pk == first.report.pk
    assert (again.created, again.photos, again.videos) == (False, 0, 0)


def test_a_second_report_of_the_same_raid_joins_the_incident() -> None:
    first = send()
    second = send("sms", lat=34.0433, lon=-118.2103, observed_at=T0 + dt.timedelta(minutes=7))
    assert second.incident_id == first.incident_id
    incident = Incident.objects.get()
    assert incident.report_count == 2
    assert incident.last_observed_at == T0 + dt.timedelta(minutes=7)
    assert list(incident.timeline.values_list("action", flat=True)) == ["opened", "report_added"]
    assert verify_timeline(incident) == []


def test_simultaneous_raids_a_few_hundred_metres_apart_stay_separate() -> None:
    a = send()
    b = send(lat=34.0430 + 400 / 111_320)
    assert a.incident_id != b.incident_id


def test_the_same_place_raided_again_hours_later_is_a_new_incident() -> None:
    a = send()
    b = send(observed_at=T0 + dt.timedelta(hours=5))
    assert a.incident_id != b.incident_id


def test_a_report_never_joins_a_false_alarm() -> None:
    a = send()
    Incident.objects.filter(pk=a.incident_id).update(state=State.FALSE_ALARM)
    b = send(observed_at=T0 + dt.timedelta(minutes=5))
    assert a.incident_id != b.incident_id


def test_zip_only_report_is_placed_at_the_zip_centre_and_joins_nearby_raid() -> None:
    a = send(lat=34.0487, lon=-118.2084)  # at the 90033 centre
    b = send("operator", lat=None, lon=None, precision_m=None, location_kind="", zip_code="90033")
    assert b.location_kind == "zip" and b.precision_m == 2500
    assert b.lat == pytest.approx(34.0487)
    assert b.incident_id == a.incident_id
    # The GPS fix dominates the centroid; the ZIP barely moves it.
    assert Incident.objects.get().radius_m == 20


def test_report_without_any_location_opens_its_own_incident() -> None:
    a = send(lat=None, lon=None, precision_m=None, location_kind="", location_text="somewhere")
    b = send(lat=None, lon=None, precision_m=None, location_kind="")
    assert a.location_kind == "none" and a.incident.lat is None
    assert a.incident_id != b.incident_id


def test_the_committee_is_found_by_zip_and_by_h3_cell(net) -> None:  # type: ignore[no-untyped-def]
    boyle = send(lat=34.0487, lon=-118.2084)
    assert boyle.incident.committee == net.boyle
    east = send(lat=None, lon=None, location_kind="", zip_code="90022")
    assert east.incident.committee == net.east
    import h3

    net.city.h3_cells = [h3.latlng_to_cell(34.0079, -118.2582, 7)]
    net.city.save()
    south = send(lat=34.0079, lon=-118.2582, observed_at=T0)
    assert south.incident.committee == net.city
    far = send(lat=37.77, lon=-122.42)
    # Outside every committee's area: the network's top committee sees it (no orphan).
    assert far.incident.committee == net.network


@pytest.mark.parametrize(
    "bad",
    [
        {"category": "riot"},
        {"category": None},
        {"lat": 91.0},
        {"lat": 34.0, "lon": None},
        {"lat": "north"},
        {"lat": float("nan")},
        {"precision_m": -5},
        {"zip_code": "9003"},
        {"observed_at": dt.datetime(2026, 6, 10, 8, 0)},  # noqa: DTZ001 (naive on purpose)
        {"observed_at": "yesterday"},
        {"agents": -1},
        {"agents": 2.5},
        {"vehicles": True},
        {"description": "x" * 2001},
        {"agency": 42},
        {"language": "fr"},
        {"location_kind": "telepathy"},
    ],
)
def test_bad_data_is_refused_and_writes_nothing(bad: dict) -> None:
    with pytest.raises(InvalidReport):
        send(**bad)
    assert counts() == (0, 0, 0, 0)


def test_bad_channel_or_key_is_refused() -> None:
    with pytest.raises(InvalidReport):
        send("carrier-pigeon")
    with pytest.raises(InvalidReport):
        send(key="short")
    assert counts() == (0, 0, 0, 0)


def test_a_failure_inside_the_write_leaves_no_partial_rows(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import defensa.audit.timeline as timeline

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(timeline, "record", broken)
    with pytest.raises(RuntimeError):
        send()
    assert counts() == (0, 0, 0, 0)


def test_a_reference_code_already_taken_runs_the_write_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import defensa.reports.actions as actions

    first = send()
    other = send(lat=34.0430 + 400 / 111_320)  # a second incident
    before = counts()
    # Codes are drawn at random and checked only by the unique constraints: force the rare
    # collision, once on a report code and once on an incident code.
    codes = iter([first.reference, "ZZZZZ2", other.incident.reference, "ZZZZZ3", "ZZZZZ4"])
    monkeypatch.setattr(actions, "new_code", lambda: next(codes))
    joined = send(observed_at=T0 + dt.timedelta(minutes=3))
    assert joined.reference == "ZZZZZ2" and joined.incident_id == first.incident_id
    opened = send(lat=34.0430 + 900 / 111_320)
    assert opened.incident.reference == "ZZZZZ3" and opened.reference == "ZZZZZ4"
    assert counts() == (before[0] + 2, before[1] + 1, before[2] + 2, before[3] + 2)
    assert Incident.objects.get(pk=first.incident_id).report_count == 2
    assert verify_chain()[1] is None
    assert verify_timeline(Incident.objects.get(pk=first.incident_id)) == []


def test_a_write_that_keeps_failing_on_a_constraint_is_not_retried_forever(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import defensa.reports.actions as actions

    first = send()
    before = counts()
    monkeypatch.setattr(actions, "new_code", lambda: first.reference)
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        send(observed_at=T0 + dt.timedelta(minutes=3))
    assert counts() == before


def test_grouping_is_deterministic_for_the_same_input_in_the_same_order() -> None:
    points = [
        (34.0430, -118.2100, 20, 0, "workplace_raid"),
        (34.0434, -118.2098, 40, 3, "workplace_raid"),
        (34.0466, -118.2100, 20, 4, "vehicle_stop"),
        (34.0487, -118.2084, 2500, 6, "sighting"),
        (34.0430, -118.2100, 20, 300, "workplace_raid"),
        (34.0469, -118.2101, 30, 9, "vehicle_stop"),
    ]

    def run() -> list[int]:
        labels: dict[int, int] = {}
        out = []
        for lat, lon, acc, minutes, cat in points:
            r = send(
                lat=lat,
                lon=lon,
                precision_m=acc,
                category=cat,
                observed_at=T0 + dt.timedelta(minutes=minutes),
            )
            out.append(labels.setdefault(r.incident_id, len(labels)))
        return out

    first = run()
    Report.objects.all().delete()
    Incident.objects.all().delete()
    second = run()
    # The ZIP-only sighting goes to the nearer of the two raids in its ZIP.
    assert first == second == [0, 0, 1, 1, 2, 1]


def test_an_exact_tie_is_broken_by_the_incidents_values_not_ids() -> None:
    from defensa.incidents import grouping

    def make(ref: str, minutes: int) -> Incident:
        at = T0 + dt.timedelta(minutes=minutes)
        return Incident.objects.create(
            reference=ref,
            category="workplace_raid",
            lat=34.0487,
            lon=-118.2084,
            radius_m=2500,
            weight=1 / 2500**2,
            cell=grouping.grid_cell(34.0487, -118.2084, 2500),
            first_observed_at=at,
            last_observed_at=at,
            report_count=1,
        )

    later = make("LATER2", 10)  # created first, so the smaller id
    earlier = make("EARLY2", 5)
    s = grouping.Sighting(34.0487, -118.2084, 2500, T0 + dt.timedelta(minutes=12), "sighting")
    assert grouping.find_incident(s) == earlier.pk != later.pk


def test_what_can_be_read_before_the_write_lock_is_read_before_it() -> None:
    """The write transaction is held by one report at a time (SQLite's write lock, or the
    intake lock on PostgreSQL), so the idempotency lookup and the copied-words lookups come
    before it; the grouping, the incident, the report, its timeline entry and its audit
    record are written together inside it (docs/performance.md, "Intake")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send(description="Agents at the loading dock on Soto")
    with CaptureQueriesContext(connection) as queries:
        report = send(lat=34.0431, description="Agents at the loading dock on Soto")
    sql = [q["sql"] for q in queries]
    # The write's start: BEGIN, or a savepoint inside the test's own transaction.
    begin = next(i for i, s in enumerate(sql) if s.startswith(("BEGIN", "SAVEPOINT")))
    words = [i for i, s in enumerate(sql) if '"text_digest" =' in s]
    assert words and max(words) < begin, sql
    assert any("idempotency_key" in s for s in sql[:begin])
    inside = " ".join(sql[begin:])
    for table in ("incidents_incident", "reports_report", "incidents_timelineentry"):
        assert table in inside
    assert "audit_auditentry" in inside
    # And the copy was seen: both reports carry words sent twice, the first marked now.
    assert report.recycled and Report.objects.filter(recycled=True).count() == 2


def test_the_committee_is_read_before_the_write_and_only_confirmed_inside(net) -> None:  # type: ignore[no-untyped-def]
    """Whose queue a new incident goes to (every committee's area) is read before the write
    lock; inside it one lookup confirms the committee is still there and not archived."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        report = send(lat=34.0487, lon=-118.2084)
    assert report.incident.committee == net.boyle
    sql = [q["sql"] for q in queries]
    begin = next(i for i, s in enumerate(sql) if s.startswith(("BEGIN", "SAVEPOINT")))
    areas = [i for i, s in enumerate(sql) if '"committees_committee"."zip_codes"' in s]
    assert areas and max(areas) < begin, sql
    inside = [s for s in sql[begin:] if "committees_committee" in s]
    assert len(inside) == 1 and "archived_at IS NULL" in inside[0], inside


def test_a_report_that_joins_an_incident_reads_no_committee(net) -> None:  # type: ignore[no-untyped-def]
    """Most reports of a surge join an incident: whose queue a new incident would go to is
    read only for a report that looks like it will open one (docs/performance.md)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = send(lat=34.0487, lon=-118.2084)
    with CaptureQueriesContext(connection) as queries:
        second = send(lat=34.0488, lon=-118.2085)
    assert second.incident == first.incident
    assert first.incident.committee == net.boyle
    sql = [q["sql"] for q in queries]
    assert not [s for s in sql if "committees_committee" in s], sql


def test_a_report_whose_incident_closes_before_the_write_opens_one_in_the_right_queue(net) -> None:  # type: ignore[no-untyped-def]
    """Looked at before the write, the report would join an incident; a dispatcher closes it
    in that instant (here: at the write's first statement, as another connection would). The
    report opens a new incident, and its committee is read inside the write."""
    from django.db import connection

    first = send(lat=34.0487, lon=-118.2084)
    closed = []

    def close_first_at_the_write(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not closed and sql.startswith(("BEGIN", "SAVEPOINT")):
            closed.append(True)
            Incident.objects.filter(pk=first.incident_id).update(state=State.CLOSED)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(close_first_at_the_write):
        second = send(lat=34.0488, lon=-118.2085)
    assert closed
    assert second.incident != first.incident
    assert second.incident.committee == net.boyle
    assert not second.incident.outside_area


def test_a_committee_archived_between_the_read_and_the_write_gets_no_new_incident(net) -> None:  # type: ignore[no-untyped-def]
    """The committee read before the write is confirmed inside it: archived in between, the
    new incident goes where the place's queue is now (never to a queue nobody watches)."""
    from django.utils import timezone

    from defensa.reports.actions import _confirmed, _home_for, clean_report_data

    clean = clean_report_data(data(lat=34.0487, lon=-118.2084))
    home = _home_for(clean, None)
    assert home == (net.boyle, net.boyle)
    assert _confirmed(home, clean, None) == home
    net.boyle.archived_at = timezone.now()
    net.boyle.save(update_fields=["archived_at"])
    area, chosen = _confirmed(home, clean, None)
    assert chosen is not None and chosen != net.boyle
    assert (area, chosen) == _home_for(clean, None)
    # And through the whole intake, a report of the same place goes there too.
    assert send(lat=34.0487, lon=-118.2084).incident.committee == chosen
