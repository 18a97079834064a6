"""Shift reminders and the on-duty switch's expiry; run it every minute or in a loop."""

from __future__ import annotations

from typing import Any

from defensa.committees.actions import expire_on_duty, send_shift_reminders
from defensa.core.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = (
        "Remind people before their shifts (DEFENSA_SHIFT_REMINDER_MINUTES) and switch off "
        "on-duty switches older than DEFENSA_ON_DUTY_HOURS."
    )

    def one_pass(self, **options: Any) -> None:
        reminded = send_shift_reminders()
        expired = expire_on_duty()
        self.say(f"reminded {reminded}, on duty expired {expired}", news=bool(reminded or expired))
