"""Organising's periodic pass; run it every hour or loop with --every."""

from __future__ import annotations

from typing import Any

from defensa.core.periodic import PeriodicCommand
from defensa.organising.actions import purge_ended_workplaces


class Command(PeriodicCommand):
    help = (
        "Erase the contacts, assessments and participations of workplaces whose campaign "
        "ended more than the network's period ago, shredding the workplace's key."
    )

    def one_pass(self, **options: Any) -> None:
        purged = purge_ended_workplaces()
        self.say(f"workplaces purged {purged}", news=bool(purged))
