"""Send accompaniment reminders and escalate missing check-ins; run it every minute or loop."""

from __future__ import annotations

from typing import Any

from defensa.accompaniment.actions import escalate_missed, send_reminders
from defensa.core.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = (
        "Remind confirmed companions (24 h and 2 h before) and tell the legal team, once, "
        "about appointments nobody checked out of."
    )

    def one_pass(self, **options: Any) -> None:
        reminded = send_reminders()
        escalated = escalate_missed()
        self.say(f"reminded {reminded}, escalated {escalated}", news=bool(reminded or escalated))
