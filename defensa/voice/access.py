"""Who may hear a voicemail: dispatchers and coordinators of the hotline's committee."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.core.access import pk_from_url
from defensa.voice.models import Voicemail


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
