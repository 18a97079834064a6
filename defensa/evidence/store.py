"""Store cleaned photos and videos (defensa.core.media) and record them, inside an action.

Called from `receive_report()` and `report_finding()`, inside their transaction: every name
written is appended to `written`, so the caller removes the files (`media.remove`) when the
transaction fails. `media.StoreUnavailable` when the file store cannot be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defensa.core import media
from defensa.evidence.models import Kind, Media
from defensa.evidence.photos import CleanPhoto
from defensa.evidence.video import CleanVideo


def save_media(
    *,
    report: Any = None,
    offer: Any = None,
    photos: Sequence[CleanPhoto] = (),
    videos: Sequence[CleanVideo] = (),
    written: list[str],
) -> list[Media]:
    """Store the files and their rows; return the rows (their sha256 go in the audit record)."""
    stored: list[Media] = []
    for photo in photos:
        relative = media.put("evidence", "jpg", photo.data, written=written)
        stored.append(
            Media.objects.create(
                report=report,
                offer=offer,
                kind=Kind.PHOTO,
                file=relative,
                content_type="image/jpeg",
                original_sha256=photo.original_sha256,
                sha256=photo.sha256,
                size=len(photo.data),
                width=photo.width,
                height=photo.height,
            )
        )
    for video in videos:
        # From this machine's incoming folder to the store; the local copy is then removed.
        relative = media.put("evidence", video.extension, video.path, written=written)
        stored.append(
            Media.objects.create(
                report=report,
                offer=offer,
                kind=Kind.VIDEO,
                file=relative,
                content_type=video.content_type,
                original_sha256=video.original_sha256,
                sha256=video.sha256,
                size=video.size,
                width=video.width,
                height=video.height,
                duration_ms=video.duration_ms,
            )
        )
    return stored
