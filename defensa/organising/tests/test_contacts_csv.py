"""Contacts of a workplace from a CSV file and back: preview, mapping, dedupe by phone,
progress, error report, re-import, export with masked phones, and bad input."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.core import crypto, media
from defensa.imports.models import ImportJob, JobStatus
from defensa.imports.tasks import run_import_task
from defensa.organising.models import Worker, Workplace
from defensa.organising.tests.helpers import contact, contacts_csv, make_organiser, workplace

pytestmark = pytest.mark.django_db
_examples = itertools.count()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(client: Client, place: Workplace, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("organising:contacts_upload", args=[place.pk]),
        {"file": SimpleUploadedFile("contacts.csv", data, content_type="text/csv")},
    )


def _job(response) -> ImportJob:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.content[:800]
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _confirm(client: Client, place: Workplace, job: ImportJob) -> ImportJob:
    mapping = {f"col-{i}": key for i, key in enumerate(job.mapping)}
    url = reverse("organising:contacts_import", args=[place.pk, job.pk])
    response = client.post(url, {**mapping, "confirm": "1"})
    assert response.status_code == 302, response.content[:800]
    run_import_task.call(job.pk)
    return ImportJob.objects.get(pk=job.pk)


@pytest.fixture
def olga(net):  # type: ignore[no-untyped-def]
    return make_organiser("olga", net.boyle)


@pytest.fixture
def place(net, olga):  # type: ignore[no-untyped-def]
    return workplace(net.boyle, olga)


def test_an_organiser_imports_previews_and_reimports(olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(olga)
    assert (
        reverse("organising:contacts", args=[place.pk])
        in client.get(reverse("organising:workplace", args=[place.pk])).content.decode()
    )
    contact(place, olga, "Rosa", phone="(213) 300-0000")  # already recorded by hand
    job = _job(_upload(client, place, contacts_csv(30, bad_every=10)))
    assert job.kind == "contacts" and job.scope_id == place.pk
    assert job.mapping == ["name", "phone", "language", "department", "shift", ""]
    assert b"Trabajador" not in media.read_stored(job.upload_path)
    page = client.get(reverse("organising:contacts_import", args=[place.pk, job.pk]))
    text = page.content.decode()
    assert "30 rows: 26 new, 1 already recorded here, 3 cannot be imported." in text
    assert "The phone is not a number we can text." in text
    assert Worker.objects.filter(workplace=place).count() == 1  # the preview writes nothing

    job = _confirm(client, place, job)
    assert job.status == JobStatus.DONE
    assert (job.rows_done, job.rows_new, job.rows_existing, job.rows_invalid) == (30, 26, 1, 3)
    workers = Worker.objects.filter(workplace=place).order_by("pk")
    assert workers.count() == 27
    second = workers[1]  # "Trabajador 0" has Rosa's phone: line 3 is the first new one
    assert crypto.unseal(second, "name") == "Trabajador 1"
    assert crypto.unseal(second, "phone") == "+12133000001"
    assert (second.language, second.department, second.shift) == ("es", "Kitchen", "Night")
    assert second.added_by == olga
    # One audit entry for the file, none per contact.
    assert (
        not AuditEntry.objects.filter(action="organising.add_contact", actor_id=olga.pk)
        .exclude(object_id=str(workers[0].pk))
        .exists()
    )
    assert AuditEntry.objects.filter(action="import.finished", object_id=str(job.pk)).exists()
    progress = client.get(reverse("organising:contacts_import", args=[place.pk, job.pk]))
    assert "26 new, 1 already here, 3 not imported." in progress.content.decode()
    assert 'value="100"' in progress.content.decode()

    report = client.get(reverse("organising:contacts_errors", args=[place.pk, job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["11", "21", "31"]
    assert rows[1][1] == "The phone is not a number we can text."

    # The same file again changes nothing.
    again = _confirm(client, place, _job(_upload(client, place, contacts_csv(30, bad_every=10))))
    assert (again.rows_new, again.rows_existing, again.rows_invalid) == (0, 27, 3)
    assert Worker.objects.filter(workplace=place).count() == 27


def test_duplicate_phones_in_one_file_are_refused(olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(olga)
    data = (
        b"name,phone\nAna,(213) 555-0101\nAna,213-555-0101\nBeto,+1 213 555 0101\n"
        b"Cruz,(213) 555-0102\n"
    )
    job = _confirm(client, place, _job(_upload(client, place, data)))
    assert (job.rows_new, job.rows_invalid) == (2, 2)
    assert Worker.objects.filter(workplace=place).count() == 2


def test_missing_columns_and_bad_values_are_explained(olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(olga)
    job = _job(_upload(client, place, b"nickname,notes\nAna,x\n"))
    url = reverse("organising:contacts_import", args=[place.pk, job.pk])
    refused = client.post(url, {"col-0": "name", "col-1": "", "confirm": "1"})
    assert refused.status_code == 400
    assert "Choose the column that holds phones." in refused.content.decode()
    assert client.post(url, {"col-0": "bogus", "col-1": ""}).status_code == 400
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.UPLOADED

    data = (
        b"name,phone,language,department,shift\n"
        b",(213) 555-0101,,,\n"
        b"Ana,,,,\n"
        b"Beto,(213) 555-0103,klingon,,\n"
        b"Cruz,(213) 555-0104,,Roof,\n"
        b"Dora,(213) 555-0105,,,Graveyard\n"
    )
    text = client.get(
        reverse(
            "organising:contacts_import", args=[place.pk, _job(_upload(client, place, data)).pk]
        )
    ).content.decode()
    for why in (
        "The name is missing.",
        "The phone is missing: add contacts without a phone one by one.",
        "The language is not one the site speaks (English or Spanish).",
        "The department is not one of the workplace&#x27;s departments.",
        "The shift is not one of the workplace&#x27;s shifts.",
    ):
        assert why in text


def test_a_file_in_windows_1252_and_one_that_is_not_a_csv(olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(olga)
    data = "Nombre;Teléfono\nJosé Núñez;(213) 555-0199\n".encode("cp1252")
    job = _confirm(client, place, _job(_upload(client, place, data)))
    assert job.rows_new == 1
    assert crypto.unseal(Worker.objects.get(workplace=place), "name") == "José Núñez"
    for junk in (b"\x00\x01\x02\xff" * 50, b""):
        response = _upload(client, place, junk)
        assert response.status_code == 400
    assert Worker.objects.filter(workplace=place).count() == 1


@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=600))
def test_no_bytes_make_a_500(net, client, data) -> None:  # type: ignore[no-untyped-def]
    from defensa.core import testing

    user = make_organiser(f"h{next(_examples)}", net.boyle)
    place = workplace(net.boyle, user)
    testing.sign_in(client, user)
    response = _upload(client, place, data)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        job = _job(response)
        page = client.get(reverse("organising:contacts_import", args=[place.pk, job.pk]))
        assert page.status_code in (200, 400)


def test_export_masks_phones_and_is_audited(net, olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    contact(place, olga, "=HYPERLINK(1)", phone="(213) 555-0142", dep="Packing", shift="Night")
    client = client_as(olga)
    assert client.get(reverse("organising:contacts_export", args=[place.pk])).status_code == 405
    response = client.post(reverse("organising:contacts_export", args=[place.pk]))
    body = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Name or nickname", "Phone", "Language", "Department", "Shift"]
    assert rows[1] == ["'=HYPERLINK(1)", "•••-•••-••42", "en", "Packing", "Night"]
    assert "555-0142" not in body
    entry = AuditEntry.objects.get(action="organising.contacts_revealed", actor_id=olga.pk)
    assert entry.object_id == str(place.pk)


def test_only_the_workplaces_organisers_reach_the_pages(net, olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    job = _job(_upload(client_as(olga), place, b"name,phone\nAna,(213) 555-0101\n"))
    urls = [
        ("get", reverse("organising:contacts", args=[place.pk])),
        ("get", reverse("organising:contacts_import", args=[place.pk, job.pk])),
        ("get", reverse("organising:contacts_errors", args=[place.pk, job.pk])),
        ("post", reverse("organising:contacts_export", args=[place.pk])),
        ("post", reverse("organising:contacts_discard", args=[place.pk, job.pk])),
    ]
    east_organiser = make_organiser("eddie", net.east)
    for outsider in (net.ana, east_organiser):  # a coordinator who is no organiser; elsewhere
        client = client_as(outsider)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (outsider, url)
        assert _upload(client, place, b"name,phone\nB,(213) 555-0102\n").status_code == 404
    assert ImportJob.objects.filter(kind="contacts").count() == 1
    assert not AuditEntry.objects.filter(action="organising.contacts_revealed").exists()


def test_a_campaign_ended_before_the_import_ran_takes_no_row(olga, place, client_as) -> None:  # type: ignore[no-untyped-def]
    from defensa.organising import actions

    client = client_as(olga)
    job = _job(_upload(client, place, b"name,phone\nAna,(213) 555-0101\n"))
    url = reverse("organising:contacts_import", args=[place.pk, job.pk])
    assert client.post(url, {"col-0": "name", "col-1": "phone", "confirm": "1"}).status_code == 302
    actions.end_campaign(place, actor=olga)
    run_import_task.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_new, job.rows_invalid) == (JobStatus.DONE, 0, 1)
    assert not Worker.objects.filter(workplace=place).exists()
