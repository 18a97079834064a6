"""clean_video on its own: anything that is not a video is refused, never a crash, nothing left
behind. (The public report's video, end to end, is tested in defensa/reports/tests.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from defensa.evidence.video import BadVideo, clean_video


@hyp_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    head=st.sampled_from(
        [b"", b"\x00\x00\x00\x18ftyp", b"\x1a\x45\xdf\xa3", b"\x00\x00\x00\x08moov"]
    ),
    body=st.binary(max_size=2000),
)
def test_garbage_is_refused_never_crashes(head: bytes, body: bytes) -> None:
    from django.conf import settings

    with pytest.raises(BadVideo):
        clean_video(io.BytesIO(head + body))
    incoming = Path(settings.MEDIA_ROOT) / "evidence" / "incoming"
    assert not incoming.exists() or not any(incoming.iterdir())
