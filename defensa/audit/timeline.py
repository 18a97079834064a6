"""Timelines sealed by the audit chain: the seal-and-verify logic, written once.

An incident's or a case's timeline entry is sealed by the one audit record of the action that
wrote it. The audit chain may hold only ids and short words (never content), so that record
names the entry and carries its step, its time in microseconds and the SHA-256 of its note
(of whatever the note column holds: an incident's text, a case note's ciphertext).
`SealedTimeline.verify()` then finds an entry that was altered, inserted or removed, and the
audit chain's own verification finds a tampered audit record.

An owner (an incident, a case) has `pk`, `committee_id` and a `timeline` of entries; an entry
has `pk`, `action`, `at`, `actor_id` and a note. An app subclasses `SealedTimeline` with how
it writes an entry (`write`) and uses `add` and `verify`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Generic, TypeVar

from django.db import models

from defensa.audit.log import record
from defensa.audit.models import AuditEntry

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def micros(at: dt.datetime) -> int:
    """Microseconds since the epoch: an entry's time as the audit record holds it."""
    return (at - _EPOCH) // dt.timedelta(microseconds=1)


def sha256_hex(data: str | bytes | None) -> str | None:
    """The SHA-256 of a note (text as UTF-8), or None for an empty one."""
    if not data:
        return None
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


Owner = TypeVar("Owner", bound=models.Model)
Entry = TypeVar("Entry", bound=models.Model)


class SealedTimeline(Generic[Owner, Entry]):
    """One kind of sealed timeline; `owner` names its owner in the audit data ("incident")."""

    owner: str

    def write(
        self, owner: Owner, action: str, *, actor: Any, note: str, detail: dict[str, Any]
    ) -> Entry:
        """Create the entry (`actor` is a saved user or None)."""
        raise NotImplementedError

    def add(
        self,
        owner: Owner,
        action: str,
        *,
        actor: Any = None,
        note: str = "",
        detail: dict[str, Any] | None = None,
        audit_action: str,
        audit_obj: models.Model | None = None,
        **audit_data: Any,
    ) -> Entry:
        """Append an entry and write its audit record, the one record of the action.

        Call inside the action's transaction."""
        entry = self.write(
            owner,
            action,
            actor=actor if getattr(actor, "pk", None) else None,
            note=note,
            detail=detail or {},
        )
        record(
            audit_action,
            actor=actor,
            obj=audit_obj if audit_obj is not None else owner,
            committee=owner.committee_id,  # type: ignore[attr-defined]
            **{self.owner: owner.pk},
            entry=entry.pk,
            step=entry.action,
            at_us=micros(entry.at),
            note_sha256=sha256_hex(entry.note),
            **audit_data,
        )
        return entry

    def verify(self, owner: Owner) -> list[str]:
        """Problems found in the owner's timeline against the audit chain ([] when intact)."""
        sealed: dict[int, dict[str, Any]] = {}
        lookup = {f"data__{self.owner}": owner.pk}
        for audit in AuditEntry.objects.filter(**lookup).order_by("seq"):
            if "entry" in audit.data:
                sealed[audit.data["entry"]] = {**audit.data, "_actor": audit.actor_id}
        problems: list[str] = []
        seen: set[int] = set()
        for entry in owner.timeline.all():  # type: ignore[attr-defined]
            seen.add(entry.pk)
            seal = sealed.get(entry.pk)
            if seal is None:
                problems.append(f"entry {entry.pk} has no audit record")
                continue
            if seal.get("step") != entry.action:
                problems.append(f"entry {entry.pk}: action differs from its audit record")
            if seal.get("at_us") != micros(entry.at):
                problems.append(f"entry {entry.pk}: time differs from its audit record")
            if seal.get("note_sha256") != sha256_hex(entry.note):
                problems.append(f"entry {entry.pk}: note differs from its audit record")
            if entry.actor_id is not None and seal.get("_actor") != entry.actor_id:
                problems.append(f"entry {entry.pk}: actor differs from its audit record")
        for missing in sorted(set(sealed) - seen):
            problems.append(f"entry {missing} is in the audit chain but gone from the timeline")
        return problems
