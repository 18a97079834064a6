"""Delete half-finished video files a crash left in media/evidence/incoming/ (older than 1 h)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from defensa.evidence.video import purge_stale_incoming


class Command(BaseCommand):
    help = "Delete video files older than an hour from the evidence incoming folder."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = purge_stale_incoming()
        if options["verbosity"] > 1 or removed:
            self.stdout.write(f"purge_incoming_videos: {removed} deleted")
