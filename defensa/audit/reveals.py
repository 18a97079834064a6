"""Revealing a masked contact (a member's phone, a reporter's contact, a hotline caller's
number): one audited, rate-limited check for every app that shows one.

Each person may reveal DEFENSA_PHONE_REVEALS_PER_HOUR contacts an hour, of all kinds
together: more looks like copying a list, so it is refused, and the refusal is kept in the
audit log (committed before RevealQuota is raised, on purpose: call this outside any
transaction of your own).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from defensa.audit.log import record
from defensa.audit.models import AuditEntry

# Every kind of reveal, as "<app>.<what>": audited as "<kind>_revealed" or, past the
# quota, "<kind>_reveal_refused".
KINDS = (
    "member.phone",
    "reports.contact",
    "voice.caller_number",
    # A pledge campaign's list of pledgers, after its threshold: each view of the list.
    "pledges.pledgers",
)


class RevealQuota(Exception):
    """Too many contacts revealed by one person in the last hour (the refusal is audited)."""


def record_reveal(kind: str, *, actor: Any, obj: models.Model, **data: Any) -> None:
    """Audit one reveal of `kind` by `actor`; past the hourly quota, audit the refusal and
    raise RevealQuota. `data` goes into the audit entry (ids only, like every entry)."""
    if kind not in KINDS:
        raise ValueError(f"unknown reveal kind {kind!r}")
    since = timezone.now() - dt.timedelta(hours=1)
    with transaction.atomic():
        recent = AuditEntry.objects.filter(
            actor_id=actor.pk,
            action__in=[f"{k}_revealed" for k in KINDS],
            created_at__gte=since,
        ).count()
        allowed = recent < settings.PHONE_REVEALS_PER_HOUR
        record(
            f"{kind}_revealed" if allowed else f"{kind}_reveal_refused",
            actor=actor,
            obj=obj,
            **data,
        )
    if not allowed:
        raise RevealQuota
