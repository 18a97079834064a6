"""A voicemail alerts the committee's on-duty dispatchers at once: urgent, in their language,
once, and without the caller's number."""

from __future__ import annotations

import pytest

from defensa.audit.models import AuditEntry
from defensa.core.testing import join, make_user
from defensa.notify import messages
from defensa.notify.models import Delivery, Priority
from defensa.testing.peers.voice import AUDIO, client_poster
from defensa.voice.models import Voicemail
from defensa.voice.tests.test_hotline import (
    CALLER,
    HOTLINE,
    _voicemail_call,
    hotline,
    media,
    on_shift_now,
)

__all__ = ["hotline", "media"]
pytestmark = pytest.mark.django_db

CALLER_DIGITS = ("3235550142", "555-0142", "0142")


def _dispatcher(name, committee, **fields):  # type: ignore[no-untyped-def]
    person = make_user(name, **fields)
    join(person, committee, is_dispatcher=True)
    return person


def _no_caller_number(text: str) -> None:
    for digits in (CALLER, *CALLER_DIGITS):
        assert digits not in text, digits


def test_the_on_duty_dispatchers_are_alerted_once_in_their_language(
    hotline, net, voice_peer, client
):
    net.dani.on_duty = True
    net.dani.notify_sms = True
    net.dani.save()
    eve = _dispatcher("eve", net.boyle, language="en", phone="+12135550301", on_duty=True)
    # Off duty, but on a shift right now: on duty too.
    sam = _dispatcher("sam", net.boyle, language="en", phone="+12135550302")
    on_shift_now(sam, net.boyle)
    # Not alerted: off duty without a shift; a dispatcher elsewhere; on probation.
    _dispatcher("off", net.boyle, phone="+12135550303", on_duty=False)
    _dispatcher("elsewhere", net.east, phone="+12135550304", on_duty=True)
    probation = make_user("newbie", on_duty=True)
    join(probation, net.boyle, full=False, is_dispatcher=True)

    call = _voicemail_call(voice_peer)
    voicemail = Voicemail.objects.get()

    alerts = Delivery.objects.filter(template="voice_voicemail")
    assert {d.recipient for d in alerts} == {net.dani, eve, sam}
    assert {d.priority for d in alerts} == {Priority.URGENT}
    assert {d.context["voicemail"] for d in alerts} == {voicemail.pk}
    entry = AuditEntry.objects.get(action="voice.voicemail_received")
    assert sorted(entry.data["alerted"]) == sorted([net.dani.pk, eve.pk, sam.pk])

    # In each person's language, naming the report and the page; never the caller's number.
    spanish = messages.render(alerts.get(recipient=net.dani, channel="sms"))
    assert "buzón" in spanish.body and voicemail.report.reference in spanish.body
    assert f"/voice/voicemails/{voicemail.pk}/" in spanish.body
    english = messages.render(alerts.get(recipient=eve, channel="email"))
    assert "call back" in english.subject and voicemail.report.reference in english.subject
    assert "12 seconds" in english.body and "the caller chose español" in english.body
    for rendered in (spanish, english):
        _no_caller_number(rendered.subject + rendered.body)
    for delivery in alerts:
        _no_caller_number(str(delivery.context))

    # The provider retrying the callback alerts nobody twice.
    count = alerts.count()
    params = {
        "CallSid": call.sid,
        "RecordingSid": call.recording_sid,
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
    }
    client_poster(client)("https://defensa.example.org/voice/recording/", params)
    assert Delivery.objects.filter(template="voice_voicemail").count() == count


def test_with_nobody_on_duty_every_dispatcher_of_the_committee_hears_of_it(
    hotline, net, voice_peer
):
    net.dani.on_duty = False
    net.dani.save()
    _voicemail_call(voice_peer)
    assert {d.recipient for d in Delivery.objects.filter(template="voice_voicemail")} == {net.dani}


def test_a_call_without_a_message_alerts_nobody(hotline, net, voice_peer):
    voice_peer.call(CALLER, HOTLINE, presses=["1"], message=None)
    assert not Delivery.objects.filter(template="voice_voicemail").exists()


def test_an_alert_whose_voicemail_was_purged_still_renders_without_details(
    hotline, net, voice_peer
):
    net.dani.on_duty = True
    net.dani.save()
    voice_peer.call(CALLER, HOTLINE, presses=["2"], message=AUDIO)
    delivery = Delivery.objects.filter(template="voice_voicemail", channel="email").first()
    Voicemail.objects.all().delete()
    rendered = messages.render(delivery)
    assert rendered.body.strip() and "/voice/voicemails/" not in rendered.body
