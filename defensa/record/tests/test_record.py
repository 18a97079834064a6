"""The printable incident record and the public page of verified incidents."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.dispatch import actions
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.evidence.models import Media
from defensa.incidents import actions as incident_actions
from defensa.incidents.models import State
from defensa.record.actions import set_public_page
from defensa.reports.tests.test_form import gps_jpeg

pytestmark = pytest.mark.django_db


def url(offer) -> str:  # type: ignore[no-untyped-def]
    return f"/r/{actions.offer_token(offer)}/"


# The printable record ------------------------------------------------------------------------


def confirmed_with_evidence(net, client):  # type: ignore[no-untyped-def]
    client.post(
        "/report/new/",
        {
            "token": "t" * 30,
            "category": "workplace_raid",
            "zip_code": "90033",
            "location_text": "Soto and 1st, the bakery",
            "photos": [SimpleUploadedFile("a.jpg", gps_jpeg(), "image/jpeg")],
        },
    )
    from defensa.incidents.models import Incident

    incident = Incident.objects.get()
    verifier("alma", net.boyle)
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    Client().post(
        url(offer),
        {"step": "confirmed", "photos": [SimpleUploadedFile("b.jpg", gps_jpeg(), "image/jpeg")]},
    )
    incident.refresh_from_db()
    return incident


def test_the_printable_record_for_dispatchers_coordinators_and_legal_only(net, client_as):  # type: ignore[no-untyped-def]
    incident = confirmed_with_evidence(net, Client())
    address = f"/incidents/{incident.reference}/record/"
    for person in (net.dani, net.ana, net.lucia):
        response = client_as(person).get(address)
        assert response.status_code == 200, person
    html = response.content.decode()
    assert "Intact." in html and "America/Los_Angeles" in html
    assert "Soto and 1st, the bakery" in html and "Alma" in html
    assert 'media="print"' in html or "record/record.css" in html
    from defensa.reports.models import Photo

    photo, media = Photo.objects.get(), Media.objects.get()
    for digest in (photo.original_sha256, photo.sha256, media.original_sha256, media.sha256):
        assert digest in html
    # Times in the committee's zone: the confirmation's local time is on the page.
    confirmed = incident.timeline.get(detail__to="confirmed")
    assert confirmed.at.astimezone(net.boyle.tz).strftime("%Y-%m-%d %H:%M:%S") in html
    # The files themselves, for the same people.
    file = client_as(net.lucia).get(f"/incidents/{incident.reference}/evidence/m{media.pk}/")
    assert file.status_code == 200 and file["Content-Type"] == "image/jpeg"
    assert hashlib.sha256(b"".join(file.streaming_content)).hexdigest() == media.sha256
    for outsider in (net.vero, net.mo, net.pat, net.omar):
        assert client_as(outsider).get(address).status_code == 404
        assert (
            client_as(outsider)
            .get(f"/incidents/{incident.reference}/evidence/p{photo.pk}/")
            .status_code
            == 404
        )
    assert Client().get(address).status_code in (302, 404)


def test_the_record_shows_a_changed_file_and_a_changed_timeline(net, client_as, settings):  # type: ignore[no-untyped-def]
    incident = confirmed_with_evidence(net, Client())
    media = Media.objects.get()
    (Path(settings.MEDIA_ROOT) / media.file).write_bytes(b"swapped")
    entry = incident.timeline.first()
    type(entry).objects.filter(pk=entry.pk).update(note="planted")
    html = client_as(net.lucia).get(f"/incidents/{incident.reference}/record/").content.decode()
    assert "Problems found." in html and "Intact." not in html
    assert "no longer matches its digest" in html
    assert "note differs from its audit record" in html


# The public page of verified incidents -------------------------------------------------------


def test_public_page_shows_only_verified_incidents_coarsely_and_only_when_turned_on(net):  # type: ignore[no-untyped-def]
    confirmed = report_incident(text="1234 Secret Street", category="workplace_raid")
    incident_actions.confirm_incident(confirmed, actor=net.dani, note="seen")
    page = Client().get("/verified/")
    assert page.status_code == 200 and "Workplace raid" not in page.content.decode()  # off

    set_public_page(net.boyle, True, actor=net.ana)
    # Unverified, being verified, false alarm, closed unconfirmed, confirmed then merged away.
    far = dict(lat=34.0700, lon=-118.1700)
    report_incident(category="vehicle_stop", **far)  # new
    verifying = report_incident(category="checkpoint", lat=34.0300, lon=-118.2500)
    incident_actions.start_verification(verifying, actor=net.dani)
    false = report_incident(category="home_arrest", lat=34.0600, lon=-118.2400)
    incident_actions.mark_false_alarm(false, actor=net.dani, note="no")
    closed = report_incident(category="court_arrest", lat=34.0400, lon=-118.1900)
    incident_actions.change_state(closed, State.CLOSED, actor=net.dani)
    kept = report_incident(category="other", lat=34.0550, lon=-118.2300)
    merged = report_incident(category="sighting", lat=34.0900, lon=-118.2800)
    incident_actions.confirm_incident(merged, actor=net.dani, note="seen")
    incident_actions.merge_incidents(kept, merged, actor=net.dani)

    html = Client().get("/verified/").content.decode()
    assert html.count("<li><strong>") == 1
    assert "Workplace raid" in html
    for unverified in (
        "Vehicle stop",
        "Checkpoint",
        "Arrest at a home",
        "Arrest at a court",
        "Agents seen",
        "Something else",
    ):
        assert unverified not in html, unverified
    # Coarse: the neighbourhood, never the address or a coordinate; the hour, never minutes.
    assert "90033" in html and "Secret Street" not in html and "34.05" not in html
    began = confirmed.first_observed_at.astimezone(net.boyle.tz)
    assert f"Around {began:%H}:00" in html
    assert 'href="/rights/"' in html
    assert "<script" not in html.split("</main>")[0]

    # Confirmed and then closed: still verified, still shown. Older than the window: gone.
    incident_actions.change_state(confirmed, State.CLOSED, actor=net.dani)
    assert "Workplace raid" in Client().get("/verified/").content.decode()
    type(confirmed).objects.filter(pk=confirmed.pk).update(
        first_observed_at=confirmed.first_observed_at - dt.timedelta(days=30)
    )
    assert "Workplace raid" not in Client().get("/verified/").content.decode()
    set_public_page(net.boyle, False, actor=net.ana)
    assert AuditEntry.objects.filter(action="evidence.set_public_page").count() == 2
