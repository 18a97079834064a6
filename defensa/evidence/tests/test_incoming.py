"""Half-finished uploads a crash left behind are deleted after an hour."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from django.core.management import call_command

from defensa.evidence.video import STALE_INCOMING_SECONDS, incoming_dir, purge_stale_incoming


def _aged(path: Path, seconds: float) -> Path:
    path.write_bytes(b"half a video")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_files_a_crash_left_in_the_incoming_folder_are_deleted_after_an_hour(settings):  # type: ignore[no-untyped-def]
    folder = incoming_dir()
    old_source = _aged(folder / "in-0123", STALE_INCOMING_SECONDS + 60)
    old_output = _aged(folder / "abcd.mp4", 2 * STALE_INCOMING_SECONDS)
    # A video being cleaned right now (a request in progress) is left alone.
    fresh = _aged(folder / "in-4567", 30)
    stored = _aged(Path(settings.MEDIA_ROOT) / "evidence" / "kept.mp4", 10 * STALE_INCOMING_SECONDS)

    out = io.StringIO()
    call_command("purge_incoming_videos", stdout=out)
    assert "2 deleted" in out.getvalue()
    assert not old_source.exists() and not old_output.exists()
    assert fresh.exists() and stored.exists()
    assert purge_stale_incoming() == 0


def test_no_incoming_folder_is_nothing_to_do(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "nothing-here"
    assert purge_stale_incoming() == 0
    assert not (tmp_path / "nothing-here").exists()
