"""Photos, videos and voicemail audio in a shared S3-compatible object store.

Against moto's S3 server on loopback (the `s3_peer` fixture): files are sealed before they
leave the web process, served only through the access-checked file view, deleted by the
purge and kept by a legal hold; with the store unreachable a report is still saved without
its files, nothing of them is left behind, and the reporter is told.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.cases import holds
from defensa.committees.models import Membership
from defensa.core import crypto, media
from defensa.core.crypto.models import SealedFile
from defensa.core.retention import purge
from defensa.dispatch import actions
from defensa.dispatch.actions import offer_to_nearest
from defensa.dispatch.models import OfferStatus
from defensa.dispatch.tests.helpers import verifier
from defensa.evidence.models import Media
from defensa.incidents.models import Incident
from defensa.record.tests.test_record import confirmed_with_evidence, url
from defensa.reports.forms import new_token
from defensa.reports.models import Photo, Report
from defensa.reports.tests.test_form import gps_jpeg

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def local_files(settings) -> list:  # type: ignore[no-untyped-def]
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def test_files_go_to_the_store_sealed_and_come_back_only_through_the_role_checks(
    net, client_as, s3_peer, settings
):  # type: ignore[no-untyped-def]
    incident = confirmed_with_evidence(net, Client())
    photo, kept = Photo.objects.get(), Media.objects.get()
    stored = s3_peer.objects()
    # Both files are in the bucket, none on this machine's disk.
    assert set(stored) == {photo.file, kept.file}
    assert local_files(settings) == []
    # What the store holds is noise without the database and the master key.
    for name, blob in stored.items():
        assert hashlib.sha256(blob).hexdigest() not in (photo.sha256, kept.sha256)
        assert b"JFIF" not in blob and b"\xff\xd8\xff" not in blob[:3]
        assert SealedFile.objects.filter(name=name).exists()
    # The record finds both intact, reading them back from the store.
    html = client_as(net.lucia).get(f"/incidents/{incident.reference}/record/").content.decode()
    assert "Intact." in html
    # The file view serves the photo in the clear to legal, and to no one else.
    address = f"/incidents/{incident.reference}/evidence/p{photo.pk}/"
    served = client_as(net.lucia).get(address)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert hashlib.sha256(b"".join(served.streaming_content)).hexdigest() == photo.sha256
    for outsider in (net.vero, net.mo, net.omar):
        assert client_as(outsider).get(address).status_code == 404
    assert Client().get(address).status_code in (302, 404)
    # The objects are private to the store's own account (never a public bucket URL).
    grants = s3_peer.client().get_object_acl(Bucket="defensa-media", Key=photo.file)["Grants"]
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in grants)


def test_the_purge_deletes_the_objects_and_shreds_their_keys_a_legal_hold_keeps_them(
    net, s3_peer, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    incident = confirmed_with_evidence(net, Client())
    Membership.objects.filter(user=net.mo, committee=net.boyle).update(is_legal=True)
    names = {Photo.objects.get().file, Media.objects.get().file}
    keys = list(SealedFile.objects.values_list("data_key", flat=True))
    assert set(s3_peer.objects()) == names and len(keys) == 2
    t0 = incident.created_at
    hold = holds.place_hold(net.boyle, incident=incident, reason="Subpoena", actor=net.lucia)
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 900 * DAY)
    # Held: every object and its key stays, readable.
    assert set(s3_peer.objects()) == names
    assert all(media.read(name) for name in names)
    holds.request_release(hold, actor=net.lucia)
    holds.approve_release(hold, actor=net.mo)
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=t0 + 900 * DAY)
        purge(now=t0 + 900 * DAY + dt.timedelta(hours=1))
    assert not Incident.objects.filter(pk=incident.pk).exists()
    assert s3_peer.objects() == {}
    assert not SealedFile.objects.exists()
    # Their keys were shredded (or, orphaned, deleted): a copy the store kept is noise.
    assert not crypto.models.DataKey.objects.filter(pk__in=keys, wrapped__isnull=False).exists()


def test_a_report_is_saved_without_its_files_when_the_store_is_unreachable(net, s3_peer, settings):  # type: ignore[no-untyped-def]
    s3_peer.stop()
    client = Client()
    response = client.post(
        "/report/new/",
        {
            "token": new_token(),
            "category": "workplace_raid",
            "zip_code": "90033",
            "photos": [SimpleUploadedFile("a.jpg", gps_jpeg(), "image/jpeg")],
        },
    )
    # The report is kept and the reporter is told that the photos were not.
    assert response.status_code == 200
    html = response.content.decode()
    report = Report.objects.get()
    assert report.reference in html
    assert 'id="files-lost"' in html and "could not be stored" in html
    assert "We kept 1 photo" not in html
    # Nothing half-stored: no file row, no key row, nothing on this machine's disk.
    assert not Photo.objects.exists() and not Media.objects.exists()
    assert not SealedFile.objects.exists()
    assert local_files(settings) == []
    entry = AuditEntry.objects.get(action="reports.received")
    assert entry.data["files_lost"] is True and entry.data["photos"] == 0
    # In Spanish too.
    spanish = Client(headers={"accept-language": "es"})
    answer = spanish.post(
        "/report/new/",
        {
            "token": new_token(),
            "category": "workplace_raid",
            "zip_code": "90033",
            "language": "es",
            "photos": [SimpleUploadedFile("a.jpg", gps_jpeg(), "image/jpeg")],
        },
    ).content.decode()
    assert 'id="files-lost"' in answer and "no pudimos guardar" in answer


def test_a_verifiers_finding_changes_nothing_when_the_store_is_unreachable(net, s3_peer):  # type: ignore[no-untyped-def]
    Client().post(
        "/report/new/", {"token": new_token(), "category": "workplace_raid", "zip_code": "90033"}
    )
    incident = Incident.objects.get()
    verifier("alma", net.boyle)
    [offer] = offer_to_nearest(incident, 1, actor=net.dani)
    actions.accept_offer(offer)
    actions.mark_arrived(offer)
    s3_peer.stop()
    response = Client().post(
        url(offer),
        {"step": "confirmed", "photos": [SimpleUploadedFile("b.jpg", gps_jpeg(), "image/jpeg")]},
    )
    assert response.status_code == 503
    assert "could not be stored just now" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ARRIVED
    assert not Media.objects.exists() and not SealedFile.objects.exists()


def test_sealed_names_and_raw_bytes_round_trip_for_backups(s3_peer):  # type: ignore[no-untyped-def]
    written: list[str] = []
    name = media.put("evidence", "jpg", b"pixels", written=written)
    already = media.put("voice", "sealed", b"ciphertext", written=written, sealed=True)
    assert list(media.names()) == sorted([name, already])
    assert media.read(name) == b"pixels" and media.read_stored(name) != b"pixels"
    assert media.read(already) == b"ciphertext" == media.read_stored(already)
    raw = media.read_stored(name)
    media.write_stored(name, raw)
    assert media.read(name) == b"pixels"
    media.remove(written)
    assert s3_peer.objects() == {} and media.read(name) is None


def test_with_a_shared_store_a_file_this_machine_kept_for_itself_goes_with_its_row(
    s3_peer, settings
):  # type: ignore[no-untyped-def]
    # An import being read is written under MEDIA_ROOT on the machine that reads it.
    local = settings.MEDIA_ROOT / "imports" / "7.upload"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"sealed chunks")
    media.remove(["imports/7.upload", "../outside"])
    assert not local.exists()
    assert (settings.MEDIA_ROOT.parent).exists()
