"""The events' periodic pass: reminders 24 hours and 2 hours before; run it every minute or
loop with --every."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.events.actions import send_reminders


class Command(PeriodicCommand):
    help = "Remind confirmed people 24 hours and 2 hours before their event or shift starts."

    def one_pass(self, **options: Any) -> None:
        sent = send_reminders()
        self.say(f"reminders 24h {sent['24h']}, 2h {sent['2h']}", news=any(sent.values()))
