"""`manage.py backup [OUT] [--to-object-store] [--recipient age1...]`: an encrypted backup of
database and media, to a file, to the backups' bucket of the object store, or both.

Encrypted with age to DEFENSA_BACKUP_RECIPIENTS (or each --recipient): only the holders of
the matching private keys can read it; the server cannot. See docs/security-operations.md.
With DEFENSA_S3_BACKUP_BUCKET set, `backup` with no OUT goes to the object store, so any
machine of a several-machine install can take it (docs/install.md, "Several machines").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.core import media
from defensa.core.crypto.backup import BackupError, make_backup, store_backup


class Command(BaseCommand):
    help = "Write an age-encrypted backup of the database and uploaded media to OUT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "out",
            nargs="?",
            default="",
            help="File to write ('-' is not accepted: keep it a file). Optional with an "
            "object store for backups (DEFENSA_S3_BACKUP_BUCKET).",
        )
        parser.add_argument(
            "--to-object-store",
            action="store_true",
            help="Also (or only, without OUT) put it in DEFENSA_S3_BACKUP_BUCKET.",
        )
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="An age public key (age1...); repeatable. Default: DEFENSA_BACKUP_RECIPIENTS.",
        )

    def handle(self, *args: Any, out: str, recipient: list[str], **options: Any) -> None:
        configured = "backups" in settings.STORAGES
        to_store = options["to_object_store"] or (not out and configured)
        if not out and not to_store:
            raise CommandError(
                "name a file to write, or set DEFENSA_S3_BACKUP_BUCKET for the object store"
            )
        if to_store and not configured:
            raise CommandError("--to-object-store needs DEFENSA_S3_BACKUP_BUCKET")
        try:
            blob = make_backup(recipient or settings.BACKUP_RECIPIENTS)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        except (media.StoreUnavailable, *media.STORE_ERRORS) as exc:
            raise CommandError(f"the file store could not be read: {exc}") from exc
        if out:
            path = Path(out)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            if options["verbosity"] > 0:
                self.stdout.write(f"backup: {len(blob)} bytes written to {path}")
        if to_store:
            try:
                name = store_backup(blob)
            except BackupError as exc:
                raise CommandError(str(exc)) from exc
            if options["verbosity"] > 0:
                self.stdout.write(f"backup: {len(blob)} bytes put in the object store as {name}")
