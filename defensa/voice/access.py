"""Who may hear a voicemail: dispatchers and coordinators of the hotline's committee. Who
may map numbers to committees: network admins."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for
from defensa.core.access import active_user, pk_from_url
from defensa.voice.models import Hotline, Voicemail


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
    found = hotlines_for(user).filter(pk=pk_from_url(pk)).first()
    if found is None:
        raise Http404
    return found
