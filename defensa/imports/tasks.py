"""The background import (Django Tasks, queue "bulk")."""

from __future__ import annotations

from django_tasks import task

from defensa.imports import actions


@task(queue_name="bulk")
def run_import_task(job_id: int) -> int:
    job = actions.run_import(job_id)
    return job.rows_done if job is not None else 0
