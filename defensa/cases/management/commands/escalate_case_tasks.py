"""Tell the legal team, once, about each overdue case task; run it every minute or loop."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from defensa.cases.actions import escalate_case_tasks
from defensa.core.periodic import PeriodicCommand


def _instant(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(
            "--now takes an ISO 8601 time with its offset, e.g. 2026-03-01T09:00+00:00"
        )
    return parsed


class Command(PeriodicCommand):
    help = "Escalate overdue case tasks (the 48-hour attorney consultation) to the legal team."

    at: dt.datetime | None = None

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--now",
            type=str,
            default="",
            help="Pretend it is this time (ISO 8601 with offset): for tests and drills.",
        )

    def handle(self, *args: Any, now: str = "", **options: Any) -> None:
        self.at = _instant(now) if now else None  # a bad --now fails before the first pass
        super().handle(*args, **options)

    def one_pass(self, **options: Any) -> None:
        escalated = escalate_case_tasks(now=self.at)
        self.say(f"escalated {escalated} overdue task(s)", news=bool(escalated))
