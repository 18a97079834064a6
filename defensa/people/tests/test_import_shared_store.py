"""Import uploads in the shared object store (issue 18): a worker on another machine reads
what a web machine received.

Against moto's S3 server on loopback (the `s3_peer` fixture). "Another machine" is a second,
empty MEDIA_ROOT and partial folder: the import job runs there and still finds the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from defensa.core import testing
from defensa.imports import actions, store
from defensa.imports.models import ImportJob, JobStatus
from defensa.people.models import Invitee
from defensa.people.tests.test_import import _confirm, _job, _upload
from defensa.testing.spreadsheets import member_csv

pytestmark = pytest.mark.django_db


def _machine(settings, root: Path) -> None:  # type: ignore[no-untyped-def]
    """Make this process look like a machine with its own, empty disk."""
    settings.DATA_DIR = root
    settings.MEDIA_ROOT = root / "media"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_received_on_one_machine_is_imported_on_another(
    net: testing.Network, client_as, s3_peer, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _machine(settings, tmp_path / "web")
    client = client_as(net.ana)
    job = _job(_upload(client, member_csv(30, invalid_every=10)))
    stored = s3_peer.objects()
    # In the bucket under the job's name, sealed chunk by chunk: no name from the file.
    assert set(stored) == {job.upload_path}
    assert b"Persona" not in stored[job.upload_path] and b"phone" not in stored[job.upload_path]
    # Nothing of it stays on the web machine's disk (the sealed partial file is handed over).
    assert _files(tmp_path / "web") == []

    _machine(settings, tmp_path / "worker")  # the worker: another disk, the same store
    job = _confirm(client, job)
    assert job.status == JobStatus.DONE
    assert (job.rows_done, job.rows_new, job.rows_invalid) == (30, 27, 3)
    assert Invitee.objects.filter(committee=net.boyle).count() == 27
    # Used, then gone from the store; the error report is there, sealed, for the coordinator.
    stored = s3_peer.objects()
    assert job.upload_path not in stored and set(stored) == {job.errors_path}
    _machine(settings, tmp_path / "web")  # read back on the web machine
    report = client.get(reverse("people:errors", args=["boyle-heights", job.pk]))
    assert report.status_code == 200
    body = b"".join(report.streaming_content).decode()
    assert "The phone is not a number we can text." in body
    assert b"The phone" not in s3_peer.objects()[job.errors_path]


def test_with_the_store_unreachable_an_upload_is_refused_clearly_and_nothing_is_kept(
    net: testing.Network, client_as, s3_peer, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _machine(settings, tmp_path / "web")
    client = client_as(net.ana)
    s3_peer.stop()
    response = _upload(client, member_csv(5))
    assert response.status_code == 400
    assert "The file store did not answer" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert _files(tmp_path / "web") == []


def test_a_job_whose_store_went_away_fails_cleanly(
    net: testing.Network, client_as, s3_peer, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _machine(settings, tmp_path / "web")
    client = client_as(net.ana)
    job = _job(_upload(client, member_csv(5)))
    s3_peer.stop()
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
    finished = actions.run_import(job.pk)
    assert finished is not None and finished.status == JobStatus.FAILED
    assert not Invitee.objects.exists()


def test_the_file_names_in_the_store_are_the_jobs_own(
    net: testing.Network, client_as, s3_peer, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _machine(settings, tmp_path / "web")
    job = _job(_upload(client_as(net.ana), member_csv(3)))
    assert store.name_of(job, store.UPLOAD) == job.upload_path == f"imports/{job.pk}.upload"
    assert store.exists(job, store.UPLOAD)
    with django_capture_on_commit_callbacks(execute=True):
        job.delete()  # the row goes (the purge, or discard): its files go with it
    assert job.upload_path not in s3_peer.objects()
