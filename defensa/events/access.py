"""Who may see which event (need to know, security properties 3-5).

- An event is seen by the members of the organising committee and of the committees under
  it: the people it calls out (a city-wide march is seen by every local committee's members).
  `events_for` / `get_event_for` give it, or 404 for everyone else; a member on probation
  sees only events created since they joined.
- Organisers are the coordinators of the organising committee (`get_organised_event_for`).
- The marshal's list is for organisers and the people confirmed on a marshal shift of that
  event (`get_marshalled_event_for`).
- An arrest is reported by organisers, the committee's legal team, and the people confirmed
  on a legal-observer shift of that event (`get_observed_event_for`).
- A public event's page is found by its code (`get_public_event`), members-only events never.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from defensa.committees.access import AnyUser, committees_for, memberships_for
from defensa.committees.models import Committee, Membership
from defensa.core.access import active_user, one_from_url, pk_from_url
from defensa.core.tokens import is_short_code, normal_code
from defensa.events.models import (
    CODE_LENGTH,
    Event,
    Role,
    Rsvp,
    RsvpStatus,
    Shift,
    Visibility,
)


def organiser_committees(user: AnyUser | None) -> QuerySet[Committee]:
    return committees_for(user, "coordinator")


def get_organiser_committee(user: AnyUser | None, slug: str) -> Committee:
    """A committee whose events the user organises (a coordinator), or 404."""
    committee = organiser_committees(user).filter(slug=slug).first()
    if committee is None:
        raise Http404
    return committee


def _ancestors_and_self(committee: Committee) -> list[int]:
    found, current = [], committee
    while current is not None and current.pk not in found:
        found.append(current.pk)
        current = current.parent
    return found


def events_for(user: AnyUser | None) -> QuerySet[Event]:
    """Events of the committees the user belongs to, and of the committees above them.

    A member on probation sees only events created since they joined (no history)."""
    person = active_user(user)
    if person is None:
        return Event.objects.none()
    visible = Q(pk__in=[])
    for membership in memberships_for(person).select_related("committee__parent__parent"):
        ids = _ancestors_and_self(membership.committee)
        since = membership.history_since()
        clause = Q(committee_id__in=ids)
        if since is not None:
            clause &= Q(created_at__gte=since)
        visible |= clause
    return Event.objects.filter(visible).select_related("committee")


def get_event_for(user: AnyUser | None, pk: Any) -> Event:
    return one_from_url(events_for(user), pk)


def is_organiser(user: AnyUser | None, event: Event) -> bool:
    return organiser_committees(user).filter(pk=event.committee_id).exists()


def get_organised_event_for(user: AnyUser | None, pk: Any) -> Event:
    found = Event.objects.filter(
        pk=pk_from_url(pk), committee__in=organiser_committees(user)
    ).first()
    if found is None:
        raise Http404
    return found


def _on_shift(user: AnyUser | None, event: Event, role: str) -> bool:
    person = active_user(user)
    return (
        person is not None
        and event.rsvps.filter(  # type: ignore[attr-defined]
            user=person, shift__role=role, status=RsvpStatus.GOING
        ).exists()
    )


def is_marshal(user: AnyUser | None, event: Event) -> bool:
    return is_organiser(user, event) or _on_shift(user, event, Role.MARSHAL)


def get_marshalled_event_for(user: AnyUser | None, pk: Any) -> Event:
    """The event, for its organisers and confirmed marshals, or 404."""
    found = get_event_for(user, pk)
    if not is_marshal(user, found):
        raise Http404
    return found


def is_observer(user: AnyUser | None, event: Event) -> bool:
    if is_organiser(user, event) or _on_shift(user, event, Role.LEGAL_OBSERVER):
        return True
    return Membership.objects.filter(
        pk__in=memberships_for(user, "legal").values("pk"), committee=event.committee
    ).exists()


def get_observed_event_for(user: AnyUser | None, pk: Any) -> Event:
    """The event, for those who may report an arrest there, or 404."""
    found = get_event_for(user, pk)
    if not is_observer(user, found):
        raise Http404
    return found


def find_public_event(code: str) -> Event | None:
    code = normal_code(code)
    if not is_short_code(code, CODE_LENGTH):
        return None
    return (
        Event.objects.select_related("committee")
        .filter(code=code, visibility=Visibility.PUBLIC)
        .first()
    )


def find_event(code: str) -> Event | None:
    """Any event by its code (an SMS keyword: the caller checks who may RSVP)."""
    code = normal_code(code)
    if not is_short_code(code, CODE_LENGTH):
        return None
    return Event.objects.select_related("committee").filter(code=code).first()


def get_public_event(code: str) -> Event:
    found = find_public_event(code)
    if found is None:
        raise Http404
    return found


def rsvps_for(user: AnyUser | None, event: Event) -> QuerySet[Rsvp]:
    """The user's own RSVPs to the event (and its shifts)."""
    person = active_user(user)
    if person is None:
        return Rsvp.objects.none()
    return Rsvp.objects.filter(event=event, user=person).select_related("shift")


def get_rsvp_for(user: AnyUser | None, event: Event, pk: Any) -> Rsvp:
    """One of the user's own RSVPs to the event, or 404."""
    return one_from_url(rsvps_for(user, event), pk)


def attendees_for(user: AnyUser | None, event: Event) -> QuerySet[Rsvp]:
    """The event's list (confirmed and waiting), for its organisers and marshals only."""
    if not is_marshal(user, event):
        return Rsvp.objects.none()
    return (
        Rsvp.objects.filter(event=event)
        .exclude(status=RsvpStatus.CANCELLED)
        .select_related("user", "shift")
        .order_by("shift__starts_at", "shift_id", "created_at", "pk")
    )


def get_attendee_for(user: AnyUser | None, event: Event, pk: Any) -> Rsvp:
    return one_from_url(attendees_for(user, event), pk)


def get_shift_for(user: AnyUser | None, event: Event, pk: Any) -> Shift:
    """A shift of an event the user may see, or 404."""
    found = Shift.objects.filter(event=get_event_for(user, event.pk), pk=pk_from_url(pk)).first()
    if found is None:
        raise Http404
    return found
