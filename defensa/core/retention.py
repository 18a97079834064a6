"""Retention (security property 17): enforce every classified field's lifetime.

Reads DATA_CLASSIFICATION (and THIRD_PARTY) of every installed model. A timedelta retention
is a lifetime after the row's creation, measured on its anchor field (`RETENTION_ANCHOR` on
the model, else the first of ANCHORS that it has):

- the `id` field's retention is the row's: older rows are deleted (cascades included);
- any other field with a *shorter* lifetime is blanked in older rows (NULL or its empty
  default); a ForeignKey to crypto.DataKey is shredded first, so the ciphertext it protected
  is noise even where a copy survives;
- rows matching the model's `RETENTION_KEEP` (a Q) are never purged by age (a message still
  queued, a task still running);
- rows under a legal hold are never deleted: `LEGAL_HOLD` on a model names the boolean
  lookup(s) that say so (an incident's own `legal_hold`, a report's
  `incident__legal_hold`...). A hold keeps rows and files; it does not stop a shorter-lived
  field (a reporter's contact) from being blanked and shredded;
- files named in a model's `MEDIA_FIELDS` (names in the file store, defensa.core.media) are
  deleted with their row, also when the row goes by cascade (a post_delete receiver, after commit);
- data keys that no row refers to any more are deleted (after a grace period, so a key made
  just now by a transaction still open is not touched).

Named retentions (account, committee, audit, system) end with their owner and are not
purged by age. `purge(now=...)` takes the clock as an argument so tests can freeze it.

Purged means gone from the disk, not only from queries: on SQLite every connection runs with
`secure_delete` (defensa/core/sqlite) and a pass that changed anything ends with a WAL
checkpoint that truncates the WAL; on PostgreSQL it ends with `VACUUM` of the tables it
touched (what that does and does not erase: docs/security-operations.md). `scrub_disk`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import ProtectedError, Q
from django.db.models.signals import post_delete
from django.utils import timezone

from defensa.core import media
from defensa.core.classification import classification_for

log = logging.getLogger(__name__)

ANCHORS = ("created_at", "received_at", "enqueued_at", "started_at", "at")
# Third-party models: where their age is measured, and what is never purged by age.
THIRD_PARTY_ANCHORS = {"sessions.session": "expire_date"}
THIRD_PARTY_KEEP = {"django_tasks_database.dbtaskresult": Q(status__in=["READY", "RUNNING"])}
ORPHAN_KEY_GRACE = dt.timedelta(hours=1)


@dataclass
class PurgeResult:
    deleted: Counter[str] = field(default_factory=Counter)
    blanked: Counter[str] = field(default_factory=Counter)
    shredded: int = 0
    orphan_keys: int = 0
    kept_referenced: Counter[str] = field(default_factory=Counter)
    disk: str = ""

    def changed_tables(self) -> list[str]:
        labels = set(self.deleted) | {".".join(b.split(".")[:2]) for b in self.blanked}
        if self.shredded or self.orphan_keys:
            labels.add("crypto.datakey")
        tables = set()
        for label in labels:
            try:
                tables.add(apps.get_model(label)._meta.db_table)
            except LookupError:  # an auto-created table (a many-to-many's)
                continue
        return sorted(tables)

    def summary(self) -> str:
        parts = [f"deleted {n} {label}" for label, n in sorted(self.deleted.items()) if n]
        parts += [f"blanked {label} in {n} rows" for label, n in sorted(self.blanked.items())]
        if self.shredded:
            parts.append(f"shredded {self.shredded} data keys")
        if self.orphan_keys:
            parts.append(f"removed {self.orphan_keys} unused data keys")
        kept = sorted(self.kept_referenced.items())
        parts += [f"kept {n} {label} still referenced" for label, n in kept]
        if parts and self.disk:
            parts.append(self.disk)
        return "; ".join(parts) or "nothing expired"


def anchor_of(model: type[models.Model]) -> str | None:
    label = model._meta.label_lower
    names = {f.name for f in model._meta.concrete_fields}
    anchor = getattr(model, "RETENTION_ANCHOR", None) or THIRD_PARTY_ANCHORS.get(label)
    if anchor:
        return anchor
    return next((a for a in ANCHORS if a in names), None)


def _keep(model: type[models.Model]) -> Q | None:
    return getattr(model, "RETENTION_KEEP", None) or THIRD_PARTY_KEEP.get(model._meta.label_lower)


def held(model: type[models.Model]) -> Q | None:
    """Rows of `model` under a legal hold (none if the model declares no LEGAL_HOLD)."""
    paths = getattr(model, "LEGAL_HOLD", ())
    paths = (paths,) if isinstance(paths, str) else paths
    found = None
    for path in paths:
        found = Q(**{path: True}) if found is None else found | Q(**{path: True})
    return found


def _is_data_key_fk(f: models.Field) -> bool:
    return (
        isinstance(f, models.ForeignKey) and f.related_model._meta.label_lower == "crypto.datakey"
    )


def plan() -> list[tuple[type[models.Model], str, dt.timedelta | None, dict[str, dt.timedelta]]]:
    """For each model with lifetimes: (model, anchor, row lifetime, {field: shorter lifetime})."""
    plans = []
    for model in apps.get_models():
        declared = classification_for(model)
        row = declared.get("id") or declared.get(model._meta.pk.name)
        row_life = row.retention if row and isinstance(row.retention, dt.timedelta) else None
        fields = {
            name: fc.retention
            for name, fc in declared.items()
            if isinstance(fc.retention, dt.timedelta)
            and name not in ("id", model._meta.pk.name)
            and (row_life is None or fc.retention < row_life)
        }
        if row_life is None and not fields:
            continue
        anchor = anchor_of(model)
        if anchor is None:
            raise LookupError(f"{model._meta.label_lower} has lifetimes but no anchor field")
        plans.append((model, anchor, row_life, fields))
    return plans


def purge(*, now: dt.datetime | None = None) -> PurgeResult:
    """Enforce every lifetime once. Each model is its own transaction."""
    now = now or timezone.now()
    result = PurgeResult()
    for model, anchor, row_life, fields in plan():
        # One transaction per model: a failure leaves the others' work done and this
        # model's untouched.
        with transaction.atomic():
            _purge_model(model, anchor, row_life, fields, now, result)
    result.orphan_keys = _remove_orphan_keys(now)
    # Every pass on SQLite (a checkpoint a reader blocked last time is done now).
    result.disk = scrub_disk(result.changed_tables())
    return result


def scrub_disk(tables: list[str]) -> str:
    """Make what a pass deleted leave the database's files; say what was done.

    SQLite: the deletions were zeroed in their pages (secure_delete); a TRUNCATE checkpoint
    copies those pages into the main file and empties the WAL, where the old page images
    (with the deleted rows and the unshredded keys) sat. PostgreSQL: VACUUM of the touched
    tables makes the dead rows' space reusable and drops their index entries; the bytes stay
    in the table files until overwritten (docs/security-operations.md). Inside a transaction
    (a test's) neither can run, and the pass says so.
    """
    if connection.in_atomic_block:
        return "disk scrub skipped inside a transaction"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log, _done = cursor.fetchone()
            if busy:
                log.warning("purge: the WAL checkpoint was blocked by a reader; retried next pass")
                return "WAL checkpoint blocked"
            return "WAL checkpointed and truncated"
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            for table in tables:
                cursor.execute(f"VACUUM {quote(table)}")
            return f"vacuumed {len(tables)} tables" if tables else ""
    return ""


def _key_ids_of(rows: models.QuerySet) -> list[int]:
    ids: list[int] = []
    for f in rows.model._meta.concrete_fields:
        if _is_data_key_fk(f):
            ids += [k for k in rows.values_list(f.attname, flat=True) if k is not None]
    return ids


def _shred(key_ids: list[int], result: PurgeResult) -> None:
    from defensa.core import crypto
    from defensa.core.crypto.models import DataKey

    for key in DataKey.objects.filter(pk__in=key_ids, wrapped__isnull=False):
        crypto.shred(key)
        result.shredded += 1


def _purge_model(
    model: type[models.Model],
    anchor: str,
    row_life: dt.timedelta | None,
    fields: dict[str, dt.timedelta],
    now: dt.datetime,
    result: PurgeResult,
) -> None:
    from defensa.core import crypto
    from defensa.core.crypto.models import DataKey

    label = model._meta.label_lower
    manager = model._base_manager
    keep = _keep(model)
    # Blank short-lived fields of rows that stay.
    for name, life in sorted(fields.items()):
        f = model._meta.get_field(name)
        expired = manager.filter(**{f"{anchor}__lt": now - life})
        if keep is not None:
            expired = expired.exclude(keep)
        empty = None if f.null else f.get_default()
        if f.null:
            expired = expired.exclude(**{f"{f.attname}__isnull": True})
        else:
            expired = expired.exclude(**{f.attname: empty})
        if _is_data_key_fk(f):
            for key in DataKey.objects.filter(
                pk__in=expired.values(f.attname), wrapped__isnull=False
            ):
                crypto.shred(key)
                result.shredded += 1
        count = expired.update(**{f.attname: empty})
        if count:
            result.blanked[f"{label}.{name}"] += count
    # Delete rows past their lifetime, shredding their keys.
    if row_life is None:
        return
    expired = manager.filter(**{f"{anchor}__lt": now - row_life})
    if keep is not None:
        expired = expired.exclude(keep)
    on_hold = held(model)
    if on_hold is not None:
        expired = expired.exclude(on_hold)
    if not expired.exists():
        return
    try:
        with transaction.atomic():
            key_ids = _key_ids_of(expired)
            _deleted, per_model = expired.delete()  # raises before deleting anything
            _shred(key_ids, result)
        result.deleted.update({k.lower(): v for k, v in per_model.items() if v})
    except ProtectedError:
        # Some rows are still referenced by younger rows (an incident by a report): delete
        # the others one by one and keep those until their referrers go.
        for obj in expired.iterator():
            one = manager.filter(pk=obj.pk)
            try:
                with transaction.atomic():
                    key_ids = _key_ids_of(one)
                    _deleted, per_model = one.delete()
                    _shred(key_ids, result)
                result.deleted.update({k.lower(): v for k, v in per_model.items() if v})
            except ProtectedError:
                result.kept_referenced[label] += 1


def _remove_orphan_keys(now: dt.datetime) -> int:
    from defensa.core.crypto.models import DataKey

    referenced: set[int] = set()
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if _is_data_key_fk(f):
                referenced.update(
                    model._base_manager.exclude(**{f"{f.attname}__isnull": True}).values_list(
                        f.attname, flat=True
                    )
                )
    orphans = DataKey.objects.filter(created_at__lt=now - ORPHAN_KEY_GRACE).exclude(
        pk__in=referenced
    )
    count, _ = orphans.delete()
    return count


# Files go with their rows, whichever way the row is deleted -------------------------------


def _remove_files(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    names = []
    for name in getattr(sender, "MEDIA_FIELDS", ()):
        value = getattr(instance, name, None)
        value = getattr(value, "name", value)  # a FieldFile or a plain stored name
        if value:
            names.append(str(value))

    def delete() -> None:
        # A store that is down keeps the object; a sealed one is noise, its key shredded.
        media.remove(names)

    transaction.on_commit(delete)


def connect_file_cleanup() -> None:
    for model in apps.get_models():
        if getattr(model, "MEDIA_FIELDS", ()):
            post_delete.connect(_remove_files, sender=model, dispatch_uid=f"media:{model}")
