"""Run housekeeping commands on their own schedules in one long-lived process.

    manage.py run_periodically fetch_voicemails:120 purge_voicemails:3600

Each `NAME:SECONDS` is a management command run once at start, then every SECONDS. One
process instead of one per job keeps a small server's memory free. A job that fails is
reported on stderr and tried again at its next turn; the loop goes on. SIGINT or SIGTERM
(Ctrl-C, or scripts/serve stopping) lets the running job finish, then ends the loop.
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from defensa.core.periodic import StopSignal


def parse_jobs(specs: list[str]) -> list[tuple[str, int]]:
    jobs = []
    known = get_commands()
    for spec in specs:
        name, _, seconds = spec.partition(":")
        if name not in known or name == "run_periodically":
            raise CommandError(f"{name!r} is not a management command this can run")
        if not seconds.isdigit() or int(seconds) < 1:
            raise CommandError(f"give {name} a number of seconds: {name}:300")
        jobs.append((name, int(seconds)))
    if not jobs:
        raise CommandError("name at least one job, e.g. fetch_voicemails:120")
    return jobs


class Command(BaseCommand):
    help = "Run management commands periodically (NAME:SECONDS ...) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("jobs", nargs="*", help="NAME:SECONDS, e.g. purge_voicemails:3600")

    def handle(self, *args: Any, jobs: list[str], **options: Any) -> None:
        schedule = parse_jobs(jobs)
        stop = StopSignal()
        verbosity = options.get("verbosity", 1)
        due = {name: time.monotonic() for name, _every in schedule}
        while not stop.stopping:
            for name, every in schedule:
                if stop.stopping or time.monotonic() < due[name]:
                    continue
                due[name] = time.monotonic() + every
                try:
                    call_command(name, verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
                except Exception:  # noqa: BLE001 - one failing job must not stop the others
                    self.stderr.write(f"{name} failed; trying again in {every} s")
                    self.stderr.write(traceback.format_exc())
                finally:
                    # A long-lived process: give back connections a job may have left broken.
                    close_old_connections()
            stop.wait_until(min(due.values()))
