"""The votes' periodic pass; run it every minute or loop with --every."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.votes.actions import tick


class Command(PeriodicCommand):
    help = (
        "Open scheduled votes whose time has come (freezing the roll) "
        "and close and count those past their time."
    )

    def one_pass(self, **options: Any) -> None:
        done = tick()
        self.say(", ".join(f"{what} {n}" for what, n in done.items()), news=any(done.values()))
