"""Fetch recordings the provider did not give at once; delete provider copies left behind."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from defensa.voice import actions
from defensa.voice.models import Voicemail, VoicemailStatus


class Command(BaseCommand):
    help = "Retry fetching voicemail recordings (and deleting them at the provider)."

    def handle(self, *args: object, **options: object) -> None:
        stored = failed = 0
        for voicemail in Voicemail.objects.filter(status=VoicemailStatus.FETCHING):
            if actions.store_recording(voicemail):
                stored += 1
            else:
                failed += 1
        if settings.VOICE_DELETE_FROM_PROVIDER:
            for voicemail in Voicemail.objects.filter(
                status=VoicemailStatus.STORED, deleted_from_provider_at__isnull=True
            ):
                actions.delete_from_provider(voicemail)
        if stored or failed or int(options.get("verbosity", 1)) > 1:  # type: ignore[call-overload]
            self.stdout.write(f"stored {stored}, still waiting {failed}")
        if failed:
            self.stderr.write("some recordings could not be fetched; see the voicemail pages")
