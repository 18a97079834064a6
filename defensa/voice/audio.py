"""Checking a recorded prompt, and making it what a phone line plays.

An upload is opened only as WAV, MP3 or OGG, told apart by its first bytes (never by its
name), with that format's demuxer named to ffprobe and only the `file` protocol allowed (a
crafted file cannot make it read anything else). It must hold sound, last more than
MIN_SECONDS and at most MAX_SECONDS, and weigh at most MAX_BYTES. ffmpeg then re-encodes it as
8 kHz mono 16-bit WAV, what a telephone line carries anyway, which every provider plays and
which keeps none of the file's own metadata (a recorder's name in an MP3 tag). Anything else
is refused with a translated message and nothing is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from defensa.evidence.video import probe, run_tool, tools

MAX_BYTES = 16 * 1024 * 1024  # a minute of CD-quality stereo WAV is about 10 MB
MIN_SECONDS = 0.3
MAX_SECONDS = 60
TIMEOUT_S = 30
CONTENT_TYPE = "audio/wav"
EXTENSION = "wav"


class BadRecording(ValueError):
    """Not a recording we can play; the message is for the person (translated)."""


@dataclass(frozen=True)
class Recording:
    data: bytes  # the telephone WAV
    duration_ms: int
    sha256: str
    source_format: str  # "wav", "mp3" or "ogg", as the upload was


def sniff(head: bytes) -> str:
    """The upload's format from its first bytes, or ""."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return ""


def _seconds(probe: dict[str, Any]) -> float | None:
    values = [probe.get("format", {}).get("duration")]
    values += [s.get("duration") for s in probe.get("streams") or [] if isinstance(s, dict)]
    for value in values:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return seconds
    return None


def _not_audio() -> str:
    return _("This is not a recording we can play. Upload a WAV, MP3 or OGG sound file.")


def _length() -> str:
    return _("A recording must last between %(min)s and %(max)s seconds.") % {
        "min": MIN_SECONDS,
        "max": MAX_SECONDS,
    }


def check_recording(upload: Any) -> Recording:
    """The upload as telephone WAV, or BadRecording saying why not."""
    found = tools()
    if found is None:
        raise BadRecording(
            _("This server cannot check recordings: ffmpeg is not installed. Ask your admin.")
        )
    ffmpeg, ffprobe = found
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise BadRecording(
            _("The file is too large: at most %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)}
        )
    if not size:
        raise BadRecording(_("The file is empty."))
    with tempfile.TemporaryDirectory(prefix="prompt-") as folder:
        source = Path(folder) / f"in-{secrets.token_hex(8)}"
        written = 0
        with source.open("wb") as out:
            chunks = upload.chunks() if hasattr(upload, "chunks") else [upload.read()]
            for chunk in chunks:
                written += len(chunk)
                if written > MAX_BYTES:
                    raise BadRecording(
                        _("The file is too large: at most %(mb)s MB.")
                        % {"mb": MAX_BYTES // (1024 * 1024)}
                    )
                out.write(chunk)
        with source.open("rb") as got:
            kind = sniff(got.read(16))
        if not kind:
            raise BadRecording(_not_audio())
        found = probe(
            ffprobe,
            source,
            kind,
            entries="format=duration:stream=codec_type,duration",
            timeout=TIMEOUT_S,
        )
        if found is None or not any(
            isinstance(s, dict) and s.get("codec_type") == "audio"
            for s in found.get("streams") or []
        ):
            raise BadRecording(_not_audio())
        seconds = _seconds(found)
        if seconds is None:
            raise BadRecording(_not_audio())
        if not MIN_SECONDS < seconds <= MAX_SECONDS:
            raise BadRecording(_length())
        target = Path(folder) / "out.wav"
        done = run_tool(
            [
                ffmpeg,
                "-v",
                "error",
                "-nostdin",
                "-protocol_whitelist",
                "file",
                "-f",
                kind,
                "-i",
                str(source),
                "-map",
                "0:a:0",
                "-fflags",
                "+bitexact",
                "-map_metadata",
                "-1",
                "-ac",
                "1",
                "-ar",
                "8000",
                "-c:a",
                "pcm_s16le",
                "-t",
                str(MAX_SECONDS),
                "-f",
                "wav",
                str(target),
            ],
            TIMEOUT_S,
        )
        if done is None or done.returncode != 0 or not target.is_file():
            raise BadRecording(_not_audio())
        data = target.read_bytes()
    if len(data) <= 44:  # a WAV header and no sound
        raise BadRecording(_not_audio())
    return Recording(
        data=data,
        duration_ms=round(seconds * 1000),
        sha256=hashlib.sha256(data).hexdigest(),
        source_format=kind,
    )
