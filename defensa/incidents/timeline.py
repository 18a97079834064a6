"""Timeline entries, each sealed by the audit chain.

The audit chain may hold only ids and short words (never content), so an entry's audit
record names the entry and carries the SHA-256 of its note and its time in microseconds.
`verify_timeline()` then finds an entry that was altered, inserted or removed, and the audit
chain's own verification finds a tampered audit record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import models
from django.utils import timezone

from defensa.audit.log import record
from defensa.audit.models import AuditEntry
from defensa.incidents.models import Incident, TimelineEntry

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(at: dt.datetime) -> int:
    return (at - _EPOCH) // dt.timedelta(microseconds=1)


def note_digest(note: str) -> str:
    return hashlib.sha256(note.encode("utf-8")).hexdigest()


def add_entry(
    incident: Incident,
    action: str,
    *,
    actor: Any = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
    audit_action: str,
    audit_obj: models.Model | None = None,
    **audit_data: Any,
) -> TimelineEntry:
    """Append a timeline entry and its one audit record. Call inside the action's transaction."""
    entry = TimelineEntry.objects.create(
        incident=incident,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        at=timezone.now(),
        detail=detail or {},
        note=note,
    )
    record(
        audit_action,
        actor=actor,
        obj=audit_obj if audit_obj is not None else incident,
        committee=incident.committee_id,
        incident=incident.pk,
        entry=entry.pk,
        step=action,
        at_us=_micros(entry.at),
        note_sha256=note_digest(note) if note else None,
        **audit_data,
    )
    return entry


def verify_timeline(incident: Incident) -> list[str]:
    """Problems found in an incident's timeline against the audit chain ([] when intact)."""
    sealed: dict[int, dict[str, Any]] = {}
    for audit in AuditEntry.objects.filter(data__incident=incident.pk).order_by("seq"):
        if "entry" in audit.data:
            sealed[audit.data["entry"]] = {**audit.data, "_actor": audit.actor_id}
    problems: list[str] = []
    seen: set[int] = set()
    for entry in incident.timeline.all():  # type: ignore[attr-defined]
        seen.add(entry.pk)
        seal = sealed.get(entry.pk)
        if seal is None:
            problems.append(f"entry {entry.pk} has no audit record")
            continue
        if seal.get("step") != entry.action:
            problems.append(f"entry {entry.pk}: action differs from its audit record")
        if seal.get("at_us") != _micros(entry.at):
            problems.append(f"entry {entry.pk}: time differs from its audit record")
        expected_note = note_digest(entry.note) if entry.note else None
        if seal.get("note_sha256") != expected_note:
            problems.append(f"entry {entry.pk}: note differs from its audit record")
        if entry.actor_id is not None and seal.get("_actor") != entry.actor_id:
            problems.append(f"entry {entry.pk}: actor differs from its audit record")
    for missing in sorted(set(sealed) - seen):
        problems.append(f"entry {missing} is in the audit chain but gone from the timeline")
    return problems
