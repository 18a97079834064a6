"""Delete voicemails past DEFENSA_VOICE_RETENTION_DAYS (rows and audio files)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from defensa.voice import actions


class Command(BaseCommand):
    help = "Delete voicemails past their retention, and calls that never left a message."

    def handle(self, *args: object, **options: object) -> None:
        purged = actions.purge_voicemails()
        if purged or int(options.get("verbosity", 1)) > 1:  # type: ignore[call-overload]
            self.stdout.write(f"purged {purged}")
