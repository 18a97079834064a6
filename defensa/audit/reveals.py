"""Showing a sealed or masked value: one audited, rate-limited rule for every app.

A member's phone, a reporter's contact, a hotline caller's number and recording, a detained
person's identifiers and family contacts, a case's timeline notes, the identity of someone
accompanied to court: every time one of them is decrypted for a person to see, it goes
through `record_reveal`, which writes the audit entry, and counts it against one hourly quota
per person (DEFENSA_PHONE_REVEALS_PER_HOUR).

The quota counts *different records* a person opened in the last hour, of all kinds
together: more looks like copying a list, so it is refused, and the refusal is kept in the
audit log (committed before RevealQuota is raised, on purpose: call this outside any
transaction of your own). Looking again at a record already opened this hour (a case page
reloaded after adding a note) is audited again but does not use up the quota.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from defensa.audit.log import record
from defensa.audit.models import AuditEntry

# Every kind of reveal, as "<app>.<what>": audited as "<kind>_revealed" or, past the
# quota, "<kind>_reveal_refused".
KINDS = (
    "member.phone",
    "reports.contact",
    "voice.caller_number",
    "voice.recording",
    "cases.identifiers",
    "cases.notes",
    "accompaniment.identity",
    # A pledge campaign's list of pledgers, after its threshold: each view of the list.
    "pledges.pledgers",
    # A workplace's workers by name (each view of the list), and one worker's phone and the
    # reasons of their assessments (each view of the worker's page).
    "organising.workers",
    "organising.worker",
    # A workplace's contacts exported as a spreadsheet (names; phones masked).
    "organising.contacts",
    # A vote's roll exported for Helios (names and email addresses of everyone on it).
    "votes.roll",
    # A fund's applicants, or its ledger with their names, seen or exported by a reviewer.
    "funds.applicants",
)
REVEALED = tuple(f"{kind}_revealed" for kind in KINDS)


class RevealQuota(Exception):
    """Too many records revealed by one person in the last hour (the refusal is audited)."""


# The quota holds with any number of web machines: the count is the audit log's, in the one
# database, and one person's reveals are counted and written one at a time. PostgreSQL: a
# per-person transaction lock (the class id below, the person's id); SQLite serialises
# writers already (transaction_mode=IMMEDIATE).
_PG_REVEAL_LOCK_CLASS = 0x0DEF


def _one_at_a_time(actor: Any) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_PG_REVEAL_LOCK_CLASS, int(actor.pk)]
            )


def _within_quota(actor: Any, obj: models.Model) -> bool:
    since = timezone.now() - dt.timedelta(hours=1)
    opened = set(
        AuditEntry.objects.filter(
            actor_id=actor.pk, action__in=REVEALED, created_at__gte=since
        ).values_list("object_type", "object_id")
    )
    if (obj._meta.label_lower, str(obj.pk)) in opened:
        return True
    return len(opened) < settings.PHONE_REVEALS_PER_HOUR


def record_reveal(
    kind: str,
    *,
    actor: Any,
    obj: models.Model,
    write: Callable[[str], Any] | None = None,
    **data: Any,
) -> None:
    """Audit one reveal of `kind` by `actor`; past the hourly quota, audit the refusal and
    raise RevealQuota. `data` goes into the audit entry (ids only, like every entry).

    `write(action)`, when given, writes the audit entry itself (exactly one `record()` with
    that action and `obj`), e.g. to seal a step of a case's timeline at the same time.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown reveal kind {kind!r}")
    with transaction.atomic():
        _one_at_a_time(actor)
        allowed = _within_quota(actor, obj)
        if allowed and write is not None:
            write(f"{kind}_revealed")
        else:
            record(
                f"{kind}_revealed" if allowed else f"{kind}_reveal_refused",
                actor=actor,
                obj=obj,
                **data,
            )
    if not allowed:
        raise RevealQuota
