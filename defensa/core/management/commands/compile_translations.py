"""Compile every .po file of the project to .mo, in pure Python (no gettext needed)."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's translations (.po -> .mo) without GNU gettext."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        root = Path(settings.BASE_DIR)
        count = 0
        for po_path in sorted((root / "defensa").rglob("locale/*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            count += 1
        if options["verbosity"] > 0:
            self.stdout.write(f"Compiled {count} translation file(s).")
