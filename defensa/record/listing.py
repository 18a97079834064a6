"""Every photo and video of an incident, with both digests and whether each still holds.

Report photos live in `reports.Photo`; report videos and verifiers' photos and videos in
`evidence.Media`. For each item the stored file is hashed again (does it still match the
digest recorded when it arrived?) and its digest is looked up in the audit chain (was the
recorded digest itself changed?). Reports keep their audit records when a dispatcher merges or
splits incidents, so the chain is searched by digest, not by incident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from defensa.audit.models import AuditEntry
from defensa.core import media
from defensa.evidence.models import Kind, Media
from defensa.incidents.models import Incident
from defensa.reports.models import Photo


@dataclass(frozen=True)
class Item:
    key: str  # "p12" (a report photo) or "m7" (a Media row): the file's address on the page
    kind: str
    source: str  # a report's reference or a verifier's name
    from_verifier: bool
    created_at: dt.datetime
    size: int | None
    original_sha256: str
    sha256: str
    file: str
    content_type: str
    file_state: str  # "intact", "changed" or "missing"
    sealed: bool

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)


def file_state(relative: str, sha256: str) -> str:
    try:
        data = media.read(relative)
    except media.StoreUnavailable:
        return "missing"
    if data is None:
        return "missing"
    return "intact" if hashlib.sha256(data).hexdigest() == sha256 else "changed"


def sealed_digests() -> set[str]:
    """Every media digest the audit chain holds (reports.received and findings name them)."""
    found: set[str] = set()
    for data in AuditEntry.objects.filter(data__has_key="sha256").values_list("data", flat=True):
        values = data.get("sha256") if isinstance(data, dict) else None
        if isinstance(values, list):
            found.update(v for v in values if isinstance(v, str))
    return found


def evidence_for(incident: Incident, *, check: bool = True) -> list[Item]:
    sealed = sealed_digests() if check else set()
    items: list[Item] = []

    def add(key: str, row: Any, *, kind: str, source: str, verifier: bool, **extra: Any) -> None:
        items.append(
            Item(
                key=key,
                kind=kind,
                source=source,
                from_verifier=verifier,
                created_at=row.created_at,
                original_sha256=row.original_sha256,
                sha256=row.sha256,
                file=row.file,
                file_state=file_state(row.file, row.sha256) if check else "",
                sealed=row.sha256 in sealed,
                **extra,
            )
        )

    # A photo or video whose report was purged stays with the incident (reports.apps).
    photos = Photo.of_incident(incident.pk).select_related("report")
    for photo in photos:
        add(
            f"p{photo.pk}",
            photo,
            kind=Kind.PHOTO,
            source=photo.report.reference if photo.report else "",
            verifier=False,
            size=None,
            content_type="image/jpeg",
        )
    media = (
        Media.of_incident(incident.pk)
        .select_related("report", "offer__responder")
        .order_by("created_at", "id")
    )
    for row in media:
        from_offer = row.offer_id is not None
        add(
            f"m{row.pk}",
            row,
            kind=row.kind,
            source=row.offer.responder.display_name
            if from_offer
            else (row.report.reference if row.report else ""),
            verifier=from_offer,
            size=row.size,
            content_type=row.content_type,
        )
    items.sort(key=lambda item: (item.created_at, item.key))
    return items


def find_item(incident: Incident, key: str) -> Item | None:
    for item in evidence_for(incident, check=False):
        if item.key == key:
            return item
    return None
