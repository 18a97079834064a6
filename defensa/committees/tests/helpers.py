"""Small helpers shared by the committee tests."""

from __future__ import annotations

import re

import pyotp
from django.test import Client

from defensa.accounts.models import User
from defensa.audit.models import AuditEntry
from defensa.committees import actions
from defensa.committees.models import Committee, Invitation

GOOD_PASSWORD = "marigold-bus-stop-1947"


def invite(committee: Committee, actor: User, note: str = "") -> tuple[Invitation, str]:
    return actions.create_invitation(committee, actor=actor, note=note)


def start_join(client: Client, token: str, email: str = "rosa@example.org", **extra: str):  # type: ignore[no-untyped-def]
    data = {
        "display_name": "Rosa",
        "email": email,
        "password": GOOD_PASSWORD,
        "language": "es",
        **extra,
    }
    return client.post(f"/join/{token}/", data)


def pending_secret(client: Client) -> str:
    return client.session["committees_join"]["secret"]


def finish_join(client: Client, token: str, code: str | None = None):  # type: ignore[no-untyped-def]
    secret = pending_secret(client)
    return client.post(f"/join/{token}/code/", {"code": code or pyotp.TOTP(secret).now()})


def actions_named(name: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=name).order_by("seq"))


def secret_on_page(html: str) -> str:
    match = re.search(r'data-secret="([A-Z2-7]+)"', html)
    assert match, "the enrolment key is not on the page"
    return match.group(1)
