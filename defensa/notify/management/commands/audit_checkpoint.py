"""`manage.py audit_checkpoint [--every SECONDS]`: anchor the audit chain outside the database.

Appends a signed checkpoint of the chain's head to the checkpoint file (defensa/audit/
checkpoints.py) when the head moved, and sends the day's first one to every network
administrator through the outbox: copies a database-only attacker cannot reach, and that
`verify_audit --checkpoint LINE` compares with the chain. It lives in notify because it
sends messages (audit sits below notify).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from defensa.accounts.models import User
from defensa.audit.checkpoints import Checkpoint, CheckpointRefused, write_checkpoint
from defensa.audit.log import record
from defensa.core.periodic import PeriodicCommand
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority

TEMPLATE = "audit_checkpoint"
FAILED_TEMPLATE = "audit_check_failed"


def send_to_admins(checkpoint: Checkpoint, *, now: dt.datetime) -> int:
    """Queue the checkpoint to every active network administrator, once a day. Returns how
    many were newly queued."""
    admins = list(User.objects.filter(is_network_admin=True, is_active=True))
    day = now.date().isoformat()
    sent = 0
    with transaction.atomic():
        for admin in admins:
            deliveries = queue_message(
                admin,
                TEMPLATE,
                {
                    "seq": checkpoint.seq,
                    "head": checkpoint.hash,
                    "at": checkpoint.at,
                    "key": checkpoint.key_id,
                    "legacy": checkpoint.legacy,
                    "prev": checkpoint.prev,
                    "mac": checkpoint.mac,
                },
                idempotency_key=f"{TEMPLATE}:{day}:{admin.pk}",
                audit=False,
            )
            sent += any(d.context.get("mac") == checkpoint.mac for d in deliveries)
        if sent:
            # One entry a day (not per checkpoint: each would move the head it anchors).
            record("audit.checkpoint_sent", seq=checkpoint.seq, admins=sent)
    return sent


def alert_admins(refused: CheckpointRefused, *, now: dt.datetime) -> int:
    """Tell every active network administrator, once a day, that the head does not verify."""
    admins = list(User.objects.filter(is_network_admin=True, is_active=True))
    with transaction.atomic():
        for admin in admins:
            queue_message(
                admin,
                FAILED_TEMPLATE,
                {"seq": refused.seq},
                priority=Priority.URGENT,
                idempotency_key=f"{FAILED_TEMPLATE}:{now.date().isoformat()}:{admin.pk}",
                audit=False,
            )
        record("audit.checkpoint_refused", seq=refused.seq, alerted=len(admins))
    return len(admins)


def run_once(now: dt.datetime | None = None) -> Checkpoint:
    now = now or timezone.now()
    try:
        checkpoint = write_checkpoint(now=now)
    except CheckpointRefused as exc:
        alert_admins(exc, now=now)
        raise CommandError(f"no checkpoint written: {exc}; run manage.py verify_audit") from exc
    send_to_admins(checkpoint, now=now)
    return checkpoint


class Command(PeriodicCommand):
    help = "Append a signed checkpoint of the audit chain's head; send the day's to the admins."

    def one_pass(self, **options: Any) -> None:
        try:
            checkpoint = run_once()
        except CommandError as exc:
            if self.every <= 0:
                raise
            self.stderr.write(str(exc))  # in the loop: tried again at the next pass
            return
        if self.verbosity > 0:
            self.stdout.write(f"audit checkpoint: {checkpoint.line()}")
