"""The voice hotline end to end, against a loopback peer speaking Twilio Voice's webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from defensa.accounts.models import Skill, SkillKind
from defensa.audit.models import AuditEntry
from defensa.committees.models import Shift
from defensa.core import crypto
from defensa.core.testing import join, make_user
from defensa.reports.models import Report
from defensa.testing.peers.voice import AUDIO
from defensa.voice import actions
from defensa.voice.models import Hotline, Voicemail, VoicemailStatus

pytestmark = pytest.mark.django_db

HOTLINE = "+12135550100"
CALLER = "+13235550142"
FALLBACK = "+13235550300"


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.VOICE_FALLBACK_NUMBERS = []
    return tmp_path


@pytest.fixture
def hotline(net, media):  # type: ignore[no-untyped-def]
    return actions.set_hotline(net.boyle, HOTLINE)


def operator(name, committee, *, language="en", phone, on_duty=True, full=True, **skill):  # type: ignore[no-untyped-def]
    person = make_user(name, language=language, phone=phone, on_duty=on_duty)
    join(person, committee, full=full)
    Skill.objects.create(user=person, kind=SkillKind.HOTLINE, **skill)
    return person


@pytest.fixture
def ops(net):  # type: ignore[no-untyped-def]
    """Boyle Heights' hotline operators, and people who must never ring."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    people = {
        "olga": operator("olga", net.boyle, language="es", phone="+12135550201"),
        "rosa": operator("rosa", net.boyle, language="es", phone="(213) 555-0202"),
        "evan": operator("evan", net.boyle, phone="+12135550203"),
        # On probation, inactive, off shift, trained long ago, another committee, no phone:
        "pia": operator("pia", net.boyle, language="es", phone="+12135550204", full=False),
        "ines": operator("ines", net.boyle, language="es", phone="+12135550205"),
        "otto": operator("otto", net.boyle, language="es", phone="+12135550206", on_duty=False),
        "exa": operator(
            "exa", net.boyle, language="es", phone="+12135550207", expires_on=yesterday
        ),
        "east": operator("eastop", net.east, language="es", phone="+12135550208"),
        "nophone": operator("nophone", net.boyle, language="es", phone=""),
    }
    people["ines"].is_active = False
    people["ines"].save()
    # Vero verifies but does not answer the hotline: the skill decides, not being on duty.
    net.vero.on_duty = True
    net.vero.save()
    return people


def on_shift_now(person, committee):  # type: ignore[no-untyped-def]
    """A shift covering this moment in the committee's zone (and the switch off)."""
    person.on_duty = False
    person.save()
    local = timezone.now().astimezone(committee.tz)
    start = (local - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    weekday = (local - dt.timedelta(hours=1)).weekday()
    membership = person.memberships.get(committee=committee)
    Shift.objects.create(membership=membership, weekday=weekday, start=start, end=end)


# The menu ---------------------------------------------------------------------------------


def test_the_menu_offers_each_language_in_that_language(hotline, voice_peer):
    call = voice_peer.call(CALLER, HOTLINE, presses=[None], message=None)
    menu = call.gathers[0]
    assert menu["numDigits"] == "1"
    assert menu["timeout"] == "6"
    assert ("en-US", "For English, press 1.") in call.said
    assert ("es-MX", "Para español, oprima 2.") in call.said


def test_no_key_pressed_means_the_networks_language(hotline, voice_peer, settings):
    settings.VOICE_FALLBACK_NUMBERS = [FALLBACK]
    call = voice_peer.call(CALLER, HOTLINE, presses=[None], answerers={FALLBACK: "1"})
    assert "Please stay on the line" in call.heard("en-US")
    assert call.connected_to == FALLBACK


# Ringing the operators ------------------------------------------------------------------


def test_a_spanish_caller_rings_every_spanish_speaking_operator_on_shift_at_once(
    hotline, ops, voice_peer
):
    call = voice_peer.call(CALLER, HOTLINE, presses=["2"], answerers={"+12135550202": "1"})

    [dial] = call.dials
    # Olga and Rosa speak Spanish; probation, inactive, off shift, expired training, another
    # committee and no phone never ring; Evan speaks English only.
    assert dial.numbers == ["+12135550201", "+12135550202"]
    assert dial.caller_id == HOTLINE
    assert dial.timeout == 20
    assert dial.screened
    assert call.connected_to == "+12135550202"
    assert "Le estamos comunicando con una persona voluntaria" in call.heard("es-MX")
    # Rosa heard who is calling and took the call with 1.
    [(number, whisper)] = call.screens
    assert number == "+12135550202"
    assert any("Pulsa 1" in text for _lang, text in whisper)
    assert Voicemail.objects.count() == 0
    assert Report.objects.count() == 0


def test_an_english_caller_rings_the_english_speakers(hotline, ops, voice_peer):
    call = voice_peer.call(CALLER, HOTLINE, presses=["1"], answerers={"+12135550203": "1"})
    assert call.dials[0].numbers == ["+12135550203"]
    assert call.connected_to == "+12135550203"


def test_when_nobody_speaks_the_language_every_operator_rings(hotline, ops, voice_peer):
    ops["evan"].on_duty = False
    ops["evan"].save()
    call = voice_peer.call(CALLER, HOTLINE, presses=["1"], answerers={"+12135550201": "1"})
    assert call.dials[0].numbers == ["+12135550201", "+12135550202"]


def test_an_operator_on_a_shift_rings_with_the_switch_off(hotline, ops, net, voice_peer):
    on_shift_now(ops["otto"], net.boyle)
    call = voice_peer.call(CALLER, HOTLINE, presses=["2"], answerers={"+12135550206": "1"})
    assert "+12135550206" in call.dials[0].numbers
    assert call.connected_to == "+12135550206"


def test_a_voicemail_box_that_answers_does_not_take_the_call(hotline, ops, voice_peer):
    hotline.fallback_numbers = [FALLBACK]
    hotline.save()
    call = voice_peer.call(
        CALLER, HOTLINE, presses=["2"], answerers={"+12135550201": None, FALLBACK: "1"}
    )
    assert [d.status for d in call.dials] == ["no-answer", "completed"]
    assert call.connected_to == FALLBACK


def test_screening_can_be_turned_off(hotline, ops, voice_peer, settings):
    settings.VOICE_SCREEN_CALLS = False
    call = voice_peer.call(CALLER, HOTLINE, presses=["2"], answerers={"+12135550201": None})
    assert not call.dials[0].screened
    assert call.connected_to == "+12135550201"  # without a screen, any answer takes it


# The fallback group ---------------------------------------------------------------------


def test_nobody_answering_rings_the_fallback_group(hotline, ops, net, voice_peer):
    hotline.fallback_numbers = [FALLBACK]
    hotline.save()
    hotline.fallback_members.set([net.ana])
    call = voice_peer.call(CALLER, HOTLINE, presses=["2"], answerers={FALLBACK: "1"})
    assert [d.numbers for d in call.dials] == [
        ["+12135550201", "+12135550202"],
        [net.ana.phone, FALLBACK],
    ]
    assert call.connected_to == FALLBACK
    assert Voicemail.objects.count() == 0


def test_nobody_on_shift_goes_straight_to_the_fallback_group(hotline, net, voice_peer):
    hotline.fallback_numbers = [FALLBACK]
    hotline.save()
    call = voice_peer.call(CALLER, HOTLINE, presses=["1"], answerers={FALLBACK: "1"})
    assert [d.numbers for d in call.dials] == [[FALLBACK]]


def test_the_settings_fallback_serves_a_hotline_without_its_own(hotline, voice_peer, settings):
    settings.VOICE_FALLBACK_NUMBERS = ["+1 323 555 0301", "not a number"]
    call = voice_peer.call(CALLER, HOTLINE, presses=["1"], answerers={"+13235550301": "1"})
    assert [d.numbers for d in call.dials] == [["+13235550301"]]


# Voicemail ------------------------------------------------------------------------------


def _voicemail_call(voice_peer, **kwargs):  # type: ignore[no-untyped-def]
    return voice_peer.call(CALLER, HOTLINE, presses=["2"], message=AUDIO, **kwargs)


@pytest.mark.parametrize("status_callback_first", [False, True])
def test_a_voicemail_is_stored_deleted_at_the_provider_and_becomes_a_callback_report(
    hotline, ops, net, voice_peer, media, client_as, status_callback_first
):
    call = _voicemail_call(voice_peer, status_callback_first=status_callback_first)

    assert [d.status for d in call.dials] == ["no-answer"]  # operators; no fallback group
    [record] = call.records
    assert record["maxLength"] == "120"
    assert record["finishOnKey"] == "#"
    assert "Después del tono" in call.heard("es-MX")
    assert "Gracias" in call.heard("es-MX")
    assert all(status in (200, 204) for _url, status in call.statuses)

    voicemail = Voicemail.objects.get()
    assert voicemail.status == VoicemailStatus.STORED
    assert crypto.unseal(voicemail, "caller_number") == CALLER
    assert CALLER.encode() not in bytes(voicemail.caller_number)
    assert voicemail.language == "es"
    assert voicemail.duration_s == 12
    stored = Path(media) / voicemail.file
    # On disk only sealed under the voicemail's data key; the audio view opens it.
    assert AUDIO not in stored.read_bytes()
    assert actions.read_audio(voicemail) == AUDIO
    assert voicemail.sha256 == hashlib.sha256(AUDIO).hexdigest()
    recording = voice_peer.recordings[call.recording_sid]
    assert recording.fetched == 1
    assert recording.deleted
    assert voicemail.deleted_from_provider_at is not None

    report = voicemail.report
    assert report.channel == "voice"
    assert report.language == "es"
    assert report.incident.committee == net.boyle
    actions_logged = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "reports.received",
        "voice.voicemail_received",
        "voice.recording_stored",
    } <= actions_logged

    # The dispatcher finds it in the console with a player, and may play it.
    dani = client_as(net.dani)
    page = dani.get(f"/dispatch/boyle-heights/?incident={report.incident_id}").content.decode()
    assert f'src="/voice/voicemails/{voicemail.pk}/audio/"' in page
    audio = dani.get(f"/voice/voicemails/{voicemail.pk}/audio/")
    assert audio.status_code == 200
    assert audio.content == AUDIO
    assert audio["Cache-Control"] == "no-store"
    assert audio["Content-Type"] == "audio/mpeg"


def test_a_second_recording_callback_changes_nothing(hotline, voice_peer, client):
    from defensa.testing.peers.voice import client_poster

    call = _voicemail_call(voice_peer)
    before = (Report.objects.count(), AuditEntry.objects.count())
    params = {
        "CallSid": call.sid,
        "RecordingSid": call.recording_sid,
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
    }
    status, _ = client_poster(client)("https://defensa.example.org/voice/recording/", params)
    assert status == 204
    assert (Report.objects.count(), AuditEntry.objects.count()) == before


def test_only_the_committees_dispatchers_and_coordinators_hear_a_voicemail(
    hotline, net, voice_peer, client, client_as
):
    _voicemail_call(voice_peer)
    voicemail = Voicemail.objects.get()
    for person in (net.ana, net.dani):
        assert client_as(person).get(f"/voice/voicemails/{voicemail.pk}/audio/").status_code == 200
        client.logout()
    for person in (net.vero, net.mo, net.pat, net.omar, net.lucia):
        assert client_as(person).get(f"/voice/voicemails/{voicemail.pk}/audio/").status_code == 404
        assert client_as(person).get(f"/voice/voicemails/{voicemail.pk}/").status_code == 404
        client.logout()
    assert client.get(f"/voice/voicemails/{voicemail.pk}/audio/").status_code in (302, 404)


def test_hearing_a_recording_is_audited_and_counted_like_any_reveal(
    hotline, net, voice_peer, client_as, settings
):
    # Issue 9, point 8: a caller's voice is decrypted for a person only through the one
    # reveal rule.
    from defensa.audit.reveals import record_reveal

    settings.PHONE_REVEALS_PER_HOUR = 1
    _voicemail_call(voice_peer)
    voicemail = Voicemail.objects.get()
    dani = client_as(net.dani)
    assert dani.get(f"/voice/voicemails/{voicemail.pk}/audio/").content == AUDIO
    heard = AuditEntry.objects.filter(action="voice.recording_revealed", actor_id=net.dani.pk)
    assert heard.count() == 1 and heard.get().object_id == str(voicemail.pk)
    # Ana has used her hour on another record: the recording stays sealed for her.
    record_reveal("member.phone", actor=net.ana, obj=net.mo)
    refused = client_as(net.ana).get(f"/voice/voicemails/{voicemail.pk}/audio/")
    assert refused.status_code == 429 and AUDIO not in refused.content
    assert AuditEntry.objects.filter(action="voice.recording_reveal_refused").count() == 1


def test_the_callers_number_is_masked_until_revealed_and_each_reveal_is_audited(
    hotline, net, voice_peer, client_as
):
    _voicemail_call(voice_peer)
    voicemail = Voicemail.objects.get()
    dani = client_as(net.dani)
    page = dani.get(f"/voice/voicemails/{voicemail.pk}/").content.decode()
    assert CALLER not in page
    assert "Reveal the caller's number" in page
    assert "•••-•••-••42" in page
    revealed = dani.post(f"/voice/voicemails/{voicemail.pk}/").content.decode()
    assert CALLER in revealed
    entry = AuditEntry.objects.get(action="voice.caller_number_revealed")
    assert entry.actor_id == net.dani.pk
    assert CALLER not in str(entry.data)


def test_a_recording_the_provider_cannot_give_yet_is_fetched_later(hotline, voice_peer):
    voice_peer.fail_fetches = 1
    _voicemail_call(voice_peer)
    voicemail = Voicemail.objects.get()
    # The callback report exists at once; only the audio waits.
    assert voicemail.report is not None
    assert voicemail.status == VoicemailStatus.FETCHING
    assert voicemail.last_error == "recording fetch answered 500"

    call_command("fetch_voicemails", stdout=open("/dev/null", "w"))  # noqa: SIM115

    voicemail.refresh_from_db()
    assert voicemail.status == VoicemailStatus.STORED
    assert voicemail.deleted_from_provider_at is not None


def test_provider_copies_are_kept_when_deletion_is_off(hotline, voice_peer, settings):
    settings.VOICE_DELETE_FROM_PROVIDER = False
    call = _voicemail_call(voice_peer)
    assert not voice_peer.recordings[call.recording_sid].deleted
    assert Voicemail.objects.get().deleted_from_provider_at is None


def test_a_caller_who_hangs_up_without_a_message_leaves_nothing(hotline, voice_peer):
    call = voice_peer.call(CALLER, HOTLINE, presses=["1"], message=None)
    assert call.records
    assert Voicemail.objects.count() == 0
    assert Report.objects.count() == 0


def test_purge_removes_old_voicemails_and_their_audio(hotline, voice_peer, media):
    _voicemail_call(voice_peer)
    voicemail = Voicemail.objects.get()
    path = Path(media) / voicemail.file
    assert actions.purge_voicemails() == 0
    later = timezone.now() + dt.timedelta(days=31)
    assert actions.purge_voicemails(later) == 1
    assert not path.exists()
    assert Report.objects.count() == 1  # the report keeps its own retention


# Numbers and refusals -------------------------------------------------------------------


def test_a_number_that_is_no_hotline_stores_nothing(net, voice_peer, media):
    call = voice_peer.call(CALLER, "+12135550999", presses=["1"], message=AUDIO)
    assert "not in service" in call.heard("en-US")
    assert call.hung_up
    assert Voicemail.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    ["incoming", "language", "dialed", "screen", "screen/answer", "recorded", "recording"],
)
@pytest.mark.parametrize("headers", [{}, {"HTTP_X_TWILIO_SIGNATURE": "bm90IGEgc2lnbmF0dXJl"}])
def test_an_unsigned_or_badly_signed_webhook_gets_403_and_stores_nothing(
    hotline, client, voice_peer, path, headers
):
    before = AuditEntry.objects.count()
    params = {
        "CallSid": "CA" + "1" * 32,
        "From": CALLER,
        "To": HOTLINE,
        "Digits": "2",
        "DialCallStatus": "no-answer",
        "RecordingSid": "RE" + "1" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": "5",
    }
    response = client.post(f"/voice/{path}/?lang=es&stage=fallback", params, **headers)
    assert response.status_code == 403
    assert Voicemail.objects.count() == 0
    assert Report.objects.count() == 0
    assert AuditEntry.objects.count() == before


def test_the_hotline_command_maps_a_number_to_a_committee(net, media):
    out = open("/dev/null", "w")  # noqa: SIM115
    call_command(
        "voice_hotline",
        "boyle-heights",
        "+1 (213) 555-0100",
        "--fallback",
        FALLBACK,
        "--fallback-member",
        "ana@example.org",
        stdout=out,
    )
    hotline = Hotline.objects.get()
    assert (hotline.number, hotline.committee, hotline.fallback_numbers) == (
        HOTLINE,
        net.boyle,
        [FALLBACK],
    )
    assert list(hotline.fallback_members.all()) == [net.ana]
    with pytest.raises(Exception, match="not an active member"):
        call_command(
            "voice_hotline",
            "boyle-heights",
            HOTLINE,
            "--fallback-member",
            "omar@example.org",
            stdout=out,
        )
