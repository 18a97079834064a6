"""Evidence kept as long as it is promised (issue "Hardening" 14).

A reporter's photo or video is "evidence for court: as long as the incident": it outlives its
report's 180 days and goes with the incident. The legal team can put an incident or a case on
legal hold (audited), which stops every purge of it and its evidence until two different
members of the legal team release it. The clock is an argument of purge(); nothing patched.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.db import transaction
from PIL import Image

from defensa.audit.models import AuditEntry
from defensa.cases import holds
from defensa.cases.models import Case, LegalHold, Status
from defensa.cases.tests.helpers import canary_case
from defensa.committees.models import Membership
from defensa.core import crypto
from defensa.core.retention import purge
from defensa.core.testing import sign_in
from defensa.core.tests.canary import CANARY_PHONE
from defensa.evidence.models import Media
from defensa.evidence.photos import clean_photo
from defensa.incidents.models import Incident, TimelineEntry
from defensa.record.listing import evidence_for
from defensa.reports.actions import receive_report
from defensa.reports.models import Photo, Report

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def a_report_with_a_photo_and_a_video(settings):  # type: ignore[no-untyped-def]
    raw = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(raw, "JPEG")
    raw.seek(0)
    photo = clean_photo(raw, too_big="big", not_image="no")
    report = receive_report(
        {"category": "workplace_raid", "zip_code": "90033", "contact": CANARY_PHONE},
        channel="web",
        idempotency_key="hold-report-1",
        photos=[photo],
    ).report
    video = Path(settings.MEDIA_ROOT) / "video" / "v.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"not really a video")
    Media.objects.create(
        report=report,
        kind="video",
        file="video/v.mp4",
        content_type="video/mp4",
        original_sha256="a" * 64,
        sha256="b" * 64,
        size=18,
    )
    return report


def files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_reporters_photo_and_video_outlive_the_report_and_go_with_the_incident(
    net, settings, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    report = a_report_with_a_photo_and_a_video(settings)
    incident, t0 = report.incident, report.created_at
    assert len(files(settings)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 181 * DAY)
    # The report (its words, its contact) is gone; the evidence is not.
    assert not Report.objects.filter(pk=report.pk).exists()
    photo, video = Photo.objects.get(), Media.objects.get()
    assert (photo.report, photo.incident) == (None, incident)
    assert (video.report, video.incident) == (None, incident)
    assert len(files(settings)) == 2
    assert [item.kind for item in evidence_for(incident, check=False)] == ["photo", "video"]
    # With the incident, it goes: rows and files.
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 731 * DAY)
    assert not Incident.objects.exists()
    assert not Photo.objects.exists() and not Media.objects.exists()
    assert files(settings) == []


def test_a_legal_hold_stops_every_purge_until_two_people_release_it(
    net, settings, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    Membership.objects.filter(user=net.mo, committee=net.boyle).update(is_legal=True)
    report = a_report_with_a_photo_and_a_video(settings)
    incident, t0 = report.incident, report.created_at
    hold = holds.place_hold(
        net.boyle, incident=incident, reason="Subpoena, Doe v. ICE", actor=net.lucia
    )
    incident.refresh_from_db()
    assert incident.legal_hold

    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 900 * DAY)
    # Everything of it stays: the incident, its report, timeline, photo, video and files...
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert Report.objects.filter(pk=report.pk).exists()
    assert TimelineEntry.objects.filter(incident=incident).exists()
    assert Photo.objects.count() == 1 and Media.objects.count() == 1
    assert len(files(settings)) == 2
    # ...except the reporter's contact: a hold keeps evidence, never a reporter's identity.
    report.refresh_from_db()
    assert report.contact is None and report.data_key is None

    # One person cannot release it alone.
    holds.request_release(hold, actor=net.lucia)
    with pytest.raises(holds.HoldRefused):
        holds.approve_release(hold, actor=net.lucia)
    purge(now=t0 + 900 * DAY)
    assert Incident.objects.filter(pk=incident.pk).exists()
    # A second member of the legal team approves; the next pass applies the lifetimes again.
    holds.approve_release(hold, actor=net.mo)
    incident.refresh_from_db()
    assert not incident.legal_hold
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 900 * DAY)  # the report (it kept the incident referenced this pass)
        purge(now=t0 + 900 * DAY + dt.timedelta(hours=1))  # the next hourly pass
    assert not Incident.objects.filter(pk=incident.pk).exists()
    assert not Photo.objects.exists() and files(settings) == []
    actions = list(
        AuditEntry.objects.filter(action__startswith="cases.hold").values_list("action", flat=True)
    )
    assert actions == [
        "cases.hold_placed",
        "cases.hold_release_requested",
        "cases.hold_released",
    ]


def test_a_held_case_outlives_its_three_years(net):  # type: ignore[no-untyped-def]
    case = canary_case(net)
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)
    holds.place_hold(net.boyle, case=case, reason="Appeal pending", actor=net.lucia)
    purge(now=case.updated_at + 4 * 365 * DAY)
    case.refresh_from_db()
    assert case.legal_hold
    assert crypto.unseal(case, "person_name") == "Canary Person"


def test_only_the_legal_team_holds_and_releases_and_never_alone(client, net, settings):  # type: ignore[no-untyped-def]
    report = a_report_with_a_photo_and_a_video(settings)
    reference = report.incident.reference
    # A coordinator, a dispatcher or a member cannot see the page or place a hold.
    for person in (net.ana, net.dani, net.vero):
        sign_in(client, person)
        assert client.get("/cases/holds/").status_code == 404
        post = {"kind": "incident", "reference": reference, "reason": "x"}
        assert client.post("/cases/holds/", post).status_code == 404
    assert not LegalHold.objects.exists()
    # Lucia (legal) places it from the page.
    sign_in(client, net.lucia)
    page = client.get("/cases/holds/")
    assert page.status_code == 200
    client.post(
        "/cases/holds/", {"kind": "incident", "reference": reference.lower(), "reason": "Court"}
    )
    hold = LegalHold.objects.get()
    assert hold.incident == report.incident and hold.placed_by == net.lucia
    # Another committee's legal team does not see it (404, like a hold that does not exist).
    Membership.objects.filter(user=net.omar).update(is_legal=True)
    sign_in(client, net.omar)
    assert client.post(f"/cases/holds/{hold.pk}/release/").status_code == 404
    # Lucia asks to release it, and cannot approve her own request.
    sign_in(client, net.lucia)
    client.post(f"/cases/holds/{hold.pk}/release/")
    assert "Approve the release" not in client.get("/cases/holds/").content.decode()
    client.post(f"/cases/holds/{hold.pk}/approve/")
    hold.refresh_from_db()
    assert hold.released_at is None and hold.release_requested_by == net.lucia
    # A second member of the legal team approves it.
    Membership.objects.filter(user=net.mo, committee=net.boyle).update(is_legal=True)
    sign_in(client, net.mo)
    assert "Approve the release" in client.get("/cases/holds/").content.decode()
    client.post(f"/cases/holds/{hold.pk}/approve/")
    hold.refresh_from_db()
    assert hold.released_by == net.mo
    assert not Incident.objects.get(pk=hold.incident_id).legal_hold


def test_a_hold_needs_a_reason_and_cannot_be_placed_twice(net, settings):  # type: ignore[no-untyped-def]
    incident = a_report_with_a_photo_and_a_video(settings).incident
    with pytest.raises(holds.HoldRefused):
        holds.place_hold(net.boyle, incident=incident, reason="  ", actor=net.lucia)
    holds.place_hold(net.boyle, incident=incident, reason="Court", actor=net.lucia)
    with pytest.raises(holds.HoldRefused), transaction.atomic():
        holds.place_hold(net.boyle, incident=incident, reason="Again", actor=net.lucia)
    assert LegalHold.objects.count() == 1
