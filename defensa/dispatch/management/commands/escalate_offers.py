"""Widen verification offers that too few accepted in time; run it every minute or loop."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.dispatch.actions import escalate_offers


class Command(PeriodicCommand):
    help = "Expire stale offers and widen rounds that too few verifiers accepted in time."

    def one_pass(self, **options: Any) -> None:
        widened = escalate_offers()
        self.say(f"widened {widened} round(s)", news=bool(widened))
