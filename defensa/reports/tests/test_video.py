"""Video in the public report: stripped by the real ffmpeg, or refused with a clear message."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from defensa.audit.models import AuditEntry
from defensa.evidence.models import Kind, Media
from defensa.evidence.tests.helpers import CANARIES, ffprobe_tags, gps_video
from defensa.incidents.models import Incident
from defensa.reports.forms import new_token
from defensa.reports.models import Report
from defensa.reports.tests.test_form import gps_jpeg

pytestmark = pytest.mark.django_db
URL = "/report/new/"


def post(client: Client, upload: SimpleUploadedFile | None, **extra):  # type: ignore[no-untyped-def]
    data = {"token": new_token(), "category": "workplace_raid", "zip_code": "90033", **extra}
    if upload is not None:
        data["video"] = upload
    return client.post(URL, data)


def media_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("container", "content_type"), [("mp4", "video/mp4"), ("webm", "video/webm")]
)
def test_a_video_with_gps_tags_comes_out_clean_with_correct_hashes(
    client, settings, tmp_path, container, content_type
):  # type: ignore[no-untyped-def]
    original = gps_video(tmp_path / "made", container=container)
    assert all(canary in original for canary in CANARIES[:2])  # the fixture really carries them
    response = post(client, SimpleUploadedFile(f"raid.{container}", original, f"video/{container}"))
    assert response.status_code == 200, response.content.decode()[:800]
    assert "We kept your video" in response.content.decode()

    video = Media.objects.get()
    assert video.kind == Kind.VIDEO and video.content_type == content_type
    assert video.report == Report.objects.get()
    stored_path = Path(settings.MEDIA_ROOT) / video.file
    stored = stored_path.read_bytes()
    assert video.original_sha256 == hashlib.sha256(original).hexdigest()
    assert video.sha256 == hashlib.sha256(stored).hexdigest()
    assert video.size == len(stored) and video.duration_ms >= 900
    for canary in CANARIES:
        assert canary not in stored, canary
    probed = ffprobe_tags(stored_path)
    tags = {k.lower() for k in probed.get("format", {}).get("tags", {})}
    assert not tags & {"location", "location-eng", "creation_time", "com.apple.quicktime.make"}
    assert not any(k.startswith("com.apple.quicktime.location") for k in tags)
    assert probed.get("chapters") == []
    kinds = sorted(s["codec_type"] for s in probed["streams"])
    assert kinds == ["audio", "video"]  # the subtitle (GPS text) and data tracks are gone
    for stream in probed["streams"]:
        assert "creation_time" not in stream.get("tags", {})
        assert "title" not in stream.get("tags", {})
    # Both digests are sealed in the report's audit record; nothing waits in the incoming folder.
    record = AuditEntry.objects.get(action="reports.received")
    assert record.data["videos"] == 1 and record.data["sha256"] == [video.sha256]
    assert media_files(settings) == [stored_path]


def test_without_ffmpeg_a_video_is_refused_and_photos_still_work(client, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.FFMPEG_PATH = str(tmp_path / "no-ffmpeg-here")
    original = gps_video(tmp_path / "made")
    response = post(client, SimpleUploadedFile("raid.mp4", original, "video/mp4"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "cannot accept videos" in html and "Photos still work" in html
    assert (Report.objects.count(), Incident.objects.count(), Media.objects.count()) == (0, 0, 0)
    assert media_files(settings) == []

    photo = SimpleUploadedFile("raid.jpg", gps_jpeg(), "image/jpeg")
    assert post(client, None, photos=[photo]).status_code == 200
    assert Report.objects.count() == 1

    # In Spanish too.
    settings.FFMPEG_PATH = ""
    es = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish = post(es, SimpleUploadedFile("raid.mp4", original, "video/mp4")).content.decode()
    assert "Las fotos siguen funcionando" in spanish


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"MZ this is a program",
        b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200,  # an MP4 header and nothing else
        b"\x1a\x45\xdf\xa3" + b"\xff" * 300,  # a Matroska header and garbage
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\nfile:///etc/passwd\n",  # a playlist, never opened
    ],
)
def test_a_file_that_is_not_a_video_is_refused_clearly(client, settings, junk):  # type: ignore[no-untyped-def]
    response = post(client, SimpleUploadedFile("x.mp4", junk or b"\x00", "video/mp4"))
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert Report.objects.count() == 0 and media_files(settings) == []


def test_a_video_too_long_or_too_large_is_refused(client, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.VIDEO_MAX_SECONDS = 1
    long = gps_video(tmp_path / "long", seconds=3)
    response = post(client, SimpleUploadedFile("long.mp4", long, "video/mp4"))
    assert response.status_code == 400 and "too large or too long" in response.content.decode()
    settings.VIDEO_MAX_SECONDS, settings.VIDEO_MAX_MB = 120, 1
    big = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (1024 * 1024 + 1)
    response = post(client, SimpleUploadedFile("big.mp4", big, "video/mp4"))
    assert response.status_code == 400 and "too large or too long" in response.content.decode()
    assert Report.objects.count() == 0 and media_files(settings) == []
