"""`python manage.py resume_broadcasts`: restart the enqueuer of any broadcast whose enqueuer
stopped (its task worker was killed); it goes on from its last committed batch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from defensa.broadcasts import actions
from defensa.broadcasts.models import Broadcast, BroadcastStatus


class Command(BaseCommand):
    help = "Restart stalled broadcast enqueuers (safe to run any time, e.g. from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        restarted = 0
        for broadcast in Broadcast.objects.filter(
            status=BroadcastStatus.SENDING, enqueue_done=False
        ):
            restarted += actions.restart_enqueue(broadcast)
        if options["verbosity"] > 0:
            self.stdout.write(f"resume_broadcasts: {restarted} restarted")
