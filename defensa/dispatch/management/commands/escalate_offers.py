"""Widen verification offers that too few accepted in time, and tell dispatchers about
incidents nobody has placed; run it every minute or loop."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.dispatch.actions import alert_unplaced, escalate_offers


class Command(PeriodicCommand):
    help = "Expire stale offers and widen rounds that too few verifiers accepted in time."

    def one_pass(self, **options: Any) -> None:
        widened = escalate_offers()
        self.say(f"widened {widened} round(s)", news=bool(widened))
        unplaced = alert_unplaced()
        self.say(
            f"told dispatchers about {unplaced} incident(s) without a place", news=bool(unplaced)
        )
