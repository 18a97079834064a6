"""Whom the hotline rings: on-shift hotline operators first, then the fallback group."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db.models import Q

from defensa.accounts.models import SkillKind, User
from defensa.committees.models import Committee, Membership, MemberStatus
from defensa.committees.teams import dispatchers_to_tell
from defensa.voice.models import Hotline, VoiceLanguage

# Twilio dials at most ten <Number>s at once.
MAX_NUMBERS = 10
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def e164(value: str) -> str:
    """The number in E.164 ("+12135550100"), or "" when it cannot be one."""
    value = value.strip()
    plus = value.startswith("+")
    digits = re.sub(r"\D", "", value)
    if not plus and len(digits) == 10:  # a US number written without its country code
        digits = "1" + digits
    number = f"+{digits}"
    return number if _E164.match(number) else ""


def _numbers(people: list[User]) -> list[str]:
    seen: list[str] = []
    for person in sorted(people, key=lambda p: p.pk):
        number = e164(person.phone)
        if number and number not in seen:
            seen.append(number)
    return seen[:MAX_NUMBERS]


def on_shift_operators(hotline: Hotline, at: dt.datetime) -> list[User]:
    """Active full members of the hotline's committee with a current hotline-operator skill
    and a phone, who are on duty (the switch) or on a shift now."""
    committee = hotline.committee
    today = at.astimezone(committee.tz).date()
    memberships = (
        Membership.objects.filter(
            committee=committee, status=MemberStatus.FULL, user__is_active=True
        )
        .exclude(user__phone="")
        # One filter() call: the kind and the expiry must hold for the same skill row.
        .filter(
            Q(user__skills__kind=SkillKind.HOTLINE),
            Q(user__skills__expires_on__isnull=True) | Q(user__skills__expires_on__gte=today),
        )
        .select_related("user", "committee")
        .prefetch_related("shifts")
        .distinct()
    )
    return [m.user for m in memberships if m.user.on_duty or m.is_on_shift(at)]


def dispatchers_to_alert(hotline: Hotline, at: dt.datetime) -> list[User]:
    """Who hears about a voicemail: the hotline committee's dispatchers on duty or on a shift
    now, else all of them (committees.teams)."""
    return dispatchers_to_tell(hotline.committee, at)


def operator_numbers(hotline: Hotline, language: str, at: dt.datetime) -> list[str]:
    """Numbers to ring at once: operators who speak the caller's language (it is the one they
    chose for the site, or a network admin named them among a recorded language's speakers),
    else all of them."""
    operators = on_shift_operators(hotline, at)
    named = set(
        VoiceLanguage.speakers.through.objects.filter(voicelanguage__code=language).values_list(
            "user_id", flat=True
        )
    )
    speakers = [person for person in operators if person.language == language or person.pk in named]
    return _numbers(speakers or operators)


def fallback_numbers(hotline: Hotline) -> list[str]:
    """The hotline's fallback group (its members' phones and its numbers), else the setting's."""
    members = [m for m in hotline.fallback_members.all() if m.is_active]
    numbers = _numbers(members)
    configured = list(hotline.fallback_numbers or []) or list(settings.VOICE_FALLBACK_NUMBERS)
    for raw in configured:
        number = e164(str(raw))
        if number and number not in numbers:
            numbers.append(number)
    return numbers[:MAX_NUMBERS]


def committee_of_number(number: str) -> Committee | None:
    """The committee whose hotline this number is (texts to it too), or None."""
    hotline = Hotline.objects.select_related("committee").filter(number=e164(number)).first()
    return hotline.committee if hotline else None
