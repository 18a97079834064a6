"""Case timeline entries, each sealed by the audit chain (defensa/audit/timeline.py).

A case note may name people, so it is ciphertext under the case's key; the entry's audit
record holds the SHA-256 of that *ciphertext* (never of the text: a hash of a short note
could be guessed). `verify_timeline()` finds an entry altered, inserted or removed.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from defensa.audit.timeline import SealedTimeline
from defensa.cases.models import Case, Entry
from defensa.core import crypto


class CaseTimeline(SealedTimeline[Case, Entry]):
    owner = "case"

    def write(
        self, case: Case, action: str, *, actor: Any, note: str, detail: dict[str, Any]
    ) -> Entry:
        """The entry (its note sealed under the case's key), and the case touched."""
        now = timezone.now()
        entry = Entry.objects.create(
            case=case,
            actor=actor,
            action=action,
            at=now,
            detail=detail,
            data_key=case.data_key if note else None,
        )
        if note:
            crypto.seal(entry, "note", note)
            entry.save(update_fields=["note", "data_key"])
        Case.objects.filter(pk=case.pk).update(updated_at=now)
        case.updated_at = now
        return entry


TIMELINE = CaseTimeline()
# add_entry(case, action, *, actor=, note=, detail=, audit_action=, audit_obj=, **data):
# append an entry, touch the case and write the action's one audit record, inside the
# action's transaction.
add_entry = TIMELINE.add
verify_timeline = TIMELINE.verify
