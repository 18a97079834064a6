"""Writes of the import engine: upload, map, confirm, run, discard.

Each is one atomic change with one audit entry (ids and counts, never a cell of the file).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from defensa.audit.log import record
from defensa.core import crypto
from defensa.core.transitions import IllegalTransition
from defensa.imports import engine, reading, store
from defensa.imports.kinds import kind_named
from defensa.imports.models import ImportJob, JobStatus

log = logging.getLogger(__name__)

# Larger files are refused before they are read (a spreadsheet of 100,000 people is ~10 MB).
MAX_BYTES = 20 * 1024 * 1024


def upload_import(
    kind: str, scope_id: int, chunks: Iterable[bytes], *, actor: Any, committee: Any = None
) -> ImportJob:
    """Store the file encrypted and read its shape. Raises reading.Unreadable; then nothing
    is kept (no row, no file)."""
    kind_named(kind)
    job = None
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                kind=kind,
                scope_id=scope_id,
                created_by=actor,
                data_key=crypto.new_key("imports.job"),
            )
            job.size_bytes = store.write(job, store.UPLOAD, chunks)
            found = reading.shape(store.read(job, store.UPLOAD))
            job.encoding, job.delimiter, job.header = found.encoding, found.delimiter, found.header
            job.mapping = engine.suggested_mapping(kind_named(kind), found.header)
            job.save(update_fields=["size_bytes", "encoding", "delimiter", "header", "mapping"])
            record("import.uploaded", actor=actor, obj=job, committee=committee, kind=kind)
    except BaseException:
        if job is not None:
            store.delete(job)
        raise
    return job


@transaction.atomic
def map_columns(job: ImportJob, mapping: list[str], *, actor: Any, committee: Any = None) -> None:
    """Say which field each column feeds (the caller checked it with engine.mapping_problem)."""
    if job.status != JobStatus.UPLOADED:
        raise IllegalTransition(code="import_started")
    job.mapping = mapping
    job.save(update_fields=["mapping"])
    record("import.mapped", actor=actor, obj=job, committee=committee)


@transaction.atomic
def confirm_import(job: ImportJob, *, rows: int, actor: Any, committee: Any = None) -> None:
    """Start the import in the background."""
    from defensa.imports.tasks import run_import_task

    changed = ImportJob.objects.filter(pk=job.pk, status=JobStatus.UPLOADED).update(
        status=JobStatus.QUEUED, rows_total=rows
    )
    if not changed:
        raise IllegalTransition(code="import_started")
    job.status, job.rows_total = JobStatus.QUEUED, rows
    record("import.confirmed", actor=actor, obj=job, committee=committee, rows=rows)
    run_import_task.enqueue(job.pk)  # in this transaction: no job without its task


def run_import(job_id: int) -> ImportJob | None:
    """The background job: apply the file, then delete it. Runs once per job."""
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("data_key", "created_by").filter(pk=job_id).first()
    if job is None or not claimed:
        return job
    # The error report's titles and reasons in the language of the person who imported.
    language = getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            engine.run(job)
        job.status = JobStatus.DONE
    except (reading.Unreadable, store.Damaged, crypto.CryptoError):
        log.warning("import %s stopped: the stored file could not be read", job.pk)
        job.status, job.finished_at = JobStatus.FAILED, timezone.now()
    finally:
        store.delete(job, store.UPLOAD)  # personal data: gone as soon as it is used
    with transaction.atomic():
        job.save(
            update_fields=[
                "status",
                "rows_done",
                "rows_new",
                "rows_existing",
                "rows_invalid",
                "lines_recoded",
                "has_error_report",
                "finished_at",
            ]
        )
        record(
            "import.finished",
            actor=job.created_by_id,
            obj=job,
            status=job.status,
            new=job.rows_new,
            existing=job.rows_existing,
            invalid=job.rows_invalid,
        )
    return job


@transaction.atomic
def discard_import(job: ImportJob, *, actor: Any, committee: Any = None) -> None:
    """Cancel an import not started yet, or drop a finished one's error report: the files are
    deleted and their key shredded."""
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise IllegalTransition(code="import_running")
    store.delete(job)
    if job.data_key is not None and job.data_key.wrapped is not None:
        crypto.shred(job.data_key)
    if job.status == JobStatus.UPLOADED:
        job.status = JobStatus.CANCELLED
    job.has_error_report = False
    job.save(update_fields=["status", "has_error_report"])
    record("import.discarded", actor=actor, obj=job, committee=committee)


@transaction.atomic
def open_error_report(job: ImportJob, *, actor: Any, committee: Any = None) -> None:
    """Note that someone downloaded the error report (it holds the refused rows' details)."""
    record("import.error_report_opened", actor=actor, obj=job, committee=committee)
