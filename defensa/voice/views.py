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
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from defensa.notify.transports.twilio.webhook import SID, twilio_webhook
from defensa.voice import actions, routing
from defensa.voice.access import get_hotline_for, get_voicemail_for, hotlines_for
from defensa.voice.forms import HotlineForm
from defensa.voice.models import Hotline
from defensa.voice.twiml import Response
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
    return [code for code, _name in settings.LANGUAGES]


def _language(value: str) -> str:
    return value if value in _languages() else settings.LANGUAGE_CODE


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


def _goodbye(language: str, text: str) -> HttpResponse:
    twiml = Response()
    twiml.say(text, language)
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
    for digit, code in enumerate(_languages(), start=1):
        with translation.override(code):
            if code in _MENU:
                text = str(_MENU[code]) % {"digit": digit}
            else:
                name = translation.get_language_info(code)["name_local"]
                text = f"{name}: {digit}"
        twiml.say(text, code, parent=gather)
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
    choices = _languages()
    language = (
        choices[int(digits) - 1]
        if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= len(choices)
        else settings.LANGUAGE_CODE
    )
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
    with translation.override(language):
        if stage == "operators":
            twiml.say(
                _("Connecting you with a hotline volunteer. Please stay on the line."), language
            )
        else:
            twiml.say(_("Please stay on the line. We are trying to reach someone."), language)
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
        with translation.override(language):
            return _goodbye(language, _("Sorry, nobody can answer right now. Please call again."))
    actions.start_voicemail(
        hotline, call_sid=call_sid, caller=params.get("From", ""), language=language
    )
    twiml = Response()
    with translation.override(language):
        twiml.say(
            _(
                "Nobody can answer right now. After the tone, say what you see, where, and "
                "when, and a number where we can call you back. Press the pound key or hang "
                "up when you are done."
            ),
            language,
        )
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
        twiml.say(_("We did not get a message. Goodbye."), language)
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
    for code in _languages():
        with translation.override(code):
            name = str(_LANGUAGE_NAMES.get(caller_language, caller_language))
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
    with translation.override(language):
        if duration.isascii() and duration.isdigit() and int(duration) > 0:
            return _goodbye(
                language, _("Thank you. A volunteer will call you back as soon as possible.")
            )
        return _goodbye(language, _("We did not get a message. Goodbye."))


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
