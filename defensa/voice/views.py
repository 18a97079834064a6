"""The voice hotline's webhooks (TwiML), and the voicemail page for dispatchers.

A call: incoming -> language menu -> every on-shift hotline operator rings at once (each
answer is screened: "press 1 to take this call") -> nobody -> the fallback group -> nobody ->
voicemail, which becomes a callback report. Every webhook is public (the provider has no
account) but signed: a bad signature gets 403 and nothing is stored (property 20). The
language and the stage travel in our own URLs, which the provider signs with the rest.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from defensa.core import media
from defensa.core.access import public
from defensa.notify.transports.twilio.webhook import SID, twilio_webhook
from defensa.voice import actions, prompts, routing
from defensa.voice.access import (
    get_hotline_for,
    get_voice_language_for,
    get_voice_prompt_for,
    get_voicemail_for,
    hotlines_for,
    voice_languages_for,
)
from defensa.voice.audio import CONTENT_TYPE as PROMPT_CONTENT_TYPE
from defensa.voice.audio import BadRecording
from defensa.voice.forms import HotlineForm, PromptForm, VoiceLanguageForm
from defensa.voice.models import Hotline, Step
from defensa.voice.twiml import SAY_LANGUAGE, Response
from defensa.voice.webhooks import absolute

STAGES = ("operators", "fallback")
# Each menu choice is spoken in its own language, naming that language.
_MENU = {
    "en": gettext_lazy("For English, press %(digit)s."),
    "es": gettext_lazy("For Spanish, press %(digit)s."),
}
_LANGUAGE_NAMES = {
    "en": pgettext_lazy("spoken language", "English"),
    "es": pgettext_lazy("spoken language", "Spanish"),
}
# Dial outcomes after which the caller still needs someone.
_UNANSWERED = {"no-answer", "busy", "failed", "canceled"}


def _languages() -> list[str]:
    """The languages the provider speaks: the ones every caller can be told things in."""
    return prompts.spoken_languages() or [settings.LANGUAGE_CODE]


def _language(value: str) -> str:
    return value if value in prompts.menu_codes() else settings.LANGUAGE_CODE


# What each step says when there is no recording of it in the caller's language.
_SAYS = {
    Step.CONNECTING: gettext_lazy(
        "Connecting you with a hotline volunteer. Please stay on the line."
    ),
    Step.WAITING: gettext_lazy("Please stay on the line. We are trying to reach someone."),
    Step.VOICEMAIL: gettext_lazy(
        "Nobody can answer right now. After the tone, say what you see, where, and "
        "when, and a number where we can call you back. Press the pound key or hang "
        "up when you are done."
    ),
    Step.THANKS: gettext_lazy("Thank you. A volunteer will call you back as soon as possible."),
    Step.NO_MESSAGE: gettext_lazy("We did not get a message. Goodbye."),
    Step.UNAVAILABLE: gettext_lazy("Sorry, nobody can answer right now. Please call again."),
}


class _Voice:
    """One caller's language: each step is its recording when there is one, else the
    provider's voice, in that language if it speaks it, else in the network's."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.recorded = prompts.prompts_for(language)
        self.tts = language if language in SAY_LANGUAGE else settings.LANGUAGE_CODE

    def speak(self, twiml: Response, step: str, parent: object = None) -> None:
        prompt = self.recorded.get(step)
        if prompt is not None:
            twiml.play(prompts.link(prompt), parent=parent)  # type: ignore[arg-type]
            return
        with translation.override(self.tts):
            twiml.say(str(_SAYS[step]), self.tts, parent=parent)  # type: ignore[arg-type]


def _hotline(params: dict[str, str]) -> Hotline | None:
    number = routing.e164(params.get("To", ""))
    if not number:
        return None
    return Hotline.objects.select_related("committee").filter(number=number).first()


def _not_in_service() -> HttpResponse:
    twiml = Response()
    for code in _languages():
        with translation.override(code):
            twiml.say(_("Sorry, this number is not in service. Goodbye."), code)
    twiml.add(None, "Hangup")
    return twiml.http()


def _goodbye(language: str, step: str) -> HttpResponse:
    twiml = Response()
    _Voice(language).speak(twiml, step)
    twiml.add(None, "Hangup")
    return twiml.http()


@twilio_webhook
def incoming(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """A call to a hotline number: the language menu, each choice spoken in its language."""
    if _hotline(params) is None:
        return _not_in_service()
    twiml = Response()
    gather = twiml.add(
        None,
        "Gather",
        numDigits=1,
        timeout=settings.VOICE_MENU_TIMEOUT,
        action=absolute("voice:language"),
        method="POST",
        actionOnEmptyResult=True,
    )
    for choice in prompts.menu():
        recording = prompts.prompts_for(choice.code).get(Step.MENU) if choice.recorded else None
        if recording is not None:
            # The language's own voice: "para mixteco, oprima 4", said in Mixtec.
            twiml.play(prompts.link(recording), parent=gather)
            continue
        with translation.override(choice.code):
            if choice.code in _MENU:
                text = str(_MENU[choice.code]) % {"digit": choice.digit}
            else:
                name = translation.get_language_info(choice.code)["name_local"]
                text = f"{name}: {choice.digit}"
        twiml.say(text, choice.code, parent=gather)
    # A phone that cannot send tones: the network's language, without asking again.
    twiml.add(None, "Redirect", absolute("voice:language"), method="POST")
    return twiml.http()


@twilio_webhook
def choose_language(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The caller pressed a digit (or nothing): ring the operators who speak that language."""
    hotline = _hotline(params)
    if hotline is None:
        return _not_in_service()
    digits = params.get("Digits", "").strip()
    chosen = {choice.digit: choice.code for choice in prompts.menu()}
    language = chosen.get(digits, settings.LANGUAGE_CODE)
    return _ring(hotline, params, language, "operators")


def _ring(hotline: Hotline, params: dict[str, str], language: str, stage: str) -> HttpResponse:
    """Ring every number of the stage at once; nobody to ring moves on to the next stage."""
    if stage == "operators":
        numbers = routing.operator_numbers(hotline, language, timezone.now())
        if not numbers:
            stage = "fallback"
    if stage == "fallback":
        numbers = routing.fallback_numbers(hotline)
        if not numbers:
            return _voicemail(hotline, params, language)
    twiml = Response()
    _Voice(language).speak(twiml, Step.CONNECTING if stage == "operators" else Step.WAITING)
    dial = twiml.add(
        None,
        "Dial",
        callerId=hotline.number,
        timeout=settings.VOICE_RING_SECONDS,
        action=absolute("voice:dialed", lang=language, stage=stage),
        method="POST",
        answerOnBridge=True,
    )
    for number in numbers:
        attrs = {}
        if settings.VOICE_SCREEN_CALLS:
            attrs = {"url": absolute("voice:screen", lang=language), "method": "POST"}
        twiml.add(dial, "Number", number, **attrs)
    return twiml.http()


def _voicemail(hotline: Hotline, params: dict[str, str], language: str) -> HttpResponse:
    call_sid = params.get("CallSid", "")
    if not SID.match(call_sid):
        return _goodbye(language, Step.UNAVAILABLE)
    actions.start_voicemail(
        hotline, call_sid=call_sid, caller=params.get("From", ""), language=language
    )
    twiml = Response()
    voice = _Voice(language)
    voice.speak(twiml, Step.VOICEMAIL)
    twiml.add(
        None,
        "Record",
        maxLength=settings.VOICE_MAX_MESSAGE_SECONDS,
        timeout=5,
        finishOnKey="#",
        playBeep=True,
        action=absolute("voice:recorded", lang=language),
        method="POST",
        recordingStatusCallback=absolute("voice:recording"),
        recordingStatusCallbackMethod="POST",
        recordingStatusCallbackEvent="completed absent",
    )
    voice.speak(twiml, Step.NO_MESSAGE)
    twiml.add(None, "Hangup")
    return twiml.http()


@twilio_webhook
def dialed(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The ringing ended: if nobody took the call, the next stage."""
    language = _language(request.GET.get("lang", ""))
    stage = request.GET.get("stage", "")
    hotline = _hotline(params)
    if hotline is None or stage not in STAGES:
        return _not_in_service()
    status = params.get("DialCallStatus", "").strip().lower()
    duration = params.get("DialCallDuration", "")
    talked = duration.isascii() and duration.isdigit() and int(duration) > 0
    if status not in _UNANSWERED and (status != "completed" or talked):
        # Answered and over (or a status we do not know: never ring people twice for it).
        twiml = Response()
        twiml.add(None, "Hangup")
        return twiml.http()
    if stage == "operators":
        return _ring(hotline, params, language, "fallback")
    return _voicemail(hotline, params, language)


@twilio_webhook
def screen(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """Played to the person who answered, before the caller is connected: press 1 to take it.

    A voicemail box that picks up an operator's phone presses nothing, so it never takes the
    call: the caller goes on to the next stage instead of into a volunteer's mailbox.
    """
    caller_language = _language(request.GET.get("lang", ""))
    twiml = Response()
    gather = twiml.add(
        None, "Gather", numDigits=1, timeout=8, action=absolute("voice:screened"), method="POST"
    )
    recorded_name = prompts.language_name(caller_language)
    for code in _languages():
        with translation.override(code):
            name = str(_LANGUAGE_NAMES.get(caller_language, recorded_name or caller_language))
            text = _(
                "%(network)s hotline call. The caller chose %(language)s. "
                "Press 1 to take this call."
            ) % {"network": settings.NETWORK_NAME, "language": name}
        twiml.say(text, code, parent=gather)
    twiml.add(None, "Hangup")
    return twiml.http()


@twilio_webhook
def screened(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The answerer's key: 1 connects the caller; anything else hangs up this phone only."""
    twiml = Response()
    if params.get("Digits", "").strip() != "1":
        twiml.add(None, "Hangup")
    return twiml.http()


@twilio_webhook
def recorded(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The caller finished the message (the recording itself arrives at `recording`)."""
    language = _language(request.GET.get("lang", ""))
    duration = params.get("RecordingDuration", "")
    if duration.isascii() and duration.isdigit() and int(duration) > 0:
        return _goodbye(language, Step.THANKS)
    return _goodbye(language, Step.NO_MESSAGE)


@twilio_webhook
def recording(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The provider's recording-status callback: store the voicemail, make the report."""
    call_sid = params.get("CallSid", "")
    recording_sid = params.get("RecordingSid", "")
    status = params.get("RecordingStatus", "").strip().lower()
    duration = params.get("RecordingDuration", "").strip()
    if not SID.match(call_sid):
        return HttpResponse(status=204)
    if status in ("absent", "failed") or (status == "completed" and duration == "0"):
        actions.discard_voicemail(call_sid)
    elif (
        status == "completed"
        and SID.match(recording_sid)
        and duration.isascii()
        and duration.isdigit()
        and len(duration) <= 6
    ):
        voicemail = actions.receive_voicemail(
            call_sid, recording_sid=recording_sid, duration_s=int(duration)
        )
        if voicemail is not None:
            # The report is committed already; a failed fetch is retried by fetch_voicemails.
            actions.store_recording(voicemail)
    return HttpResponse(status=204)


# Dispatchers ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def voicemail(request: HttpRequest, pk: int) -> HttpResponse:
    """A voicemail: its audio, and the caller's number masked until revealed (audited)."""
    found = get_voicemail_for(request.user, pk)
    revealed = ""
    if request.method == "POST":
        try:
            revealed = actions.reveal_caller_number(found, actor=request.user)  # type: ignore[arg-type]
        except actions.RevealQuota:
            messages.error(
                request, _("You have revealed many numbers in the last hour. Try later.")
            )
    return render(request, "voice/voicemail.html", {"voicemail": found, "revealed": revealed})


@require_GET
def audio(request: HttpRequest, pk: int) -> HttpResponse:
    """The recording, only for the committee's dispatchers and coordinators; never cached."""
    found = get_voicemail_for(request.user, pk)
    try:
        data = actions.listen_audio(found, actor=request.user)  # type: ignore[arg-type]
    except actions.RevealQuota:
        return HttpResponse(
            _("You have opened too many records in the last hour. Try later."),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type=found.content_type or "audio/mpeg")
    response["Cache-Control"] = "no-store"
    response["Content-Disposition"] = "inline"
    return response


# The numbers page (network admins): which committee each phone number belongs to.


def numbers(request: HttpRequest) -> HttpResponse:
    hotlines = hotlines_for(request.user)
    form = HotlineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        before = hotlines.filter(number=data["number"]).first()
        hotline = actions.set_hotline(
            data["committee"],
            data["number"],
            fallback_numbers=data["fallback"],
            fallback_members=None,  # the page does not set them: kept while the committee stays
            actor=request.user,
        )
        if before and before.committee_id != hotline.committee_id:
            messages.success(
                request,
                _("%(number)s moved from %(old)s to %(new)s.")
                % {"number": hotline.number, "old": before.committee, "new": hotline.committee},
            )
        else:
            messages.success(
                request,
                _("Calls and texts to %(number)s now go to %(committee)s.")
                % {"number": hotline.number, "committee": hotline.committee},
            )
        return redirect("voice:numbers")
    return render(
        request,
        "voice/numbers.html",
        {
            "hotlines": hotlines.annotate(kept=Count("voicemails")),
            "form": form,
            "sending_number": settings.TWILIO_FROM_NUMBER,
            "sending_mapped": hotlines.filter(
                number=routing.e164(settings.TWILIO_FROM_NUMBER)
            ).exists(),
        },
        status=400 if form.errors else 200,
    )


@require_POST
def remove_number(request: HttpRequest, pk: int) -> HttpResponse:
    hotline = get_hotline_for(request.user, pk)
    try:
        actions.remove_hotline(hotline, actor=request.user)
    except actions.HotlineInUse:
        messages.error(
            request,
            _(
                "%(number)s still holds voicemails to call back: point it at another "
                "committee instead of removing it."
            )
            % {"number": hotline.number},
        )
    else:
        messages.success(request, _("%(number)s was removed.") % {"number": hotline.number})
    return redirect("voice:numbers")


# Recorded prompts and languages (network admins) ----------------------------------------


def languages(request: HttpRequest) -> HttpResponse:
    """The menu as callers hear it, the recorded languages, and adding one."""
    found = voice_languages_for(request.user)
    form = VoiceLanguageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        language = actions.add_voice_language(
            data["code"],
            data["name"],
            data["digit"],
            speakers=list(data["speakers"]),
            actor=request.user,
        )
        messages.success(
            request,
            _("%(name)s is on the menu once its menu recording is uploaded.")
            % {"name": language.name},
        )
        return redirect("voice:language_page", pk=language.pk)
    return render(
        request,
        "voice/languages.html",
        {"languages": found, "menu": prompts.menu(), "form": form},
        status=400 if form.errors else 200,
    )


def language_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One recorded language: its recordings step by step, uploading one, who speaks it."""
    language = get_voice_language_for(request.user, pk)
    form = VoiceLanguageForm(instance=language)
    upload = PromptForm()
    status = 200
    if request.method == "POST" and request.POST.get("form") == "language":
        form = VoiceLanguageForm(request.POST, instance=language)
        if form.is_valid():
            data = form.cleaned_data
            actions.update_voice_language(
                language,
                name=data["name"],
                digit=data["digit"],
                speakers=list(data["speakers"]),
                actor=request.user,
            )
            messages.success(request, _("Saved."))
            return redirect("voice:language_page", pk=language.pk)
        status = 400
    elif request.method == "POST":
        upload = PromptForm(request.POST, request.FILES)
        if upload.is_valid():
            try:
                actions.store_prompt(
                    language,
                    upload.cleaned_data["step"],
                    upload.cleaned_data["recording"],
                    actor=request.user,
                )
            except BadRecording as refused:
                upload.add_error("recording", str(refused))
            except media.StoreUnavailable:
                upload.add_error(
                    "recording", _("The file store cannot be reached. Nothing was kept; try later.")
                )
            else:
                messages.success(request, _("The recording was saved."))
                return redirect("voice:language_page", pk=language.pk)
        status = 400
    recorded = {prompt.step: prompt for prompt in language.prompts.all()}  # type: ignore[attr-defined]
    steps = [(value, label, recorded.get(value)) for value, label in Step.choices]
    return render(
        request,
        "voice/language.html",
        {
            "language": language,
            "steps": steps,
            "form": form,
            "upload": upload,
            "spoken": language.code in SAY_LANGUAGE,
        },
        status=status,
    )


@require_POST
def remove_language(request: HttpRequest, pk: int) -> HttpResponse:
    language = get_voice_language_for(request.user, pk)
    actions.remove_voice_language(language, actor=request.user)
    messages.success(
        request, _("%(name)s left the menu, with its recordings.") % {"name": language.name}
    )
    return redirect("voice:languages")


@require_POST
def remove_prompt(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    prompt = get_voice_prompt_for(request.user, pk, step)
    actions.remove_prompt(prompt, actor=request.user)
    messages.success(request, _("The recording was removed."))
    return redirect("voice:language_page", pk=pk)


@public
@require_GET
def prompt_audio(request: HttpRequest) -> HttpResponse:
    """A recording, for the voice provider playing it to a caller: only at a signed link that
    has not expired (the TwiML's <Play>); anything else gets 403, like a bad webhook."""
    prompt = prompts.from_token(request.GET.get("t", "")[:400])
    if prompt is None:
        return HttpResponseForbidden()
    data = media.read(prompt.file)
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type=PROMPT_CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response
