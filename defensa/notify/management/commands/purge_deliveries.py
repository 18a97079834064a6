"""`python manage.py purge_deliveries`: delete finished deliveries older than their retention."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from defensa.notify.actions import purge_old_deliveries


class Command(BaseCommand):
    help = "Delete sent, failed and cancelled deliveries past their 30-day retention."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_old_deliveries()
        if options["verbosity"] > 0:
            self.stdout.write(f"purge_deliveries: {deleted} deleted")
