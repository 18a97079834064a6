"""Who may see deliveries: network admins all of them; coordinators those to their members,
within each message kind's compartment (notify/messages.py): a LEGAL kind (a case opened, a
person detained at a check-in) only where the coordinator is on the legal team too.

Like every access helper, these return rows or raise Http404 (never 403), so ids can't be
probed. Committees are reached through the app registry, not imported: notify sits below the
domain apps.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.http import Http404

from defensa.core.access import active_user, pk_from_url
from defensa.notify import messages
from defensa.notify.channels import TEST_PREFIX, ChannelState, channel_states
from defensa.notify.models import Delivery


def _legal_committees(user: Any) -> set[int]:
    """Committees where the user is on the legal team: that committee only, not the ones
    below it (the cases' rule, committees_for(user, "legal"), which notify cannot import)."""
    membership = apps.get_model("committees", "Membership")
    return set(
        membership.objects.filter(user=user, status="full", is_legal=True).values_list(
            "committee_id", flat=True
        )
    )


def _coordinated_committees(user: Any) -> set[int]:
    membership = apps.get_model("committees", "Membership")
    committee = apps.get_model("committees", "Committee")
    # Roles count for full members only (as in committees.access).
    frontier = set(
        membership.objects.filter(user=user, status="full", is_coordinator=True).values_list(
            "committee_id", flat=True
        )
    )
    found: set[int] = set()
    # A city coordinator answers for the locals below it too.
    while frontier:
        found |= frontier
        frontier = (
            set(committee.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
            - found
        )
    return found


def deliveries_for(user: Any) -> QuerySet[Delivery]:
    """The deliveries `user` may see, or Http404 if they may see none."""
    if active_user(user) is None:
        raise Http404
    if user.is_network_admin:
        return Delivery.objects.exclude(template__in=messages.kinds_in(messages.SEALED))
    committees = _coordinated_committees(user)
    if not committees:
        raise Http404
    # Deliveries to bare addresses (no account) are for admins only, and so is any message
    # kind not declared GENERAL or LEGAL.
    seen = Q(
        template__in=messages.kinds_in(messages.GENERAL),
        recipient__memberships__committee_id__in=committees,
    )
    legal = committees & _legal_committees(user)
    if legal:
        seen |= Q(
            template__in=messages.kinds_in(messages.LEGAL),
            recipient__memberships__committee_id__in=legal,
        )
    return Delivery.objects.filter(seen).distinct()


def get_delivery_for(user: Any, pk: Any) -> Delivery:
    try:
        return deliveries_for(user).get(pk=pk_from_url(pk))
    except Delivery.DoesNotExist as exc:
        raise Http404 from exc


def failed_deliveries_for(viewer: Any, person: Any) -> QuerySet[Delivery]:
    """Messages to `person` that could not be delivered: for the person themselves, and for
    the coordinators and admins who may see their deliveries (anyone else: none)."""
    if active_user(viewer) is None:
        return Delivery.objects.none()
    if viewer.pk == person.pk:
        rows = Delivery.objects.filter(recipient=person)
    else:
        try:
            rows = deliveries_for(viewer).filter(recipient=person)
        except Http404:
            return Delivery.objects.none()
    return rows.filter(status="failed").order_by("-created_at", "-id")


def channels_for(user: Any) -> list[ChannelState]:
    """The channels page's rows: network admins only (the server's own settings), else 404."""
    person = active_user(user)
    if person is None or not person.is_network_admin:
        raise Http404
    return channel_states()


def get_channel_for(user: Any, channel: Any) -> ChannelState:
    """One channel of the page, for a network admin, or 404 (an unknown name too)."""
    found = next((s for s in channels_for(user) if s.channel == channel), None)
    if found is None:
        raise Http404
    return found


def test_deliveries_for(user: Any) -> QuerySet[Delivery]:
    """The test messages a network admin sent themselves from the channels page, newest first."""
    channels_for(user)
    return Delivery.objects.filter(
        idempotency_key__startswith=f"{TEST_PREFIX}:{user.pk}:"
    ).order_by("-created_at", "-id")
