"""The public report form: no account, both languages, no JavaScript, retries, floods, photos."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from PIL import Image

from defensa.audit.models import AuditEntry
from defensa.incidents.models import Incident, TimelineEntry
from defensa.reports.flood import FloodGate, gate
from defensa.reports.forms import new_token
from defensa.reports.models import Photo, Report

pytestmark = pytest.mark.django_db
URL = "/report/new/"


def token_from(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, "the form carries a hidden token"
    return found.group(1)


def fresh_form(client: Client, lang: str = "en") -> str:
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return token_from(response.content.decode())


def counts() -> tuple[int, int, int, int]:
    return (
        Report.objects.count(),
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        AuditEntry.objects.count(),
    )


def post(client: Client, token: str, lang: str = "en", **fields):  # type: ignore[no-untyped-def]
    data = {
        "token": token,
        "category": "workplace_raid",
        "location_text": "Soto and 1st",
        "zip_code": "90033",
        "agents": "6",
        "vehicles": "2",
        "agency": "ICE",
        "description": "Agents at the loading dock",
    }
    data.update(fields)
    return client.post(URL, data, HTTP_ACCEPT_LANGUAGE=lang)


def test_the_form_works_without_an_account_in_english_and_spanish(client: Client) -> None:
    en = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    es = client.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "What is happening?" in en and "We don't keep your IP address" in en
    assert "¿Qué está pasando?" in es and "No guardamos tu dirección IP" in es
    # Plain HTML: no script needed, the form posts by itself, ZIP gets a numeric keypad.
    # The scripts only add: the optional "use my location" button, hidden until it runs,
    # and the characters-left counter (the browser's maxlength works without it).
    assert re.findall(r"<script[^>]*>", en) == [
        '<script src="/static/reports/locate.js" defer>',
        '<script src="/static/reports/count.js" defer>',
    ]
    assert '<div id="locate" hidden' in en
    assert 'enctype="multipart/form-data"' in en and 'inputmode="numeric"' in en
    assert 'type="datetime-local"' in en
    # Two visits get two different tokens.
    assert token_from(en) != token_from(es)


def test_a_report_gives_a_receipt_with_its_reference_and_next_steps(client: Client) -> None:
    response = post(client, fresh_form(client, "es"), lang="es")
    assert response.status_code == 200
    report = Report.objects.get()
    html = response.content.decode()
    assert report.reference in html
    assert "Conozca sus derechos" in html or "derechos" in html
    assert 'href="/rights/"' in html
    assert report.language == "es" and report.channel == "web"
    assert report.location_kind == "zip" and report.zip_code == "90033"
    assert report.location_text == "Soto and 1st" and report.agents == 6
    assert counts() == (1, 1, 1, 1)


def test_a_retried_submission_never_creates_a_second_report(client: Client) -> None:
    token = fresh_form(client)
    first = post(client, token)
    again = post(client, token)
    other_client_same_token = post(Client(), token)
    assert first.status_code == again.status_code == 200
    assert other_client_same_token.status_code in (200, 403)  # CSRF may refuse a new client
    reference = Report.objects.get().reference
    assert reference in again.content.decode()
    assert counts() == (1, 1, 1, 1)


def test_a_form_without_where_is_refused_and_writes_nothing(client: Client) -> None:
    response = post(client, fresh_form(client), location_text="", zip_code="")
    assert response.status_code == 400
    assert "Tell us where" in response.content.decode()
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"category": "riot"},
        {"zip_code": "9003"},
        {"agents": "-1"},
        {"observed_at": "2999-01-01T10:00"},
        {"observed_at": "2001-01-01T10:00"},
        {"token": "short"},
        {"description": "x" * 2001},
    ],
)
def test_bad_fields_are_refused_next_to_the_field(client: Client, bad: dict) -> None:
    token = bad.pop("token", None) or fresh_form(client)
    response = post(client, token, **bad)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert counts() == (0, 0, 0, 0)


def test_one_source_is_slowed_down_without_storing_it(client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gate, "limit", 2)
    for _ in range(2):
        assert post(client, fresh_form(client)).status_code == 200
    blocked = post(client, fresh_form(client))
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    assert Report.objects.count() == 2
    # Another source is not affected.
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert post(other, fresh_form(other)).status_code == 200


def test_flood_gate_window_and_memory_bound() -> None:
    g = FloodGate(limit=2, window_s=60)
    assert g.allow("a", now=0) and g.allow("a", now=1)
    assert not g.allow("a", now=2)
    assert g.retry_after("a", now=2) == 59
    assert g.allow("a", now=61)
    from defensa.reports import flood

    small = FloodGate(limit=1, window_s=60)
    for i in range(flood.MAX_SOURCES + 10):
        small.allow(f"s{i}", now=0)
    assert len(small._hits) == flood.MAX_SOURCES


def test_flood_gate_counts_only_the_window_and_forgets_the_rest() -> None:
    g = FloodGate(limit=1000, window_s=60)
    for t in range(100):
        assert g.allow("a", now=t)
    assert g.recent("a", now=99) == 60  # 40..99: the ones at 0..39 are out of the window
    assert g.recent("a", now=99.5) == 60
    assert g.recent("a", now=130) == 29  # 71..99
    assert len(g._hits["a"]) == 29  # the expired ones are gone, not counted each time
    assert g.retry_after("a", now=130) == 2  # the oldest left (71) leaves at 131
    assert g.recent("a", now=200) == 0 and g.recent("nobody", now=200) == 0


def test_nothing_about_the_sender_is_stored(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    visitor = Client(REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="CanaryAgent/9.9")
    token = fresh_form(visitor)
    assert post(visitor, token).status_code == 200
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        dump = []
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump.extend(str(row) for row in cursor.fetchall())
    text = "\n".join(dump)
    assert "203.0.113.77" not in text and "CanaryAgent" not in text
    assert token not in text  # only the token's digest


def gps_jpeg() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanaryCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90
    gps = {1: "N", 2: (34.0, 2.0, 55.0), 3: "W", 4: (118.0, 12.0, 30.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def test_a_photo_with_gps_exif_comes_out_clean_with_correct_hashes(client: Client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    original = gps_jpeg()
    assert b"CanaryCam" in original and b"secret comment" in original
    token = fresh_form(client)
    response = client.post(
        URL,
        {
            "token": token,
            "category": "sighting",
            "zip_code": "90022",
            "photos": [SimpleUploadedFile("raid.jpg", original, content_type="image/jpeg")],
        },
    )
    assert response.status_code == 200, response.content.decode()[:500]
    photo = Photo.objects.get()
    from django.conf import settings

    stored = (settings.MEDIA_ROOT / photo.file).read_bytes()
    assert photo.original_sha256 == hashlib.sha256(original).hexdigest()
    assert photo.sha256 == hashlib.sha256(stored).hexdigest()
    assert b"CanaryCam" not in stored and b"secret comment" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert not img.getexif() and "exif" not in img.info and "comment" not in img.info
        assert "icc_profile" not in img.info and "xmp" not in img.info
        # The orientation was applied to the pixels before the tag was dropped.
        assert img.size == (48, 64)
    assert AuditEntry.objects.get().data["photos"] == 1
    # The receipt says what was kept, also when a retry (here without the file) answers it.
    kept = "We kept 1 photo, cleaned of location data."
    assert kept in response.content.decode()
    again = client.post(URL, {"token": token, "category": "sighting", "zip_code": "90022"})
    assert again.status_code == 200 and kept in again.content.decode()
    assert Photo.objects.count() == 1


def test_a_file_that_is_not_a_photo_is_refused(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        URL,
        {
            "token": fresh_form(client),
            "category": "sighting",
            "zip_code": "90022",
            "photos": [SimpleUploadedFile("x.jpg", b"MZ not an image", content_type="image/jpeg")],
        },
    )
    assert response.status_code == 400
    assert counts() == (0, 0, 0, 0)
    assert not (settings.MEDIA_ROOT / "reports").exists() or not any(
        (settings.MEDIA_ROOT / "reports").iterdir()
    )


class FuzzForm(HypothesisTestCase):
    """Security property 19: no input gives a 500, and nothing is half-written."""

    @hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.dictionaries(
            st.sampled_from(
                [
                    "category",
                    "location_text",
                    "zip_code",
                    "observed_at",
                    "agents",
                    "vehicles",
                    "agency",
                    "description",
                    "token",
                    "photos",
                ]
            ),
            st.one_of(
                st.text(max_size=300),
                st.sampled_from(
                    ["workplace_raid", "90033", "00000", "2026-06-10T08:00", "-1", "1e9", "\x00"]
                ),
            ),
        )
    )
    def test_no_500_and_no_partial_rows(self, fields: dict) -> None:
        gate.reset()
        client = Client()
        before = counts()
        # Half the time start from a valid report, so the success path is fuzzed too.
        base = {"token": new_token(), "category": "checkpoint", "zip_code": "90011"}
        data = {**base, **fields} if len(fields) % 2 == 0 else fields
        response = client.post(URL, data)
        assert response.status_code in (200, 400, 429), response.status_code
        after = counts()
        if response.status_code == 200:
            assert after[0] == before[0] + 1 and after[2] == before[2] + 1
            assert after[3] == before[3] + 1
        else:
            assert after == before


def test_use_my_location_gives_a_gps_report(client: Client) -> None:
    response = post(
        client,
        fresh_form(client),
        location_text="",
        zip_code="",
        lat="34.0431",
        lon="-118.2101",
        accuracy="18",
    )
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.location_kind == "gps" and report.precision_m == 18
    assert report.lat == pytest.approx(34.0431)


def test_half_a_position_is_ignored(client: Client) -> None:
    response = post(client, fresh_form(client), lat="34.0431", lon="")
    assert response.status_code == 200
    assert Report.objects.get().location_kind == "zip"
    response = post(client, fresh_form(client), lat="34.0431", zip_code="", location_text="")
    assert response.status_code == 400


def test_a_map_pin_is_stored_as_a_pin_with_its_precision(client):
    from defensa.reports.forms import new_token
    from defensa.reports.models import Report

    response = client.post(
        "/report/new/",
        {
            "category": "sighting",
            "token": new_token(),
            "lat": "34.0431",
            "lon": "-118.2101",
            "accuracy": "38",
            "located_by": "pin",
        },
    )
    assert response.status_code == 200
    report = Report.objects.get()
    assert (report.location_kind, report.precision_m) == ("pin", 38)


def test_an_unknown_way_of_locating_is_refused(client):
    from defensa.reports.forms import new_token
    from defensa.reports.models import Report

    response = client.post(
        "/report/new/",
        {"category": "sighting", "token": new_token(), "zip_code": "90033", "located_by": "x"},
    )
    assert response.status_code == 400
    assert not Report.objects.exists()
