"""Case timeline entries, each sealed by the audit chain (the incidents' pattern).

A case note may name people, so it is ciphertext under the case's key; the entry's audit
record holds the SHA-256 of that *ciphertext* (never of the text: a hash of a short note
could be guessed). `verify_timeline()` finds an entry altered, inserted or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import models
from django.utils import timezone

from defensa.audit.log import record
from defensa.audit.models import AuditEntry
from defensa.cases.models import Case, Entry
from defensa.core import crypto

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(at: dt.datetime) -> int:
    return (at - _EPOCH) // dt.timedelta(microseconds=1)


def _digest(blob: bytes | None) -> str | None:
    return hashlib.sha256(blob).hexdigest() if blob else None


def add_entry(
    case: Case,
    action: str,
    *,
    actor: Any = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
    audit_action: str,
    audit_obj: models.Model | None = None,
    **audit_data: Any,
) -> Entry:
    """Append a timeline entry, touch the case, write the one audit record of the action.

    Call inside the action's transaction."""
    now = timezone.now()
    entry = Entry.objects.create(
        case=case,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        at=now,
        detail=detail or {},
        data_key=case.data_key if note else None,
    )
    if note:
        crypto.seal(entry, "note", note)
        entry.save(update_fields=["note", "data_key"])
    Case.objects.filter(pk=case.pk).update(updated_at=now)
    case.updated_at = now
    record(
        audit_action,
        actor=actor,
        obj=audit_obj if audit_obj is not None else case,
        committee=case.committee_id,
        case=case.pk,
        entry=entry.pk,
        step=action,
        at_us=_micros(entry.at),
        note_sha256=_digest(entry.note),
        **audit_data,
    )
    return entry


def verify_timeline(case: Case) -> list[str]:
    """Problems found in a case's timeline against the audit chain ([] when intact)."""
    sealed: dict[int, dict[str, Any]] = {}
    for audit in AuditEntry.objects.filter(data__case=case.pk).order_by("seq"):
        if "entry" in audit.data:
            sealed[audit.data["entry"]] = {**audit.data, "_actor": audit.actor_id}
    problems: list[str] = []
    seen: set[int] = set()
    for entry in case.timeline.all():  # type: ignore[attr-defined]
        seen.add(entry.pk)
        seal = sealed.get(entry.pk)
        if seal is None:
            problems.append(f"entry {entry.pk} has no audit record")
            continue
        if seal.get("step") != entry.action:
            problems.append(f"entry {entry.pk}: action differs from its audit record")
        if seal.get("at_us") != _micros(entry.at):
            problems.append(f"entry {entry.pk}: time differs from its audit record")
        if seal.get("note_sha256") != _digest(entry.note):
            problems.append(f"entry {entry.pk}: note differs from its audit record")
        if entry.actor_id is not None and seal.get("_actor") != entry.actor_id:
            problems.append(f"entry {entry.pk}: actor differs from its audit record")
    for missing in sorted(set(sealed) - seen):
        problems.append(f"entry {missing} is in the audit chain but gone from the timeline")
    return problems
