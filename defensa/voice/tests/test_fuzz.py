"""Hypothesis over the voice webhooks: any signed input gets TwiML or 204, never a 500, and
leaves no partial rows (a voicemail past recording always has its report, and back)."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (our own TwiML, in tests)
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from defensa.reports.models import Report
from defensa.testing.peers.voice import BASE, client_poster
from defensa.voice import actions
from defensa.voice.models import Voicemail, VoicemailStatus

pytestmark = pytest.mark.django_db

HOTLINE = "+12135550100"
PATHS = ["incoming", "language", "dialed", "screen", "screen/answer", "recorded", "recording"]
_text = st.text(max_size=80).map(lambda s: s.replace("\x00", ""))
_value = st.one_of(
    _text,
    st.sampled_from(
        [
            HOTLINE,
            "+13235550142",
            "CA" + "1" * 32,
            "RE" + "2" * 32,
            "1",
            "2",
            "9",
            "",
            "completed",
            "absent",
            "no-answer",
            "busy",
            "0",
            "12",
            "-3",
            "99999999999",
        ]
    ),
)
_params = st.dictionaries(
    st.sampled_from(
        [
            "CallSid",
            "From",
            "To",
            "Digits",
            "DialCallStatus",
            "DialCallDuration",
            "RecordingSid",
            "RecordingStatus",
            "RecordingDuration",
            "X",
        ]
    ),
    _value,
)
_query = st.dictionaries(
    st.sampled_from(["lang", "stage", "x"]),
    st.one_of(st.sampled_from(["es", "en", "fallback", "operators", "zz"]), _text),
)


@pytest.fixture
def hotline(net, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.VOICE_FALLBACK_NUMBERS = []
    return actions.set_hotline(net.boyle, HOTLINE)


@hsettings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.sampled_from(PATHS), _query, _params), min_size=1, max_size=4))
def test_any_signed_voice_webhook_gets_an_answer_and_leaves_no_partial_rows(
    client, hotline, voice_peer, steps
):
    post = client_poster(client)
    for path, query, params in steps:
        url = f"{BASE}/voice/{path}/"
        if query:
            url += "?" + urlencode(query)
        status, body = post(url, params)
        assert status in (200, 204), (path, query, params, status)
        if status == 200:
            assert ET.fromstring(body).tag == "Response"  # noqa: S314
    for voicemail in Voicemail.objects.all():
        if voicemail.status == VoicemailStatus.RECORDING:
            assert voicemail.report_id is None
        else:
            assert voicemail.report_id is not None
            assert voicemail.recording_sid
    assert Report.objects.filter(voicemail__isnull=True).count() == 0
