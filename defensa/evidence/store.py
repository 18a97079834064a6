"""Write cleaned photos and videos under MEDIA_ROOT and record them, inside a caller's action.

Called from `receive_report()` and `report_finding()`, inside their transaction: every path
written is appended to `written`, so the caller removes the files when the transaction fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from defensa.evidence.models import Kind, Media
from defensa.evidence.photos import CleanPhoto
from defensa.evidence.video import CleanVideo


def _target(extension: str) -> tuple[str, Path]:
    relative = f"evidence/{secrets.token_hex(16)}.{extension}"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return relative, path


def save_media(
    *,
    report: Any = None,
    offer: Any = None,
    photos: Sequence[CleanPhoto] = (),
    videos: Sequence[CleanVideo] = (),
    written: list[Path],
) -> list[Media]:
    """Store the files and their rows; return the rows (their sha256 go in the audit record)."""
    stored: list[Media] = []
    for photo in photos:
        relative, path = _target("jpg")
        written.append(path)
        path.write_bytes(photo.data)
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
        relative, path = _target(video.extension)
        written.append(path)
        # Same folder tree, same file system: the move is a rename.
        os.replace(video.path, path)
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
