"""A tiny phone-like video with the tags that give a person away, made by the real ffmpeg."""

from __future__ import annotations

import json
import shutil
import subprocess  # noqa: S404
from pathlib import Path

LOCATION = "+34.0331-118.2083/"
CANARIES = (b"34.0331", b"CanaryPhone", b"2025-06-10", b"CanaryTrack", b"CanaryChapter")


def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    # A missing tool is a failure, never a skip: scripts/ensure-test-tools installs it.
    assert found, "ffmpeg is missing: run scripts/ensure-test-tools (Debian package ffmpeg)"
    return found


def ffprobe_tags(path: Path) -> dict:
    done = subprocess.run(  # noqa: S603
        [
            str(Path(ffmpeg()).with_name("ffprobe")),
            "-v",
            "error",
            "-show_entries",
            "format_tags:stream_tags:chapters:stream=codec_type",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


def gps_video(folder: Path, *, seconds: float = 1, container: str = "mp4") -> bytes:
    """A video with GPS, creation time, make, a subtitle track and a chapter in its tags."""
    folder.mkdir(parents=True, exist_ok=True)
    chapters = folder / "chapters.txt"
    chapters.write_text(
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=CanaryChapter\n"
    )
    subs = folder / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:00,900\nGPS 34.0331 -118.2083\n")
    out = folder / f"phone.{container}"
    video = ["-c:v", "libx264", "-pix_fmt", "yuv420p"] if container == "mp4" else ["-c:v", "libvpx"]
    subtitle_codec = "mov_text" if container == "mp4" else "webvtt"
    subprocess.run(  # noqa: S603
        [
            ffmpeg(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=64x48:rate=10:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-i",
            str(subs),
            "-i",
            str(chapters),
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-map_metadata",
            "3",
            "-map_chapters",
            "3",
            *video,
            "-c:a",
            "aac" if container == "mp4" else "libopus",
            "-c:s",
            subtitle_codec,
            "-metadata",
            f"location={LOCATION}",
            "-metadata",
            f"com.apple.quicktime.location.ISO6709={LOCATION}",
            "-metadata",
            "com.apple.quicktime.make=CanaryPhone",
            "-metadata",
            "creation_time=2025-06-10T08:00:00Z",
            "-metadata:s:v:0",
            "title=CanaryTrack",
            *(["-movflags", "use_metadata_tags"] if container == "mp4" else []),
            str(out),
        ],
        capture_output=True,
        check=True,
    )
    return out.read_bytes()
