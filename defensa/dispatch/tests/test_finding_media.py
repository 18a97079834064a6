"""A verifier's finding with photos and a video from the phone page: cleaned, stored as
evidence, sealed in the audit chain with the confirmation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from defensa.audit.models import AuditEntry
from defensa.dispatch import actions
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import OfferStatus
from defensa.dispatch.tests.helpers import report_incident, verifier
from defensa.evidence.models import Media
from defensa.evidence.tests.helpers import CANARIES, gps_video
from defensa.incidents.models import State
from defensa.reports.tests.conftest import (  # noqa: F401 - autouse fixtures, used by name
    _fresh_flood_gate,
    _media_in_tmp,
    _plain_static_storage,
)
from defensa.reports.tests.test_form import gps_jpeg

pytestmark = pytest.mark.django_db


def on_site(net):  # type: ignore[no-untyped-def]
    verifier("alma", net.boyle)
    incident = report_incident(text="Whittier and Soto, the bakery")
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    return incident, offer


def url(offer) -> str:  # type: ignore[no-untyped-def]
    return f"/r/{actions.offer_token(offer)}/"


def test_a_verifier_confirms_with_photos_and_a_video_from_the_phone_page(net, settings, tmp_path):  # type: ignore[no-untyped-def]
    incident, offer = on_site(net)
    page = Client().get(url(offer)).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    photo, video = gps_jpeg(), gps_video(tmp_path / "made")
    done = Client().post(
        url(offer),
        {
            "step": "confirmed",
            "note": "Six agents, two vans",
            "photos": [SimpleUploadedFile("a.jpg", photo, "image/jpeg")],
            "video": SimpleUploadedFile("a.mp4", video, "video/mp4"),
        },
    )
    assert done.status_code == 200
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED
    media = list(Media.objects.order_by("kind"))
    assert [m.kind for m in media] == ["photo", "video"]
    assert {m.offer_id for m in media} == {offer.pk}
    assert media[0].original_sha256 == hashlib.sha256(photo).hexdigest()
    assert media[1].original_sha256 == hashlib.sha256(video).hexdigest()
    for item in media:
        stored = (Path(settings.MEDIA_ROOT) / item.file).read_bytes()
        assert item.sha256 == hashlib.sha256(stored).hexdigest()
        assert not any(canary in stored for canary in (*CANARIES, b"CanaryCam"))
    with Image.open(Path(settings.MEDIA_ROOT) / media[0].file) as img:
        assert not img.getexif()
    entry = incident.timeline.filter(action="state_changed").last()  # then "alerted"
    assert entry.detail["finding"] == "confirmed" and entry.note == "Six agents, two vans"
    assert entry.detail["media"] == [m.pk for m in sorted(media, key=lambda m: m.pk)]
    # One code path with a dispatcher's confirmation: the same audit records, in order.
    sealed = AuditEntry.objects.get(action="incidents.confirm")
    assert sorted(sealed.data["sha256"]) == sorted(m.sha256 for m in media)
    assert AuditEntry.objects.filter(action="dispatch.respond_to_confirmed").count() == 1
    # The link is used up: a second post is refused and stores nothing.
    again = Client().post(
        url(offer), {"step": "false_alarm", "photos": [SimpleUploadedFile("b.jpg", photo)]}
    )
    assert again.status_code == 410 and Media.objects.count() == 2


def test_a_bad_photo_on_the_finding_changes_nothing(net, settings):  # type: ignore[no-untyped-def]
    incident, offer = on_site(net)
    response = Client().post(
        url(offer),
        {"step": "confirmed", "photos": [SimpleUploadedFile("x.jpg", b"MZ nope", "image/jpeg")]},
    )
    assert response.status_code == 400
    assert "not a photo we can read" in response.content.decode()
    offer.refresh_from_db()
    incident.refresh_from_db()
    assert offer.status == OfferStatus.ARRIVED and not offer.outcome
    assert incident.state == State.VERIFYING and Media.objects.count() == 0
    root = Path(settings.MEDIA_ROOT)
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("finding", "state"), [("not_found", State.NEW), ("false_alarm", State.FALSE_ALARM)]
)
def test_other_findings_keep_their_photos_too(net, finding, state):  # type: ignore[no-untyped-def]
    incident, offer = on_site(net)
    Client().post(
        url(offer),
        {"step": finding, "photos": [SimpleUploadedFile("a.jpg", gps_jpeg(), "image/jpeg")]},
    )
    incident.refresh_from_db()
    assert incident.state == state
    assert Media.objects.get().offer == offer
    assert AuditEntry.objects.filter(action="dispatch.respond_to_confirmed").count() == 0
