"""The volunteer's private calendar feed: what it lists, and its secret address."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from defensa.accompaniment.models import Appointment, CompanionStatus, FeedToken, Status
from defensa.accounts.models import User
from defensa.audit.log import record
from defensa.core.tokens import hash_token, is_plausible


def upcoming_for(user: User, *, since: dt.datetime | None = None) -> list[Appointment]:
    """The volunteer's own confirmed appointments for their calendar feed."""
    since = since or timezone.now() - dt.timedelta(days=30)
    return list(
        Appointment.objects.filter(
            companions__volunteer=user,
            companions__status=CompanionStatus.CONFIRMED,
            ends_at__gte=since,
        )
        .filter(~Q(status=Status.CANCELLED) | Q(updated_at__gte=since))
        .select_related("place", "committee")
        .order_by("starts_at")
        .distinct()
    )


@transaction.atomic
def new_feed_token(user: User, *, actor: Any) -> str:
    """Make (or remake) the person's secret calendar address; the old one stops working.
    The token is returned once, to show; only its hash is kept."""
    for _attempt in range(5):
        token = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                FeedToken.objects.update_or_create(
                    user=user,
                    defaults={"token_hash": hash_token(token), "created_at": timezone.now()},
                )
            break
        except IntegrityError:  # pragma: no cover - a 256-bit collision
            continue
    feed = FeedToken.objects.get(user=user)
    record("accompaniment.feed_made", actor=actor, obj=feed)
    return token


@transaction.atomic
def revoke_feed(user: User, *, actor: Any) -> bool:
    feed = FeedToken.objects.filter(user=user).first()
    if feed is None:
        return False
    record("accompaniment.feed_revoked", actor=actor, obj=feed)
    feed.delete()
    return True


def find_feed_user(token: str) -> User | None:
    if not is_plausible(token):
        return None
    feed = FeedToken.objects.filter(token_hash=hash_token(token)).select_related("user").first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user
