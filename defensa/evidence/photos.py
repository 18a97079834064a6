"""Photos re-encoded from their pixels, so no metadata survives (security property 15).

EXIF (with GPS), XMP, IPTC, ICC profiles and comments live beside the pixels in an image
file. Decoding to pixels and encoding a new JPEG keeps only what the eye sees. The SHA-256 of
the upload and of the stored file are kept, so a reporter's own copy can later be shown to be
the one we received.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from defensa.core import imaging

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"}
MAX_UPLOAD_BYTES = 12 * 1024 * 1024
JPEG_QUALITY = 88


class BadPhoto(ValueError):
    """Not an image we can clean. The message is for the person (already translated)."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    original_sha256: str
    sha256: str
    width: int
    height: int


def clean_photo(
    upload: UploadedFile | io.BytesIO, *, too_big: str, not_image: str, too_heavy: str = ""
) -> CleanPhoto:
    """Decode, apply the orientation to the pixels, drop everything else, encode as JPEG.

    `too_big` is the message for too many pixels, `too_heavy` (default: `too_big`) for a
    file of more than MAX_UPLOAD_BYTES.

    Decoding is bounded (defensa/core/imaging.py): the declared size is checked from the
    header first, and one process decodes only so many at once (raises imaging.Busy).
    """
    original = hashlib.sha256()
    raw = io.BytesIO()
    size = 0
    chunks = upload.chunks() if hasattr(upload, "chunks") else [upload.getvalue()]
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise BadPhoto(too_heavy or too_big)
        original.update(chunk)
        raw.write(chunk)
    raw.seek(0)
    with imaging.decode_slot():
        fresh = _decode(raw, too_big=too_big, not_image=not_image)
        out = io.BytesIO()
        fresh.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    data = out.getvalue()
    return CleanPhoto(
        data=data,
        original_sha256=original.hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        width=fresh.width,
        height=fresh.height,
    )


def _decode(raw: io.BytesIO, *, too_big: str, not_image: str) -> Image.Image:
    """The upright pixels alone, in a new image; at most two copies of them exist at once."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(raw) as img:
                if img.format not in ACCEPTED_FORMATS:
                    raise BadPhoto(not_image)
                if not imaging.fit_declared_size(img):  # from the header, before decoding
                    raise BadPhoto(too_big)
                img.load()
                # The EXIF orientation is about to be dropped: turn the pixels instead.
                ImageOps.exif_transpose(img, in_place=True)
                pixels = img
                if img.mode != "RGB":
                    pixels = img.convert("RGB")
                    img.close()  # frees the decoded copy before the fresh one is made
                # A fresh image from the pixel data alone: no info, no EXIF, ICC or comments.
                fresh = Image.new("RGB", pixels.size)
                fresh.paste(pixels)
                del pixels
                return fresh
    except BadPhoto:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadPhoto(too_big) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise BadPhoto(not_image) from exc
