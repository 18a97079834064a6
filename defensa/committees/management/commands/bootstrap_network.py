"""Create a network's top committee and its first administrator.

Every later account comes from an invitation; this is the one way in for the first person.
"""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from defensa.accounts.mfa import new_totp_secret, totp_uri
from defensa.accounts.models import TOTPDevice, User
from defensa.audit.log import record
from defensa.committees.models import Committee, Kind, Membership, MemberStatus


class Command(BaseCommand):
    help = "Create the network committee and its first administrator (prints one-time secrets)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--network", required=True, help="The network's name")
        parser.add_argument("--email", required=True, help="The first administrator's email")
        parser.add_argument("--name", default="Admin", help="The name others see")
        parser.add_argument("--time-zone", default="America/Los_Angeles")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        email = opts["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise CommandError(f"An account for {email} exists already.")
        if Committee.objects.filter(kind=Kind.NETWORK, parent=None).exists():
            raise CommandError("This installation has a network already; invite people instead.")
        password = secrets.token_urlsafe(12)
        secret = new_totp_secret()
        with transaction.atomic():
            network = Committee.objects.create(
                name=opts["network"],
                slug=slugify(opts["network"])[:60] or "network",
                kind=Kind.NETWORK,
                time_zone=opts["time_zone"],
            )
            user = User.objects.create_user(
                email=email, password=password, display_name=opts["name"], is_network_admin=True
            )
            TOTPDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
            Membership.objects.create(
                user=user,
                committee=network,
                status=MemberStatus.FULL,
                full_since=timezone.now(),
                is_coordinator=True,
            )
            record("network.bootstrapped", actor=user, obj=network, committee=network)
        self.stdout.write(
            "\n".join(
                [
                    f"Network '{network.name}' created; first administrator: {email}",
                    f"  one-time password: {password}   (change it after signing in)",
                    f"  authenticator secret: {secret}",
                    f"  or scan: {totp_uri(user, secret)}",
                    "Sign in, then add a passkey: administrators must use one from then on.",
                ]
            )
        )
