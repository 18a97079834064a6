"""Recorded prompts: checking the recordings, who may manage them, who may fetch them, and the
hotline menu heard through the loopback voice peer choosing a recorded language."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from defensa.audit.models import AuditEntry
from defensa.core import media
from defensa.voice import actions, audio, prompts
from defensa.voice.models import Step, VoiceLanguage, VoicePrompt
from defensa.voice.tests.test_hotline import CALLER, HOTLINE, operator

pytestmark = pytest.mark.django_db


def sound(tmp_path: Path, seconds: float, kind: str = "wav") -> bytes:
    """A real tone of `seconds`, made by ffmpeg, as WAV, MP3 or OGG."""
    codec = {
        "wav": ["-c:a", "pcm_s16le"],
        "mp3": ["-c:a", "libmp3lame"],
        "ogg": ["-c:a", "libvorbis"],
    }
    out = tmp_path / f"tone-{seconds}.{kind}"
    subprocess.run(  # noqa: S603
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency=440:duration={seconds}:sample_rate=22050",
            *codec[kind], str(out),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return out.read_bytes()


def upload(data: bytes, name: str = "prompt.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="audio/wav")


@pytest.fixture
def media_root(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VOICE_FALLBACK_NUMBERS = []
    # The menu follows the site's languages: these tests hear English and Spanish only.
    settings.LANGUAGES = [("en", "English"), ("es", "Español")]
    return settings.MEDIA_ROOT


@pytest.fixture
def mixtec(net, media_root):  # type: ignore[no-untyped-def]
    return actions.add_voice_language("mix", "Tu'un savi", "4", actor=net.admin)


# The checks ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wav", "mp3", "ogg"])
def test_a_short_recording_in_each_format_becomes_telephone_wav(tmp_path, kind):
    checked = audio.check_recording(upload(sound(tmp_path, 1.5, kind), f"x.{kind}"))
    assert checked.source_format == kind
    assert checked.data[:4] == b"RIFF" and checked.data[8:12] == b"WAVE"
    assert 1300 <= checked.duration_ms <= 1700
    # 8 kHz mono 16-bit: about 16 000 bytes a second.
    assert 20_000 < len(checked.data) < 28_000


def test_the_format_is_read_from_the_content_not_the_name(tmp_path):
    checked = audio.check_recording(upload(sound(tmp_path, 1, "mp3"), "prompt.wav"))
    assert checked.source_format == "mp3"


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"Hello, this is not a sound file at all.\n" * 40, "prompt.mp3", "not a recording"),
        (b"", "empty.wav", "empty"),
        (b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10, "broken.wav", "not a recording"),
    ],
)
def test_what_is_not_a_recording_is_refused(data, name, words):
    with pytest.raises(audio.BadRecording, match=words):
        audio.check_recording(upload(data, name))


def test_too_short_and_too_long_are_refused(tmp_path):
    with pytest.raises(audio.BadRecording, match="between"):
        audio.check_recording(upload(sound(tmp_path, 0.1)))
    with pytest.raises(audio.BadRecording, match="between"):
        audio.check_recording(upload(sound(tmp_path, 600, "mp3"), "ten-minutes.mp3"))


def test_a_file_past_the_size_cap_is_refused_unread(monkeypatch, tmp_path):
    monkeypatch.setattr(audio, "MAX_BYTES", 1000)
    with pytest.raises(audio.BadRecording, match="too large"):
        audio.check_recording(upload(sound(tmp_path, 1)))


# The page --------------------------------------------------------------------------------


def test_an_admin_adds_a_language_and_uploads_its_menu_recording(
    client_as, net, media_root, tmp_path, django_capture_on_commit_callbacks
):
    client = client_as(net.admin)
    response = client.post(
        reverse("voice:languages"), {"code": "mix", "name": "Tu'un savi", "digit": "4"}
    )
    language = VoiceLanguage.objects.get()
    assert response.status_code == 302
    page = reverse("voice:language_page", args=[language.pk])
    response = client.post(page, {"step": "menu", "recording": upload(sound(tmp_path, 2))})
    assert response.status_code == 302
    prompt = VoicePrompt.objects.get()
    assert prompt.step == Step.MENU and media.read(prompt.file)[:4] == b"RIFF"
    actions_seen = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"voice.language_added", "voice.prompt_uploaded"} <= actions_seen
    listing = client.get(reverse("voice:languages")).content.decode()
    assert "Tu&#x27;un savi" in listing and "your recordings" in listing
    # Removing it is audited, and its file goes with it.
    name = prompt.file
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("voice:remove_prompt", args=[language.pk, "menu"]))
    assert not VoicePrompt.objects.exists()
    assert AuditEntry.objects.filter(action="voice.prompt_removed").count() == 1
    assert media.read(name) is None


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"just text, renamed\n" * 30, "renamed.mp3"),
        (b"", "empty.mp3"),
        (None, "ten-minutes.mp3"),
    ],
)
def test_a_bad_upload_gets_a_clear_error_and_stores_nothing(
    client_as, net, mixtec, media_root, tmp_path, data, name
):
    if data is None:
        data = sound(tmp_path, 600, "mp3")
    client = client_as(net.admin)
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("voice:language_page", args=[mixtec.pk]),
        {"step": "menu", "recording": upload(data, name)},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "not a recording we can play" in body or "between" in body or "empty" in body
    assert not VoicePrompt.objects.exists()
    assert AuditEntry.objects.count() == before
    assert not any(Path(media_root).rglob("*.wav"))


def test_the_page_speaks_spanish_to_a_spanish_admin(client_as, net, mixtec, tmp_path):
    net.admin.language = "es"
    net.admin.save()
    client = client_as(net.admin)
    response = client.post(
        reverse("voice:language_page", args=[mixtec.pk]),
        {"step": "menu", "recording": upload(b"texto\n" * 50, "x.mp3")},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "No es una grabación que podamos reproducir" in response.content.decode()


@pytest.mark.parametrize("who", ["ana", "dani", "vero", None])
def test_only_network_admins_reach_the_recordings_pages(client, client_as, net, mixtec, who):
    if who:
        client = client_as(getattr(net, who))
    for url in (
        reverse("voice:languages"),
        reverse("voice:language_page", args=[mixtec.pk]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("voice:remove_language", args=[mixtec.pk])).status_code == 404
    assert VoiceLanguage.objects.exists()


# Who may fetch a recording -----------------------------------------------------------------


def test_a_recording_is_served_only_at_a_valid_signed_link(client, mixtec, tmp_path, settings):
    prompt = actions.store_prompt(mixtec, Step.MENU, upload(sound(tmp_path, 1)), actor=None)
    url = prompts.link(prompt)
    path = url[len(settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")) :]
    served = client.get(path)
    assert served.status_code == 200 and served["Content-Type"] == "audio/wav"
    assert served.content == media.read(prompt.file)
    assert "no-store" in served["Cache-Control"]
    assert client.get(reverse("voice:prompt_audio")).status_code == 403
    assert client.get(path[:-3] + "abc").status_code == 403
    # A link outlives neither its time nor the recording it named.
    settings.SECRET_KEY = "another key entirely, as on another server"
    assert client.get(path).status_code == 403


def test_a_link_expires(client, mixtec, tmp_path, settings, monkeypatch):
    prompt = actions.store_prompt(mixtec, Step.MENU, upload(sound(tmp_path, 1)), actor=None)
    path = prompts.link(prompt)[len(settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")) :]
    monkeypatch.setattr(prompts, "LINK_SECONDS", -1)
    assert client.get(path).status_code == 403


def test_a_replaced_recording_kills_the_old_link(client, mixtec, tmp_path, settings):
    first = actions.store_prompt(mixtec, Step.MENU, upload(sound(tmp_path, 1)), actor=None)
    old = prompts.link(first)[len(settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")) :]
    actions.store_prompt(mixtec, Step.MENU, upload(sound(tmp_path, 2)), actor=None)
    assert client.get(old).status_code == 403
    assert VoicePrompt.objects.count() == 1


# The menu, through the loopback voice peer ------------------------------------------------


@pytest.fixture
def recorded_mixtec(mixtec, tmp_path):  # type: ignore[no-untyped-def]
    for step, seconds in (
        (Step.MENU, 1),
        (Step.CONNECTING, 1.2),
        (Step.VOICEMAIL, 1.4),
        (Step.THANKS, 1.6),
    ):
        actions.store_prompt(mixtec, step, upload(sound(tmp_path, seconds)), actor=None)
    return mixtec


def test_the_menu_offers_a_recorded_language_in_its_own_voice(
    net, recorded_mixtec, voice_peer, media_root
):
    actions.set_hotline(net.boyle, HOTLINE)
    call = voice_peer.call(CALLER, HOTLINE, presses=[None], message=None)
    # English and Spanish by the provider's voice on 1 and 2, Mixtec's own recording on 4.
    assert ("en-US", "For English, press 1.") in call.said
    assert ("es-MX", "Para español, oprima 2.") in call.said
    [menu] = call.played[:1]
    assert menu.status == 200 and menu.content_type == "audio/wav"
    menu_prompt = VoicePrompt.objects.get(step=Step.MENU)
    assert menu.data == media.read(menu_prompt.file)
    assert [kind for kind, *_rest in call.heard_in_order][:3] == ["say", "say", "play"]


def test_a_mixtec_caller_hears_mixtec_and_rings_the_mixtec_speakers_first(
    net, recorded_mixtec, voice_peer, media_root
):
    actions.set_hotline(net.boyle, HOTLINE)
    speaker = operator("juana", net.boyle, language="es", phone="+12135550211")
    operator("olga", net.boyle, language="es", phone="+12135550212")
    recorded_mixtec.speakers.set([speaker])
    call = voice_peer.call(CALLER, HOTLINE, presses=["4"], answerers={"+12135550211": "1"})
    assert call.dials[0].numbers == ["+12135550211"]
    assert call.connected_to == "+12135550211"
    connecting = VoicePrompt.objects.get(step=Step.CONNECTING)
    assert call.played[-1].data == media.read(connecting.file)
    # The operator's screen names the language in itself.
    [(_number, whisper)] = call.screens
    assert any("Tu'un savi" in text for _lang, text in whisper)


def test_a_mixtec_voicemail_plays_the_recordings_and_the_rest_in_the_networks_language(
    net, recorded_mixtec, voice_peer, media_root
):
    from defensa.testing.peers.voice import AUDIO
    from defensa.voice.models import Voicemail

    actions.set_hotline(net.boyle, HOTLINE)
    call = voice_peer.call(CALLER, HOTLINE, presses=["4"], message=AUDIO)
    played = [p.data for p in call.played]
    by_step = {p.step: media.read(p.file) for p in VoicePrompt.objects.all()}
    # Nobody on shift and no fallback: straight to voicemail, in Mixtec, then thanks.
    assert by_step[Step.VOICEMAIL] in played and by_step[Step.THANKS] in played
    assert all(p.status == 200 for p in call.played)
    assert Voicemail.objects.get().language == "mix"


def test_a_recorded_language_without_its_menu_recording_is_not_offered(
    net, mixtec, voice_peer, media_root
):
    actions.set_hotline(net.boyle, HOTLINE)
    assert [c.code for c in prompts.menu()] == ["en", "es"]
    call = voice_peer.call(CALLER, HOTLINE, presses=["4"], answerers={})
    assert call.played == []
    assert "Please stay on the line" in call.heard("en-US") or call.records


def test_with_ten_languages_the_providers_take_the_keys_left_and_the_rest_need_recordings(
    net, mixtec, tmp_path, settings
):
    settings.LANGUAGES = [(code, code) for code in ("en", "es", "zh-hans", "zh-hant", "ko")] + [
        (code, code) for code in ("tl", "vi", "hy", "ar", "ht")
    ]
    actions.store_prompt(mixtec, Step.MENU, upload(sound(tmp_path, 1)), actor=None)
    armenian = actions.add_voice_language("hy", "Հայերեն", "7", actor=None)
    menu = [(c.digit, c.code, c.recorded is not None) for c in prompts.menu()]
    # The provider's voice speaks five of the ten; Mixtec keeps its 4; Armenian, without its
    # menu recording yet, is not offered, and no language is read in a voice not its own.
    assert menu == [
        ("1", "en", False),
        ("2", "es", False),
        ("3", "zh-hans", False),
        ("4", "mix", True),
        ("5", "zh-hant", False),
        ("6", "ko", False),
    ]
    actions.store_prompt(armenian, Step.MENU, upload(sound(tmp_path, 1)), actor=None)
    assert ("7", "hy", True) in [(c.digit, c.code, c.recorded is not None) for c in prompts.menu()]
