"""Build the Los Angeles demo network (`make run` calls this), then print how to sign in.

It refuses to run unless DEFENSA_DEMO is on, so a production database never gets accounts
with a published password. A second run finds the network and only prints the table (and
maps the demo hotline if an older demo database lacks it).
"""

from __future__ import annotations

import os
import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from defensa.demo.network import DEMO_PASSWORD, PERSONAS, SEED, build, is_built, map_hotline


class Command(BaseCommand):
    help = "Build the fictional Los Angeles demo network (DEFENSA_DEMO=1 only) and print logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "seed_demo only runs with DEFENSA_DEMO=1: it creates accounts whose password "
                "is published. It never belongs in a real network's database."
            )
        if is_built():
            self.stdout.write("The demo network is already there; nothing added.")
        else:
            started = timezone.now()
            with transaction.atomic():
                counts = build(random.Random(SEED))  # noqa: S311 - repeatable fiction, not secrets
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(
                f"Built the demo network in {seconds:.1f} s: "
                + ", ".join(f"{n} {what}" for what, n in counts.items())
            )
        mapped = map_hotline()
        if mapped:
            self.stdout.write(f"Hotline {mapped} rings Boyle Heights' operators on duty.")
        self.stdout.write(login_table())


def login_table() -> str:
    port = os.environ.get("PORT", "8000")
    secret = PERSONAS[0].totp_secret
    url = f"http://127.0.0.1:{port}/accounts/login/"
    rows = [("Persona", "Email", "Password", "TOTP secret", "What they can do")]
    rows += [(p.key, p.email, DEMO_PASSWORD, p.totp_secret, p.can) for p in PERSONAS]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "",
        "Demo network: Red de Defensa de Los Ángeles (everyone in it is fictional)",
        f"Sign in at {url}",
        f"Every persona's password is {DEMO_PASSWORD}",
        "",
    ]
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True))
            + "  "
            + row[4]
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(row[4]))
    lines += [
        "",
        "The second step asks for a 6-digit code. Add a secret above to an authenticator app,",
        "or print the current code for one persona:",
        f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"",
        "",
        "Coordinators and administrators sign in with a code only because this is a demo;",
        "outside demo mode their role requires a passkey. See docs/demo.md.",
        f"To try a passkey, open http://localhost:{port}/ instead: browsers refuse passkeys",
        "on a bare IP address.",
    ]
    return "\n".join(lines)
