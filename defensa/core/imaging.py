"""Bounds on decoding images: a small upload must not cost the server gigabytes.

An image file says its size in its header, and a few kilobytes can declare tens of millions
of pixels (a "decompression bomb"). Three bounds hold, in this order:

1. `fit_declared_size(img)`, on a freshly opened image (Pillow's `Image.open` reads the
   header only): at most `max_pixels()` are ever decoded. A JPEG declaring up to
   JPEG_DOWNSCALE x that many is decoded at half its size by the JPEG decoder itself
   (`draft`, DCT scaling: the full-size pixels never exist); anything larger is refused.
   `Image.MAX_IMAGE_PIXELS` is set to that largest declared size, so Pillow itself refuses
   above it wherever an image is opened in this process.
2. `decode_slot()`: at most IMAGE_DECODE_SLOTS decodes at once in one process, and at most as
   many requests waiting for one; any more are told at once that the server is busy, so a
   flood of uploads cannot occupy every web thread and starve the public pages.
3. Each decode keeps at most two copies of the pixels (photos.py), so a worker's memory is
   bounded by its base plus IMAGE_DECODE_SLOTS x 2 x 4 bytes x max_pixels() (Pillow stores an
   RGB pixel in 4 bytes). docs/performance.md, "Hostile uploads", states and measures it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import math

from django.conf import settings
from PIL import Image

from defensa.core import slots

# A JPEG up to this many times max_pixels() is decoded at half size (50-megapixel phone modes).
JPEG_DOWNSCALE = 4


def max_pixels() -> int:
    return settings.PHOTO_MAX_MEGAPIXELS * 1_000_000


Image.MAX_IMAGE_PIXELS = JPEG_DOWNSCALE * max_pixels()

# glibc hands big blocks (Pillow allocates pixels in blocks of up to 16 MB) from per-thread
# heaps once a first big block was freed, and keeps them: each web thread that decoded a photo
# then holds its own ~200 MB, and a worker's memory grows with its threads (measured: 504 MB
# peak for one decode at a time on four threads, 260 MB with this). A fixed threshold makes
# every block of 4 MB or more a mapping of its own, given back to the system when freed.
_M_MMAP_THRESHOLD = -3


def _big_blocks_mapped() -> None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 4 * 1024 * 1024)
    except (OSError, AttributeError):  # not glibc (musl, macOS): their own allocators
        pass


_big_blocks_mapped()


Busy = slots.Busy  # every decode slot of this process is taken and the short queue is full


def fit_declared_size(img: Image.Image) -> bool:
    """True when decoding `img` will give at most max_pixels() (a big JPEG is set to decode
    at half size); False when it must be refused as too large. Reads nothing but the header."""
    limit = max_pixels()
    width, height = img.size
    if width * height <= limit:
        return True
    if img.format != "JPEG" or width * height > JPEG_DOWNSCALE * limit:
        return False
    img.draft(None, (math.ceil(width / 2), math.ceil(height / 2)))
    return img.size[0] * img.size[1] <= limit


_slots = slots.Slots(settings.IMAGE_DECODE_SLOTS, settings.IMAGE_DECODE_WAIT_SECONDS)


def decode_slot() -> contextlib.AbstractContextManager[None]:
    """Hold one of this process's decode slots (raises Busy when none comes free in time)."""
    return _slots.slot()
