"""Importing members from a spreadsheet: the whole road through the pages and the job."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.audit.models import AuditEntry
from defensa.core import media, testing
from defensa.imports import store
from defensa.imports.models import ImportJob, JobStatus
from defensa.imports.tasks import run_import_task
from defensa.people.models import Invitee
from defensa.testing.spreadsheets import member_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(client: Client, data: bytes, slug: str = "boyle-heights", name: str = "people.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("people:upload", args=[slug]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def _job(response) -> ImportJob:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.content[:500]
    return ImportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _confirm(client: Client, job: ImportJob) -> ImportJob:
    mapping = {f"col-{i}": key for i, key in enumerate(job.mapping)}
    response = client.post(
        reverse("people:import", args=["boyle-heights", job.pk]), {**mapping, "confirm": "1"}
    )
    assert response.status_code == 302
    assert DBTaskResult.objects.filter(task_path__endswith="run_import_task").exists()
    run_import_task.call(job.pk)
    return ImportJob.objects.get(pk=job.pk)


def test_import_maps_checks_runs_and_reports(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    job = _job(_upload(client, member_csv(30, invalid_every=10)))
    # The Spanish column titles were recognised; "Notas" is ignored.
    assert job.mapping == ["name", "phone", "email", "language", "zip", ""]
    assert store.exists(job, store.UPLOAD)
    assert b"Persona" not in media.read_stored(job.upload_path)  # sealed on disk
    page = client.get(reverse("people:import", args=["boyle-heights", job.pk]))
    text = page.content.decode()
    assert "30 rows: 27 new, 0 already members or on the list, 3 cannot be imported." in text
    assert "The phone is not a number we can text." in text
    assert not Invitee.objects.exists()  # the preview writes nothing

    job = _confirm(client, job)
    assert job.status == JobStatus.DONE
    assert (job.rows_done, job.rows_new, job.rows_invalid) == (30, 27, 3)
    assert not store.exists(job, store.UPLOAD)  # deleted once used
    invitee = Invitee.objects.get(
        committee=net.boyle, language="es", pk=Invitee.objects.order_by("pk")[1].pk
    )
    assert invitee.detail("phone") == "+12132000001"
    assert invitee.detail("name") == "Persona 1"
    progress = client.get(reverse("people:import", args=["boyle-heights", job.pk])).content.decode()
    assert "27 new, 0 already here, 3 not imported." in progress

    report = client.get(reverse("people:errors", args=["boyle-heights", job.pk]))
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0][:3] == ["line", "why it was not imported", "Nombre"]
    assert [row[0] for row in lines[1:]] == ["11", "21", "31"]
    assert "The phone is not a number we can text." in lines[1][1]
    assert AuditEntry.objects.filter(action="import.error_report_opened").count() == 1
    assert AuditEntry.objects.filter(action="import.finished").count() == 1


def test_the_same_file_twice_changes_nothing(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    data = member_csv(12)
    _confirm(client, _job(_upload(client, data)))
    assert Invitee.objects.count() == 12
    again = _confirm(client, _job(_upload(client, data)))
    assert (again.rows_new, again.rows_existing, again.rows_invalid) == (0, 12, 0)
    assert Invitee.objects.count() == 12


def test_a_phone_shared_by_two_rows_and_a_repeated_row_are_refused(
    net: testing.Network, client_as
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    net.mo.phone = "+12135550123"
    net.mo.save()
    data = (
        b"name,phone,email\n"
        b"Ana Uno,213-555-0100,\n"
        b"Beto Dos,(213) 555-0100,\n"
        b"Ana Uno,213-555-0100,\n"
        b"Mo,213 555 0123,\n"
        b"Carla,,carla@example.org\n"
    )
    job = _confirm(client, _job(_upload(client, data)))
    assert (job.rows_new, job.rows_existing, job.rows_invalid) == (2, 1, 2)
    report = client.get(reverse("people:errors", args=["boyle-heights", job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[1][0] == "3" and "Line 2 has the same phone or email" in rows[1][1]
    assert rows[2][0] == "4" and "Repeats line 2" in rows[2][1]


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        ("Nombre;Teléfono\nJosé Núñez;2135550111\n".encode("cp1252"), ";"),
        ("Nombre;Teléfono\nJosé Núñez;2135550111\n".encode("latin-1"), ";"),
        (codecs.BOM_UTF8 + "Nombre,Teléfono\nJosé Núñez,2135550111\n".encode(), ","),
        ("Nombre\tTeléfono\r\nJosé Núñez\t2135550111\r\n".encode("utf-16"), "\t"),
        # Mixed: the header in UTF-8, the row pasted from a Windows-1252 export.
        ("Nombre,Teléfono\n".encode() + "José Núñez,2135550111\n".encode("cp1252"), ","),
    ],
)
def test_encodings_and_separators(
    net: testing.Network, client_as, data: bytes, delimiter: str
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    job = _job(_upload(client, data))
    assert job.delimiter == delimiter
    assert job.header == ["Nombre", "Teléfono"]
    job = _confirm(client, job)
    assert job.rows_new == 1
    assert Invitee.objects.get().detail("name") == "José Núñez"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose a CSV file to import."),
        (b"\n\n", "The file is empty."),
        (b"name,phone\n", "The file has column titles but no rows of people under them."),
        (
            b'name,phone\n,\n , \n"",\n',
            "The file has column titles but no rows of people under them.",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This does not look like a spreadsheet"),
        (b"name,phone\nA,1\x00\x00\x00\x01\x02\x03\n", "This does not look like a spreadsheet"),
    ],
)
def test_bad_files_are_refused_plainly(
    net: testing.Network, client_as, data: bytes, message: str
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    response = _upload(client, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="import.").exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    net: testing.Network, client_as, settings
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    big = b"name,phone\n" + b"x" * (50 * 1024 * 1024)
    response = _upload(client, big)
    assert response.status_code == 413
    assert "The file is larger than 20 MB." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_mapping_without_names_is_refused(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    job = _job(_upload(client, member_csv(3)))
    response = client.post(
        reverse("people:import", args=["boyle-heights", job.pk]),
        {"col-0": "", "col-1": "phone", "col-2": "phone", "confirm": "1"},
    )
    assert response.status_code == 400
    assert "Each field can come from one column only." in response.content.decode()
    response = client.post(
        reverse("people:import", args=["boyle-heights", job.pk]),
        {"col-0": "", "col-1": "phone", "confirm": "1"},
    )
    assert "Choose the column that holds people’s names." in response.content.decode()
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.UPLOADED


def test_another_committee_cannot_see_the_import(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    job = _job(_upload(client_as(net.ana), member_csv(3)))
    other = client_as(net.omar)
    for name in ("people:import", "people:errors"):
        assert other.get(reverse(name, args=["boyle-heights", job.pk])).status_code == 404
        assert other.get(reverse(name, args=["east-la", job.pk])).status_code == 404


def test_discarding_deletes_the_file_and_shreds_its_key(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    job = _job(_upload(client, member_csv(3)))
    client.post(reverse("people:discard", args=["boyle-heights", job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not store.exists(job, store.UPLOAD)
    assert job.data_key is not None and job.data_key.wrapped is None


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
def test_any_bytes_get_an_answer_not_a_crash(net: testing.Network, data: bytes) -> None:
    client = Client()
    testing.sign_in(client, net.ana, factor="passkey")
    response = _upload(client, b"name,phone\n" + data)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        job = _job(response)
        page = client.get(response["Location"])
        assert page.status_code in (200, 400)
        assert job.status == JobStatus.UPLOADED


def test_ten_thousand_rows_with_three_thousand_invalid(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    lines = ["name,phone,zip\n"]
    for i in range(10_000):
        bad = i % 10 < 3  # 3,000 rows: no phone at all
        lines.append(f"P{i},{'' if bad else f'(213) 3{i // 10000:02d}-{i % 10000:04d}'},90033\n")
    job = _confirm(client, _job(_upload(client, "".join(lines).encode())))
    assert (job.rows_done, job.rows_new, job.rows_existing, job.rows_invalid) == (
        10_000,
        7_000,
        0,
        3_000,
    )
    assert Invitee.objects.count() == 7_000
    report = client.get(reverse("people:errors", args=["boyle-heights", job.pk]))
    assert b"".join(report.streaming_content).decode("utf-8-sig").count("\n") == 3_001


def test_purging_an_old_import_removes_its_files(  # type: ignore[no-untyped-def]
    net: testing.Network, client_as, django_capture_on_commit_callbacks
) -> None:
    import datetime as dt

    from django.utils import timezone

    from defensa.core.retention import purge
    from defensa.imports.models import IMPORT_RETENTION

    client = client_as(net.ana)
    job = _confirm(client, _job(_upload(client, member_csv(20, invalid_every=5))))
    assert store.exists(job, store.ERRORS)
    with django_capture_on_commit_callbacks(execute=True):
        purge(now=timezone.now() + IMPORT_RETENTION + dt.timedelta(days=1))
    assert not ImportJob.objects.filter(pk=job.pk).exists()
    from defensa.core.crypto.models import DataKey

    assert not DataKey.objects.filter(pk=job.data_key_id, wrapped__isnull=False).exists()
    assert not store.exists(job, store.ERRORS)


def test_the_upload_still_needs_its_csrf_token(net: testing.Network) -> None:
    client = Client(enforce_csrf_checks=True)
    testing.sign_in(client, net.ana, factor="passkey")
    response = _upload(client, member_csv(3))
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_a_file_just_over_the_limit_is_stopped_while_read(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    from defensa.imports import actions as imports

    client = client_as(net.ana)
    # Announced within the margin the view allows for the form around the file, so the
    # upload handler is what stops it.
    big = b"name,phone\n" + b"x" * (imports.MAX_BYTES + 16 * 1024)
    response = _upload(client, big)
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    posted=st.dictionaries(
        st.sampled_from(["col-0", "col-1", "col-2", "col-3", "col-9", "confirm", "map", "x"]),
        st.text(max_size=30),
        max_size=6,
    )
)
def test_any_mapping_post_gets_an_answer(net: testing.Network, posted: dict[str, str]) -> None:
    client = Client()
    testing.sign_in(client, net.ana, factor="passkey")
    job = _job(_upload(client, member_csv(3)))
    response = client.post(reverse("people:import", args=["boyle-heights", job.pk]), posted)
    assert response.status_code in (200, 302, 400)
    job.refresh_from_db()
    if job.status == JobStatus.QUEUED:
        assert not engine_problem(job)
    else:
        assert job.status == JobStatus.UPLOADED
        assert not Invitee.objects.exists()


def engine_problem(job: ImportJob) -> str | None:
    from defensa.imports import engine

    return engine.mapping_problem(engine.kind_named(job.kind), job.header, job.mapping)


def test_a_lost_file_is_said_plainly(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    client = client_as(net.ana)
    job = _job(_upload(client, member_csv(3)))
    store.delete(job)
    response = client.get(reverse("people:import", args=["boyle-heights", job.pk]))
    assert response.status_code == 400
    assert "The file could not be read." in response.content.decode()


def test_the_error_report_speaks_the_importers_language(net: testing.Network, client_as) -> None:  # type: ignore[no-untyped-def]
    net.ana.language = "es"
    net.ana.save()
    client = client_as(net.ana)
    job = _confirm(client, _job(_upload(client, member_csv(10, invalid_every=10))))
    report = client.get(reverse("people:errors", args=["boyle-heights", job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["línea", "por qué no se importó"]
    assert rows[1][1] == "El teléfono no es un número al que podamos enviar mensajes."
