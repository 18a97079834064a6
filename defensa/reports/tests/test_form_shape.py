"""Issue 16, point 5: the report form asks first for what matters, marks what is required,
says when attached files must be attached again, and names a too-heavy photo."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from defensa.evidence.photos import MAX_UPLOAD_BYTES
from defensa.reports.models import Report
from defensa.reports.tests.test_form import fresh_form

URL = "/report/new/"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.django_db
def test_what_where_when_come_first_and_the_rest_is_folded(client: Client) -> None:
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    form = html.split('class="report-form"')[1]
    order = [
        form.index(marker)
        for marker in (
            'name="category"',
            'name="location_text"',
            'name="zip_code"',
            'name="observed_at"',
            'name="description"',
            '<details id="more">',
            'name="agents"',
            'name="photos"',
            'name="contact"',
            'type="submit"',
        )
    ]
    assert order == sorted(order)
    # Required is marked; nothing is marked "optional" one field at a time.
    assert form.count('<span class="req">Obligatorio</span>') == 2  # what, and where
    assert "Opcional" not in form and "(opcional)" not in form
    assert "Con uno basta: una dirección o calles que se cruzan, un código postal" in form
    # The advice is beside the form, folded, with its page one tap away.
    assert '<details class="advice">' in html and 'href="/report/"' in html


@pytest.mark.django_db
def test_a_refused_form_says_photos_must_be_attached_again(client: Client) -> None:
    response = client.post(
        URL,
        {
            "token": fresh_form(client, "es"),
            "category": "sighting",  # no place: refused
            "agency": "ICE",
            "photos": [SimpleUploadedFile("a.jpg", _jpeg(), content_type="image/jpeg")],
        },
        HTTP_ACCEPT_LANGUAGE="es",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "No se guardaron tus fotos ni tu video. Vuelve a adjuntarlos antes de mandar." in html
    assert '<details id="more" open>' in html  # the folded part is open where the photos go
    assert 'value="ICE"' in html
    assert Report.objects.count() == 0


@pytest.mark.django_db
def test_a_refused_form_without_files_says_nothing_about_them(client: Client) -> None:
    response = client.post(
        URL, {"token": fresh_form(client, "en"), "category": "sighting"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Tell us where" in html
    assert "were not kept" not in html
    assert '<details id="more">' in html  # nothing there was filled: still folded


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "A photo is too large (more than 12 MB)"),
        ("es", "Una foto es demasiado grande (más de 12 MB)"),
    ],
)
def test_a_photo_of_too_many_bytes_is_called_too_large(
    client: Client, lang: str, said: str
) -> None:
    heavy = _jpeg() + b"\0" * MAX_UPLOAD_BYTES
    response = client.post(
        URL,
        {
            "token": fresh_form(client, lang),
            "category": "sighting",
            "zip_code": "90033",
            "photos": [SimpleUploadedFile("big.jpg", heavy, content_type="image/jpeg")],
        },
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert response.status_code == 400
    assert said in response.content.decode()
    assert "megapix" not in response.content.decode()
    assert Report.objects.count() == 0
