"""Write audit entries. Every action in `<app>/actions.py` calls `record()` once.

Each entry links to the one before by `prev_hash` (SHA-256 of the previous entry's content),
and carries `mac`, an HMAC of its own hash under a chain key derived from the current master
key (`key_id` names it). The master key is never in the database, so someone who can only
write the database cannot change an entry and re-hash the rest: the MACs stop matching.
Removing the newest entries is caught against the signed checkpoints kept outside the
database (defensa/audit/checkpoints.py).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from defensa.audit.models import CHAIN_PURPOSE, AuditEntry
from defensa.core.crypto.keys import UnknownMasterKey, derived_key

GENESIS = "0" * 64
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:/-]{0,64}$")
# PostgreSQL: one writer at a time extends the chain. SQLite serialises writers already
# (transaction_mode=IMMEDIATE).
_PG_LOCK_ID = 0x0DEF_E45A


_HEAD_SQL = (
    f"SELECT seq, hash FROM {AuditEntry._meta.db_table} "  # noqa: S608 (our own table)
    "ORDER BY seq DESC LIMIT 1"
)


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
        # The chain's head, in SQL: every audited write asks it, inside its write lock, and
        # the ORM's query building cost ten times the lookup (docs/performance.md, "Intake").
        with connection.cursor() as cursor:
            cursor.execute(_HEAD_SQL)
            last_seq, last_hash = cursor.fetchone() or (0, GENESIS)
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
            key_id=derived_key(CHAIN_PURPOSE)[0],
        )
        entry.hash = entry.compute_hash()
        entry.mac = entry.compute_mac()
        entry.save()
    return entry


@dataclass
class ChainReport:
    """What a walk of the chain found. `bad` is the first entry that fails, with `why`."""

    checked: int = 0
    bad: AuditEntry | None = None
    why: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS
    # Entries written before the chain was keyed (plain SHA-256 only).
    legacy: int = 0
    # Entries whose MAC could not be checked: their master key is retired (not configured).
    # Their content and links are still checked, and a later entry's MAC covers them.
    unkeyed_by_retired: int = 0
    hashes: dict[int, str] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return self.bad is None


def walk_chain(
    *,
    legacy_until: int | None = None,
    want: set[int] | None = None,
    after: tuple[int, str] = (0, GENESIS),
) -> ChainReport:
    """Walk the chain, checking links, digests and MACs.

    `legacy_until`: the highest seq a signed checkpoint says was written before keying; an
    unkeyed entry after it is a rewrite. `want`: seqs whose hashes to keep in the report (to
    compare with checkpoints). `after`: start past this (seq, hash) instead of the genesis,
    e.g. a checkpoint already verified.
    """
    report = ChainReport(head_seq=after[0], head_hash=after[1])
    expected_prev = after[1]
    expected_seq = after[0] + 1
    keyed_seen = False
    # Entries under a retired key are trusted only once a later entry's MAC vouches for them.
    pending_retired: AuditEntry | None = None
    rows = AuditEntry.objects.filter(seq__gt=after[0]).order_by("seq")
    for entry in rows.iterator(chunk_size=2000):
        problem = ""
        if entry.seq != expected_seq:
            problem = f"sequence gap: expected #{expected_seq}"
        elif entry.prev_hash != expected_prev:
            problem = "link to the previous entry is broken"
        elif entry.compute_hash() != entry.hash:
            problem = "content does not match its hash"
        elif not entry.key_id:
            if entry.mac:
                problem = "an entry without a key id carries a MAC"
            elif keyed_seen:
                problem = "an unkeyed entry after keyed ones: the chain was rewritten"
            elif legacy_until is not None and entry.seq > legacy_until:
                problem = (
                    f"an unkeyed entry after #{legacy_until}, where a signed checkpoint says "
                    "keying began: the chain was rewritten"
                )
            else:
                report.legacy += 1
        else:
            keyed_seen = True
            try:
                mac = entry.compute_mac()
            except UnknownMasterKey:
                report.unkeyed_by_retired += 1
                pending_retired = pending_retired or entry
            else:
                if not hmac.compare_digest(mac, entry.mac):
                    problem = "its MAC does not match: rewritten without the chain key"
                else:
                    pending_retired = None
        if problem:
            report.bad, report.why = entry, problem
            return report
        if want is not None and entry.seq in want:
            report.hashes[entry.seq] = entry.hash
        expected_prev = entry.hash
        expected_seq += 1
        report.checked += 1
        report.head_seq, report.head_hash = entry.seq, entry.hash
    if pending_retired is not None:
        report.bad = pending_retired
        report.why = (
            f"the newest entries are under master key {pending_retired.key_id!r}, which is not "
            "configured: nothing after them vouches for them"
        )
    return report


def verify_chain() -> tuple[int, AuditEntry | None, str]:
    """Walk the chain; return (entries checked, first bad entry or None, why)."""
    report = walk_chain()
    return report.checked, report.bad, report.why
