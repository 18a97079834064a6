"""Who may hear a voicemail: dispatchers and coordinators of the hotline's committee."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, _pk, committees_for
from defensa.voice.models import Voicemail


def voicemails_for(user: AnyUser | None) -> QuerySet[Voicemail]:
    return Voicemail.objects.filter(
        Q(hotline__committee__in=committees_for(user, "dispatcher"))
        | Q(hotline__committee__in=committees_for(user, "coordinator"))
    ).distinct()


def get_voicemail_for(user: AnyUser | None, pk: object) -> Voicemail:
    """The voicemail, for a dispatcher or coordinator of its committee, or 404."""
    found = (
        voicemails_for(user).select_related("hotline__committee", "report").filter(pk=_pk(pk))
    ).first()
    if found is None:
        raise Http404
    return found
