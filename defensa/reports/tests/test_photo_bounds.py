"""Issue 9, point 3: cheap uploads cannot cost the server gigabytes.

The declared size is checked from the header before decoding, and one process decodes only
one photo at a time with one more waiting; any more are told to send again.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from defensa.core import imaging
from defensa.core.slots import Slots
from defensa.core.tests.proc import REPO, clean_env
from defensa.evidence.photos import BadPhoto, clean_photo
from defensa.reports.models import Photo, Report
from defensa.reports.tests.test_form import fresh_form

URL = "/report/new/"


def png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), (12, 34, 56)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = png(6323)  # 40 megapixels in ~129 KiB: ~730 MiB to decode before the bound
    assert len(data) < 200_000
    return data


def _post_photo(client: Client, data: bytes, name: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    return client.post(
        URL,
        {
            "token": fresh_form(client, lang),
            "category": "sighting",
            "zip_code": "90022",
            "photos": [SimpleUploadedFile(name, data, content_type="image/png")],
        },
        HTTP_ACCEPT_LANGUAGE=lang,
    )


@pytest.mark.django_db
def test_a_bomb_is_refused_from_its_header_in_both_languages(client: Client, bomb: bytes) -> None:
    response = _post_photo(client, bomb, "bomb.png")
    assert response.status_code == 400
    assert "A photo is too large (more than 25 megapixels)" in response.content.decode()
    response = _post_photo(client, bomb, "bomb.png", lang="es")
    assert "Una foto es demasiado grande (más de 25 megapíxeles)" in response.content.decode()
    assert Report.objects.count() == 0


def test_the_header_alone_decides_and_pillow_agrees(bomb: bytes) -> None:
    with Image.open(io.BytesIO(bomb)) as img:
        assert not imaging.fit_declared_size(img)
        assert img._im is None  # nothing was decoded to find out
    assert imaging.JPEG_DOWNSCALE * imaging.max_pixels() == Image.MAX_IMAGE_PIXELS
    started = time.monotonic()
    with pytest.raises(BadPhoto, match="big"):
        clean_photo(io.BytesIO(bomb), too_big="big", not_image="no")
    assert time.monotonic() - started < 1.0


def test_a_huge_declared_jpeg_is_refused_and_a_50_megapixel_one_is_decoded_at_half_size() -> None:
    # A phone's 50-megapixel mode: the JPEG decoder scales it down while decoding.
    out = io.BytesIO()
    Image.new("RGB", (7200, 4800), (200, 30, 30)).save(out, format="JPEG", quality=50)
    cleaned = clean_photo(io.BytesIO(out.getvalue()), too_big="big", not_image="no")
    assert (cleaned.width, cleaned.height) == (3600, 2400)
    with Image.open(io.BytesIO(cleaned.data)) as img:
        assert img.size == (3600, 2400)
    # More than four times the limit: refused, however it is compressed.
    big = io.BytesIO()
    Image.new("L", (12000, 9000)).save(big, format="JPEG", quality=10)
    with pytest.raises(BadPhoto, match="big"):
        clean_photo(io.BytesIO(big.getvalue()), too_big="big", not_image="no")


def test_decode_slots_let_one_work_one_wait_and_refuse_the_rest() -> None:
    slots = Slots(1, wait_s=5)
    holding, release = threading.Event(), threading.Event()
    waited: list[str] = []

    def holder() -> None:
        with slots.slot():
            holding.set()
            release.wait(5)

    def waiter() -> None:
        with slots.slot():
            waited.append("done")

    first = threading.Thread(target=holder)
    first.start()
    holding.wait(5)
    second = threading.Thread(target=waiter)
    second.start()
    deadline = time.monotonic() + 5
    while slots._waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    with pytest.raises(imaging.Busy), slots.slot():
        pass
    assert time.monotonic() - started < 0.5  # refused at once, no thread held
    release.set()
    first.join()
    second.join()
    assert waited == ["done"]  # the one waiting got its turn
    with slots.slot():  # and the slots are free again
        pass


@pytest.mark.django_db
def test_a_busy_server_says_so_and_a_photo_goes_through_afterwards(client: Client) -> None:
    holding, release = threading.Event(), threading.Event()

    def occupy() -> None:
        with imaging.decode_slot():
            holding.set()
            release.wait(10)

    threads = [threading.Thread(target=occupy) for _ in range(imaging._slots.slots + 1)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    deadline = time.monotonic() + 5
    while imaging._slots._waiting < imaging._slots.slots and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        busy = _post_photo(client, png(64), "small.png")
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert busy.status_code == 400
    assert "Too many photos are being processed right now" in busy.content.decode()
    assert _post_photo(client, png(64), "small.png").status_code == 200
    assert Photo.objects.count() == 1


_EIGHT_AT_ONCE = """
import io, json, resource, sys, threading, django
django.setup()
from defensa.core import imaging
from defensa.core.slots import Slots
from defensa.evidence.photos import BadPhoto, clean_photo
data = open(sys.argv[1], "rb").read()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcomes = []
start = threading.Barrier(8)
def upload():
    start.wait()
    try:
        clean_photo(io.BytesIO(data), too_big="big", not_image="no")
        outcomes.append("stored")
    except imaging.Busy:
        outcomes.append("busy")
threads = [threading.Thread(target=upload) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_mb": (peak - base) / 1024, "outcomes": sorted(outcomes)}))
"""


def test_eight_largest_photos_at_once_cost_one_decode_of_memory(tmp_path: Path) -> None:
    # Attack: eight uploads of the largest accepted photo (25 megapixels in ~82 KiB) in one
    # process at once. Unbounded, each holds ~230 MB of pixels at the same time (~1.8 GB).
    photo = tmp_path / "max.png"
    side = int(imaging.max_pixels() ** 0.5)
    photo.write_bytes(png(side))
    done = subprocess.run(
        [sys.executable, "-c", _EIGHT_AT_ONCE, str(photo)],
        cwd=REPO,
        env=clean_env(tmp_path / "data", PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # Two copies of 25 MP at 4 bytes a pixel, the encoder's buffer, the allocator's slack.
    assert found["grew_mb"] < 350, found
    assert found["outcomes"].count("stored") >= 2  # the one decoding and the one waiting
    assert set(found["outcomes"]) <= {"stored", "busy"}
