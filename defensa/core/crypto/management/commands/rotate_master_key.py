"""`manage.py rotate_master_key`: re-wrap every data key under the current master key.

Put the new key first in DEFENSA_MASTER_KEYS and keep the old one after it, run this, then
remove the old key. No ciphertext is read or written: only the wrapped data keys change.
`--generate ID` prints a fresh ID:KEY entry and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.core import crypto
from defensa.core.crypto.keys import generate_entry, master_keys
from defensa.core.crypto.models import DataKey


class Command(BaseCommand):
    help = "Re-wrap all data keys under the first key of DEFENSA_MASTER_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--generate",
            metavar="ID",
            help="Print a new master key entry ID:KEY for DEFENSA_MASTER_KEYS and exit.",
        )

    def handle(self, *args: Any, generate: str | None = None, **options: Any) -> None:
        if generate:
            try:
                self.stdout.write(generate_entry(generate))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            return
        keys = master_keys()
        try:
            count = crypto.rewrap_all()
        except crypto.CryptoError as exc:
            msg = f"{exc}: keep the old master key configured until this passes"
            raise CommandError(msg) from exc
        left = sorted(
            set(
                DataKey.objects.filter(wrapped__isnull=False)
                .exclude(master_key_id=keys.current_id)
                .values_list("master_key_id", flat=True)
            )
        )
        if left:  # pragma: no cover - only when another process wraps under an old key
            raise CommandError(f"data keys still under {', '.join(left)}: run again")
        unused = sorted(set(keys.keys) - {keys.current_id})
        if options["verbosity"] > 0:
            self.stdout.write(
                f"rotate_master_key: {count} data key(s) re-wrapped under {keys.current_id!r}"
            )
            if unused:
                self.stdout.write(
                    "No data key needs " + ", ".join(repr(k) for k in unused) + " any more: "
                    "remove it from DEFENSA_MASTER_KEYS and destroy it."
                )
