"""The phone trees' periodic pass; run it every 30 seconds or loop with --every."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.trees.actions import escalate_overdue


class Command(PeriodicCommand):
    help = (
        "Escalate captains of running cascades who have not confirmed their group within "
        "DEFENSA_TREE_ESCALATE_MINUTES: their people go to the next captain or the coordinators."
    )

    def one_pass(self, **options: Any) -> None:
        done = escalate_overdue()
        self.say(f"escalated {done}", news=bool(done))
