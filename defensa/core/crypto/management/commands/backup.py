"""`manage.py backup OUT [--recipient age1...]`: an encrypted backup of database and media.

Encrypted with age to DEFENSA_BACKUP_RECIPIENTS (or each --recipient): only the holders of
the matching private keys can read it; the server cannot. See docs/security-operations.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.core.crypto.backup import BackupError, make_backup


class Command(BaseCommand):
    help = "Write an age-encrypted backup of the database and uploaded media to OUT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="File to write ('-' is not accepted: keep it a file).")
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="An age public key (age1...); repeatable. Default: DEFENSA_BACKUP_RECIPIENTS.",
        )

    def handle(self, *args: Any, out: str, recipient: list[str], **options: Any) -> None:
        try:
            blob = make_backup(recipient or settings.BACKUP_RECIPIENTS)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        path = Path(out)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        if options["verbosity"] > 0:
            self.stdout.write(f"backup: {len(blob)} bytes written to {path}")
