"""Case timeline entries, each sealed by the audit chain (defensa/audit/timeline.py).

A case note may name people, so it is ciphertext under the case's key; the entry's audit
record holds the SHA-256 of that *ciphertext* (never of the text: a hash of a short note
could be guessed). `verify_timeline()` finds an entry altered, inserted or removed.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from defensa.audit.timeline import SealedTimeline
from defensa.cases.models import Case, Entry
from defensa.core import crypto

SEALED = SealedTimeline("case")


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
    SEALED.seal(
        case, entry, actor=actor, audit_action=audit_action, audit_obj=audit_obj, **audit_data
    )
    return entry


def verify_timeline(case: Case) -> list[str]:
    """Problems found in a case's timeline against the audit chain ([] when intact)."""
    return SEALED.verify(case)
