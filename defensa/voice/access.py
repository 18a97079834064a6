"""Who may hear a voicemail: dispatchers and coordinators of the hotline's committee. Who
may map numbers to committees, and record the menu's prompts and languages: network admins.
The recordings themselves reach only the voice provider, at signed links (voice/prompts.py)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.core.access import active_user, one_from_url, pk_from_url
from defensa.voice.models import Hotline, VoiceLanguage, Voicemail, VoicePrompt


def voicemails_for(user: AnyUser | None) -> QuerySet[Voicemail]:
    return Voicemail.objects.filter(
        hotline__committee__in=committees_for(user, ("dispatcher", "coordinator"))
    )


def get_voicemail_for(user: AnyUser | None, pk: object) -> Voicemail:
    """The voicemail, for a dispatcher or coordinator of its committee, or 404."""
    found = (
        voicemails_for(user)
        .select_related("hotline__committee", "report")
        .filter(pk=pk_from_url(pk))
    ).first()
    if found is None:
        raise Http404
    return found


def hotlines_for(user: AnyUser | None) -> QuerySet[Hotline]:
    """Every hotline number, for network admins (the numbers page), or Http404."""
    person = active_user(user)
    if person is None or not person.is_network_admin:
        raise Http404
    return Hotline.objects.select_related("committee").order_by("number")


def get_hotline_for(user: AnyUser | None, pk: object) -> Hotline:
    return one_from_url(hotlines_for(user), pk)


def voice_languages_for(user: AnyUser | None) -> QuerySet[VoiceLanguage]:
    """The recorded languages of the hotline menu, for network admins (the menu and its
    numbers are the network's), or Http404."""
    person = active_user(user)
    if person is None or not person.is_network_admin:
        raise Http404
    return VoiceLanguage.objects.prefetch_related("prompts", "speakers").order_by("digit")


def get_voice_language_for(user: AnyUser | None, pk: object) -> VoiceLanguage:
    return one_from_url(voice_languages_for(user), pk)


def get_voice_prompt_for(user: AnyUser | None, pk: object, step: object) -> VoicePrompt:
    language = get_voice_language_for(user, pk)
    found = VoicePrompt.objects.filter(language=language, step=str(step)).first()
    if found is None:
        raise Http404
    return found
