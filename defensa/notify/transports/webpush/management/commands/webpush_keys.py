"""Make a VAPID key pair for Web Push: `manage.py webpush_keys [--file PATH]`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from defensa.notify.transports.webpush import keys


class Command(BaseCommand):
    help = "Generate a VAPID key pair for device notifications (Web Push)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--file",
            help="Write the private key to this new file (mode 0600) instead of printing it; "
            "then set WEBPUSH_VAPID_PRIVATE_KEY_FILE to its path.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = keys.generate()
        target = options.get("file")
        if target:
            path = Path(target)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise CommandError(f"cannot create {path}: {exc.strerror}") from exc
            with os.fdopen(fd, "w") as handle:
                handle.write(private + "\n")
            self.stdout.write(f"Private key written to {path}.")
            self.stdout.write(f"Set WEBPUSH_VAPID_PRIVATE_KEY_FILE={path}")
        else:
            self.stdout.write("Keep the private key secret, like SECRET_KEY:")
            self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private}")
        self.stdout.write(f"Public key (derived from it; browsers are given it): {public}")
        self.stdout.write(
            "Changing the key later means every device must turn notifications on again."
        )
