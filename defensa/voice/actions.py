"""Voice hotline writes: hotline numbers, voicemails, their recordings and callback reports."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from defensa.accounts.models import User, mask_phone
from defensa.audit.log import record
from defensa.audit.reveals import RevealQuota as RevealQuota  # re-exported for the views
from defensa.audit.reveals import record_reveal
from defensa.committees.models import Committee
from defensa.core import crypto, media
from defensa.incidents.models import Category
from defensa.notify.actions import queue_message
from defensa.notify.models import Priority
from defensa.reports.actions import key_digest, receive_report
from defensa.reports.models import Channel
from defensa.voice import audio, provider
from defensa.voice.models import (
    PENDING_RETENTION,
    VOICEMAIL_RETENTION,
    Hotline,
    VoiceLanguage,
    Voicemail,
    VoicemailStatus,
    VoicePrompt,
)
from defensa.voice.routing import dispatchers_to_alert, e164

# The alert to dispatchers when a voicemail arrives (templates in voice/templates/notify/).
VOICEMAIL_MESSAGE = "voice_voicemail"


class InvalidHotline(ValueError):
    """A hotline cannot be set up this way; the message says why."""


def call_key(call_sid: str) -> str:
    return key_digest(f"voice-call:{call_sid}")


@transaction.atomic
def set_hotline(
    committee: Committee,
    number: str,
    *,
    fallback_numbers: Sequence[str] = (),
    fallback_members: Sequence[User] | None = (),
    actor: Any = None,
) -> Hotline:
    """Point a number at a committee (or change its fallback group). `fallback_members=None`
    keeps the number's fallback members while it stays with its committee, and drops them
    when it moves to another (they are members of the committee it leaves)."""
    normal = e164(number)
    if not normal:
        raise InvalidHotline(f"{number!r} is not a phone number in E.164 form (+12135550100)")
    numbers = []
    for raw in fallback_numbers:
        fallback = e164(raw)
        if not fallback:
            raise InvalidHotline(f"fallback {raw!r} is not a phone number")
        numbers.append(fallback)
    previous = Hotline.objects.filter(number=normal).values_list("committee_id", flat=True).first()
    if fallback_members is None:
        fallback_members = (
            list(Hotline.objects.get(number=normal).fallback_members.all())
            if previous == committee.pk
            else []
        )
    hotline, created = Hotline.objects.update_or_create(
        number=normal, defaults={"committee": committee, "fallback_numbers": numbers}
    )
    hotline.fallback_members.set(fallback_members)
    record(
        "voice.hotline_set",
        actor=actor,
        obj=hotline,
        committee=committee.pk,
        created=created,
        moved_from=previous if previous not in (None, committee.pk) else None,
        fallback_numbers=len(numbers),
        fallback_members=[m.pk for m in fallback_members],
    )
    return hotline


class HotlineInUse(ValueError):
    """The number still holds voicemails: removing it would delete them."""


@transaction.atomic
def remove_hotline(hotline: Hotline, *, actor: Any) -> None:
    """Stop answering a number for its committee. A number that still holds voicemails (reports
    someone must call back) is refused: point it at another committee instead."""
    if hotline.voicemails.exists():  # type: ignore[attr-defined]
        raise HotlineInUse(hotline.number)
    pk, committee = hotline.pk, hotline.committee_id
    hotline.delete()
    record("voice.hotline_removed", actor=actor, obj=None, hotline=pk, committee=committee)


def start_voicemail(hotline: Hotline, *, call_sid: str, caller: str, language: str) -> Voicemail:
    """Note that this call reached voicemail, keeping the number to call back.

    A provider retry of the same webhook finds the row written the first time.
    """
    key = call_key(call_sid)
    existing = Voicemail.objects.filter(call_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            number = e164(caller)
            voicemail = Voicemail.objects.create(
                hotline=hotline, call_key=key, language=language, caller_hint=mask_phone(number)
            )
            # The number is kept only sealed, under the voicemail's own data key.
            voicemail.data_key = crypto.new_key("voice.voicemail")
            if number:
                crypto.seal(voicemail, "caller_number", number)
            voicemail.save(update_fields=["data_key", "caller_number"])
            record(
                "voice.voicemail_started",
                obj=voicemail,
                committee=hotline.committee_id,
                hotline=hotline.pk,
            )
    except IntegrityError:
        # The same webhook, retried concurrently, committed first.
        return Voicemail.objects.get(call_key=key)
    return voicemail


def receive_voicemail(call_sid: str, *, recording_sid: str, duration_s: int) -> Voicemail | None:
    """The recording is ready: make the callback report, in the hotline committee's queue.

    Returns None (and writes nothing) when the call never reached our voicemail. A second
    callback for the same recording changes nothing.
    """
    with transaction.atomic():
        voicemail = (
            Voicemail.objects.select_for_update()
            .select_related("hotline")
            .filter(call_key=call_key(call_sid))
            .first()
        )
        if voicemail is None:
            return None
        if voicemail.status != VoicemailStatus.RECORDING:
            return voicemail
        # A voicemail has no place: its incident goes to the committee whose number was called.
        # A report is in a language of the site; a caller who chose a recorded one (Mixtec) is
        # said so on the voicemail, and the report is in the network's language.
        site = {code for code, _name in settings.LANGUAGES}
        language = voicemail.language if voicemail.language in site else settings.LANGUAGE_CODE
        report = receive_report(
            {"category": Category.OTHER, "description": "", "language": language},
            channel=Channel.VOICE,
            idempotency_key=f"voice:{recording_sid}",
            committee=voicemail.hotline.committee,
        ).report
        voicemail.report = report
        voicemail.recording_sid = recording_sid
        voicemail.duration_s = duration_s
        voicemail.status = VoicemailStatus.FETCHING
        voicemail.received_at = timezone.now()
        voicemail.save(
            update_fields=["report", "recording_sid", "duration_s", "status", "received_at"]
        )
        # Someone must call back: the committee's dispatchers on duty hear of it at once, in
        # their own language. The message names the report, never the caller's number.
        alerted = dispatchers_to_alert(voicemail.hotline, voicemail.received_at)
        for dispatcher in alerted:
            queue_message(
                dispatcher,
                VOICEMAIL_MESSAGE,
                {"voicemail": voicemail.pk},
                priority=Priority.URGENT,
                idempotency_key=f"voice_voicemail:{voicemail.pk}:{dispatcher.pk}",
                audit=False,  # this action's record names who was alerted
            )
        record(
            "voice.voicemail_received",
            obj=voicemail,
            committee=voicemail.hotline.committee_id,
            report=report.pk,
            incident=report.incident_id,
            duration_s=duration_s,
            alerted=[d.pk for d in alerted],
        )
    return voicemail


def discard_voicemail(call_sid: str) -> bool:
    """The caller left no recording: forget the pending row (and the number in it)."""
    with transaction.atomic():
        voicemail = (
            Voicemail.objects.select_for_update()
            .filter(call_key=call_key(call_sid), status=VoicemailStatus.RECORDING)
            .first()
        )
        if voicemail is None:
            return False
        record("voice.voicemail_discarded", obj=voicemail, committee=voicemail.hotline.committee_id)
        voicemail.delete()
    return True


def audio_aad(voicemail: Voicemail) -> str:
    return f"voice.voicemail.file#{voicemail.pk}"


def _write(voicemail: Voicemail, data: bytes, written: list[str]) -> str:
    """Keep the recording sealed under the voicemail's data key; the store never sees audio."""
    if voicemail.data_key is None:
        raise ValueError("a voicemail is given its data key when it starts")
    sealed = crypto.encrypt(voicemail.data_key, data, aad=audio_aad(voicemail))
    return media.put("voice", "sealed", sealed, written=written, sealed=True)


def read_audio(voicemail: Voicemail) -> bytes | None:
    """The recording in the clear, for the access-checked audio view; None if it is gone."""
    if voicemail.status != VoicemailStatus.STORED or not voicemail.file:
        return None
    if voicemail.data_key is None:
        return None
    blob = media.read(voicemail.file)
    if blob is None:
        return None
    try:
        return crypto.decrypt(voicemail.data_key, blob, aad=audio_aad(voicemail))
    except crypto.KeyShredded:
        return None


def listen_audio(voicemail: Voicemail, *, actor: User) -> bytes | None:
    """The recording for one person to hear: a caller's voice is as identifying as their
    number, so every opening is audited and counted like a reveal (RevealQuota past it)."""
    if voicemail.status != VoicemailStatus.STORED or not voicemail.file:
        return None  # nothing sealed to open
    record_reveal(
        "voice.recording",
        actor=actor,
        obj=voicemail,
        committee=voicemail.hotline.committee_id,
    )
    return read_audio(voicemail)


def store_recording(voicemail: Voicemail) -> bool:
    """Fetch the recording from the provider, keep it, then delete it there if configured.

    Network first, outside any transaction; a failure is noted on the row (the callback
    report exists already) and `manage.py fetch_voicemails` tries again. True when stored.
    """
    if voicemail.status != VoicemailStatus.FETCHING or not voicemail.recording_sid:
        return voicemail.status == VoicemailStatus.STORED
    try:
        audio = provider.fetch_recording(voicemail.recording_sid)
    except provider.ProviderError as exc:
        Voicemail.objects.filter(pk=voicemail.pk).update(
            fetch_attempts=voicemail.fetch_attempts + 1, last_error=str(exc)[:200]
        )
        return False
    written: list[str] = []
    try:
        relative = _write(voicemail, audio.data, written)
    except media.StoreUnavailable as exc:
        media.remove(written)
        Voicemail.objects.filter(pk=voicemail.pk).update(
            fetch_attempts=voicemail.fetch_attempts + 1, last_error=str(exc)[:200]
        )
        return False
    try:
        with transaction.atomic():
            locked = Voicemail.objects.select_for_update().get(pk=voicemail.pk)
            if locked.status != VoicemailStatus.FETCHING:
                media.remove(written)  # another worker stored it first
                return locked.status == VoicemailStatus.STORED
            locked.file = relative
            locked.content_type = audio.content_type
            locked.sha256 = hashlib.sha256(audio.data).hexdigest()
            locked.size = len(audio.data)
            locked.status = VoicemailStatus.STORED
            locked.fetch_attempts += 1
            locked.last_error = ""
            locked.save(
                update_fields=[
                    "file",
                    "content_type",
                    "sha256",
                    "size",
                    "status",
                    "fetch_attempts",
                    "last_error",
                ]
            )
            record(
                "voice.recording_stored",
                obj=locked,
                committee=locked.hotline.committee_id,
                size=locked.size,
            )
    except BaseException:
        media.remove(written)
        raise
    voicemail.refresh_from_db()
    if settings.VOICE_DELETE_FROM_PROVIDER:
        delete_from_provider(voicemail)
    return True


def delete_from_provider(voicemail: Voicemail) -> bool:
    """Delete the stored recording's copy at the provider; the row notes when."""
    if voicemail.deleted_from_provider_at or voicemail.status != VoicemailStatus.STORED:
        return bool(voicemail.deleted_from_provider_at)
    try:
        provider.delete_recording(voicemail.recording_sid)
    except provider.ProviderError as exc:
        Voicemail.objects.filter(pk=voicemail.pk).update(last_error=str(exc)[:200])
        return False
    with transaction.atomic():
        voicemail.deleted_from_provider_at = timezone.now()
        voicemail.last_error = ""
        voicemail.save(update_fields=["deleted_from_provider_at", "last_error"])
        record(
            "voice.recording_deleted_at_provider",
            obj=voicemail,
            committee=voicemail.hotline.committee_id,
        )
    return True


def reveal_caller_number(voicemail: Voicemail, *, actor: User) -> str:
    """The caller's number, for this one response; every reveal is audited and counted
    against the hourly quota (defensa.audit.reveals; RevealQuota past it)."""
    record_reveal(
        "voice.caller_number",
        actor=actor,
        obj=voicemail,
        committee=voicemail.hotline.committee_id,
    )
    try:
        return crypto.unseal(voicemail, "caller_number") or ""
    except crypto.KeyShredded:
        return ""


def purge_voicemails(now: dt.datetime | None = None) -> int:
    """Delete voicemails past their retention (rows and audio) and pending ones a day old."""
    now = now or timezone.now()
    old = Voicemail.objects.filter(created_at__lt=now - VOICEMAIL_RETENTION)
    stale = Voicemail.objects.filter(
        status=VoicemailStatus.RECORDING, created_at__lt=now - PENDING_RETENTION
    )
    doomed = list((old | stale).distinct())
    if not doomed:
        return 0
    with transaction.atomic():
        ids = [v.pk for v in doomed]
        Voicemail.objects.filter(pk__in=ids).delete()
        record("voice.voicemails_purged", count=len(ids))
    for voicemail in doomed:
        if voicemail.file:
            media.remove([voicemail.file])
    return len(doomed)


# Recorded prompts (network admins) ------------------------------------------------------


class PromptRefused(ValueError):
    """The recording or the language cannot be kept this way; the message says why."""


@transaction.atomic
def add_voice_language(
    code: str, name: str, digit: str, *, speakers: Sequence[User] = (), actor: Any
) -> VoiceLanguage:
    """A language for the hotline menu, on its own key, with the operators who speak it."""
    language = VoiceLanguage.objects.create(code=code, name=name, digit=digit)
    language.speakers.set(speakers)
    record(
        "voice.language_added",
        actor=actor,
        obj=language,
        code=code,
        digit=digit,
        speakers=[s.pk for s in speakers],
    )
    return language


@transaction.atomic
def update_voice_language(
    language: VoiceLanguage, *, name: str, digit: str, speakers: Sequence[User], actor: Any
) -> VoiceLanguage:
    language.name, language.digit = name, digit
    language.save(update_fields=["name", "digit"])
    language.speakers.set(speakers)
    record(
        "voice.language_changed",
        actor=actor,
        obj=language,
        digit=digit,
        speakers=[s.pk for s in speakers],
    )
    return language


@transaction.atomic
def remove_voice_language(language: VoiceLanguage, *, actor: Any) -> None:
    """The language leaves the menu; its recordings go with it (files and rows)."""
    pk, code = language.pk, language.code
    steps = list(language.prompts.values_list("step", flat=True))  # type: ignore[attr-defined]
    language.delete()
    record("voice.language_removed", actor=actor, obj=None, language=pk, code=code, steps=steps)


def store_prompt(language: VoiceLanguage, step: str, upload: Any, *, actor: Any) -> VoicePrompt:
    """Check the upload, keep it as the language's recording of the step (replacing any
    earlier one), audited. Bad input raises audio.BadRecording and stores nothing."""
    recording = audio.check_recording(upload)  # the slow part, outside any transaction
    written: list[str] = []
    try:
        with transaction.atomic():
            name = media.put("voice-prompts", audio.EXTENSION, recording.data, written=written)
            old = VoicePrompt.objects.filter(language=language, step=step).first()
            replaced = old is not None
            if old is not None:
                old.delete()  # its file goes once this commits (core.retention)
            prompt = VoicePrompt.objects.create(
                language=language,
                step=step,
                file=name,
                duration_ms=recording.duration_ms,
                size=len(recording.data),
                sha256=recording.sha256,
            )
            record(
                "voice.prompt_uploaded",
                actor=actor,
                obj=prompt,
                language=language.code,
                step=step,
                replaced=replaced,
                duration_ms=recording.duration_ms,
                sha256=recording.sha256,
                source_format=recording.source_format,
            )
    except BaseException:
        media.remove(written)
        raise
    return prompt


@transaction.atomic
def remove_prompt(prompt: VoicePrompt, *, actor: Any) -> None:
    pk, language, step = prompt.pk, prompt.language.code, prompt.step
    prompt.delete()
    record("voice.prompt_removed", actor=actor, obj=None, prompt=pk, language=language, step=step)
