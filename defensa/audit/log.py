"""Write audit entries. Every action in `<app>/actions.py` calls `record()` once."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from defensa.audit.models import AuditEntry

GENESIS = "0" * 64
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:/-]{0,64}$")
# PostgreSQL: one writer at a time extends the chain. SQLite serialises writers already
# (transaction_mode=IMMEDIATE).
_PG_LOCK_ID = 0x0DEF_E45A


class UnsafeAuditData(ValueError):
    """Audit data must be ids, numbers, booleans or short machine words, never content."""


def _check(value: Any) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str) and _SAFE_TEXT.match(value):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(item)
        return
    raise UnsafeAuditData(f"audit data may hold ids and short words only, not {value!r}")


def record(
    action: str,
    *,
    actor: Any = None,
    obj: models.Model | None = None,
    committee: Any = None,
    **data: Any,
) -> AuditEntry:
    """Append one entry to the hash chain, inside the caller's transaction."""
    _check(action)
    for value in data.values():
        _check(value)
    # Inside the caller's transaction no savepoint is needed (an error here fails the whole
    # action); that saves two statements on every audited write.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_ID])
        last_seq, last_hash = AuditEntry.objects.order_by("-seq").values_list(
            "seq", "hash"
        ).first() or (0, GENESIS)
        entry = AuditEntry(
            seq=last_seq + 1,
            created_at=timezone.now(),
            actor_id=getattr(actor, "pk", actor),
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            committee_id=getattr(committee, "pk", committee),
            data=data,
            prev_hash=last_hash,
        )
        entry.hash = entry.compute_hash()
        entry.save()
    return entry


def verify_chain() -> tuple[int, AuditEntry | None, str]:
    """Walk the chain; return (entries checked, first bad entry or None, why)."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return checked, entry, f"sequence gap: expected #{expected_seq}"
        if entry.prev_hash != expected_prev:
            return checked, entry, "link to the previous entry is broken"
        if entry.compute_hash() != entry.hash:
            return checked, entry, "content does not match its hash"
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    return checked, None, ""
