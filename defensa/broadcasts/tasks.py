"""The background enqueuer of a broadcast (Django Tasks, queue "bulk")."""

from __future__ import annotations

from django_tasks import task

from defensa.broadcasts import actions


@task(queue_name="bulk")
def enqueue_broadcast(broadcast_id: int) -> int:
    """Queue a broadcast's deliveries batch by batch until done, paused or cancelled."""
    batches = 0
    while actions.enqueue_batch(broadcast_id):
        batches += 1
    return batches
