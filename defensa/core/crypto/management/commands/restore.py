"""`manage.py restore IN --identity FILE`: load an age-encrypted backup into an empty database.

`restore --from-object-store NAME --identity FILE` reads the backup named NAME from the
backups' bucket (DEFENSA_S3_BACKUP_BUCKET) instead of a file.

Run `migrate` on the new, empty database first. The master keys (DEFENSA_MASTER_KEYS) must be
the ones of the backed-up server, or the encrypted fields stay unreadable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.core.crypto.backup import BackupError, fetch_backup, restore_backup


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into this empty, migrated database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "input", metavar="IN", help="The backup file, or its name in the store."
        )
        parser.add_argument(
            "--from-object-store",
            action="store_true",
            help="IN is a backup's name in DEFENSA_S3_BACKUP_BUCKET, not a file.",
        )
        parser.add_argument(
            "--identity", required=True, help="age identity file (AGE-SECRET-KEY-...)."
        )
        parser.add_argument(
            "--accept-unsigned",
            action="store_true",
            help="also restore a backup made before backups were signed (format 1).",
        )

    def handle(self, *args: Any, input: str, identity: str, **options: Any) -> None:
        try:
            blob = fetch_backup(input) if options["from_object_store"] else Path(input).read_bytes()
            manifest = restore_backup(
                blob,
                Path(identity).read_text(),
                accept_unsigned=options["accept_unsigned"],
            )
        except (BackupError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] > 0:
            self.stdout.write(f"restore: done (backup taken on {manifest['database']})")
