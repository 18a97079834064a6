"""Record actions: a committee's switch for the public page of verified incidents, and every
opening of an incident's evidence sealed in the audit chain.

The audit actions keep the names they had when this lived in `evidence` (`evidence.*`), so the
chain reads the same before and after.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from defensa.audit.log import record
from defensa.committees.models import Committee
from defensa.evidence.models import PublicPage


def set_public_page(committee: Committee, show_verified: bool, *, actor: Any) -> PublicPage:
    """Turn the committee's public list of verified incidents on or off (off by default)."""
    with transaction.atomic():
        page, _created = PublicPage.objects.select_for_update().get_or_create(committee=committee)
        page.show_verified = bool(show_verified)
        page.changed_by = actor if getattr(actor, "pk", None) else None
        page.changed_at = timezone.now()
        page.save(update_fields=["show_verified", "changed_by", "changed_at"])
        record(
            "evidence.set_public_page",
            actor=actor,
            obj=page,
            committee=committee.pk,
            show_verified=page.show_verified,
        )
        return page


def open_incident_record(incident: Any, *, actor: Any, file_key: str = "") -> None:
    """Note in the audit chain that someone opened an incident's evidence: the printable record
    (every report, the timeline, the digests) or, with `file_key`, one stored photo or video.

    Reading evidence exposes reporters' words and pictures, so who read what, and when, is kept
    (ids only, never content), like a revealed phone number.
    """
    extra = {"file": file_key} if file_key else {}
    with transaction.atomic():
        record(
            "evidence.file_opened" if file_key else "evidence.record_opened",
            actor=actor,
            obj=incident,
            committee=incident.committee_id,
            **extra,
        )


def export_archive(committee: Committee, *, actor: Any, filters: dict[str, Any]) -> None:
    """Note in the audit chain that someone took the committee's incident archive away as
    CSV, with the filter they used (ids, codes and dates only)."""
    with transaction.atomic():
        record(
            "record.archive_exported",
            actor=actor,
            obj=committee,
            committee=committee.pk,
            **filters,
        )


def export_figures(
    committee: Committee | None, table: str, *, actor: Any, filters: dict[str, Any]
) -> None:
    """Note in the audit chain that someone took a table of figures away as CSV: which table,
    whose (a committee, or the network when None) and the filter (dates, committee id)."""
    with transaction.atomic():
        record(
            "record.figures_exported",
            actor=actor,
            obj=committee,
            committee=committee.pk if committee else None,
            table=table,
            **filters,
        )
