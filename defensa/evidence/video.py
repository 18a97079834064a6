"""Videos stripped of their metadata by ffmpeg, or refused (security property 15).

A phone's video carries where and when it was shot (QuickTime `location`, `©xyz`,
`creation_time`), the phone's make and model, sometimes subtitles or data tracks with a GPS
trace. ffmpeg copies the pictures and the sound into a new file and nothing else: no global,
stream or chapter metadata, no data, subtitle or attachment streams. The streams are copied,
not re-encoded, so it is fast and the picture is exactly what the phone recorded.

Only MP4/QuickTime and Matroska/WebM files are opened, each with its own demuxer named
explicitly and only the `file` protocol allowed, so a crafted "video" (an HLS playlist, a
concat list) cannot make ffmpeg read another file or fetch a URL.

When ffmpeg is not installed (or `DEFENSA_FFMPEG` is empty) video is refused with a message
saying so; photos work without it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess  # noqa: S404  ffmpeg is the tool made for this; arguments are never a shell
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

PROBE_TIMEOUT_S = 30
REMUX_TIMEOUT_S = 120
_MOV_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_EBML = b"\x1a\x45\xdf\xa3"
# (output muxer, file extension, content type), in the order tried for each input family.
_OUTPUTS = {
    "mov": [("mp4", "mp4", "video/mp4")],
    "matroska": [("webm", "webm", "video/webm"), ("mp4", "mp4", "video/mp4")],
}


class BadVideo(ValueError):
    """Not a video we can clean, or video is off. The message is for the person (translated)."""


@dataclass(frozen=True)
class CleanVideo:
    """A stripped video waiting in MEDIA_ROOT's incoming folder until a report stores it."""

    path: Path
    original_sha256: str
    sha256: str
    size: int
    width: int | None
    height: int | None
    duration_ms: int
    content_type: str
    extension: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def tools() -> tuple[str, str] | None:
    """(ffmpeg, ffprobe) when both are installed, else None."""
    if not settings.FFMPEG_PATH:
        return None
    ffmpeg = shutil.which(settings.FFMPEG_PATH)
    if ffmpeg is None:
        return None
    ffprobe = Path(ffmpeg).with_name("ffprobe")
    if not ffprobe.is_file():
        return None
    return ffmpeg, str(ffprobe)


def incoming_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "evidence" / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# A video is cleaned and stored within one request; anything older in the incoming folder was
# left by a crash (a killed worker, a power cut) between ffmpeg and the report's transaction.
STALE_INCOMING_SECONDS = 3600


def purge_stale_incoming(now: float | None = None) -> int:
    """Delete half-finished files older than an hour from the incoming folder; how many."""
    folder = Path(settings.MEDIA_ROOT) / "evidence" / "incoming"
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - STALE_INCOMING_SECONDS
    removed = 0
    for path in folder.iterdir():
        try:
            if not path.is_dir() and path.lstat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # a request finished with it meanwhile
            continue
    return removed


def unavailable_message() -> str:
    return _(
        "This server cannot accept videos right now. Photos still work: please send photos "
        "instead, or describe what you saw."
    )


def _not_video() -> str:
    return _("The video could not be read. Please send an MP4, MOV or WebM video, or photos.")


def _too_big() -> str:
    return _("The video is too large or too long. Send at most %(mb)s MB, %(s)s seconds.") % {
        "mb": settings.VIDEO_MAX_MB,
        "s": settings.VIDEO_MAX_SECONDS,
    }


def _family(head: bytes) -> str | None:
    if head[:4] == _EBML:
        return "matroska"
    if len(head) >= 8 and head[4:8] in _MOV_BOXES:
        return "mov"
    return None


def run_tool(args: list[str], timeout: int) -> subprocess.CompletedProcess[bytes] | None:
    """Run ffmpeg or ffprobe (a list of arguments, never a shell); None when it could not run
    or took longer than `timeout` seconds. Also used for the hotline's recordings."""
    try:
        return subprocess.run(  # noqa: S603  a list of arguments, no shell
            args, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except (subprocess.TimeoutExpired, OSError):
        return None


def probe(
    ffprobe: str,
    path: Path,
    demuxer: str | None,
    *,
    entries: str = "format=duration:stream=codec_type,width,height",
    timeout: int = PROBE_TIMEOUT_S,
) -> dict[str, Any] | None:
    """What ffprobe says of a local file (`entries`), read as `demuxer` when given, or None.
    Only the file protocol: a file naming a URL inside is not followed."""
    forced = ["-f", demuxer] if demuxer else []
    done = run_tool(
        [
            ffprobe,
            "-v",
            "error",
            "-protocol_whitelist",
            "file",
            *forced,
            "-show_entries",
            entries,
            "-of",
            "json",
            str(path),
        ],
        timeout,
    )
    if done is None or done.returncode != 0:
        return None
    try:
        found = json.loads(done.stdout or b"{}")
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _duration_s(probe: dict[str, Any]) -> float | None:
    try:
        value = float(probe.get("format", {}).get("duration"))
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def _video_stream(probe: dict[str, Any]) -> dict[str, Any] | None:
    for stream in probe.get("streams") or []:
        if isinstance(stream, dict) and stream.get("codec_type") == "video":
            return stream
    return None


def clean_video(upload: Any) -> CleanVideo:
    """Copy the upload's pictures and sound into a new file without metadata; hash both."""
    found = tools()
    if found is None:
        raise BadVideo(unavailable_message())
    ffmpeg, ffprobe = found
    limit = settings.VIDEO_MAX_MB * 1024 * 1024
    too_big = _too_big()
    folder = incoming_dir()
    source = folder / f"in-{secrets.token_hex(16)}"
    original = hashlib.sha256()
    size = 0
    head = b""
    try:
        with source.open("wb") as out:
            chunks = upload.chunks() if hasattr(upload, "chunks") else [upload.getvalue()]
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise BadVideo(too_big)
                if len(head) < 12:
                    head += chunk[: 12 - len(head)]
                original.update(chunk)
                out.write(chunk)
        family = _family(head)
        if family is None:
            raise BadVideo(_not_video())
        probe_found = probe(ffprobe, source, family)
        if probe_found is None or _video_stream(probe_found) is None:
            raise BadVideo(_not_video())
        duration = _duration_s(probe_found)
        if duration is not None and duration > settings.VIDEO_MAX_SECONDS:
            raise BadVideo(too_big)
        for muxer, extension, content_type in _OUTPUTS[family]:
            target = folder / f"{secrets.token_hex(16)}.{extension}"
            if _remux(ffmpeg, source, family, target, muxer):
                try:
                    return _checked(ffprobe, target, muxer, original.hexdigest(), content_type)
                except BadVideo:
                    target.unlink(missing_ok=True)
                    raise
            target.unlink(missing_ok=True)
        raise BadVideo(_not_video())
    finally:
        source.unlink(missing_ok=True)


def _remux(ffmpeg: str, source: Path, demuxer: str, target: Path, muxer: str) -> bool:
    args = [
        ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-protocol_whitelist",
        "file",
        "-f",
        demuxer,
        "-i",
        str(source),
        # Pictures (not cover art) and sound; no data, subtitle or attachment streams.
        "-map",
        "0:V",
        "-map",
        "0:a?",
        "-dn",
        "-sn",
        # No global, per-stream or chapter metadata; no encoder-version tags.
        "-map_metadata",
        "-1",
        "-map_metadata:s",
        "-1",
        "-map_chapters",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-c",
        "copy",
    ]
    if muxer == "mp4":
        args += ["-movflags", "+faststart"]
    args += ["-f", muxer, str(target)]
    done = run_tool(args, REMUX_TIMEOUT_S)
    return done is not None and done.returncode == 0 and target.is_file()


def _checked(
    ffprobe: str, target: Path, muxer: str, original_sha256: str, content_type: str
) -> CleanVideo:
    probe_found = probe(ffprobe, target, "matroska" if muxer == "webm" else "mov")
    stream = _video_stream(probe_found) if probe_found else None
    duration = _duration_s(probe_found) if probe_found else None
    if stream is None or duration is None:
        raise BadVideo(_not_video())
    if duration > settings.VIDEO_MAX_SECONDS:
        raise BadVideo(_too_big())
    digest = hashlib.sha256()
    with target.open("rb") as stored:
        for block in iter(lambda: stored.read(1 << 20), b""):
            digest.update(block)

    def dimension(name: str) -> int | None:
        value = stream.get(name)
        return value if isinstance(value, int) and value > 0 else None

    return CleanVideo(
        path=target,
        original_sha256=original_sha256,
        sha256=digest.hexdigest(),
        size=target.stat().st_size,
        width=dimension("width"),
        height=dimension("height"),
        duration_ms=int(duration * 1000),
        content_type=content_type,
        extension=target.suffix.lstrip("."),
    )
