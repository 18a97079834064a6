"""Point a phone number's calls at a committee: `manage.py voice_hotline SLUG +12135550100`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from defensa.accounts.models import User
from defensa.committees.models import Committee
from defensa.voice import actions
from defensa.voice.models import Hotline


class Command(BaseCommand):
    help = "Map a hotline number to a committee, with its fallback group; or list them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("committee", nargs="?", help="the committee's slug")
        parser.add_argument("number", nargs="?", help="the hotline number, E.164 (+1...)")
        parser.add_argument(
            "--fallback", action="append", default=[], help="a fallback number (repeatable)"
        )
        parser.add_argument(
            "--fallback-member",
            action="append",
            default=[],
            help="a member's email whose phone is in the fallback group (repeatable)",
        )

    def handle(self, *args: object, **options: object) -> None:
        slug, number = options["committee"], options["number"]
        if not slug:
            for hotline in Hotline.objects.select_related("committee"):
                self.stdout.write(f"{hotline.number}\t{hotline.committee.slug}")
            return
        if not number:
            raise CommandError("give the hotline number after the committee")
        committee = Committee.objects.filter(slug=slug).first()
        if committee is None:
            raise CommandError(f"no committee {slug!r}")
        members = []
        for email in options["fallback_member"]:  # type: ignore[union-attr]
            person = User.objects.filter(email=str(email).lower(), is_active=True).first()
            if person is None or not person.memberships.filter(committee=committee).exists():  # type: ignore[attr-defined]
                raise CommandError(f"{email} is not an active member of {slug}")
            members.append(person)
        try:
            hotline = actions.set_hotline(
                committee,
                str(number),
                fallback_numbers=list(options["fallback"]),  # type: ignore[call-overload]
                fallback_members=members,
            )
        except actions.InvalidHotline as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{hotline.number} -> {committee.slug}")
