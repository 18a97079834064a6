"""The demo hotline (called by defensa/demo): a number that rings a committee's operators."""

from __future__ import annotations

from django.conf import settings

from defensa.accounts.models import User
from defensa.committees.models import Committee
from defensa.voice.actions import set_hotline
from defensa.voice.models import Hotline
from defensa.voice.routing import e164

# The Makefile's DEMO_HOTLINE; used when DEFENSA_HOTLINE_NUMBER is not set.
DEMO_HOTLINE = "+1-213-555-0100"


def map_hotline(committee: Committee | None, fallback: list[User]) -> str:
    """Map the demo hotline number to `committee`, so a demo call rings someone: its
    operators on duty, else `fallback`. Additive and idempotent: a network seeded before the
    hotline existed gets it on the next run; a number already mapped (to this committee or by
    an operator elsewhere) is left alone. Returns the number when it maps it now."""
    number = e164(settings.HOTLINE_NUMBER or DEMO_HOTLINE)
    if not number or committee is None or Hotline.objects.filter(number=number).exists():
        return ""
    set_hotline(committee, number, fallback_members=fallback)
    return number
