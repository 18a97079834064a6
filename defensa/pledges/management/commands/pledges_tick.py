"""The pledge campaigns' periodic pass; run it every minute or loop with --every."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.pledges.actions import close_expired


class Command(PeriodicCommand):
    help = (
        "Flip campaigns that reached their threshold, fail those past their deadline "
        "(shredding who pledged) and shred identities kept IDENTITY_RETENTION after success."
    )

    def one_pass(self, **options: Any) -> None:
        done = close_expired()
        self.say(", ".join(f"{what} {n}" for what, n in done.items()), news=any(done.values()))
